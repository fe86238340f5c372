package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ghostbench/ghostbench/record"
)

// Cell is one cell of a bench matrix: the bench's record of the run, the
// run itself (nil when nothing was written) and its headline numbers.
type Cell struct {
	BenchRun
	Run *record.Run
	Row SummaryRow
}

// measured reports whether the cell has metrics to show.
func (c *Cell) measured() bool { return c != nil && c.Run != nil && c.Run.Metrics != nil }

// Matrix is a bench organised by scenario, for tables and plots.
type Matrix struct {
	Bench      *Bench
	Scenarios  []string
	Strategies []string
	cells      map[[2]string]*Cell
}

// NewMatrix builds the matrix of b with runs as LoadBench returns them
// (runs[i] belongs to b.Runs[i], nil allowed). Axes follow b.Scenarios and
// b.Strategies, then any name only found in b.Runs.
func NewMatrix(b *Bench, runs []*record.Run) *Matrix {
	m := &Matrix{Bench: b, cells: map[[2]string]*Cell{}}
	seenSc, seenSt := map[string]bool{}, map[string]bool{}
	addSc := func(s string) {
		if !seenSc[s] {
			seenSc[s] = true
			m.Scenarios = append(m.Scenarios, s)
		}
	}
	addSt := func(s string) {
		if !seenSt[s] {
			seenSt[s] = true
			m.Strategies = append(m.Strategies, s)
		}
	}
	for _, s := range b.Scenarios {
		addSc(s)
	}
	for _, s := range b.Strategies {
		addSt(s)
	}
	for i, br := range b.Runs {
		addSc(br.Scenario)
		addSt(br.Strategy)
		c := &Cell{BenchRun: br}
		if i < len(runs) && runs[i] != nil {
			c.Run = runs[i]
			c.Row = Summarize(runs[i])
		}
		c.Row.Scenario, c.Row.Strategy = br.Scenario, br.Strategy
		c.Row.Status = br.Status
		m.cells[[2]string{br.Scenario, br.Strategy}] = c
	}
	return m
}

// Cell returns the cell of strategy in scenario, nil when the matrix has
// none.
func (m *Matrix) Cell(scenario, strategy string) *Cell {
	return m.cells[[2]string{scenario, strategy}]
}

// Row returns the cells of scenario in strategy order (missing cells
// skipped).
func (m *Matrix) Row(scenario string) []*Cell {
	var out []*Cell
	for _, st := range m.Strategies {
		if c := m.Cell(scenario, st); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// Info returns the scenario's description from the bench, if recorded.
func (m *Matrix) Info(scenario string) BenchScenario {
	for _, s := range m.Bench.ScenarioInfo {
		if s.Name == scenario {
			return s
		}
	}
	return BenchScenario{Name: scenario}
}

// Ranking is the generated comparison of one scenario's strategies.
//
// Only completed runs (status ok) of caching strategies are ranked; a
// strategy that served no read from the cache (hit ratio 0, such as
// db-only) is a baseline, shown but not ranked.
//
// Safest: among the ranked runs whose write availability is 1 (every
// attempted write committed; runs without writes count), the lowest by, in
// this order: ghost reads, ghost-until-TTL keys, stale-until-TTL keys,
// stale-read ratio, max stale window. Runs with availability below 1 are
// excluded and named; when every ranked run is below 1, all of them are
// ranked and AllUnavailable is set. Runs equal on every criterion tie.
//
// Fastest: the ranked run with the lowest p99 read latency (ties broken by
// ops/s); MostOps is the one with the most operations per second.
type Ranking struct {
	Scenario string
	// Safest lists the safest strategies (more than one on a tie).
	Safest []*Cell
	// Fastest is the lowest p99 read latency; MostOps the highest ops/s.
	Fastest, MostOps *Cell
	// Baselines are completed runs with no cache hits.
	Baselines []*Cell
	// Unavailable are ranked runs excluded from Safest for write
	// availability below 1.
	Unavailable []*Cell
	// AllUnavailable is set when every ranked run had availability below
	// 1, so Safest was chosen among them.
	AllUnavailable bool
	// NotRanked are runs that did not complete (status other than ok).
	NotRanked []*Cell
	// Behind are measured runs whose invalidation pipeline fell behind
	// (Run.LagBehind), ranked or not.
	Behind []*Cell
}

// safetyKey orders runs for Verdict.Safest, lowest first.
func safetyKey(r SummaryRow) [5]float64 {
	sr := math.Inf(1)
	if r.StaleRatio != nil {
		sr = *r.StaleRatio
	}
	return [5]float64{float64(r.GhostReads), float64(r.GhostUntilTTL), float64(r.StaleUntilTTL), sr, float64(r.MaxStaleWindowUs)}
}

func lessKey(a, b [5]float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// fullyAvailable reports whether every attempted write committed.
func fullyAvailable(r SummaryRow) bool { return r.Availability == nil || *r.Availability >= 1 }

// Rank returns the verdict for one scenario of m.
func (m *Matrix) Rank(scenario string) Ranking {
	v := Ranking{Scenario: scenario}
	var ranked []*Cell
	for _, c := range m.Row(scenario) {
		if c.measured() && c.Run.LagBehind() {
			v.Behind = append(v.Behind, c)
		}
		switch {
		case c.Status != record.StatusOK || !c.measured():
			v.NotRanked = append(v.NotRanked, c)
		case c.Row.HitRatio == nil || *c.Row.HitRatio == 0:
			v.Baselines = append(v.Baselines, c)
		default:
			ranked = append(ranked, c)
		}
	}
	if len(ranked) == 0 {
		return v
	}
	var eligible []*Cell
	for _, c := range ranked {
		if fullyAvailable(c.Row) {
			eligible = append(eligible, c)
		} else {
			v.Unavailable = append(v.Unavailable, c)
		}
	}
	if len(eligible) == 0 {
		eligible, v.AllUnavailable = ranked, true
	}
	best := safetyKey(eligible[0].Row)
	for _, c := range eligible[1:] {
		if k := safetyKey(c.Row); lessKey(k, best) {
			best = k
		}
	}
	for _, c := range eligible {
		if safetyKey(c.Row) == best {
			v.Safest = append(v.Safest, c)
		}
	}
	v.Fastest, v.MostOps = ranked[0], ranked[0]
	for _, c := range ranked[1:] {
		f := v.Fastest.Row
		if c.Row.ReadP99 < f.ReadP99 || c.Row.ReadP99 == f.ReadP99 && c.Row.OpsPerSec > f.OpsPerSec {
			v.Fastest = c
		}
		if c.Row.OpsPerSec > v.MostOps.Row.OpsPerSec {
			v.MostOps = c
		}
	}
	return v
}

// Sentence renders v as one paragraph of markdown that names the safest and
// the fastest strategy with the numbers that made them so.
func (v Ranking) Sentence() string {
	var b strings.Builder
	if len(v.Safest) == 0 {
		b.WriteString("No caching strategy completed this scenario, so none is ranked.")
	} else {
		names := make([]string, len(v.Safest))
		for i, c := range v.Safest {
			names[i] = c.Strategy
		}
		r := v.Safest[0].Row
		tie := ""
		if len(names) > 1 {
			tie = ", tied"
		}
		window := "no stale window"
		if r.MaxStaleWindowUs > 0 {
			window = "max stale window " + FormatMicros(r.MaxStaleWindowUs)
		}
		fmt.Fprintf(&b, "**Safest: %s** (%d ghost reads, %d ghost-until-TTL keys, %d stale-until-TTL keys, stale reads %s, %s%s)",
			joinAnd(names), r.GhostReads, r.GhostUntilTTL, r.StaleUntilTTL, percent(r.StaleRatio), window, tie)
		if v.AllUnavailable {
			b.WriteString(", although every caching strategy failed some writes here (write availability ")
			b.WriteString(ratio(v.Safest[0].Row.Availability))
			b.WriteString(")")
		}
		b.WriteString(". ")
		fmt.Fprintf(&b, "**Fastest by p99 read latency: %s** (%s", v.Fastest.Strategy, FormatMicros(v.Fastest.Row.ReadP99))
		if v.MostOps == v.Fastest {
			fmt.Fprintf(&b, ", also the most throughput: %s ops/s).", thousands(v.MostOps.Row.OpsPerSec))
		} else {
			fmt.Fprintf(&b, "); most throughput: %s (%s ops/s).", v.MostOps.Strategy, thousands(v.MostOps.Row.OpsPerSec))
		}
	}
	if len(v.Unavailable) > 0 && !v.AllUnavailable {
		parts := make([]string, len(v.Unavailable))
		for i, c := range v.Unavailable {
			parts[i] = fmt.Sprintf("%s (%s)", c.Strategy, ratio(c.Row.Availability))
		}
		fmt.Fprintf(&b, " Not eligible for safest, write availability below 1: %s.", strings.Join(parts, ", "))
	}
	if len(v.Baselines) > 0 {
		parts := make([]string, len(v.Baselines))
		for i, c := range v.Baselines {
			parts[i] = fmt.Sprintf("%s (p99 read %s)", c.Strategy, FormatMicros(c.Row.ReadP99))
		}
		fmt.Fprintf(&b, " Baseline without cache hits, not ranked: %s.", strings.Join(parts, ", "))
	}
	if len(v.NotRanked) > 0 {
		parts := make([]string, len(v.NotRanked))
		for i, c := range v.NotRanked {
			parts[i] = fmt.Sprintf("%s (%s)", c.Strategy, c.Status)
		}
		fmt.Fprintf(&b, " Did not complete, not ranked: %s.", strings.Join(parts, ", "))
	}
	for _, c := range v.Behind {
		fmt.Fprintf(&b, " **Warning, %s: %s.**", c.Strategy, c.Run.LagWarning())
	}
	return b.String()
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// percent renders a ratio as a percentage with 3 significant digits
// ("0.0562%"), "0%" for zero and "-" for null.
func percent(p *float64) string {
	if p == nil {
		return "-"
	}
	v := *p * 100
	if v == 0 {
		return "0%"
	}
	return strconv.FormatFloat(v, 'g', 3, 64) + "%"
}

// ratio renders a ratio in [0, 1] with 4 decimals, "-" for null.
func ratio(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', 4, 64)
}

// thousands renders v rounded with thin spaces between thousands: 31 234.
func thousands(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []string
	for len(s) > 3 {
		out = append([]string{s[len(s)-3:]}, out...)
		s = s[:len(s)-3]
	}
	out = append([]string{s}, out...)
	r := strings.Join(out, "\u202f")
	if neg {
		r = "-" + r
	}
	return r
}

// tableColumns are the columns of the per-scenario tables (markdown and
// HTML), with how to render a cell.
var tableColumns = []struct {
	head  string
	title string // explanation (HTML title attribute)
	cell  func(c *Cell) string
}{
	{"strategy", "registered strategy name", func(c *Cell) string { return c.Strategy }},
	{"status", "ok, interrupted, error or not-run", func(c *Cell) string { return string(c.Status) }},
	{"ops/s", "measured operations (reads and writes) per second", func(c *Cell) string { return thousands(c.Row.OpsPerSec) }},
	{"stale reads", "stale-read ratio: stale reads / successful reads", func(c *Cell) string { return percent(c.Row.StaleRatio) }},
	{"p99 staleness", "99th percentile of staleness age over stale reads", func(c *Cell) string { return microsOrNone(c.Row.P99StalenessUs, c.Row.StaleReads) }},
	{"max stale window", "longest time after a commit that reads still returned an older version (0: no read did)", func(c *Cell) string { return microsOrZero(c.Row.MaxStaleWindowUs) }},
	{"inval lag p50 / p99", "achieved invalidation lag of a strategy with a pipeline (commit-ack to DEL returned), 50th / 99th percentile; - for strategies without one", func(c *Cell) string {
		return lagText(c.Row.InvalidationLagP50Us, c.Row.InvalidationLagP99Us)
	}},
	{"stale-until-TTL", "keys whose cache entry was older than the database at the end-of-run audit", func(c *Cell) string { return strconv.FormatInt(c.Row.StaleUntilTTL, 10) }},
	{"ryw/1M reads", "read-your-writes violations per million reads: an instance read an older version than its own acknowledged write", func(c *Cell) string { return rywCell(c.Row) }},
	{"ghost reads", "reads that returned a value whose write never committed", func(c *Cell) string { return strconv.FormatInt(c.Row.GhostReads, 10) }},
	{"ghost-until-TTL", "keys whose cache entry held a never-committed value at the audit", func(c *Cell) string { return strconv.FormatInt(c.Row.GhostUntilTTL, 10) }},
	{"write avail", "write availability: committed / attempted writes", func(c *Cell) string { return ratio(c.Row.Availability) }},
	{"read p50", "read latency (hits and misses), 50th percentile", func(c *Cell) string { return FormatMicros(c.Row.ReadP50) }},
	{"read p99", "read latency, 99th percentile", func(c *Cell) string { return FormatMicros(c.Row.ReadP99) }},
	{"read p99.9", "read latency, 99.9th percentile", func(c *Cell) string { return FormatMicros(c.Row.ReadP999) }},
	{"write p50", "write latency (failed writes included), 50th percentile", func(c *Cell) string { return FormatMicros(c.Row.WriteP50) }},
	{"write p99", "write latency, 99th percentile", func(c *Cell) string { return FormatMicros(c.Row.WriteP99) }},
	{"write p99.9", "write latency, 99.9th percentile", func(c *Cell) string { return FormatMicros(c.Row.WriteP999) }},
}

// microsOrNone renders v, or "-" when count says there is nothing to
// measure (no stale read).
func microsOrNone(v, count int64) string {
	if count == 0 {
		return "-"
	}
	return FormatMicros(v)
}

// microsOrZero renders v, "0" for zero.
func microsOrZero(v int64) string {
	if v == 0 {
		return "0"
	}
	return FormatMicros(v)
}

// cellText returns the rendered columns of c; a cell without metrics shows
// its name and status and "-" elsewhere.
func cellText(c *Cell) []string {
	out := make([]string, len(tableColumns))
	for i, col := range tableColumns {
		if i >= 2 && !c.measured() {
			out[i] = "-"
			continue
		}
		out[i] = col.cell(c)
	}
	return out
}

// Definitions is the text that explains the tables and verdicts.
const Definitions = `Definitions (DESIGN.md section 4). A read is **stale** when a newer version had been committed (acknowledged) before the read began; **stale reads** is stale reads / successful reads, **p99 staleness** the 99th percentile of how long the value read had already been obsolete. The **stale window** of a committed write lasts from its commit until the last read that still returned an older version. **Stale-until-TTL** and **ghost-until-TTL** count keys that the end-of-run audit found stale, or holding a never-committed value, in the cache: they stay wrong until their TTL expires. A **ghost read** returned a value whose write never committed. **ryw/1M reads** counts read-your-writes violations per million reads (with the 99th percentile of their age): a read by an application instance that returned an older version than one its own write had already been acknowledged for, the age counted from that write's completion; every one is also a stale read. **Write avail** is committed / attempted writes. Latencies are HdrHistogram percentiles (3 significant digits); read latency merges cache hits and misses, write latency includes failed writes.

**Safest** ranks the completed runs of caching strategies whose write availability is 1 by, in order: fewest ghost reads, fewest ghost-until-TTL keys, fewest stale-until-TTL keys, lowest stale-read ratio, shortest max stale window; runs equal on all five tie. A strategy with no cache hits (such as db-only) is a baseline and is not ranked. **Fastest** is the lowest p99 read latency among the same runs (write availability not required); the sentence also names the highest throughput.`

// WriteSummaryMarkdown writes summary.md for m: a header saying what ran
// and where, the definitions, then per scenario its description, fault
// schedule, the generated verdict and a table with one row per strategy.
func WriteSummaryMarkdown(w io.Writer, m *Matrix) error {
	ew := &errWriter{w: w}
	b := m.Bench
	fmt.Fprintf(ew, "# ghostbench bench: %s\n\n", b.Name)
	fmt.Fprintf(ew, "%s\n\n", benchHeadline(m))
	fmt.Fprintf(ew, "%s\n", Definitions)
	for _, sc := range m.Scenarios {
		info := m.Info(sc)
		fmt.Fprintf(ew, "\n## %s\n\n", sc)
		if d := scenarioLine(info); d != "" {
			fmt.Fprintf(ew, "%s\n\n", d)
		}
		fmt.Fprintf(ew, "%s\n\n", m.Rank(sc).Sentence())
		heads := make([]string, len(tableColumns))
		align := make([]string, len(tableColumns))
		for i, col := range tableColumns {
			heads[i] = col.head
			align[i] = "---:"
			if i < 2 {
				align[i] = "---"
			}
		}
		fmt.Fprintf(ew, "| %s |\n|%s|\n", strings.Join(heads, " | "), strings.Join(align, "|"))
		for _, c := range m.Row(sc) {
			cells := cellText(c)
			for i := range cells {
				cells[i] = strings.ReplaceAll(cells[i], "|", `\|`)
			}
			fmt.Fprintf(ew, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	if errs := runErrors(m); len(errs) > 0 {
		fmt.Fprintf(ew, "\n## Errors\n\n")
		for _, e := range errs {
			fmt.Fprintf(ew, "- %s\n", e)
		}
	}
	return ew.err
}

// scenarioLine describes a scenario and its fault schedule in one line.
func scenarioLine(info BenchScenario) string {
	var parts []string
	if info.Description != "" {
		parts = append(parts, strings.TrimSuffix(info.Description, ".")+".")
	}
	scale := ""
	if info.Scale != 0 && info.Scale != 1 {
		scale = fmt.Sprintf(" (times scaled by %.3g to the run's duration)", info.Scale)
	}
	if len(info.Faults) > 0 {
		parts = append(parts, "As run here"+scale+": "+strings.Join(info.Faults, "; ")+".")
	} else {
		parts = append(parts, "No faults.")
	}
	return strings.Join(parts, " ")
}

// benchHeadline says what ran, where and how it ended.
func benchHeadline(m *Matrix) string {
	b := m.Bench
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d strategies x %d scenarios, %d runs of %s each (warm-up and faults scaled to it), seed %d; started %s, took %.0f s, bench status %s. Runs: %s.",
		len(m.Strategies), len(m.Scenarios), len(b.Runs), b.Duration, b.Seed,
		b.Started.UTC().Format("2006-01-02 15:04:05 UTC"), b.ElapsedSeconds, b.Status, b.StatusCounts())
	if e := b.Env; e != nil {
		fmt.Fprintf(&sb, " Servers: PostgreSQL %s and Redis %s (provider %s", shortVersion(e.PostgresVersion), e.RedisVersion, e.Provider)
		if e.Topology != "" && e.Topology != "single" {
			fmt.Fprintf(&sb, ", topology %s", e.Topology)
		}
		fmt.Fprintf(&sb, "); %s/%s, %d CPUs, %s", e.OS, e.Arch, e.CPUs, e.GoVersion)
		if e.GitCommit != "" {
			c := e.GitCommit
			if len(c) > 12 {
				c = c[:12]
			}
			fmt.Fprintf(&sb, ", ghostbench %s", c)
		}
		sb.WriteString(".")
	}
	return sb.String()
}

// shortVersion drops a distribution suffix: "15.18 (Debian ...)" -> "15.18".
func shortVersion(v string) string {
	if i := strings.Index(v, " "); i > 0 {
		return v[:i]
	}
	return v
}

// runErrors lists the runs that failed, with their errors.
func runErrors(m *Matrix) []string {
	var out []string
	for _, sc := range m.Scenarios {
		for _, c := range m.Row(sc) {
			if c.Error != "" {
				out = append(out, fmt.Sprintf("%s / %s (%s): %s", sc, c.Strategy, c.Status, oneLine(c.Error)))
			}
		}
	}
	sort.Strings(out)
	return out
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}
