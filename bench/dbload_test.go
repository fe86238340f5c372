package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/scenarios"
)

// TestRedisCrashRestartLoad runs a small bench of redis-crash-restart and
// checks the database load after Redis came back empty: every run records
// its database reads and the load after the restart, cache-aside had a
// hit ratio to recover from, and the summary, bench.txt and the run's text
// show the after-fault figures per strategy.
func TestRedisCrashRestartLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a bench on real servers")
	}
	dir := filepath.Join(t.TempDir(), "bench")
	if d := os.Getenv("GHOSTBENCH_KEEP_BENCH"); d != "" {
		dir = d // to look at the figures
	}
	pcfg := docker.ConfigFromEnv()
	pcfg.Logf = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	strats := []string{"db-only", "cache-aside", "leases"}
	// 50 keys, so that the cache is warm before the restart even when a
	// loaded machine starts the load slowly, and 4 s runs, so that the
	// measured window goes on after a slow restart (more than a second
	// at a load average of 20).
	sc := builtin(t, "redis-crash-restart")
	sc.Keys = 50
	if _, err := Run(ctx, Config{
		Name: "restart", Dir: dir, Duration: 4 * time.Second, Seed: 3, Count: 1,
		Strategies: strats, Scenarios: []*scenarios.Scenario{sc}, Servers: pcfg,
	}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	m, err := report.RenderBench(dir, report.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range strats {
		c := m.Cell("redis-crash-restart", s)
		if c == nil || c.Completed() != 1 {
			t.Fatalf("%s: no completed run", s)
		}
		for i, rep := range c.Reps {
			d := rep.Run.DBLoad
			if d == nil || !d.Recorded || d.Reads == 0 || d.PeakPerSecond == nil {
				t.Fatalf("%s repetition %d: db load %+v, want recorded reads and a peak", s, i+1, d)
			}
			if len(d.AfterFaults) != 1 || d.AfterFaults[0].Fault != "redis-restart" || d.AfterFaults[0].PeakPerSecond == nil || d.AfterFaults[0].PreHitRatio == nil {
				t.Fatalf("%s repetition %d: after faults %+v, want the restart with a peak and the pre-fault hit ratio", s, i+1, d.AfterFaults)
			}
			rc := d.AfterFaults[0]
			switch s {
			case "db-only":
				if *rc.PreHitRatio != 0 || rc.RecoveredAfterMs != nil {
					t.Errorf("db-only repetition %d: pre-fault hit ratio %v, recovered after %v; want 0 and none", i+1, *rc.PreHitRatio, rc.RecoveredAfterMs)
				}
			default:
				if *rc.PreHitRatio <= 0 {
					t.Errorf("%s repetition %d: pre-fault hit ratio %v, want a cache that hit", s, i+1, *rc.PreHitRatio)
				}
			}
			var text bytes.Buffer
			if err := report.WriteRunText(&text, rep.Run); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "after redis-restart") || !strings.Contains(text.String(), "db reads") {
				t.Errorf("%s repetition %d: the run's text has no database load after the restart:\n%s", s, i+1, text.String())
			}
		}
	}
	sum, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| strategy | db reads/s | vs db-only | peak db reads/s |", "peak db reads/s after fault", "hit ratio recovered after", "| cache-aside | "} {
		if !strings.Contains(string(sum), want) {
			t.Errorf("summary.md lacks %q:\n%s", want, sum)
		}
	}
	txt, err := os.ReadFile(filepath.Join(dir, report.BenchFmtFile))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(txt), "\n") {
		if strings.HasPrefix(line, "BenchmarkGhost/") && strings.Contains(line, " db-peak-reads/s-after-fault") {
			n++
		}
	}
	if n != len(strats) {
		t.Errorf("bench.txt has the peak after the fault on %d lines, want %d (one per strategy)", n, len(strats))
	}
	if b, _, err := report.LoadBench(dir); err != nil || b.Status != record.StatusOK {
		t.Errorf("bench status %v, %v", b, err)
	}
}
