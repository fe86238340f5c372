package report

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/stats"
)

// Cell is one cell of a bench matrix, a strategy in a scenario: every
// repetition of it (Reps, in the order they ran) and, embedded, its
// representative repetition (the first that completed, else the first),
// whose run the single-run plots show. Estimate gives a metric across the
// completed repetitions.
type Cell struct {
	BenchRun
	Run  *record.Run
	Row  SummaryRow
	Reps []Rep

	est map[string]stats.Estimate
	// level is the level of the cell's comparisons: the bench's
	// sequential level, else stats.Alpha.
	level float64
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
		rep := Rep{BenchRun: br}
		if i < len(runs) && runs[i] != nil {
			rep.Run = runs[i]
			rep.Row = Summarize(runs[i])
		}
		rep.Row.Scenario, rep.Row.Strategy = br.Scenario, br.Strategy
		rep.Row.Status = br.Status
		k := [2]string{br.Scenario, br.Strategy}
		c := m.cells[k]
		if c == nil {
			c = &Cell{}
			m.cells[k] = c
		}
		c.Reps = append(c.Reps, rep)
	}
	level := stats.Alpha
	if sd := b.Sequential; sd != nil && sd.Level > 0 {
		level = sd.Level
	}
	for _, c := range m.cells {
		c.level = level
		pick := 0
		for i := range c.Reps {
			if c.Reps[i].measured() {
				pick = i
				break
			}
		}
		r := c.Reps[pick]
		c.BenchRun, c.Run, c.Row = r.BenchRun, r.Run, r.Row
	}
	return m
}

// Count returns the largest number of repetitions of a cell in m.
func (m *Matrix) Count() int {
	n := 0
	for _, c := range m.cells {
		n = max(n, len(c.Reps))
	}
	return n
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
	{"status", "ok, interrupted, error or not-run (of the representative repetition), with the completed repetitions", func(c *Cell) string {
		if len(c.Reps) > 1 {
			return fmt.Sprintf("%s %d/%d", c.Status, c.Completed(), len(c.Reps))
		}
		return string(c.Status)
	}},
	{"ops/s", "measured operations (reads and writes) per second: median [95% CI]", est(MetricOpsPerSec, opsText)},
	{"stale reads", "stale-read ratio (stale / successful reads), pooled over repetitions [95% CI]", est(MetricStaleRatio, pctText)},
	{"p99 staleness", "99th percentile of staleness age over stale reads: median over repetitions with stale reads [95% CI]", est(MetricP99Staleness, usText)},
	{"max stale window", "longest time after a commit that reads still returned an older version (0: no read did): median [95% CI]", est(MetricMaxStaleWindow, usText)},
	{"inval lag p50 / p99", "achieved invalidation lag of a strategy with a pipeline (commit-ack to DEL returned), 50th / 99th percentile: medians over repetitions, p99 with [95% CI]; - for strategies without one", lagCell},
	{"inval lag stages p99", "the invalidation lag stage by stage (commit-to-sent: PostgreSQL's walsender; sent-to-received and received-to-applied: the consumer; docs/measurement.md), each stage's 99th percentile: median over repetitions [95% CI]; - for strategies without stages", lagStagesCell},
	{"stale-until-TTL", "keys whose cache entry was older than the database at the end-of-run audit: mean per repetition [95% CI]", est(MetricStaleUntilTTL, countText)},
	{"ryw/1M reads", "read-your-writes violations per million reads (an instance read an older version than its own acknowledged write), pooled over repetitions [95% CI]; - without the measure", est(MetricRYWPerMillion, perMillionText)},
	{"ghost reads", "reads that returned a value whose write never committed: mean per repetition [95% CI]", est(MetricGhostReads, countText)},
	{"ghost-until-TTL", "keys whose cache entry held a never-committed value at the audit: mean per repetition [95% CI]", est(MetricGhostUntilTTL, countText)},
	{"write avail", "write availability, committed / attempted writes: median [95% CI]", est(MetricAvailability, ratioText)},
	{"read p50", "read latency (hits and misses), 50th percentile: median [95% CI]", est(MetricReadP50, usText)},
	{"read p99", "read latency, 99th percentile: median [95% CI]", est(MetricReadP99, usText)},
	{"read p99.9", "read latency, 99.9th percentile: median [95% CI]", est(MetricReadP999, usText)},
	{"write p50", "write latency (failed writes included), 50th percentile: median [95% CI]", est(MetricWriteP50, usText)},
	{"write p99", "write latency, 99th percentile: median [95% CI]", est(MetricWriteP99, usText)},
	{"write p99.9", "write latency, 99.9th percentile: median [95% CI]", est(MetricWriteP999, usText)},
}

// est renders metric key of a cell with its interval.
func est(key string, f func(float64) string) func(c *Cell) string {
	return func(c *Cell) string { return estText(c.Estimate(key), f) }
}

// cellText returns the rendered columns of c; a cell without metrics shows
// its name and status and "-" elsewhere.
func cellText(c *Cell) []string {
	out := make([]string, len(tableColumns))
	for i, col := range tableColumns {
		if i >= 2 && (!c.measured() || c.Completed() == 0) {
			out[i] = "-"
			continue
		}
		out[i] = col.cell(c)
	}
	return out
}

// Definitions is the text that explains the tables and verdicts.
const Definitions = `Definitions (DESIGN.md section 4). A read is **stale** when a newer version had been committed (acknowledged) before the read began; **stale reads** is stale reads / successful reads, **p99 staleness** the 99th percentile of how long the value read had already been obsolete. The **stale window** of a committed write lasts from its commit until the last read that still returned an older version. **Stale-until-TTL** and **ghost-until-TTL** count keys that the end-of-run audit found stale, or holding a never-committed value, in the cache: they stay wrong until their TTL expires. A **ghost read** returned a value whose write never committed. **ryw/1M reads** counts read-your-writes violations per million reads (with the 99th percentile of their age): a read by an application instance that returned an older version than one its own write had already been acknowledged for, the age counted from that write's completion; every one is also a stale read. **Write avail** is committed / attempted writes. Latencies are HdrHistogram percentiles (3 significant digits); read latency merges cache hits and misses, write latency includes failed writes.

**Repetitions and intervals.** Every cell is run several times, interleaved (the whole matrix once, then again), each repetition with its own seed, schema and key prefix; a table cell shows the estimate across the completed repetitions and its 95% interval in brackets. Where fewer than 6 repetitions have the metric (p99 staleness counts only repetitions with stale reads), the brackets hold the range of those repetitions followed by the confidence that range has as an interval of the median (94% for 5, 88% for 4, 75% for 3, 50% for 2); one repetition shows "n=1" and no interval. Latencies, throughput, p99 staleness, max stale window and write availability: the median and the order-statistic confidence interval of the median (as benchstat prints it; it needs 6 repetitions at 95%). Ghost reads, stale- and ghost-until-TTL keys and the stale-read ratio are rare events that cluster (one bad write makes many stale reads), so the unit resampled is the repetition, not the read: the mean per repetition (the pooled ratio for stale reads) with the envelope of the exact Poisson interval, widened by the overdispersion between repetitions, and the Student t interval of the per-repetition values.

**Classes before ranks.** Each repetition gets one class, the worst thing it showed: **ghost** (a ghost read or ghost-until-TTL key), **stuck stale** (a stale-until-TTL key), **stale reads**, **writes failed** (write availability below 1), else **clean** (or unverified, with unknown reads). A cell's class is the median of its repetitions' classes: the worst class more than half of them reached, so that one repetition on a loaded machine does not change it; a worse class seen in fewer is shown beside it. **Safest** is a group: among the caching strategies whose median write availability is 1, those of the best class; within it a rate (stale-read ratio, stale-until-TTL keys, ghost reads) sets a strategy aside only when the lower end of its 95% interval is above 2 times the upper end of the best one's, a difference that does not flip with the machine's load. A strategy with no cache hits (such as db-only) is a baseline and is not ranked. A **proved race** is an anomaly driven on real servers by a scripted interleaving (ghostbench reproduce): a strategy whose class here is better than its proved race is marked, because this load did not show what it can do. **Fastest** is the strategy with the lowest median p99 read latency and every strategy not significantly slower (two-sided Mann-Whitney U test over the repetitions, alpha 0.05; write availability not required); the sentence also names the throughput leader. Where a group holds most strategies because the data cannot separate them, the sentence says how many repetitions (or how long runs) would, from the observed spread.`

// WriteSummaryMarkdown writes summary.md for m: first the answer (the
// class matrix with proved races and costs, its legend and the questions
// answered), then what ran and where, the proved races in full, the
// definitions, and per scenario its description, fault schedule, two
// sentences naming the safest and fastest groups and a table with one row
// per strategy, its columns grouped into safety, freshness and cost.
func WriteSummaryMarkdown(w io.Writer, m *Matrix) error {
	ew := &errWriter{w: w}
	b := m.Bench
	fmt.Fprintf(ew, "# ghostbench bench: %s\n\n", b.Name)
	m.Answer().WriteMarkdown(ew)
	fmt.Fprintf(ew, "\n## The bench\n\n%s\n", benchHeadline(m))
	if races := m.raceList(); len(races) > 0 {
		fmt.Fprintf(ew, "\n## Proved races\n\n")
		for _, r := range races {
			fmt.Fprintf(ew, "- %s\n", r)
		}
	}
	fmt.Fprintf(ew, "\n%s\n", Definitions)
	order := columnOrder()
	for _, sc := range m.Scenarios {
		info := m.Info(sc)
		fmt.Fprintf(ew, "\n## %s\n\n", sc)
		if d := scenarioLine(info); d != "" {
			fmt.Fprintf(ew, "%s\n\n", d)
		}
		v := m.Rank(sc)
		fmt.Fprintf(ew, "%s\n\n", v.Sentence())
		for _, n := range v.Notes() {
			fmt.Fprintf(ew, "%s\n\n", n)
		}
		fmt.Fprintf(ew, "Columns: %s.\n\n", groupLine(order))
		heads := make([]string, len(order))
		align := make([]string, len(order))
		for i, ci := range order {
			heads[i] = tableColumns[ci].head
			align[i] = "---:"
			if ci < 2 {
				align[i] = "---"
			}
		}
		fmt.Fprintf(ew, "| %s |\n|%s|\n", strings.Join(heads, " | "), strings.Join(align, "|"))
		for _, c := range m.Row(sc) {
			all := cellText(c)
			cells := make([]string, len(order))
			for i, ci := range order {
				cells[i] = strings.ReplaceAll(all[ci], "|", `\|`)
			}
			fmt.Fprintf(ew, "| %s |\n", strings.Join(cells, " | "))
		}
		writeDBLoadMarkdown(ew, m, sc)
	}
	if errs := runErrors(m); len(errs) > 0 {
		fmt.Fprintf(ew, "\n## Errors\n\n")
		for _, e := range errs {
			fmt.Fprintf(ew, "- %s\n", e)
		}
	}
	return ew.err
}

// Column groups of the per-scenario tables.
const (
	GroupSafety    = "safety"
	GroupFreshness = "freshness"
	GroupCost      = "cost"
	GroupOther     = "other"
)

// columnGroups puts each table column (by heading) in a group; a column
// not listed is in GroupOther, after the others. strategy and status lead
// the table, in no group.
var columnGroups = map[string]string{
	"ghost reads": GroupSafety, "ghost-until-TTL": GroupSafety, "stale-until-TTL": GroupSafety, "write avail": GroupSafety,
	"stale reads": GroupFreshness, "p99 staleness": GroupFreshness, "max stale window": GroupFreshness,
	"inval lag p50 / p99": GroupFreshness, "inval lag stages p99": GroupFreshness, "ryw/1M reads": GroupFreshness,
	"ops/s": GroupCost, "read p50": GroupCost, "read p99": GroupCost, "read p99.9": GroupCost,
	"write p50": GroupCost, "write p99": GroupCost, "write p99.9": GroupCost,
}

var groupOrder = []string{GroupSafety, GroupFreshness, GroupCost, GroupOther}

// columnGroup returns the group of table column i ("" for strategy and
// status).
func columnGroup(i int) string {
	if i < 2 {
		return ""
	}
	if g, ok := columnGroups[tableColumns[i].head]; ok {
		return g
	}
	return GroupOther
}

// columnOrder returns the indexes of tableColumns in display order:
// strategy and status, then the groups in groupOrder, each keeping the
// columns' order.
func columnOrder() []int {
	out := []int{0, 1}
	for _, g := range groupOrder {
		for i := 2; i < len(tableColumns); i++ {
			if columnGroup(i) == g {
				out = append(out, i)
			}
		}
	}
	return out
}

// groupLine says which columns are in which group: "safety: ghost reads,
// ...; freshness: ...".
func groupLine(order []int) string {
	var parts []string
	for _, g := range groupOrder {
		var hs []string
		for _, i := range order {
			if columnGroup(i) == g {
				hs = append(hs, tableColumns[i].head)
			}
		}
		if len(hs) > 0 {
			parts = append(parts, g+" ("+strings.Join(hs, ", ")+")")
		}
	}
	return strings.Join(parts, "; ")
}

// raceList renders every proved race of the bench, one line each, by
// strategy.
func (m *Matrix) raceList() []string {
	var out []string
	for _, st := range m.Strategies {
		for _, clean := range []bool{false, true} {
			for _, p := range m.Races(st, clean) {
				s := fmt.Sprintf("%s %s, %s: %s", p.class().Symbol(), st, classOrClean(p), p.Source)
				if p.Params != "" {
					s += " (with " + p.Params + ")"
				}
				if p.Why != "" {
					s += ". " + strings.TrimSuffix(p.Why, ".") + "."
				}
				if p.Bound != "" {
					s += " Bound: " + p.Bound + "."
				}
				if p.Link != "" && p.Link != p.Source {
					s += " `" + p.Link + "`"
				}
				out = append(out, s)
			}
		}
	}
	return out
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
	fmt.Fprintf(&sb, "%d strategies x %d scenarios x %d repetitions, %d runs of %s each (warm-up and faults scaled to it), seed %d (repetition r: seed+r-1); started %s, took %.0f s, bench status %s. Runs: %s.",
		len(m.Strategies), len(m.Scenarios), m.Count(), len(b.Runs), b.Duration, b.Seed,
		b.Started.UTC().Format("2006-01-02 15:04:05 UTC"), b.ElapsedSeconds, b.Status, b.StatusCounts())
	if sd := b.Sequential; sd != nil {
		fmt.Fprintf(&sb, " Sequential: every cell ran %d repetitions, then a round was added only for the cells whose place in a group was still undecided, %d rounds at most (%s: alpha %.2g for each comparison over its %d looks, each at %.2g; a p-value of %.2g or more stops a comparison as not different). %d rounds ran; ended: %s",
			sd.First, sd.Max, sd.Method, sd.Alpha, sd.Looks, sd.Level, sd.Futility, sd.Rounds, cmp.Or(sd.Stopped, "interrupted"))
		if sd.Undecided > 0 {
			fmt.Fprintf(&sb, ", %d cells still undecided", sd.Undecided)
		}
		if sd.BudgetSeconds > 0 {
			fmt.Fprintf(&sb, " (budget %s)", time.Duration(sd.BudgetSeconds*float64(time.Second)).Round(time.Second))
		}
		sb.WriteString(".")
	}
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
	if b.Load != nil {
		fmt.Fprintf(&sb, " Load average (1 minute) during the bench: %s.", b.Load)
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
