package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one server process started by the local provider, in its own
// process group.
type proc struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // its exit status; read only after done is closed
}

// procSpec says how to start a server process.
type procSpec struct {
	path    string
	args    []string
	dir     string              // working directory
	logPath string              // stdout and stderr are appended here
	cred    *syscall.Credential // run as this user; nil for the current one
	stdin   string              // fed to standard input when not empty
}

// startProc starts the process described by s. The process gets its own
// process group (so that a terminal's Ctrl-C reaches only the harness, which
// then tears the servers down in order) and, on Linux, dies with SIGKILL if
// the harness dies.
func startProc(s procSpec) (*proc, error) {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(s.path, s.args...)
	cmd.Dir = s.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = childEnv()
	if s.stdin != "" {
		cmd.Stdin = strings.NewReader(s.stdin)
	}
	cmd.SysProcAttr = sysProcAttr(s.cred)
	if err := spawn(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.path, err)
	}
	p := &proc{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// childEnv is the environment of server processes: only what they need, so
// that nothing of the harness's environment (a PGPASSWORD, a locale that
// changes sorting) leaks into the servers.
func childEnv() []string {
	env := []string{"LC_ALL=C", "LANG=C"}
	for _, k := range []string{"PATH", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits until the process has exited, ctx is done or d has passed. It
// reports whether the process exited.
func (p *proc) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-ctx.Done():
		return false
	case <-t.C:
		return false
	}
}

// signalAll sends sig to the process's group and to each of its direct
// children, which may have left the group (PostgreSQL backends each start
// a session of their own).
func (p *proc) signalAll(sig syscall.Signal) {
	if p.exited() {
		return
	}
	if sig == syscall.SIGSTOP {
		// Freeze the parent first so that it forks no child we miss.
		_ = syscall.Kill(p.pid, sig)
	}
	for _, c := range childrenOf(p.pid) {
		_ = syscall.Kill(c, sig)
	}
	_ = syscall.Kill(-p.pid, sig)
}

// kill sends SIGKILL to the process, its group and its children, and waits
// until all of them are gone (zombies count as gone). Stopped processes die
// from SIGKILL too, so kill also works on a paused server.
func (p *proc) kill(ctx context.Context) error {
	if p.exited() {
		return nil
	}
	_ = syscall.Kill(p.pid, syscall.SIGSTOP) // no new children from here on
	kids := childrenOf(p.pid)
	for _, c := range kids {
		_ = syscall.Kill(c, syscall.SIGKILL)
	}
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	if !p.wait(ctx, 10*time.Second) {
		return fmt.Errorf("process %d did not exit after SIGKILL", p.pid)
	}
	return waitGone(ctx, kids, 10*time.Second)
}

// waitGone polls until none of pids is alive, ctx is done or d has passed.
func waitGone(ctx context.Context, pids []int, d time.Duration) error {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		var left []int
		for _, pid := range pids {
			if ProcessAlive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v still alive after %v", left, d)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for processes %v to exit: %w", left, ctx.Err())
		case <-tick.C:
		}
	}
}

// ProcessAlive reports whether a process with the given id exists and is
// not a zombie. Tests use it to check that teardown left nothing behind.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	return !isZombie(pid)
}

// The spawner starts every server process from one goroutine locked to its
// OS thread for the life of the harness. On Linux the parent-death signal
// (Pdeathsig) fires when the *thread* that forked the child exits, and the Go
// runtime ends threads whose locked goroutine returns; forking from a thread
// that never ends keeps the servers alive exactly as long as the harness.
var spawner struct {
	once sync.Once
	reqs chan spawnReq
}

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

// spawn starts cmd on the spawner's thread.
func spawn(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for r := range spawner.reqs {
				r.errc <- r.cmd.Start()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.reqs <- spawnReq{cmd: cmd, errc: errc}
	return <-errc
}
