package process

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is one start of the process: its pipes and the goroutines reading
// its stdout and stderr.
type child struct {
	cmd     *exec.Cmd
	pid     int
	appName string // application_name of its PostgreSQL sessions

	wmu   sync.Mutex
	stdin io.WriteCloser
	enc   *json.Encoder

	// The read ends of its stdout and stderr, and their link names in
	// /proc (to find who else holds them).
	outR, errR *os.File
	pipes      []string
	// mark is the environment variable ("NAME=random") the process and
	// everything it starts inherit, by which they are found at the end.
	mark string
	// since is its start time (/proc): what started before is not its.
	since uint64

	// exited is closed when the process has been waited for; done when,
	// after that, its pipes are closed, what it left running has been
	// killed, and onEnd has run. exit is its exit error.
	exited chan struct{}
	done   chan struct{}
	exit   error

	mu       sync.Mutex
	killed   string         // why the harness killed it on purpose ("" if not)
	stopped  bool           // SIGSTOPped by app-freeze
	stopping bool           // stop was called: its family gets time to end by itself
	known    map[int]uint64 // its descendants seen while it ran (pid to start time)
	left     []string       // processes of its family that had to be killed after it ended
}

// markVar names the environment variable that marks a strategy's
// processes.
const markVar = "GHOSTBENCH_STRATEGY_PROCESS"

// pipeBound bounds the wait for the pipes of a process that has exited to
// reach their end: whatever still holds them open after that is a process
// it left behind, and is killed.
const pipeBound = time.Second

// start starts argv with stderr appended to errOut, and reads its stdout
// lines into onLine (malformed or oversized lines end the reading with an
// error passed to onBad at once, which must kill the child, and to onEnd).
// onEnd is called once, after the process exited and what it left running
// was killed.
func start(argv []string, dir string, env []string, errOut io.Writer, maxLine int,
	onLine func(*child, []byte) error, onBad, onEnd func(*child, error)) (*child, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("command %q does not start: %w", argv[0], err)
	}
	becomeSubreaper()
	mark := markVar + "=" + randomHex()
	cmd := exec.Command(path, argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(slices.Clone(env), mark)
	setGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Pipes of our own rather than exec's: os/exec's Wait would wait for
	// its copying of stderr to end, which a process the strategy started
	// and that kept stderr open delays forever.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	serr := cmd.Start()
	outW.Close()
	errW.Close()
	if serr != nil {
		outR.Close()
		errR.Close()
		stdin.Close()
		return nil, fmt.Errorf("command %q does not start: %w", strings.Join(argv, " "), serr)
	}
	c := &child{cmd: cmd, pid: cmd.Process.Pid, stdin: stdin, enc: json.NewEncoder(stdin),
		outR: outR, errR: errR, pipes: []string{pipeName(outR), pipeName(errR)}, mark: mark,
		exited: make(chan struct{}), done: make(chan struct{})}
	c.since = startTime(c.pid)
	readDone, errDone := make(chan struct{}), make(chan struct{})
	var rerr error
	go func() {
		defer close(errDone)
		_, _ = io.Copy(errOut, errR)
	}()
	go func() {
		defer close(readDone)
		rerr = readLines(outR, maxLine, func(line []byte) error { return onLine(c, line) })
		if rerr != nil {
			// A protocol error: nothing more it says can be trusted.
			onBad(c, rerr)
		}
		// Drain what is left so that the process is not blocked on a full
		// pipe while it is being killed.
		_, _ = io.Copy(io.Discard, outR)
	}()
	go func() {
		c.exit = cmd.Wait()
		close(c.exited)
		c.afterExit(readDone, errDone)
		// onEnd first: once done is closed the strategy knows the child
		// is gone (Crash returns, requests wait for the restart).
		onEnd(c, rerr)
		close(c.done)
	}()
	return c, nil
}

// afterExit runs once the process has exited: it gives its pipes (and,
// when the harness stopped it, its descendants) up to pipeBound to end by
// themselves, then kills what of its family is left (recorded in c.left)
// and closes the pipes, so that nothing the process started can hold the
// run.
func (c *child) afterExit(readDone, errDone <-chan struct{}) {
	deadline := time.Now().Add(pipeBound)
	pipesDone := func() bool {
		select {
		case <-readDone:
		default:
			return false
		}
		select {
		case <-errDone:
		default:
			return false
		}
		return true
	}
	for time.Now().Before(deadline) {
		if pipesDone() {
			c.mu.Lock()
			stopping := c.stopping
			c.mu.Unlock()
			if !stopping || !knownAlive(c.knownSet()) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	pipes := c.pipes
	if pipesDone() {
		pipes = nil // no need to look for their holders
	}
	if left := killFamily(c.pid, c.since, c.mark, pipes, c.knownSet()); len(left) > 0 {
		c.mu.Lock()
		c.left = append(c.left, left...)
		c.mu.Unlock()
	}
	// The holders are dead: the pipes end now. Close them anyway after a
	// moment, in case one was passed to a process out of reach.
	t := time.NewTimer(pipeBound / 2)
	defer t.Stop()
	for _, ch := range []<-chan struct{}{readDone, errDone} {
		select {
		case <-ch:
		case <-t.C:
		}
	}
	c.outR.Close()
	c.errR.Close()
	<-readDone
	<-errDone
}

// remember adds the process's current family to what is recognized at its
// end, when a process it started may have been reparented.
func (c *child) remember() {
	snap := snapshot(c.pid, c.since, c.mark)
	c.mu.Lock()
	if c.known == nil {
		c.known = map[int]uint64{}
	}
	maps.Copy(c.known, snap)
	c.mu.Unlock()
}

func (c *child) knownSet() map[int]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.known)
}

// leftBehind returns the processes of its family that had to be killed
// after it ended (valid once done is closed).
func (c *child) leftBehind() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.left)
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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

// kill sends SIGKILL to the process group and to everything else of the
// process's family; why (when not empty) says it was on purpose (a
// fault), which makes its end expected.
func (c *child) kill(why string) {
	c.mu.Lock()
	if why != "" && c.killed == "" {
		c.killed = why
	}
	c.mu.Unlock()
	select {
	case <-c.exited:
		return // reaped: its pid and group may belong to another process now
	default:
	}
	c.remember()
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
// to exit, then kills it with its group. It returns once the process is
// reaped and what it left running is killed (see afterExit): within grace
// plus about 2*pipeBound, whatever the process does.
func (c *child) stop(grace time.Duration) {
	c.mu.Lock()
	stopped := c.stopped
	c.stopping = true
	c.mu.Unlock()
	if stopped {
		_ = signalGroup(c.pid, syscall.SIGCONT)
	}
	// Its descendants now, while they are still its descendants.
	c.remember()
	c.wmu.Lock()
	_ = c.stdin.Close()
	c.wmu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.exited:
	case <-t.C:
		c.kill("stopped by the harness")
	}
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
