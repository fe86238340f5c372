package runner_test

import (
	"math"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/scenarios"
)

// TestFaultWindows runs every built-in fault kind once, one after the
// other, and checks that each recorded window is its real one: it opens
// soon after its scheduled start (once Inject confirmed the fault) and
// closes after its scheduled end by the time its heal took to confirm.
// The offsets are logged: they are the numbers the report quotes.
func TestFaultWindows(t *testing.T) {
	srv := servertest.Start(t)
	kinds := []struct {
		fault  string
		params map[string]string
	}{
		{"redis-latency", map[string]string{"latency": "50ms"}},
		{"redis-lost-replies", nil},
		{"redis-partition", nil},
		{"redis-oom", nil},
		{"redis-pause", nil},
		{"redis-down", nil},
		{"redis-restart", nil},
		{"redis-down", map[string]string{"via": "proxy"}},
		{"pg-latency", map[string]string{"latency": "20ms"}},
		{"pg-conn-kill", map[string]string{"every": "100ms"}},
		{"pg-commit-fail", map[string]string{"probability": "0.5"}},
		{"app-delay", map[string]string{"point": "after-db-read", "delay": "20ms"}},
		{"app-barrier", map[string]string{"point": "before-commit", "actor": "writer"}},
	}
	const at0, length, gap = 0.5, 0.3, 0.45
	var steps []scenarios.FaultStep
	for i, k := range kinds {
		steps = append(steps, scenarios.FaultStep{
			At: fdur(at0 + float64(i)*(length+gap)), For: fdur(length), Fault: k.fault, Params: k.params,
		})
	}
	sc := faultScenario("every-fault", steps...)
	sc.Warmup = fdur(0.2)
	// Shorter than the 0.3s windows, so that partition and pause show up
	// as client timeouts.
	sc.Timeouts.Redis = fdur(0.1)
	sc.Duration = fdur(at0 + float64(len(kinds))*(length+gap) + 0.2)
	t0 := time.Now()
	res, _ := faultRun(t, srv, "write-through", sc, false, 0)
	elapsed := time.Since(t0)
	if len(res.Faults) != len(kinds) {
		t.Fatalf("%d fault windows recorded, want %d", len(res.Faults), len(kinds))
	}
	// The whole run is bounded: client timeouts turn every fault into
	// errors, nothing hangs.
	if limit := sc.Duration.D() + 15*time.Second; elapsed > limit {
		t.Errorf("the run took %v, want under %v", elapsed, limit)
	}
	var maxStart, maxEnd float64
	var prevEnd float64
	for _, w := range res.Faults {
		startOff := (w.Start - w.ScheduledStart) * 1000
		endOff := (w.End - w.ScheduledEnd) * 1000
		t.Logf("%-18s scheduled %.2fs-%.2fs  real %.4fs-%.4fs  start +%.1fms  end +%.1fms",
			w.Fault, w.ScheduledStart, w.ScheduledEnd, w.Start, w.End, startOff, endOff)
		if w.Start == 0 || w.End == 0 {
			t.Errorf("%s: window %v-%v not recorded", w.Fault, w.Start, w.End)
			continue
		}
		// A real window is never early; it is late by the time Inject and
		// Heal took to confirm.
		if startOff < 0 || endOff < 0 {
			t.Errorf("%s: window opens %+.1fms and closes %+.1fms from its schedule; a real window is never early", w.Fault, startOff, endOff)
		}
		if w.ScheduledStart < prevEnd {
			t.Logf("%s: scheduled at %.2fs but the previous heal ran until %.3fs: its start offset includes that", w.Fault, w.ScheduledStart, prevEnd)
		}
		prevEnd = w.End
		maxStart, maxEnd = math.Max(maxStart, startOff), math.Max(maxEnd, endOff)
	}
	// Loose bounds that still catch a confirmation waiting for a timeout:
	// on an idle machine the offsets are a few ms, a server start a few
	// hundred (see the log); under -race on two shared cores much more.
	if maxStart > 1500 || maxEnd > 3000 {
		t.Errorf("largest offsets: start +%.1fms, end +%.1fms; want under 1.5s and 3s", maxStart, maxEnd)
	}
	m := res.Metrics
	t.Logf("writes %d, failed %v; reads %d, errors %v; elapsed %v", m.Writes.Attempted, m.Writes.Failed, m.Reads.Total, m.Reads.Errors, elapsed)
	if m.Writes.Failed["timeout"] == 0 || m.Writes.Failed["redis"] == 0 || m.Writes.Failed["postgres"] == 0 {
		t.Errorf("writes failed by class %v: want timeouts (partition, pause), redis errors (down, OOM) and postgres errors (commit failure)", m.Writes.Failed)
	}
}
