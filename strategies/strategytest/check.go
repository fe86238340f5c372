package strategytest

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/strategies"
)

// T is the part of *testing.T the checks use. Run passes a *testing.T;
// Check passes its own, so that the suite also runs outside go test
// (ghostbench conform).
type T interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(f func())
}

// Check outcomes.
const (
	Passed  = "ok"
	Failed  = "FAIL"
	Skipped = "skip"
)

// Result is the outcome of one check run by Check.
type Result struct {
	Name     string
	Outcome  string // Passed, Failed or Skipped
	Messages []string
}

// Check runs the conformance suite on info outside go test, against srv
// (required), and returns one Result per check, in order. ctx cancels the
// checks still to run (they are reported as failed with ctx's error).
func Check(ctx context.Context, info strategies.Info, srv *docker.Servers) []Result {
	h := &harness{info: info, srv: srv}
	var out []Result
	for _, c := range h.checks() {
		if err := ctx.Err(); err != nil {
			out = append(out, Result{Name: c.name, Outcome: Failed, Messages: []string{err.Error()}})
			continue
		}
		ct := &checkT{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer func() {
				if p := recover(); p != nil {
					ct.record(true, fmt.Sprintf("panic: %v", p))
				}
			}()
			c.run(ct)
		}()
		<-done
		ct.cleanup()
		r := Result{Name: c.name, Outcome: Passed, Messages: ct.msgs}
		switch {
		case ct.failed:
			r.Outcome = Failed
		case ct.skipped:
			r.Outcome = Skipped
		}
		out = append(out, r)
	}
	return out
}

// checkT is T for Check: Fatal and Skip end the check's goroutine, as
// testing does.
type checkT struct {
	mu       sync.Mutex
	msgs     []string
	failed   bool
	skipped  bool
	cleanups []func()
}

func (c *checkT) record(fail bool, msg string) {
	c.mu.Lock()
	c.msgs = append(c.msgs, msg)
	if fail {
		c.failed = true
	}
	c.mu.Unlock()
}

func (c *checkT) Helper() {}

func (c *checkT) Fatal(args ...any) {
	c.record(true, fmt.Sprint(args...))
	runtime.Goexit()
}

func (c *checkT) Fatalf(format string, args ...any) {
	c.record(true, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (c *checkT) Errorf(format string, args ...any) { c.record(true, fmt.Sprintf(format, args...)) }

func (c *checkT) Skipf(format string, args ...any) {
	c.record(false, fmt.Sprintf(format, args...))
	c.mu.Lock()
	c.skipped = true
	c.mu.Unlock()
	runtime.Goexit()
}

func (c *checkT) Cleanup(f func()) {
	c.mu.Lock()
	c.cleanups = append(c.cleanups, f)
	c.mu.Unlock()
}

// cleanup runs the cleanups, last registered first.
func (c *checkT) cleanup() {
	c.mu.Lock()
	fs := c.cleanups
	c.cleanups = nil
	c.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
