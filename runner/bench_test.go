package runner_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// noop answers every read at once with the seed row.
type noop struct{}

func (noop) Read(context.Context, gb.Key) (gb.ReadResult, error) {
	return gb.ReadResult{Hit: true}, nil
}
func (noop) Write(context.Context, gb.WriteRequest) error { return nil }
func (noop) Close() error                                 { return nil }

func noopRegistry() *strategies.Registry {
	r := &strategies.Registry{}
	r.Register(strategies.Info{Name: "noop", New: func(strategies.Env) (gb.Strategy, error) { return noop{}, nil }})
	return r
}

// BenchmarkRunnerOverhead measures what the runner adds per operation
// (clock reads, key choice, the checker's Observe) with a strategy that does
// nothing, one reader. Target: under 1 µs per operation.
func BenchmarkRunnerOverhead(b *testing.B) {
	srv := servertest.Start(b)
	d := 2 * time.Second
	sc := &scenarios.Scenario{Name: "noop", Keys: 1000, Readers: 1, Duration: scenarios.Duration(d), TTL: scenarios.Duration(time.Minute), Seed: 1}
	sc.Defaults()
	b.ResetTimer()
	var ops int64
	var secs float64
	for i := 0; i < b.N; i++ {
		res, err := runner.Run(context.Background(), runner.Config{Scenario: sc, Strategy: "noop", Registry: noopRegistry(), Servers: srv})
		if err != nil {
			b.Fatal(err)
		}
		ops += res.Metrics.Reads.Total
		secs += res.MeasuredSeconds
	}
	b.ReportMetric(secs*1e9/float64(ops), "ns/runner-op")
	b.ReportMetric(float64(ops)/secs, "ops/s")
}

// BenchmarkTenMillionOps runs the runner with the no-op strategy until 10
// million operations were checked and reports the peak resident set size.
// Target: under 200 MB. Run with -bench TenMillion -benchtime 1x.
func BenchmarkTenMillionOps(b *testing.B) {
	srv := servertest.Start(b)
	for i := 0; i < b.N; i++ {
		sc := &scenarios.Scenario{Name: "10M", Keys: 100_000, Readers: 2, Duration: scenarios.Duration(10 * time.Minute), TTL: scenarios.Duration(time.Minute), Seed: 1}
		sc.Defaults()
		ctx, cancel := context.WithCancel(context.Background())
		cfg := runner.Config{Scenario: sc, Strategy: "noop", Registry: noopRegistry(), Servers: srv}
		cfg.Progress = func(p runner.Progress) {
			if p.Ops >= 10_000_000 {
				cancel()
			}
		}
		res, err := runner.Run(ctx, cfg)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Metrics.Reads.Total), "ops")
	}
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
}

// peakRSS returns the process's peak resident set size in bytes (VmHWM).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return -1
}

// BenchmarkKeySpace runs cache-aside through steady-read-heavy for 2 s over
// 10^3 to 10^7 keys and reports each run's wall time (seeding, load, audit
// and teardown of the schema) and the growth of the process's resident set
// (sampled every 20 ms) per key. Setup, the checker and the audit cost what the keys
// in use cost, so the time beyond the smallest key space is the seeding of
// the rows, and the memory a few bytes per key. Run with
// -bench KeySpace -benchtime 1x (10^7 keys take about a minute).
func BenchmarkKeySpace(b *testing.B) {
	srv := servertest.Start(b)
	for _, keys := range []int{1_000, 100_000, 1_000_000, 10_000_000} {
		b.Run("keys="+strconv.Itoa(keys), func(b *testing.B) {
			sc, ok := scenarios.Builtin("steady-read-heavy")
			if !ok {
				b.Fatal("no scenario steady-read-heavy")
			}
			sc.Scale(2 * time.Second)
			sc.Keys = keys
			var wall float64
			var grow int64
			for i := 0; i < b.N; i++ {
				base := rss()
				stop := sampleRSS()
				t0 := time.Now()
				res, err := runner.Run(context.Background(), runner.Config{Scenario: sc, Strategy: "cache-aside", Servers: srv})
				wall += time.Since(t0).Seconds()
				grow = max(grow, stop()-base)
				if err != nil {
					b.Fatal(err)
				}
				if res.Error != "" {
					b.Fatal(res.Error)
				}
			}
			b.ReportMetric(wall/float64(b.N), "s/run")
			b.ReportMetric(float64(grow)/float64(keys), "RSS-growth-B/key")
		})
	}
}

// sampleRSS samples the resident set size every 20 ms until the returned
// function is called, which returns the largest sample.
func sampleRSS() (stop func() int64) {
	done := make(chan struct{})
	peak := make(chan int64)
	go func() {
		m := rss()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				peak <- max(m, rss())
				return
			case <-t.C:
				m = max(m, rss())
			}
		}
	}()
	return func() int64 { close(done); return <-peak }
}

// rss returns the process's resident set size in bytes (VmRSS).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return -1
}
