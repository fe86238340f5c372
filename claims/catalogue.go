package claims

import (
	"fmt"
	"time"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/stats"
	"github.com/ghostbench/ghostbench/strategies"
)

// The durations and repetition counts: six repetitions is the least that
// gives a 95% interval of the median (stats.MinSamplesCI), and all claims
// together must run within ten minutes on a small shared machine.
const (
	benchReps     = 6
	benchDuration = 3 * time.Second
	reproRuns     = 3
)

func staleP99(r *record.Run) (float64, bool) {
	h := r.Metrics.Reads.StalenessAge
	if h == nil || h.Count == 0 {
		return 0, false
	}
	return float64(h.P99), true
}

func staleMax(r *record.Run) (float64, bool) {
	h := r.Metrics.Reads.StalenessAge
	if h == nil || h.Count == 0 {
		return 0, false
	}
	return float64(h.Max), true
}

func staleReads(r *record.Run) (float64, bool) { return float64(r.Metrics.Reads.Stale), true }
func okReads(r *record.Run) (float64, bool)    { return float64(r.Metrics.Reads.OK), true }

func writeP50(r *record.Run) (float64, bool) {
	h := r.Metrics.Latency[check.LatencyWrite]
	if h == nil || h.Count == 0 {
		return 0, false
	}
	return float64(h.P50), true
}

func availability(r *record.Run) (float64, bool) {
	a := r.Metrics.Writes.Availability
	if a == nil {
		return 0, false
	}
	return *a, true
}

func untilTTL(r *record.Run) (float64, bool) {
	return float64(r.Metrics.Audit.StaleUntilTTL + r.Metrics.Audit.GhostUntilTTL), true
}

func lagP99(r *record.Run) (float64, bool) {
	h := r.InvalidationLag
	if h == nil || h.Count == 0 {
		return 0, false
	}
	return float64(h.P99), true
}

const ms = 1000.0 // microseconds per millisecond

// Builtin returns the built-in catalogue.
func Builtin() *Catalogue {
	c := newCatalogue()
	for i, cl := range builtin() {
		order[cl.Name] = i
		c.add(cl)
	}
	return c
}

func builtin() []Claim {
	bench := func(cl Claim) Claim { cl.Reps, cl.Duration = benchReps, benchDuration; return cl }
	repro := func(cl Claim) Claim {
		cl.Reps = reproRuns
		cl.decide = func(ev *Evidence) Decision { return decideRepros(cl, ev) }
		return cl
	}
	var out []Claim

	// 1
	out = append(out, bench(Claim{
		Name:      "async-invalidation-280ms",
		Statement: "Invalidating the cache asynchronously (a queue applies the DEL after the commit) leaves readers seeing the old value for about 280 ms after a write.",
		Source:    "write-ups on Redis write-through and cache invalidation that quote staleness figures from production systems with a queued invalidation",
		Test:      "steady-read-heavy (16 readers, 4 paced writers), async-invalidation with lag=280ms",
		Metric:    "p99 staleness age of the stale reads, per repetition",
		Rule:      "holds when the 95% interval of the median p99 staleness age lies within 250-320 ms; refuted when it lies wholly outside",
		Cells:     []Cell{{Label: "async", Strategy: "async-invalidation", Params: strategies.Params{"lag": "280ms"}, Scenario: "steady-read-heavy"}},
		decide: func(ev *Evidence) Decision {
			xs, why := ev.values("async", staleP99)
			if why != "" {
				return notDecided(why)
			}
			iv := medianCI(xs)
			d := decideWithin(iv, 250*ms, 320*ms, "p99 staleness")
			d.Numbers = []string{"p99 staleness age: " + iv.String("ms", ms)}
			return d
		},
	}))

	// 2
	out = append(out, bench(Claim{
		Name:      "write-through-no-stale-window",
		Statement: "Write-through closes the race window that cache-aside leaves open: with the cache written in the write path, readers never see stale data.",
		Source:    "vendor blog posts and talks comparing cache-aside with write-through",
		Test:      "steady-read-heavy, write-through (strict)",
		Metric:    "stale reads per successful read, per repetition",
		Rule:      "refuted when any repetition has a stale read (each is proved from the recorded intervals: one is a counterexample); holds when no repetition has one",
		Cells:     []Cell{{Label: "write-through", Strategy: "write-through", Scenario: "steady-read-heavy"}},
		decide: func(ev *Evidence) Decision {
			cs, ex, why := ev.counts("write-through", staleReads, okReads)
			if why != "" {
				return notDecided(why)
			}
			est := stats.CountCI(cs, ex, stats.Confidence)
			d := Decision{Numbers: []string{"stale reads: " + countString(est, cs, "%", 100)}}
			switch {
			case total(cs) == 0:
				d.Verdict, d.Why = Holds, "no stale read in any repetition"
			default:
				d.Verdict, d.Why = Refuted, "proved stale reads in write-through: the read path's fill still races the write"
			}
			return d
		},
	}))

	// 3
	out = append(out, repro(Claim{
		Name:      "strict-write-through-never-diverges",
		Statement: "Strict write-through (SET inside the transaction, roll back when the SET fails) keeps the cache and the database from ever diverging.",
		Source:    "write-ups on Redis write-through that present the transactional SET as a consistency guarantee",
		Test:      "reproduce cases write-through-lost-reply (the SET applied, its reply lost, the transaction rolled back) and write-through-commit-fails (COMMIT fails after the SET)",
		Metric:    "the case's verdict per run: anomaly (ghost read or ghost until TTL) or clean",
		Rule:      "refuted when a case reproduces an anomaly; holds when every run of both cases is clean",
		Repros: []Repro{
			{Label: "lost-reply", Case: "write-through-lost-reply", Strategy: "write-through", Want: "clean"},
			{Label: "commit-fails", Case: "write-through-commit-fails", Strategy: "write-through", Want: "clean"},
		},
	}))

	// 4
	out = append(out, bench(Claim{
		Name:      "write-through-under-2ms",
		Statement: "Write-through costs one extra Redis round trip per write, typically under 2 ms.",
		Source:    "write-ups on Redis write-through quoting the write-path overhead",
		Test:      "steady-read-heavy, write-through against db-only (the same write without a cache), interleaved",
		Metric:    "median write latency of write-through minus that of db-only in the same repetition",
		Rule:      "holds when the 95% interval of the median difference lies below 2 ms; refuted when it lies above",
		Cells: []Cell{
			{Label: "write-through", Strategy: "write-through", Scenario: "steady-read-heavy"},
			{Label: "db-only", Strategy: "db-only", Scenario: "steady-read-heavy"},
		},
		decide: func(ev *Evidence) Decision {
			wt, why := ev.values("write-through", writeP50)
			if why != "" {
				return notDecided(why)
			}
			db, why := ev.values("db-only", writeP50)
			if why != "" {
				return notDecided(why)
			}
			diff := make([]float64, len(wt))
			for i := range wt {
				diff[i] = wt[i] - db[i]
			}
			iv := medianCI(diff)
			d := decideBelow(iv, 2*ms, "added write latency")
			d.Numbers = []string{
				"write p50, write-through: " + medianCI(wt).String("ms", ms),
				"write p50, db-only: " + medianCI(db).String("ms", ms),
				"added by write-through: " + iv.String("ms", ms),
			}
			return d
		},
	}))

	// 5
	out = append(out, bench(Claim{
		Name:      "soft-write-through-available",
		Statement: "Soft write-through (on a Redis error: log, DEL best-effort, commit anyway) keeps writes available when Redis hits its memory limit.",
		Source:    "write-ups on Redis write-through recommending a degraded mode over failing writes",
		Test:      "redis-oom (Redis at maxmemory with noeviction for the middle third of the run), soft-write-through",
		Metric:    "write availability (committed / attempted), per repetition",
		Rule:      "holds when the 95% interval of the median availability lies within 0.99-1; refuted when it lies below 0.99",
		Cells:     []Cell{{Label: "soft", Strategy: "soft-write-through", Scenario: "redis-oom"}},
		decide: func(ev *Evidence) Decision {
			xs, why := ev.values("soft", availability)
			if why != "" {
				return notDecided(why)
			}
			iv := medianCI(xs)
			d := decideWithin(iv, 0.99, 1, "availability")
			d.Numbers = []string{"write availability: " + iv.String("", 1)}
			return d
		},
	}))

	// 6
	const ttl = 500 * time.Millisecond
	out = append(out, bench(Claim{
		Name:      "ttl-bounds-inconsistency",
		Statement: "A TTL on every key bounds how long any inconsistency can last: a stale entry disappears when its TTL expires.",
		Source:    "caching guides that recommend a TTL on every key as the safety net",
		Test:      fmt.Sprintf("slow-cache-fill (a 50 ms pause between a miss's SELECT and its SET: stale sets) with TTL %v, cache-aside", ttl),
		Metric:    "the largest staleness age of any read, per repetition",
		Rule:      fmt.Sprintf("holds when stale reads occur and the 95%% interval of the median largest age lies below TTL + 250 ms (%v; the fill pause and a loaded machine's scheduling); refuted when it lies above", ttl+250*time.Millisecond),
		Cells: []Cell{{Label: "cache-aside", Strategy: "cache-aside", Scenario: "slow-cache-fill",
			Adjust: func(s *scenarios.Scenario) { s.TTL = scenarios.Duration(ttl) }}},
		decide: func(ev *Evidence) Decision {
			xs, why := ev.values("cache-aside", staleMax)
			if why != "" {
				return notDecided(why + " (no stale read: nothing to bound)")
			}
			iv := medianCI(xs)
			d := decideBelow(iv, float64((ttl + 250*time.Millisecond).Microseconds()), "largest staleness age")
			d.Numbers = []string{"largest staleness age: " + iv.String("ms", ms), fmt.Sprintf("TTL: %v", ttl)}
			return d
		},
	}))

	// 7
	out = append(out, repro(Claim{
		Name:      "version-check-and-leases-close-stale-set",
		Statement: "A version-checked SET (SET-if-newer) and memcache-style leases both close the cache-aside stale-set race.",
		Source:    "the cache-consistency literature (leases from Facebook's memcache paper, versioned sets from practitioners' write-ups); our own strategies claim it",
		Test:      "reproduce case cache-aside-stale-set on version-checked and on leases, with cache-aside as the control that must show the race",
		Metric:    "the case's verdict per run",
		Rule:      "holds when every run on version-checked and leases is clean and the control reproduces the anomaly; refuted when one of them shows it",
		Repros: []Repro{
			{Label: "control", Case: "cache-aside-stale-set", Strategy: "cache-aside", Want: "anomaly"},
			{Label: "version-checked", Case: "cache-aside-stale-set", Strategy: "version-checked", Want: "clean"},
			{Label: "leases", Case: "cache-aside-stale-set", Strategy: "leases", Want: "clean"},
		},
	}))

	// 8
	out = append(out, bench(Claim{
		Name:      "delayed-double-delete-needs-the-delay",
		Statement: "Delayed double delete closes the stale-set race only when the stale fill lands inside the delay: a second DEL before the fill lands leaves the stale entry in place.",
		Source:    "our own delayed-double-delete strategy, after the pattern popular in backend engineering forums",
		Test:      "slow-cache-fill (fills land 50 ms after their SELECT), delayed-double-delete with delay=500ms (fill inside the delay) and delay=5ms (fill after it), interleaved",
		Metric:    "keys stale or ghost until TTL at the end-of-run audit, per repetition",
		Rule:      "holds when no repetition with delay=500ms leaves a key stale until TTL and some repetition with delay=5ms does; refuted when delay=500ms leaves such a key (a counterexample); not decided when delay=5ms never does (the test did not see the race)",
		Cells: []Cell{
			{Label: "delay-500ms", Strategy: "delayed-double-delete", Params: strategies.Params{"delay": "500ms"}, Scenario: "slow-cache-fill"},
			{Label: "delay-5ms", Strategy: "delayed-double-delete", Params: strategies.Params{"delay": "5ms"}, Scenario: "slow-cache-fill"},
		},
		decide: func(ev *Evidence) Decision {
			long, _, why := ev.counts("delay-500ms", untilTTL, nil)
			if why != "" {
				return notDecided(why)
			}
			short, _, why := ev.counts("delay-5ms", untilTTL, nil)
			if why != "" {
				return notDecided(why)
			}
			el, es := stats.CountCI(long, nil, stats.Confidence), stats.CountCI(short, nil, stats.Confidence)
			d := Decision{Numbers: []string{
				"keys stale until TTL, delay=500ms: " + countString(el, long, "per repetition", 1),
				"keys stale until TTL, delay=5ms: " + countString(es, short, "per repetition", 1),
			}}
			switch {
			case total(long) > 0:
				d.Verdict, d.Why = Refuted, "the fill inside the delay still left stale keys"
			case total(short) == 0:
				d.Verdict, d.Why = NotDecided, "a fill after the second DEL never left a stale key: the test did not see the race"
			default:
				d.Verdict, d.Why = Holds, "clean with the fill inside the delay, stale keys when it lands after"
			}
			return d
		},
	}))

	// 9
	out = append(out, bench(Claim{
		Name:      "cdc-async-commit-lag-200ms",
		Statement: "Invalidating from the WAL (CDC) with synchronous_commit off lags the commit by up to about 200 ms: the WAL writer flushes every wal_writer_delay, and only flushed WAL is decoded.",
		Source:    "PostgreSQL's documentation of asynchronous commit and logical decoding; our own cdc-invalidation strategy claims it",
		Test:      "steady-read-heavy with synchronous_commit off on the writers' sessions, cdc-invalidation",
		Metric:    "p99 invalidation lag (commit-ack to the DEL returning), per repetition",
		Rule:      "holds when the 95% interval of the median p99 lag lies within 100-300 ms; refuted when it lies wholly outside",
		Cells: []Cell{{Label: "cdc", Strategy: "cdc-invalidation", Scenario: "steady-read-heavy",
			Adjust: func(s *scenarios.Scenario) { s.Postgres.SynchronousCommit = "off" }}},
		decide: func(ev *Evidence) Decision {
			xs, why := ev.values("cdc", lagP99)
			if why != "" {
				return notDecided(why)
			}
			iv := medianCI(xs)
			d := decideWithin(iv, 100*ms, 300*ms, "p99 invalidation lag")
			d.Numbers = []string{"p99 invalidation lag: " + iv.String("ms", ms)}
			return d
		},
	}))
	return out
}
