package runner_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
)

// Runs under faults against real servers, checked by the checker. Each run
// is a few seconds: a short warm-up, the fault from 1.5s for 1.5s, a
// little time after heal. Keys are few so that reads hit written keys.

func fdur(s float64) scenarios.Duration {
	return scenarios.Duration(time.Duration(s * float64(time.Second)))
}

// faultScenario is a short closed-loop scenario with the given faults.
func faultScenario(name string, fs ...scenarios.FaultStep) *scenarios.Scenario {
	sc := &scenarios.Scenario{
		Name: name, Keys: 20, Readers: 4, Writers: 4, WriteInterval: fdur(0.002),
		Duration: fdur(4.5), Warmup: fdur(0.5), TTL: fdur(60), Seed: 1, Faults: fs,
	}
	sc.Timeouts.Redis = fdur(0.5) // tighter fails writes for CPU starvation alone under -race on two cores
	sc.Defaults()
	return sc
}

// faultRun runs strategy through sc on srv with the faults package, as
// ghostbench run does. cancelAfter > 0 cancels the run then.
func faultRun(t *testing.T, srv *docker.Servers, strategy string, sc *scenarios.Scenario, full bool, cancelAfter time.Duration) (*record.Run, *faults.Setup) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	setup, err := faults.Prepare(ctx, sc, srv, faults.Options{})
	if err != nil {
		t.Fatalf("faults.Prepare: %v", err)
	}
	t.Cleanup(func() {
		if err := setup.Close(); err != nil {
			t.Errorf("setup.Close: %v", err)
		}
	})
	rctx := ctx
	if cancelAfter > 0 {
		var rcancel context.CancelFunc
		rctx, rcancel = context.WithCancel(ctx)
		time.AfterFunc(cancelAfter, rcancel)
	}
	res, err := runner.Run(rctx, runner.Config{
		Scenario: sc, Strategy: strategy, Servers: setup.Servers(), Faults: setup, FullHistory: full,
		Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("run %s under %s: %v", strategy, sc.Name, err)
	}
	checkInvariants(t, res)
	if res.Metrics == nil {
		t.Fatalf("run %s under %s: no metrics (status %s: %s)", strategy, sc.Name, res.Status, res.Error)
	}
	for _, w := range res.Faults {
		if w.InjectError != "" || w.HealError != "" {
			t.Errorf("fault %s: inject error %q, heal error %q", w.Fault, w.InjectError, w.HealError)
		}
	}
	return res, setup
}

// availability is write availability from the series buckets: inside the
// fault's real window (buckets wholly inside it) and outside it (buckets
// wholly outside it by more than margin, so that an operation that began
// in the window and ended after it counts in neither), with the number of
// writes each covers.
//
// The series counts attempted writes and the writes that returned an
// error, not committed ones, so availability is 1 − write errors/writes.
// That holds only when no write that returned an error committed, which it
// checks.
func availability(t *testing.T, m *check.Metrics, w record.FaultWindow, margin time.Duration) (in, out float64, nIn, nOut int64) {
	t.Helper()
	if m.Writes.CommittedDespiteError > 0 {
		t.Fatalf("%d writes returned an error but committed: errors are not failed writes", m.Writes.CommittedDespiteError)
	}
	s := m.Series
	width := time.Duration(s.BucketUs) * time.Microsecond
	start, end := time.Duration(w.Start*1e9), time.Duration(w.End*1e9)
	var errIn, errOut int64
	for i := range s.Writes {
		lo, hi := time.Duration(i)*width, time.Duration(i+1)*width
		switch {
		case lo >= start && hi <= end:
			nIn += s.Writes[i]
			errIn += s.WriteErrors[i]
		case hi <= start-margin || lo >= end+margin:
			nOut += s.Writes[i]
			errOut += s.WriteErrors[i]
		}
	}
	ratio := func(errs, n int64) float64 {
		if n == 0 {
			return -1
		}
		return 1 - float64(errs)/float64(n)
	}
	return ratio(errIn, nIn), ratio(errOut, nOut), nIn, nOut
}

func outage() scenarios.FaultStep {
	return scenarios.FaultStep{At: fdur(1.5), For: fdur(1.5), Fault: "redis-down"}
}

func TestFaultRuns(t *testing.T) {
	srv := servertest.Start(t)

	t.Run("strict write-through under redis-outage", func(t *testing.T) {
		sc := faultScenario("outage", outage())
		res, _ := faultRun(t, srv, "write-through", sc, false, 0)
		w := res.Faults[0]
		in, out, nIn, nOut := availability(t, res.Metrics, w, sc.Timeouts.Redis.D()+100*time.Millisecond)
		t.Logf("window %.3fs-%.3fs: write availability inside %.3f (%d writes), outside %.3f (%d writes); failed by class %v",
			w.Start, w.End, in, nIn, out, nOut, res.Metrics.Writes.Failed)
		if nIn == 0 || in >= 1 {
			t.Errorf("write availability inside the outage = %.3f over %d writes, want below 1", in, nIn)
		}
		if nOut == 0 || out != 1 {
			t.Errorf("write availability outside the outage = %.3f over %d writes, want 1", out, nOut)
			s := res.Metrics.Series
			for i := range s.Writes {
				t.Logf("bucket %4.1fs: writes %4d errors %4d", float64(i)*float64(s.BucketUs)/1e6, s.Writes[i], s.WriteErrors[i])
			}
		}
	})

	t.Run("soft write-through under redis-outage", func(t *testing.T) {
		res, _ := faultRun(t, srv, "soft-write-through", faultScenario("outage", outage()), false, 0)
		wm := res.Metrics.Writes
		if wm.Availability == nil || *wm.Availability != 1 || wm.Attempted == 0 {
			t.Errorf("write availability = %v over %d writes (failed %v), want 1", ptr(wm.Availability), wm.Attempted, wm.Failed)
		}
		if res.Metrics.Warnings == 0 {
			t.Error("no warnings: the outage did not reach the soft write path")
		}
		if res.Metrics.FillWarnings == 0 {
			t.Error("no fill warnings: the outage did not reach the read path's GET")
		}
	})

	t.Run("strict write-through under lost-replies", func(t *testing.T) {
		sc := faultScenario("lost-replies", scenarios.FaultStep{At: fdur(1.5), For: fdur(1.5), Fault: "redis-lost-replies"})
		res, _ := faultRun(t, srv, "write-through", sc, false, 0)
		m := res.Metrics
		t.Logf("ghost reads %d, ghost until TTL %d, writes failed %v", m.Reads.Ghost, m.Audit.GhostUntilTTL, m.Writes.Failed)
		if m.Reads.Ghost < 1 {
			t.Errorf("ghost reads = %d, want at least one (the SET applied, the transaction rolled back)", m.Reads.Ghost)
		}
		if m.Writes.Failed["timeout"] == 0 {
			t.Errorf("no write failed with a timeout (failed: %v): the client timeouts did not turn lost replies into errors", m.Writes.Failed)
		}
	})

	t.Run("soft write-through under partition", func(t *testing.T) {
		sc := faultScenario("partition", scenarios.FaultStep{At: fdur(1.5), For: fdur(1.5), Fault: "redis-partition"})
		// Many keys, more readers (every key cached before the partition),
		// paced writers and an end soon after heal, so that the keys
		// written during the partition are not all written again before
		// the audit; short client timeouts, so that several writes (SET
		// and DEL both timing out) fit in the window.
		sc.Keys, sc.Readers, sc.Writers, sc.WriteInterval = 200, 8, 8, fdur(0.1)
		sc.Timeouts.Redis = fdur(0.2)
		sc.Duration = fdur(3.4)
		res, _ := faultRun(t, srv, "soft-write-through", sc, true, 0)
		m, w := res.Metrics, res.Faults[0]
		// The committed writes that overlapped the partition: their SET,
		// their fallback DEL or both met it.
		during := map[int64]bool{}
		for _, h := range m.History {
			if h.Kind == "write" && h.Outcome == check.OutcomeCommitted &&
				float64(h.CompleteNs)/1e9 >= w.Start && float64(h.InvokeNs)/1e9 <= w.End {
				during[int64(h.Token)] = true
			}
		}
		var left int
		for _, ex := range m.Audit.Examples {
			if ex.Kind == check.AuditStale && during[int64(ex.DB.Token)] {
				left++
			}
		}
		t.Logf("stale until TTL %d (%d of them last written by a write that met the partition); writes that met it %d; availability %v",
			m.Audit.StaleUntilTTL, left, len(during), ptr(m.Writes.Availability))
		if left == 0 {
			t.Errorf("no key left stale until TTL by a write during the partition (stale until TTL: %d)", m.Audit.StaleUntilTTL)
		}
		if m.Writes.Availability == nil || *m.Writes.Availability != 1 {
			t.Errorf("write availability = %v, want 1 (soft write-through never fails a write for Redis)", ptr(m.Writes.Availability))
		}
	})
}

// testWriter writes log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func ptr(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%.4f", *p)
}

// refuses reports whether nothing accepts connections at addr.
func refuses(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return true
}
