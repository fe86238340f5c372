package check

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/ghostbench/ghostbench"
)

// DBLoad is what a run cost the database in reads: how many rows the
// strategy read from PostgreSQL, how fast at peak, and how many readers
// went to PostgreSQL for the same key at once after a miss (a stampede, or
// thundering herd). It is counted from the database reads the store
// recorded at the boundary (ghostbench.ReadRecorder), never estimated from
// cache misses.
//
// A database read belongs to a fill: the reads of one key that returned
// the same committed version and started while the fill of the first of
// them was still in flight, that is from that read's start until the
// operation that made it returned (by then its fill, if any, was done).
// A fill's width is its number of reads: 1 when one reader filled the key
// and the others found the cache filled or waited for it, n when n readers
// each read the row. A storm is a fill of width 2 or more. A strategy
// without a cache (db-only) has fills too: the readers of one version
// that overlapped one such read.
//
// Everything counted is in the measured window: reads that started in it,
// fills whose first read started in it.
type DBLoad struct {
	// Recorded is false when reads missed the cache but no database read
	// was recorded: the strategy reads PostgreSQL outside the store (a
	// foreign process with its own SQL). Every number is then absent, not
	// zero.
	Recorded bool `json:"recorded"`
	// Reads counts the successful database reads that started in the
	// measured window.
	Reads int64 `json:"reads"`
	// PerSecond is Reads per measured second; null when not recorded.
	PerSecond *float64 `json:"reads_per_s"`
	// PeakPerSecond is the highest rate of a series bucket that lies
	// wholly in the measured window, PeakAtS the start of that bucket in
	// seconds from the run's start; null when no bucket does.
	PeakPerSecond *float64 `json:"peak_reads_per_s"`
	PeakAtS       float64  `json:"peak_at_s,omitempty"`
	// Fills is the number of fills (groups of reads, see above); Storms
	// how many of them had a width of 2 or more.
	Fills  int64 `json:"fills"`
	Storms int64 `json:"storms"`
	// WidthP50, WidthP99 and WidthMax are the exact nearest-rank
	// percentiles of the width over the fills (0 without fills).
	WidthP50 int64 `json:"width_p50"`
	WidthP99 int64 `json:"width_p99"`
	WidthMax int64 `json:"width_max"`
	// Widths is the distribution: how many fills had each width.
	Widths []WidthCount `json:"widths,omitempty"`
	// Widest is the fill of the largest width (the earliest of equals).
	Widest *Fill `json:"widest,omitempty"`
	// Truncated says the run made more than MaxDBReads database reads:
	// fills and widths cover the first MaxDBReads of them; rates cover
	// all.
	Truncated bool `json:"truncated,omitempty"`
	// Series counts, per bucket of the checker's series (element i covers
	// [i*BucketUs, (i+1)*BucketUs) µs after the run's start), the
	// database reads by their start, and the measured successful reads
	// and the cache hits among them by their completion.
	Series DBLoadSeries `json:"series"`
	// AfterFaults is the load after each fault window that healed.
	AfterFaults []Recovery `json:"after_faults,omitempty"`
}

// WidthCount is one step of the width distribution.
type WidthCount struct {
	Width int64 `json:"width"`
	Fills int64 `json:"fills"`
}

// Fill is one fill: Width readers read Key at Version, the first at
// StartNs (nanoseconds from the run's start).
type Fill struct {
	Key     ghostbench.Key `json:"key"`
	Version int64          `json:"version"`
	StartNs int64          `json:"start_ns"`
	Width   int64          `json:"width"`
}

// DBLoadSeries is DBLoad's time series.
type DBLoadSeries struct {
	BucketUs int64   `json:"bucket_us"`
	DBReads  []int64 `json:"db_reads"`
	Reads    []int64 `json:"reads"`
	Hits     []int64 `json:"hits"`
}

// Recovery is the database load after one fault window, such as Redis
// restarting empty: the hit ratio before it, the peak rate of database
// reads from the bucket of its heal until the hit ratio recovered (or the
// end of the measured window), and when it recovered.
type Recovery struct {
	Fault string  `json:"fault"`
	HealS float64 `json:"heal_s"`
	// PreHitRatio is the hit ratio of the measured reads that completed
	// in the buckets wholly before the fault opened; null when there were
	// none.
	PreHitRatio *float64 `json:"pre_hit_ratio"`
	// PeakPerSecond and PeakAtS: the peak after the heal, as
	// DBLoad.PeakPerSecond; null when no bucket after the heal lies in the
	// measured window.
	PeakPerSecond *float64 `json:"peak_reads_per_s"`
	PeakAtS       float64  `json:"peak_at_s,omitempty"`
	// RecoveredAfterMs is the time from the heal to the end of the first
	// bucket (from the heal's own on) whose hit ratio reached
	// RecoveryFraction of PreHitRatio over at least RecoveryMinReads
	// reads; null when none did before the measured window ended, or
	// when PreHitRatio is null or 0 (no cache hit to recover).
	RecoveredAfterMs *float64 `json:"recovered_after_ms"`
}

// FaultSpan is a fault window as DBLoadChecker.Result needs it.
type FaultSpan struct {
	Fault      string
	Start, End time.Duration
}

const (
	// MaxDBReads bounds the database reads kept for the fills (32 bytes
	// each).
	MaxDBReads = 2_000_000
	// RecoveryFraction is the share of the pre-fault hit ratio a bucket
	// must reach for the hit ratio to count as recovered.
	RecoveryFraction = 0.95
	// RecoveryMinReads is the fewest reads a bucket needs to say so.
	RecoveryMinReads = 10
)

// DBRead is one database read as the DBLoadChecker takes it.
type DBRead struct {
	Key     ghostbench.Key
	Version int64
	// Start is just before the SELECT was sent.
	Start time.Duration
	// OpEnd is when the operation that made the read returned (its fill,
	// if any, was done by then); the read's own end when no operation made
	// it.
	OpEnd time.Duration
}

// DBLoadChecker counts database load online; Read and Observe may be
// called from many goroutines at once. Observe, called for every
// operation, takes one of several mutexes chosen by the operation's
// client, so that readers do not queue on one.
type DBLoadChecker struct {
	mu             sync.Mutex
	bucket         int64
	warmupEnd, end int64
	reads          []DBRead
	truncated      bool
	allDBReads     int64
	dbReads        []int64
	ops            [16]dbOpShard
}

// dbOpShard counts the reads of some clients.
type dbOpShard struct {
	mu      sync.Mutex
	misses  int64
	ok, hit []int64
	_       [64]byte
}

// NewDBLoadChecker returns a checker with series buckets of width bucket
// (0: DefaultBucket) and a measured window of the whole run until
// SetWindow says otherwise.
func NewDBLoadChecker(bucket time.Duration) *DBLoadChecker {
	if bucket <= 0 {
		bucket = DefaultBucket
	}
	return &DBLoadChecker{bucket: int64(bucket), end: math.MaxInt64}
}

// SetWindow sets the measured window [warmupEnd, end). It must be called
// before the first Read.
func (c *DBLoadChecker) SetWindow(warmupEnd, end time.Duration) {
	c.mu.Lock()
	c.warmupEnd, c.end = int64(warmupEnd), int64(end)
	c.mu.Unlock()
}

func (c *DBLoadChecker) inWindow(t int64) bool { return t >= c.warmupEnd && t < c.end }

func (c *DBLoadChecker) bump(s *[]int64, t int64) { bumpAt(s, t, c.bucket) }

func bumpAt(s *[]int64, t, bucket int64) {
	i := int64(0)
	if t > 0 {
		i = min(t/bucket, maxSeriesBuckets-1)
	}
	if i >= int64(len(*s)) {
		*s = append(*s, make([]int64, int(i)+1-len(*s))...)
	}
	(*s)[i]++
}

// Read records one successful database read.
func (c *DBLoadChecker) Read(r DBRead) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.allDBReads++
	if c.inWindow(int64(r.Start)) {
		c.bump(&c.dbReads, int64(r.Start))
	}
	if len(c.reads) >= MaxDBReads {
		c.truncated = true
		return
	}
	c.reads = append(c.reads, r)
}

// Observe counts a completed operation: its hit or miss, and in the
// series, a measured successful read by its completion.
func (c *DBLoadChecker) Observe(op *ghostbench.Op) {
	if op.Kind != ghostbench.OpRead || op.Err != nil {
		return
	}
	sh := &c.ops[uint(op.Client)%uint(len(c.ops))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !op.Hit {
		sh.misses++
	}
	if !op.Measured {
		return
	}
	t := int64(op.Complete)
	bumpAt(&sh.ok, t, c.bucket)
	if op.Hit {
		bumpAt(&sh.hit, t, c.bucket)
	}
}

// Result returns the load of the run, with the recovery after each fault
// in faults that healed (End > Start). measuredEnd is where the measured
// window really ended (earlier than the window's end when interrupted).
func (c *DBLoadChecker) Result(measuredEnd time.Duration, faults []FaultSpan) *DBLoad {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := min(int64(measuredEnd), c.end)
	var misses int64
	var ok, hit []int64
	add := func(dst *[]int64, src []int64) {
		if len(src) > len(*dst) {
			*dst = append(*dst, make([]int64, len(src)-len(*dst))...)
		}
		for i, v := range src {
			(*dst)[i] += v
		}
	}
	for i := range c.ops {
		sh := &c.ops[i]
		sh.mu.Lock()
		misses += sh.misses
		add(&ok, sh.ok)
		add(&hit, sh.hit)
		sh.mu.Unlock()
	}
	out := &DBLoad{Recorded: c.allDBReads > 0 || misses == 0}
	if !out.Recorded {
		return out
	}
	n := max(len(c.dbReads), len(ok), len(hit))
	pad := func(s []int64) []int64 { return append(slices.Clone(s), make([]int64, n-len(s))...) }
	out.Series = DBLoadSeries{BucketUs: c.bucket / 1000, DBReads: pad(c.dbReads), Reads: pad(ok), Hits: pad(hit)}
	for _, v := range out.Series.DBReads {
		out.Reads += v
	}
	if secs := time.Duration(end - c.warmupEnd).Seconds(); secs > 0 {
		out.PerSecond = ptr(float64(out.Reads) / secs)
	}
	out.PeakPerSecond, out.PeakAtS = c.peak(out.Series.DBReads, c.warmupEnd, end)
	c.fills(out)
	for _, f := range faults {
		// A fault healed when the run ended (or too near its end to
		// leave a whole bucket after the heal's) has no after.
		if f.End > f.Start && (int64(f.End)/c.bucket+2)*c.bucket <= end {
			out.AfterFaults = append(out.AfterFaults, c.recovery(out.Series, f, end))
		}
	}
	return out
}

// peak is the highest rate of the buckets wholly inside [from, to).
func (c *DBLoadChecker) peak(s []int64, from, to int64) (*float64, float64) {
	var best *float64
	var at float64
	for i, v := range s {
		lo := int64(i) * c.bucket
		if lo < from || lo+c.bucket > to {
			continue
		}
		rate := float64(v) / time.Duration(c.bucket).Seconds()
		if best == nil || rate > *best {
			best, at = ptr(rate), time.Duration(lo).Seconds()
		}
	}
	return best, at
}

func (c *DBLoadChecker) recovery(s DBLoadSeries, f FaultSpan, end int64) Recovery {
	rc := Recovery{Fault: f.Fault, HealS: f.End.Seconds()}
	var hits, reads int64
	for i := range s.Reads {
		if lo := int64(i) * c.bucket; lo >= c.warmupEnd && lo+c.bucket <= int64(f.Start) {
			hits += s.Hits[i]
			reads += s.Reads[i]
		}
	}
	rc.PreHitRatio = divideOrNil(hits, reads)
	first := int64(f.End) / c.bucket // the heal's bucket
	last := int64(len(s.DBReads)) - 1
	if rc.PreHitRatio != nil && *rc.PreHitRatio > 0 { // without hits there is nothing to recover
		want := RecoveryFraction * *rc.PreHitRatio
		for i := first; i < int64(len(s.Reads)) && (i+1)*c.bucket <= end; i++ {
			if s.Reads[i] >= RecoveryMinReads && float64(s.Hits[i]) >= want*float64(s.Reads[i]) {
				rc.RecoveredAfterMs = ptr(float64((i+1)*c.bucket-int64(f.End)) / 1e6)
				last = i
				break
			}
		}
	}
	if last >= first {
		upto := min(end, (last+1)*c.bucket)
		rc.PeakPerSecond, rc.PeakAtS = c.peak(s.DBReads, max(first*c.bucket, c.warmupEnd), upto)
	}
	return rc
}

// fills groups the kept reads into fills: by key and version, in order of
// start; a read joins the open fill of its key and version when it
// started no later than the end of the operation of that fill's first
// read, and opens a new fill otherwise. Only fills whose first read
// started in the measured window are counted.
func (c *DBLoadChecker) fills(out *DBLoad) {
	out.Truncated = c.truncated
	rs := c.reads
	slices.SortFunc(rs, func(a, b DBRead) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Version, b.Version), cmp.Compare(a.Start, b.Start))
	})
	byWidth := map[int64]int64{}
	var widths []int64
	flush := func(first DBRead, w int64) {
		if !c.inWindow(int64(first.Start)) {
			return
		}
		byWidth[w]++
		widths = append(widths, w)
		if out.Widest == nil || w > out.Widest.Width || w == out.Widest.Width && int64(first.Start) < out.Widest.StartNs {
			out.Widest = &Fill{Key: first.Key, Version: first.Version, StartNs: int64(first.Start), Width: w}
		}
	}
	for i := 0; i < len(rs); {
		first, w := rs[i], int64(1)
		j := i + 1
		for ; j < len(rs) && rs[j].Key == first.Key && rs[j].Version == first.Version && rs[j].Start <= first.OpEnd; j++ {
			w++
		}
		flush(first, w)
		i = j
	}
	out.Fills = int64(len(widths))
	if len(widths) == 0 {
		return
	}
	slices.Sort(widths)
	rank := func(q float64) int64 { return widths[max(0, int(math.Ceil(q*float64(len(widths))))-1)] }
	out.WidthP50, out.WidthP99, out.WidthMax = rank(0.5), rank(0.99), widths[len(widths)-1]
	for w, n := range byWidth {
		out.Widths = append(out.Widths, WidthCount{Width: w, Fills: n})
		if w >= 2 {
			out.Storms += n
		}
	}
	slices.SortFunc(out.Widths, func(a, b WidthCount) int { return cmp.Compare(a.Width, b.Width) })
}

func ptr(v float64) *float64 { return &v }
