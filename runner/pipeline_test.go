package runner_test

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// async-invalidation records its achieved lag, and the report says the
// pipeline fell behind when (and only when) its DEL rate is capped below
// the write rate. The cap is a quarter of the write rate the uncapped run
// achieved, so the premise holds on any machine, and the capped backlog
// drains in about three times the run's duration.
func TestAsyncInvalidationFallsBehindOnlyWhenCapped(t *testing.T) {
	srv := servertest.Start(t)
	sc := scenario(1500 * time.Millisecond)
	sc.WriteInterval = scenarios.Duration(2 * time.Millisecond)
	const lag = 300 * time.Millisecond
	params := strategies.Params{"lag": lag.String()}

	free := run(t, srv, runner.Config{Scenario: sc, Strategy: "async-invalidation", Params: params})
	if free.Status != record.StatusOK || free.InvalidationLag == nil || free.InvalidationLag.Count == 0 {
		t.Fatalf("uncapped: status %s (%s), invalidation lag %+v: want ok with a lag", free.Status, free.Error, free.InvalidationLag)
	}
	if free.InvalidationLagConfiguredUs != lag.Microseconds() {
		t.Errorf("configured lag recorded %dµs, want %dµs", free.InvalidationLagConfiguredUs, lag.Microseconds())
	}
	// Less than the configured lag by more than a millisecond would mean
	// DELs applied early; within it, the worker's and the writer's clock
	// reads (due time from the worker's enqueue, ack from the store) can
	// differ on a loaded machine.
	if h := free.InvalidationLag; h.Min < lag.Microseconds()-1000 {
		t.Errorf("uncapped: a DEL returned %dµs after its commit, before the configured %v", h.Min, lag)
	}
	if free.LagBehind() {
		t.Errorf("uncapped: the pipeline fell behind (lag p99 %dµs, configured %v)", free.InvalidationLag.P99, lag)
	}
	rate := float64(free.Metrics.Writes.Committed) / free.MeasuredSeconds
	capped := max(1, int(rate/4))
	t.Logf("uncapped: %.0f writes/s, lag p50 %dµs p99 %dµs; capping at %d DELs/s", rate, free.InvalidationLag.P50, free.InvalidationLag.P99, capped)

	params["max-dels-per-sec"] = strconv.Itoa(capped)
	slow := run(t, srv, runner.Config{Scenario: sc, Strategy: "async-invalidation", Params: params})
	if slow.Status != record.StatusOK || slow.InvalidationLag == nil {
		t.Fatalf("capped: status %s (%s), invalidation lag %+v", slow.Status, slow.Error, slow.InvalidationLag)
	}
	if !slow.LagBehind() {
		t.Errorf("capped at %d DELs/s: lag p99 %dµs, configured %v: not flagged as fallen behind", capped, slow.InvalidationLag.P99, lag)
	}
	for name, r := range map[string]*record.Run{"uncapped": free, "capped": slow} {
		var out bytes.Buffer
		if err := report.WriteRunText(&out, r); err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Contains(out.String(), report.LagBehindWarning), r == slow; got != want {
			t.Errorf("%s: run output has the warning: %v, want %v:\n%s", name, got, want, out.String())
		}
	}
}

// After Redis comes back from an outage, the consumers of cdc-invalidation
// and notify-invalidation catch up at once: from 500 ms after the heal,
// stale reads per bucket are back to their level before the fault, read
// from the time series. (Consumers that DELed one key per round trip, and
// retried one key with a backoff of up to 1s, served thousands of stale
// reads per second here until the end of the run.)
func TestConsumersCatchUpAfterRedisOutage(t *testing.T) {
	srv := servertest.Start(t)
	for _, strategy := range []string{"cdc-invalidation", "notify-invalidation"} {
		t.Run(strategy, func(t *testing.T) {
			// The built-in redis-outage (1000 keys, 16 readers), its times
			// scaled to 6s as a bench does, with 8 unpaced writers: a
			// write rate at which a consumer that DELs one key per round
			// trip is behind already before the fault.
			sc, ok := scenarios.Builtin("redis-outage")
			if !ok || len(sc.Faults) != 1 {
				t.Fatal("the catalogue has no redis-outage with one fault")
			}
			sc.Duration, sc.Warmup = fdur(6), fdur(0.6)
			sc.Faults[0].At, sc.Faults[0].For = fdur(1.8), fdur(1.8)
			sc.Writers, sc.WriteInterval = 8, 0
			res, _ := faultRun(t, srv, strategy, sc, false, 0)
			if len(res.Faults) != 1 || res.Faults[0].End == 0 {
				t.Fatalf("fault windows %+v: want one, healed", res.Faults)
			}
			w := res.Faults[0]
			s := res.Metrics.Series
			width := time.Duration(s.BucketUs) * time.Microsecond
			warm, start := sc.Warmup.D(), time.Duration(w.Start*1e9)
			settled := time.Duration(w.End*1e9) + 500*time.Millisecond
			end := time.Duration(res.ElapsedSeconds * 1e9)
			var pre, post []int64
			for i, n := range s.StaleReads {
				lo, hi := time.Duration(i)*width, time.Duration(i+1)*width
				switch {
				case lo >= warm && hi <= start:
					pre = append(pre, n)
				case lo >= settled && hi <= sc.Duration.D() && hi <= end:
					post = append(post, n)
				}
			}
			if len(pre) < 3 || len(post) < 3 {
				t.Fatalf("buckets before the fault %d, after heal+500ms %d: want 3 or more of each", len(pre), len(post))
			}
			// Medians: on a shared machine a stalled process makes
			// bursts of stale reads at any time, before the fault as
			// after it; a consumer still behind raises every bucket.
			preMed, postMed := median(pre), median(post)
			t.Logf("window %.3fs-%.3fs; stale reads per %v bucket: before %v (median %d), from heal+500ms %v (median %d); lag p99 %v",
				w.Start, w.End, width, pre, preMed, post, postMed, lagP99(res))
			// Back to the pre-fault level: within four times it, plus
			// ten reads per 100 ms bucket for a level of nearly none (a
			// consumer that has not caught up serves hundreds per
			// bucket; a loaded two-core machine a few).
			if postMed > 4*preMed+10 {
				t.Errorf("stale reads per bucket from heal+500ms: median %d, before the fault %d: the consumer did not catch up", postMed, preMed)
			}
		})
	}
}

func median(xs []int64) int64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func lagP99(r *record.Run) time.Duration {
	if r.InvalidationLag == nil {
		return 0
	}
	return time.Duration(r.InvalidationLag.P99) * time.Microsecond
}
