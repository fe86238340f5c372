package report

import (
	"math"
	"strconv"

	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/stats"
)

// Rep is one repetition of a cell: the bench's record of the run, the run
// itself (nil when nothing was written) and its headline numbers.
type Rep struct {
	BenchRun
	Run *record.Run
	Row SummaryRow
}

// measured reports whether the repetition completed with metrics: only
// those are samples of the cell.
func (r *Rep) measured() bool {
	return r.Status == record.StatusOK && r.Run != nil && r.Run.Metrics != nil
}

// Metric keys of CellStats, also the names in bench.json's stats and in
// compare's JSON.
const (
	MetricOpsPerSec      = "ops_per_sec"
	MetricStaleRatio     = "stale_ratio"
	MetricP99Staleness   = "p99_staleness_us"
	MetricMaxStaleWindow = "max_stale_window_us"
	MetricStaleUntilTTL  = "stale_until_ttl"
	MetricGhostReads     = "ghost_reads"
	MetricGhostUntilTTL  = "ghost_until_ttl"
	MetricAvailability   = "write_availability"
	MetricReadP50        = "read_p50_us"
	MetricReadP99        = "read_p99_us"
	MetricReadP999       = "read_p999_us"
	MetricWriteP50       = "write_p50_us"
	MetricWriteP99       = "write_p99_us"
	MetricWriteP999      = "write_p999_us"
	MetricInvalLagP50    = "invalidation_lag_p50_us"
	MetricInvalLagP99    = "invalidation_lag_p99_us"
	MetricRYWPerMillion  = "ryw_violations_per_million"
	// The database load (DBLoadRow).
	MetricHitRatio        = "hit_ratio"
	MetricDBReadsPerSec   = "db_reads_per_sec"
	MetricDBPeakPerSec    = "db_peak_reads_per_sec"
	MetricStorms          = "stampede_storms"
	MetricWidthP99        = "stampede_width_p99"
	MetricWidthMax        = "stampede_width_max"
	MetricFaultPeakPerSec = "db_peak_reads_per_sec_after_fault"
	MetricRecoveredAfter  = "hit_ratio_recovered_after_us"
)

// metricDef says how a metric is estimated across repetitions: a median
// (continuous metrics: latency, throughput, windows) or a count of rare
// events per repetition (optionally per unit of exposure, for a ratio).
type metricDef struct {
	key    string
	higher bool // higher is better
	// value is the per-repetition sample; ok false leaves the repetition
	// out (a p99 staleness of a run without stale reads).
	value func(r SummaryRow) (float64, bool)
	// count, for a count metric: events and exposure (0: per repetition).
	count func(r SummaryRow) (n int64, exposure float64)
	// rate marks a count per unit of exposure (a ratio): a repetition
	// without exposure has no sample of it.
	rate bool
}

var metricDefs = []metricDef{
	{key: MetricOpsPerSec, higher: true, value: func(r SummaryRow) (float64, bool) { return r.OpsPerSec, true }},
	{key: MetricStaleRatio, value: func(r SummaryRow) (float64, bool) { return optFloat(r.StaleRatio) },
		count: func(r SummaryRow) (int64, float64) { return r.StaleReads, float64(r.OKReads) }, rate: true},
	{key: MetricP99Staleness, value: func(r SummaryRow) (float64, bool) { return float64(r.P99StalenessUs), r.StaleReads > 0 }},
	{key: MetricMaxStaleWindow, value: func(r SummaryRow) (float64, bool) { return float64(r.MaxStaleWindowUs), true }},
	{key: MetricStaleUntilTTL, value: func(r SummaryRow) (float64, bool) { return float64(r.StaleUntilTTL), true },
		count: func(r SummaryRow) (int64, float64) { return r.StaleUntilTTL, 0 }},
	{key: MetricGhostReads, value: func(r SummaryRow) (float64, bool) { return float64(r.GhostReads), true },
		count: func(r SummaryRow) (int64, float64) { return r.GhostReads, 0 }},
	{key: MetricGhostUntilTTL, value: func(r SummaryRow) (float64, bool) { return float64(r.GhostUntilTTL), true },
		count: func(r SummaryRow) (int64, float64) { return r.GhostUntilTTL, 0 }},
	{key: MetricAvailability, higher: true, value: func(r SummaryRow) (float64, bool) { return optFloat(r.Availability) }},
	{key: MetricReadP50, value: func(r SummaryRow) (float64, bool) { return float64(r.ReadP50), true }},
	{key: MetricReadP99, value: func(r SummaryRow) (float64, bool) { return float64(r.ReadP99), true }},
	{key: MetricReadP999, value: func(r SummaryRow) (float64, bool) { return float64(r.ReadP999), true }},
	{key: MetricWriteP50, value: func(r SummaryRow) (float64, bool) { return float64(r.WriteP50), true }},
	{key: MetricWriteP99, value: func(r SummaryRow) (float64, bool) { return float64(r.WriteP99), true }},
	{key: MetricWriteP999, value: func(r SummaryRow) (float64, bool) { return float64(r.WriteP999), true }},
	{key: MetricInvalLagP50, value: func(r SummaryRow) (float64, bool) { return optInt(r.InvalidationLagP50Us) }},
	{key: MetricInvalLagP99, value: func(r SummaryRow) (float64, bool) { return optInt(r.InvalidationLagP99Us) }},
	{key: MetricRYWPerMillion, value: func(r SummaryRow) (float64, bool) { return optFloat(r.RYWPerMillion) },
		count: func(r SummaryRow) (int64, float64) { return r.RYWViolations, float64(r.OKReads) / 1e6 }, rate: true},
	{key: MetricHitRatio, higher: true, value: func(r SummaryRow) (float64, bool) { return optFloat(r.HitRatio) }},
	{key: MetricDBReadsPerSec, value: dbValue(func(d *DBLoadRow) *float64 { return d.ReadsPerSec })},
	{key: MetricDBPeakPerSec, value: dbValue(func(d *DBLoadRow) *float64 { return d.PeakPerSec })},
	{key: MetricStorms, value: dbValue(func(d *DBLoadRow) *float64 { return d.Storms })},
	{key: MetricWidthP99, value: dbValue(func(d *DBLoadRow) *float64 { return d.WidthP99 })},
	{key: MetricWidthMax, value: dbValue(func(d *DBLoadRow) *float64 { return d.WidthMax })},
	{key: MetricFaultPeakPerSec, value: dbValue(func(d *DBLoadRow) *float64 { return d.FaultPeakPerSec })},
	{key: MetricRecoveredAfter, value: dbValue(func(d *DBLoadRow) *float64 { return d.RecoveredAfterUs })},
}

// optInt returns *v as a float, ok false when absent.
func optInt(v *int64) (float64, bool) {
	if v == nil {
		return 0, false
	}
	return float64(*v), true
}

func metricDefOf(key string) metricDef {
	for _, d := range metricDefs {
		if d.key == key {
			return d
		}
	}
	if d, ok := lagStageDef(key); ok {
		return d
	}
	panic("report: unknown metric " + key) // a programming error: keys are constants
}

// Samples returns the per-repetition values of metric key over the
// completed repetitions of c (a ratio per repetition for the stale ratio),
// in repetition order.
func (c *Cell) Samples(key string) []float64 {
	if c == nil {
		return nil
	}
	d := metricDefOf(key)
	var out []float64
	for i := range c.Reps {
		r := &c.Reps[i]
		if !r.measured() {
			continue
		}
		if v, ok := d.value(r.Row); ok {
			out = append(out, v)
		}
	}
	return out
}

// Estimate returns metric key of c across its completed repetitions: the
// median with its order-statistic 95% interval, or for counts of rare
// events (ghost reads, keys stale or ghost until TTL, the stale-read
// ratio) the mean per repetition with the Poisson-t envelope interval
// (package stats). N is 0 when no repetition has the metric.
func (c *Cell) Estimate(key string) stats.Estimate {
	if c == nil {
		return stats.Estimate{Value: math.NaN()}
	}
	if e, ok := c.est[key]; ok {
		return e
	}
	d := metricDefOf(key)
	var e stats.Estimate
	if d.count != nil {
		var counts []int64
		var expo []float64
		for i := range c.Reps {
			r := &c.Reps[i]
			if !r.measured() {
				continue
			}
			if _, ok := d.value(r.Row); !ok {
				continue // the repetition does not have the measure
			}
			n, x := d.count(r.Row)
			if d.rate && x <= 0 {
				continue
			}
			counts = append(counts, n)
			if x <= 0 {
				x = 1
			}
			expo = append(expo, x)
		}
		e = stats.CountCI(counts, expo, stats.Confidence)
	} else {
		e = stats.Summarize(c.Samples(key))
	}
	if c.est == nil {
		c.est = map[string]stats.Estimate{}
	}
	c.est[key] = e
	return e
}

// Completed returns the number of completed repetitions of c.
func (c *Cell) Completed() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.Reps {
		if c.Reps[i].measured() {
			n++
		}
	}
	return n
}

// Estimates returns every metric of c by key.
func (c *Cell) Estimates() map[string]stats.Estimate {
	out := make(map[string]stats.Estimate, len(metricDefs))
	for _, d := range metricDefs {
		out[d.key] = c.Estimate(d.key)
	}
	for _, k := range lagStageKeys(c) {
		out[k] = c.Estimate(k)
	}
	return out
}

// compareCells tests metric key of a against b: -1 when a is
// significantly better, +1 significantly worse, 0 when not separable
// (Mann-Whitney U at the level of a's bench: stats.Alpha, or a sequential
// bench's level per look), and the p-value.
func compareCells(a, b *Cell, key string) (int, float64) {
	o, p := stats.CompareAt(a.Samples(key), b.Samples(key), a.Level())
	if metricDefOf(key).higher {
		o = -o
	}
	return o, p
}

// Level returns the level at which the cell is compared with the others
// of its bench: stats.Alpha, or the per-look level of a sequential bench.
func (c *Cell) Level() float64 {
	if c.level > 0 {
		return c.level
	}
	return stats.Alpha
}

// estText renders an estimate with its interval: "1.23 ms (1.10 ms–1.40 ms)",
// "-" without data; without an interval (too few repetitions) the value
// alone with "n=…".
func estText(e stats.Estimate, f func(float64) string) string {
	if e.N == 0 || math.IsNaN(e.Value) {
		return "-"
	}
	if !e.HasCI {
		// Too few repetitions for a 95% interval: the range of those there
		// are, with the lower confidence it has (1 - 2^(1-n)); one value
		// has none.
		if e.N >= 2 && !math.IsNaN(e.Lo) && !math.IsNaN(e.Hi) && e.Coverage > 0 {
			return f(e.Value) + " [" + f(e.Lo) + ", " + f(e.Hi) + "] (" + strconv.FormatFloat(e.Coverage*100, 'f', 0, 64) + "%, n=" + strconv.Itoa(e.N) + ")"
		}
		return f(e.Value) + " (n=" + strconv.Itoa(e.N) + ")"
	}
	return f(e.Value) + " [" + f(e.Lo) + ", " + f(e.Hi) + "]"
}

func usText(v float64) string {
	if v == 0 {
		return "0"
	}
	return FormatMicros(int64(math.Round(v)))
}

func pctText(v float64) string { return percent(&v) }

// pct2Text renders a ratio as a percentage with 2 significant digits
// ("0.045%"), for the matrix's cells.
func pct2Text(v float64) string {
	if v == 0 {
		return "0%"
	}
	return strconv.FormatFloat(v*100, 'g', 2, 64) + "%"
}

func countText(v float64) string {
	if v == math.Trunc(v) || v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

func perMillionText(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func ratioText(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

func opsText(v float64) string { return thousands(v) }
