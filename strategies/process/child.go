package process

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is one start of the process: its pipes and the goroutine reading
// its stdout.
type child struct {
	cmd     *exec.Cmd
	pid     int
	appName string // application_name of its PostgreSQL sessions

	wmu   sync.Mutex
	stdin io.WriteCloser
	enc   *json.Encoder

	// done is closed when the reader has stopped and the process has been
	// waited for; exit is its exit error then.
	done chan struct{}
	exit error

	mu      sync.Mutex
	killed  string // why the harness killed it on purpose ("" if not)
	stopped bool   // SIGSTOPped by app-freeze
}

// start starts argv with stderr appended to errOut, and reads its stdout
// lines into onLine (malformed or oversized lines end the reading with an
// error passed to onEnd). onEnd is called once, after the process exited.
func start(argv []string, dir string, env []string, errOut io.Writer, maxLine int,
	onLine func(*child, []byte) error, onEnd func(*child, error)) (*child, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("command %q does not start: %w", argv[0], err)
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stderr = errOut
	setGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("command %q does not start: %w", strings.Join(argv, " "), err)
	}
	c := &child{cmd: cmd, pid: cmd.Process.Pid, stdin: stdin, enc: json.NewEncoder(stdin), done: make(chan struct{})}
	go func() {
		rerr := readLines(stdout, maxLine, func(line []byte) error { return onLine(c, line) })
		if rerr != nil {
			// A protocol error: nothing more it says can be trusted.
			c.kill("")
		}
		// Drain what is left so that the process is not blocked on a full
		// pipe while it is being killed, then reap it.
		_, _ = io.Copy(io.Discard, stdout)
		c.exit = cmd.Wait()
		// onEnd first: once done is closed the strategy knows the child
		// is gone (Crash returns, requests wait for the restart).
		onEnd(c, rerr)
		close(c.done)
	}()
	return c, nil
}

// readLines calls f with every line of r (without the newline) until EOF,
// a line longer than maxLine, or an error from f.
func readLines(r io.Reader, maxLine int, f func([]byte) error) error {
	br := bufio.NewReaderSize(r, maxLine+1)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("line longer than %d bytes (starts %s)", maxLine, quote(line))
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) > 0 {
			if ferr := f(line); ferr != nil {
				return ferr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return err
		}
	}
}

// send writes one message as a line.
func (c *child) send(m *msg) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.enc.Encode(m); err != nil {
		return fmt.Errorf("write to its stdin: %w", err)
	}
	return nil
}

// kill sends SIGKILL to the process group; why (when not empty) says it
// was on purpose (a fault), which makes its end expected.
func (c *child) kill(why string) {
	c.mu.Lock()
	if why != "" && c.killed == "" {
		c.killed = why
	}
	c.mu.Unlock()
	_ = signalGroup(c.pid, syscall.SIGKILL)
	_ = c.cmd.Process.Kill()
}

// signal sends sig to the process group (SIGSTOP, SIGCONT).
func (c *child) signal(sig syscall.Signal) error {
	c.mu.Lock()
	c.stopped = sig == syscall.SIGSTOP
	c.mu.Unlock()
	if err := signalGroup(c.pid, sig); err != nil {
		return err
	}
	if sig == syscall.SIGSTOP {
		waitStopped(c.pid)
	}
	return nil
}

func (c *child) killedOnPurpose() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.killed
}

// stop closes stdin (the process's cue to exit), waits up to grace for it
// to exit, then kills its group. It returns once the process is reaped.
func (c *child) stop(grace time.Duration) {
	c.mu.Lock()
	stopped := c.stopped
	c.mu.Unlock()
	if stopped {
		_ = signalGroup(c.pid, syscall.SIGCONT)
	}
	c.wmu.Lock()
	_ = c.stdin.Close()
	c.wmu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
	}
	// The group too: anything it started must not outlive it.
	c.kill("stopped by the harness")
	<-c.done
}

// tail keeps the last bytes written to it (the process's stderr) for error
// messages.
type tail struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	t.mu.Unlock()
	return len(p), nil
}

// lines returns the last n non-empty lines joined with " | ", or "(empty)".
func (t *tail) lines(n int) string {
	t.mu.Lock()
	s := string(t.buf)
	t.mu.Unlock()
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	if len(out) == 0 {
		return "(empty)"
	}
	return strings.Join(out, " | ")
}
