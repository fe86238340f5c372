package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

// rateText renders reads per second, "-" when absent.
func rateText(p *float64) string {
	if p == nil {
		return "-"
	}
	return thousands(*p) + "/s"
}

// writeDBLoadText writes a run's database load: reads per second beside
// the hit ratio, the fills and their width, and the load after each fault.
func writeDBLoadText(p func(string, ...any), r *record.Run) {
	d := r.DBLoad
	if d == nil {
		return
	}
	if !d.Recorded {
		p("db reads\tnot recorded (the strategy reads PostgreSQL outside the store)")
		return
	}
	hit := "-"
	if r.Metrics != nil && r.Metrics.Reads.HitRatio != nil {
		hit = strconv.FormatFloat(*r.Metrics.Reads.HitRatio, 'g', 4, 64)
	}
	peak := rateText(d.PeakPerSecond)
	if d.PeakPerSecond != nil {
		peak += fmt.Sprintf(" at %.1fs", d.PeakAtS)
	}
	p("db reads\t%d (%s mean, peak %s over %s), cache hit ratio %s", d.Reads, rateText(d.PerSecond), peak, FormatMicros(d.Series.BucketUs), hit)
	widest := ""
	if w := d.Widest; w != nil && w.Width > 1 {
		widest = fmt.Sprintf(" (widest: key %d version %d at %.3fs)", w.Key, w.Version, float64(w.StartNs)/1e9)
	}
	trunc := ""
	if d.Truncated {
		trunc = fmt.Sprintf(", over the first %d database reads", check.MaxDBReads)
	}
	p("  stampedes\t%d fills, %d storms (width >= 2), width p50/p99/max %d / %d / %d%s%s", d.Fills, d.Storms, d.WidthP50, d.WidthP99, d.WidthMax, widest, trunc)
	for _, rc := range d.AfterFaults {
		p("  after %s\t%s", rc.Fault, recoveryText(rc))
	}
}

// recoveryText is one Recovery in words.
func recoveryText(rc check.Recovery) string {
	s := fmt.Sprintf("healed at %.2fs: peak %s", rc.HealS, rateText(rc.PeakPerSecond))
	if rc.PeakPerSecond != nil {
		s += fmt.Sprintf(" at %.1fs", rc.PeakAtS)
	}
	switch {
	case rc.PreHitRatio == nil:
		s += ", no pre-fault hit ratio"
	case rc.RecoveredAfterMs == nil:
		s += fmt.Sprintf(", hit ratio not back to %.0f%% of the pre-fault %.3g within the run", check.RecoveryFraction*100, *rc.PreHitRatio)
	default:
		s += fmt.Sprintf(", hit ratio back to %.0f%% of the pre-fault %.3g after %s", check.RecoveryFraction*100, *rc.PreHitRatio, FormatMicros(int64(*rc.RecoveredAfterMs*1000)))
	}
	return s
}

// DBLoadRow is a run's database load as the tables show it; every number
// is nil when the run does not have it.
type DBLoadRow struct {
	ReadsPerSec, PeakPerSec *float64
	Storms                  *float64
	WidthP99, WidthMax      *float64
	// FaultPeakPerSec and RecoveredAfterUs are the first healed fault's
	// (Recovery): the peak after its heal and the time until the hit
	// ratio recovered.
	FaultPeakPerSec, RecoveredAfterUs *float64
}

// dbLoadRow returns r's DBLoadRow, nil when r has no recorded load.
func dbLoadRow(r *record.Run) *DBLoadRow {
	d := r.DBLoad
	if d == nil || !d.Recorded {
		return nil
	}
	f := func(v int64) *float64 { x := float64(v); return &x }
	row := &DBLoadRow{ReadsPerSec: d.PerSecond, PeakPerSec: d.PeakPerSecond, Storms: f(d.Storms)}
	if d.Fills > 0 {
		row.WidthP99, row.WidthMax = f(d.WidthP99), f(d.WidthMax)
	}
	if len(d.AfterFaults) > 0 {
		rc := d.AfterFaults[0]
		row.FaultPeakPerSec = rc.PeakPerSecond
		if rc.RecoveredAfterMs != nil {
			us := *rc.RecoveredAfterMs * 1000
			row.RecoveredAfterUs = &us
		}
	}
	return row
}

// dbValue reads one number of a row's database load.
func dbValue(f func(d *DBLoadRow) *float64) func(r SummaryRow) (float64, bool) {
	return func(r SummaryRow) (float64, bool) {
		if r.DB == nil {
			return 0, false
		}
		return optFloat(f(r.DB))
	}
}

// dbColumns are the columns of the per-scenario database load table
// (markdown and HTML). The after-fault columns are shown only in
// scenarios where some cell has them.
var dbColumns = []struct {
	head, title string
	fault       bool
	cell        func(c *Cell, base *Cell) string
}{
	{"strategy", "registered strategy name", false, func(c, _ *Cell) string { return c.Strategy }},
	{"db reads/s", "rows read from PostgreSQL per measured second (recorded by the store as the strategy read them): median [95% CI]", false, dbEst(MetricDBReadsPerSec, rateNum)},
	{"vs db-only", "db reads/s as a share of db-only's median in the same bench (db-only reads every row from PostgreSQL)", false, func(c, base *Cell) string {
		if base == nil {
			return "-"
		}
		a, b := c.Estimate(MetricDBReadsPerSec), base.Estimate(MetricDBReadsPerSec)
		if a.N == 0 || b.N == 0 || b.Value <= 0 {
			return "-"
		}
		return percent(ptrF(a.Value / b.Value))
	}},
	{"peak db reads/s", "highest rate of database reads in a 100 ms bucket of the measured window: median [95% CI]", false, dbEst(MetricDBPeakPerSec, rateNum)},
	{"hit ratio", "cache hits / successful reads: median [95% CI]", false, dbEst(MetricHitRatio, ratioText)},
	{"storms", "fills read by 2 or more readers (a stampede): median count per repetition [95% CI]", false, dbEst(MetricStorms, countText)},
	{"width p99", "readers that read the same key and version from PostgreSQL within one fill, 99th percentile over the fills: median [95% CI]", false, dbEst(MetricWidthP99, countText)},
	{"width max", "the widest fill: median [95% CI]", false, dbEst(MetricWidthMax, countText)},
	{"peak db reads/s after fault", "highest rate of database reads from the fault's heal until the hit ratio recovered: median [95% CI]", true, dbEst(MetricFaultPeakPerSec, rateNum)},
	{"hit ratio recovered after", "time from the fault's heal until a 100 ms bucket's hit ratio reached 95% of the pre-fault hit ratio: median [95% CI] over the repetitions where it did", true, dbEst(MetricRecoveredAfter, usText)},
}

func ptrF(v float64) *float64 { return &v }

func rateNum(v float64) string { return thousands(v) }

func dbEst(key string, f func(float64) string) func(c, _ *Cell) string {
	return func(c, _ *Cell) string { return estText(c.Estimate(key), f) }
}

// dbTable returns the heads, titles and rows of scenario sc's database
// load table; ok is false when no cell of it has a recorded load.
func dbTable(m *Matrix, sc string) (heads, titles []string, rows [][]string, ok bool) {
	cells := m.Row(sc)
	var base *Cell
	fault := false
	for _, c := range cells {
		if c.Estimate(MetricDBReadsPerSec).N > 0 {
			ok = true
		}
		if c.Estimate(MetricFaultPeakPerSec).N > 0 {
			fault = true
		}
		if c.Strategy == "db-only" && c.measured() {
			base = c
		}
	}
	if !ok {
		return nil, nil, nil, false
	}
	var cols []int
	for i, col := range dbColumns {
		if !col.fault || fault {
			cols = append(cols, i)
			heads = append(heads, col.head)
			titles = append(titles, col.title)
		}
	}
	for _, c := range cells {
		var row []string
		for _, i := range cols {
			if i > 0 && (!c.measured() || c.Estimate(MetricDBReadsPerSec).N == 0) {
				row = append(row, "-")
				continue
			}
			row = append(row, dbColumns[i].cell(c, base))
		}
		rows = append(rows, row)
	}
	return heads, titles, rows, true
}

// writeDBLoadMarkdown writes scenario sc's database load table, when it
// has one.
func writeDBLoadMarkdown(w io.Writer, m *Matrix, sc string) {
	heads, _, rows, ok := dbTable(m, sc)
	if !ok {
		return
	}
	fmt.Fprintf(w, "\nDatabase load (reads of PostgreSQL recorded as the strategies made them; a fill's width is how many readers read the same key and version before its fill landed):\n\n")
	align := make([]string, len(heads))
	for i := range align {
		align[i] = "---:"
	}
	align[0] = "---"
	fmt.Fprintf(w, "| %s |\n|%s|\n", strings.Join(heads, " | "), strings.Join(align, "|"))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
}
