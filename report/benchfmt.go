package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// benchUnit is one metric of a bench.txt result line.
type benchUnit struct {
	unit   string
	better string // "higher" or "lower"
	value  func(r SummaryRow) (float64, bool)
}

func sec(us int64) float64 { return float64(us) / 1e6 }

// benchUnits are the metrics of every result line after ns/op, in order.
// Durations are in seconds (unit suffix -sec). Not -ns: benchstat tidies
// an -ns value into -sec only when it is not 0, so a metric that is 0 in
// some repetitions (a max stale window) would be split into two metrics of
// fewer samples each, too few for an interval.
var benchUnits = []benchUnit{
	{"ops/s", "higher", func(r SummaryRow) (float64, bool) { return r.OpsPerSec, true }},
	{"stale-ratio", "lower", func(r SummaryRow) (float64, bool) { return optFloat(r.StaleRatio) }},
	{"stale-reads", "lower", func(r SummaryRow) (float64, bool) { return float64(r.StaleReads), true }},
	{"ghost-reads", "lower", func(r SummaryRow) (float64, bool) { return float64(r.GhostReads), true }},
	{"stale-until-ttl-keys", "lower", func(r SummaryRow) (float64, bool) { return float64(r.StaleUntilTTL), true }},
	{"ghost-until-ttl-keys", "lower", func(r SummaryRow) (float64, bool) { return float64(r.GhostUntilTTL), true }},
	{"p99-staleness-sec", "lower", func(r SummaryRow) (float64, bool) { return sec(r.P99StalenessUs), true }},
	{"max-stale-window-sec", "lower", func(r SummaryRow) (float64, bool) { return sec(r.MaxStaleWindowUs), true }},
	{"write-availability", "higher", func(r SummaryRow) (float64, bool) { return optFloat(r.Availability) }},
	{"read-p50-sec", "lower", func(r SummaryRow) (float64, bool) { return sec(r.ReadP50), true }},
	{"read-p99-sec", "lower", func(r SummaryRow) (float64, bool) { return sec(r.ReadP99), true }},
	{"read-p999-sec", "lower", func(r SummaryRow) (float64, bool) { return sec(r.ReadP999), true }},
	{"write-p50-sec", "lower", func(r SummaryRow) (float64, bool) { return sec(r.WriteP50), true }},
	{"write-p99-sec", "lower", func(r SummaryRow) (float64, bool) { return sec(r.WriteP99), true }},
	{"write-p999-sec", "lower", func(r SummaryRow) (float64, bool) { return sec(r.WriteP999), true }},
	{"invalidation-lag-p50-sec", "lower", func(r SummaryRow) (float64, bool) { return optSec(r.InvalidationLagP50Us) }},
	{"invalidation-lag-p99-sec", "lower", func(r SummaryRow) (float64, bool) { return optSec(r.InvalidationLagP99Us) }},
	{"db-reads/s", "lower", dbValue(func(d *DBLoadRow) *float64 { return d.ReadsPerSec })},
	{"db-peak-reads/s", "lower", dbValue(func(d *DBLoadRow) *float64 { return d.PeakPerSec })},
	{"stampede-width-p99", "lower", dbValue(func(d *DBLoadRow) *float64 { return d.WidthP99 })},
	{"db-peak-reads/s-after-fault", "lower", dbValue(func(d *DBLoadRow) *float64 { return d.FaultPeakPerSec })},
	{"hit-ratio-recovered-after-sec", "lower", dbValue(func(d *DBLoadRow) *float64 {
		if d.RecoveredAfterUs == nil {
			return nil
		}
		v := *d.RecoveredAfterUs / 1e6
		return &v
	})},
}

// optSec returns microseconds v in seconds, false when absent.
func optSec(v *int64) (float64, bool) {
	if v == nil {
		return 0, false
	}
	return sec(*v), true
}

func optFloat(p *float64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

// BenchName returns the Go benchmark name of one cell:
// BenchmarkGhost/scenario=<scenario>/strategy=<strategy>, so that benchstat
// can group by either (-col /strategy, -row /scenario).
func BenchName(scenario, strategy string) string {
	return "BenchmarkGhost/scenario=" + benchSafe(scenario) + "/strategy=" + benchSafe(strategy)
}

// benchSafe keeps a name part free of spaces and of the '/' that
// separates sub-benchmarks.
func benchSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '/' {
			return '_'
		}
		return r
	}, s)
}

// configKey makes a benchmark configuration key: lower case, no spaces.
func configKey(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return '-'
		}
		return unicode.ToLower(r)
	}, s)
}

// WriteBenchFmt writes the completed runs of m in the Go benchmark data
// format (golang.org/design/14313-benchmark-data): configuration lines
// ("key: value") describing the machine and the bench, unit metadata
// lines ("Unit ops/s better=higher"), then one result line per completed
// run (every repetition of a cell has its own line, so that benchstat
// computes its intervals and p-values over them):
//
//	BenchmarkGhost/scenario=S/strategy=X <ops> <ns> ns/op <v> ops/s <v> stale-ratio ...
//
// The iteration count is the number of measured operations and ns/op the
// measured time per operation (1e9 / ops per second), as for a Go
// benchmark. "benchstat old/bench.txt new/bench.txt" compares two benches.
// Runs that did not complete (status other than ok) are left out: a
// partial run is not a sample of the same thing. A metric with no value
// (a null ratio) is left out of its line.
func WriteBenchFmt(w io.Writer, m *Matrix) error {
	ew := &errWriter{w: w}
	b := m.Bench
	cfg := [][2]string{}
	if e := b.Env; e != nil {
		cfg = append(cfg, [2]string{"goos", e.OS}, [2]string{"goarch", e.Arch},
			[2]string{"cpus", strconv.Itoa(e.CPUs)}, [2]string{"go", e.GoVersion},
			[2]string{"provider", e.Provider},
			[2]string{"postgres", shortVersion(e.PostgresVersion)}, [2]string{"redis", e.RedisVersion})
		if e.GitCommit != "" {
			cfg = append(cfg, [2]string{"commit", e.GitCommit})
		}
	}
	cfg = append(cfg, [2]string{"pkg", "github.com/ghostbench/ghostbench"},
		[2]string{"bench", b.Name}, [2]string{"seed", strconv.FormatInt(b.Seed, 10)},
		[2]string{"run-duration", b.Duration})
	for _, kv := range cfg {
		if kv[1] == "" {
			continue
		}
		fmt.Fprintf(ew, "%s: %s\n", configKey(kv[0]), oneLine(kv[1]))
	}
	fmt.Fprintln(ew)
	for _, u := range benchUnits {
		fmt.Fprintf(ew, "Unit %s better=%s\n", u.unit, u.better)
	}
	fmt.Fprintln(ew)
	for _, sc := range m.Scenarios {
		for _, cell := range m.Row(sc) {
			for i := range cell.Reps {
				c := &cell.Reps[i]
				if !c.measured() {
					continue
				}
				r := c.Row
				mt := c.Run.Metrics
				ops := mt.Reads.Total + mt.Writes.Attempted
				if ops <= 0 || c.Run.MeasuredSeconds <= 0 {
					continue
				}
				nsPerOp := c.Run.MeasuredSeconds * 1e9 / float64(ops)
				fmt.Fprintf(ew, "%s\t%d\t%s ns/op", BenchName(sc, c.Strategy), ops, fmtFloat(nsPerOp))
				for _, u := range benchUnits {
					if v, ok := u.value(r); ok {
						fmt.Fprintf(ew, "\t%s %s", fmtFloat(v), u.unit)
					}
				}
				fmt.Fprintln(ew)
			}
		}
	}
	return ew.err
}

// fmtFloat renders v without exponent noise for integers and with up to 6
// significant digits otherwise.
func fmtFloat(v float64) string {
	if v == float64(int64(v)) && v < 1e15 && v > -1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
