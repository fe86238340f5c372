package report

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// figure returns the figure of kind for scenario sc.
func (m *Matrix) figure(sc, kind string) *figure {
	switch kind {
	case PlotLatencyRead:
		return m.latencyFigure(sc, HgrmRead)
	case PlotLatencyWrite:
		return m.latencyFigure(sc, HgrmWrite)
	case PlotStaleness:
		return m.stalenessFigure(sc)
	case PlotStaleWindow:
		return m.staleWindowFigure(sc)
	case PlotTimeSeries:
		return m.timeSeriesFigure(sc)
	case PlotTradeoff:
		return m.tradeoffFigure(sc)
	case PlotMetrics:
		return m.metricsFigure(sc)
	}
	panic("report: unknown plot kind " + kind)
}

func newFigure(title, caption string) *figure {
	return &figure{title: title, caption: caption, width: PlotWidth, height: PlotHeight}
}

func msLabel(v float64) string { return fmtNum(v) }

// measuredCells returns the cells of sc that have metrics.
func (m *Matrix) measuredCells(sc string) []*Cell {
	var out []*Cell
	for _, c := range m.Row(sc) {
		if c.measured() {
			out = append(out, c)
		}
	}
	return out
}

// statusSuffix marks runs that did not complete in legends.
func statusSuffix(c *Cell) string {
	if c.Status != record.StatusOK {
		return " [" + string(c.Status) + "]"
	}
	return ""
}

// latencyFigure is HdrHistogram's percentile spectrum: x is 1/(1-p) on a
// log scale, labelled 0%, 90%, 99%, 99.9%..., y the latency at that
// percentile.
func (m *Matrix) latencyFigure(sc, kind string) *figure {
	f := newFigure(fmt.Sprintf("%s: %s latency by percentile", sc, kind),
		fmt.Sprintf("%s latency at each percentile, one line per strategy, as HdrHistogram plots it: the x axis spreads the tail (90%%, 99%%, 99.9%%...) over equal widths; both axes are logarithmic. %s",
			kind, map[string]string{HgrmRead: "Reads merge cache hits and misses.", HgrmWrite: "Failed writes are included."}[kind]))
	p := newPlot("", "percentile", "latency (ms)")
	var ys []float64
	maxX := 10.0
	var empty []string
	for _, c := range m.measuredCells(sc) {
		h := latencyOf(c.Run, kind)
		d, err := h.Decode()
		if err != nil || d.TotalCount() == 0 {
			empty = append(empty, c.Strategy)
			continue
		}
		n := float64(d.TotalCount())
		top := math.Log10(n)
		var xys plotter.XYs
		for k := 0; ; k++ {
			e := float64(k) * 0.05
			if e >= top {
				break
			}
			q := 1 - math.Pow(10, -e)
			v := math.Max(float64(d.ValueAtQuantile(q*100))/1000, 0.001)
			xys = append(xys, plotter.XY{X: math.Pow(10, e), Y: v})
		}
		xys = append(xys, plotter.XY{X: n, Y: math.Max(float64(d.Max())/1000, 0.001)})
		for _, xy := range xys {
			ys = append(ys, xy.Y)
		}
		maxX = math.Max(maxX, n)
		m.addLine(p, c.Strategy, xys, plotter.NoStep)
		p99 := h.Quantile(0.99)
		f.legend = append(f.legend, legendEntry{name: fmt.Sprintf("%s  p99 %s%s", c.Strategy, FormatMicros(p99), statusSuffix(c)), style: m.strategyStyle(c.Strategy)})
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = ninesTicks{}
	p.X.Min, p.X.Max = 1, math.Pow(10, math.Ceil(math.Log10(maxX)))
	if lo, hi, ok := logRange(ys); ok {
		setLogAxis(&p.Y, lo, hi, msLabel)
	} else {
		setLogAxis(&p.Y, 0.1, 10, msLabel)
		p.Add(noteText("no " + kind + "s recorded"))
	}
	if len(empty) > 0 {
		f.notes = append(f.notes, "No "+kind+"s recorded: "+joinAnd(empty)+".")
	}
	f.plots = []*plot.Plot{p}
	return f
}

// stalenessFigure is the CDF of the staleness age over each strategy's
// stale reads.
func (m *Matrix) stalenessFigure(sc string) *figure {
	f := newFigure(fmt.Sprintf("%s: staleness age of stale reads (CDF)", sc),
		"For each strategy, the share of its stale reads whose value had been obsolete for at most x when the read began (x on a log scale). The legend gives the number of stale reads; strategies without stale reads have no line.")
	p := newPlot("", "staleness age (ms)", "share of stale reads")
	var xs []float64
	var none []string
	for _, c := range m.measuredCells(sc) {
		h := c.Run.Metrics.Reads.StalenessAge
		pts := h.CDF()
		if len(pts) == 0 {
			none = append(none, c.Strategy)
			continue
		}
		var xys plotter.XYs
		first := math.Max(float64(pts[0].Value)/1000, 0.001)
		xys = append(xys, plotter.XY{X: first, Y: 0})
		for _, pt := range pts {
			x := math.Max(float64(pt.Value)/1000, 0.001)
			xys = append(xys, plotter.XY{X: x, Y: pt.Fraction})
			xs = append(xs, x)
		}
		m.addLine(p, c.Strategy, xys, plotter.PostStep)
		f.legend = append(f.legend, legendEntry{name: fmt.Sprintf("%s  (%d stale)%s", c.Strategy, h.Count, statusSuffix(c)), style: m.strategyStyle(c.Strategy)})
	}
	if lo, hi, ok := logRange(xs); ok {
		setLogAxis(&p.X, lo, hi, msLabel)
	} else {
		setLogAxis(&p.X, 0.1, 1000, msLabel)
		p.Add(noteText("no stale reads in this scenario"))
	}
	p.Y.Min, p.Y.Max = 0, 1
	p.Y.Tick.Marker = fractionTicks{}
	if len(none) > 0 {
		f.notes = append(f.notes, "No stale reads: "+joinAnd(none)+".")
	}
	f.plots = []*plot.Plot{p}
	return f
}

// fractionTicks labels 0 to 1 in steps of 0.2, minor ticks every 0.1.
type fractionTicks struct{}

func (fractionTicks) Ticks(min, max float64) []plot.Tick {
	var t []plot.Tick
	for i := 0; i <= 10; i++ {
		v := float64(i) / 10
		label := ""
		if i%2 == 0 {
			label = strconv.FormatFloat(v, 'f', 1, 64)
		}
		t = append(t, plot.Tick{Value: v, Label: label})
	}
	return t
}

// staleWindowFigure is the complementary CDF of the stale windows: the
// share of committed writes whose window was longer than x.
func (m *Matrix) staleWindowFigure(sc string) *figure {
	f := newFigure(fmt.Sprintf("%s: stale windows (share of writes with a window longer than x)", sc),
		"For each strategy, the share of committed writes after whose commit reads kept returning an older version for longer than x (both axes logarithmic). A line's level on the left is the share of writes with any stale window; it drops to the bottom at the longest window. Strategies with none have no line.")
	p := newPlot("", "stale window (ms)", "share of committed writes")
	// P(window > x) as steps: the share of writes with a window longer
	// than x stays at its level until the next window value, then drops.
	type line struct {
		c   *Cell
		pts plotter.XYs // (window ms, share longer than the previous value) and (same, share after it)
	}
	var lines []line
	var xs, ys []float64
	var none []string
	for _, c := range m.measuredCells(sc) {
		sw := c.Run.Metrics.StaleWindow
		pts := sw.Histogram.CDF()
		var xys plotter.XYs
		prev := 0.0 // CDF before the current point
		for _, pt := range pts {
			if pt.Value <= 0 {
				prev = pt.Fraction
				continue
			}
			x := float64(pt.Value) / 1000
			before, after := 1-prev, 1-pt.Fraction
			xys = append(xys, plotter.XY{X: x, Y: before})
			xs, ys = append(xs, x), append(ys, before)
			if after > 1e-12 {
				xys = append(xys, plotter.XY{X: x, Y: after})
			}
			prev = pt.Fraction
		}
		if sw.WithWindow == 0 || len(xys) == 0 {
			none = append(none, c.Strategy)
			continue
		}
		lines = append(lines, line{c, xys})
	}
	xlo, xhi, ok := logRange(xs)
	if !ok {
		xlo, xhi = 0.1, 1000
		p.Add(noteText("no stale windows in this scenario"))
	}
	ylo, _, ok := logRange(ys)
	if !ok {
		ylo = 1e-4
	}
	setLogAxis(&p.X, xlo, xhi, msLabel)
	setLogAxis(&p.Y, ylo, 1, fmtNum)
	for _, l := range lines {
		// From the left edge (every window is longer than that) to the
		// last window, then down to the bottom edge (none is longer).
		xys := append(plotter.XYs{{X: xlo, Y: l.pts[0].Y}}, l.pts...)
		xys = append(xys, plotter.XY{X: l.pts[len(l.pts)-1].X, Y: ylo})
		m.addLine(p, l.c.Strategy, xys, plotter.NoStep)
		sw := l.c.Run.Metrics.StaleWindow
		f.legend = append(f.legend, legendEntry{name: fmt.Sprintf("%s  (%d of %d)%s", l.c.Strategy, sw.WithWindow, sw.Writes, statusSuffix(l.c)), style: m.strategyStyle(l.c.Strategy)})
	}
	if len(none) > 0 {
		f.notes = append(f.notes, "No stale window: "+joinAnd(none)+".")
	}
	f.plots = []*plot.Plot{p}
	return f
}

// runWarmup returns the warm-up of r's effective scenario, 0 when it
// cannot be read.
func runWarmup(r *record.Run) time.Duration {
	var cfg struct {
		Warmup string `json:"warmup"`
	}
	if err := json.Unmarshal(r.Config, &cfg); err != nil || cfg.Warmup == "" || cfg.Warmup == "none" {
		return 0
	}
	d, err := time.ParseDuration(cfg.Warmup)
	if err != nil {
		return 0
	}
	return d
}

// seriesRates returns the rates per second of pick over the complete
// buckets of r's measured window, as steps: one point at each bucket's
// start, and one closing the last bucket (draw with plotter.PostStep).
func seriesRates(r *record.Run, pick func(s *check.Series) []int64) plotter.XYs {
	s := &r.Metrics.Series
	return bucketRates(r, s.BucketUs, pick(s))
}

// bucketRates is seriesRates of vals in buckets of bucketUs.
func bucketRates(r *record.Run, bucketUs int64, vals []int64) plotter.XYs {
	if bucketUs <= 0 || len(vals) == 0 {
		return nil
	}
	b := float64(bucketUs) / 1e6
	start := runWarmup(r).Seconds()
	end := start + r.MeasuredSeconds
	var xys plotter.XYs
	last := 0.0
	for i, v := range vals {
		t0, t1 := float64(i)*b, float64(i+1)*b
		if t0 < start-1e-9 || t1 > end+1e-9 {
			continue
		}
		last = float64(v) / b
		xys = append(xys, plotter.XY{X: t0, Y: last})
		if i == len(vals)-1 || float64(i+2)*b > end+1e-9 {
			xys = append(xys, plotter.XY{X: t1, Y: last})
		}
	}
	return xys
}

// faultSpan is one fault step as shaded on the time series: from the
// earliest injection to the latest confirmed heal over the scenario's runs
// (start, end), and the part when it was in effect in every run (allStart,
// allEnd; empty when the runs' windows do not overlap).
type faultSpan struct {
	name                string
	start, end          float64
	allStart, allEnd    float64
	lastStart, firstEnd float64
}

// faultSpans returns one span per fault step of sc. A run that recorded
// no real window (inject failed, heal failed) counts with the scheduled
// one.
func (m *Matrix) faultSpans(sc string) []faultSpan {
	var spans []faultSpan
	for _, c := range m.measuredCells(sc) {
		for i, fw := range c.Run.Faults {
			for len(spans) <= i {
				spans = append(spans, faultSpan{start: math.Inf(1), end: math.Inf(-1), lastStart: math.Inf(-1), firstEnd: math.Inf(1)})
			}
			sp := &spans[i]
			sp.name = fw.Fault
			start, end := fw.Start, fw.End
			if fw.InjectError != "" || start == 0 {
				start = fw.ScheduledStart
			}
			if end == 0 {
				end = fw.ScheduledEnd
			}
			sp.start, sp.end = math.Min(sp.start, start), math.Max(sp.end, end)
			sp.lastStart, sp.firstEnd = math.Max(sp.lastStart, start), math.Min(sp.firstEnd, end)
		}
	}
	for i := range spans {
		sp := &spans[i]
		sp.allStart, sp.allEnd = sp.lastStart, sp.firstEnd
		if sp.allEnd < sp.allStart {
			sp.allStart, sp.allEnd = 0, 0
		}
	}
	return spans
}

// describe says when the fault was in effect, for the figure's notes.
func (sp faultSpan) describe() string {
	s := fmt.Sprintf("%s in effect %.2f-%.2f s in some run", sp.name, sp.start, sp.end)
	if sp.allEnd > sp.allStart {
		s += fmt.Sprintf(", %.2f-%.2f s in every run (dark)", sp.allStart, sp.allEnd)
	}
	return s
}

// shade draws fault windows as bands over the whole data area: light
// where the fault was in effect in some run, darker where in all; the
// first plot also names them.
type shade struct {
	spans []faultSpan
	label bool
}

func (s shade) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	ts := textStyle(9, color.RGBA{R: 0xa0, A: 0xff})
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YTop
	band := func(x0, x1 float64, col color.Color) {
		a, b := trX(x0), trX(x1)
		pts := []vg.Point{{X: a, Y: c.Min.Y}, {X: b, Y: c.Min.Y}, {X: b, Y: c.Max.Y}, {X: a, Y: c.Max.Y}}
		c.FillPolygon(col, c.ClipPolygonXY(pts))
	}
	for _, sp := range s.spans {
		band(sp.start, sp.end, faultBandLight)
		if sp.allEnd > sp.allStart {
			band(sp.allStart, sp.allEnd, faultBand)
		}
		if s.label {
			c.FillText(ts, vg.Point{X: trX(sp.start) + vg.Points(3), Y: c.Max.Y - vg.Points(2)}, sp.name)
		}
	}
}

// timeSeriesFigure stacks three panels over the run's measured time:
// throughput, errors and stale reads per second, one line per strategy,
// fault windows shaded.
func (m *Matrix) timeSeriesFigure(sc string) *figure {
	f := newFigure(fmt.Sprintf("%s: throughput, errors and stale reads over time", sc),
		"Operations, failed operations and stale reads per second in each time bucket (drawn as steps, one per bucket) of the measured window (warm-up excluded), one line per strategy. Shaded: the fault windows as really injected and healed, light where the fault was in effect in some of the runs, dark where in all of them. Dashed: what the faults recorded (begin, a primary killed, a new one elected or promoted, the clients following, heal), at the median time over the runs.")
	f.height = TimeSeriesHeight
	panels := []struct {
		title, unit string
		pick        func(s *check.Series) []int64
	}{
		{"throughput", "ops/s", func(s *check.Series) []int64 { return s.Ops }},
		{"errors", "errors/s", func(s *check.Series) []int64 { return s.Errors }},
		{"stale reads", "stale reads/s", func(s *check.Series) []int64 { return s.StaleReads }},
	}
	spans := m.faultSpans(sc)
	cells := m.measuredCells(sc)
	runs := make([]*record.Run, len(cells))
	dbLoad := false
	for i, c := range cells {
		runs[i] = c.Run
		if d := c.Run.DBLoad; d != nil && d.Recorded {
			dbLoad = true
		}
	}
	if dbLoad {
		// Database reads are not in the checker's series: the panel
		// reads them from the run's database load (nil pick).
		panels = append(panels, struct {
			title, unit string
			pick        func(s *check.Series) []int64
		}{"database reads", "db reads/s", nil})
		f.title = fmt.Sprintf("%s: throughput, errors, stale reads and database reads over time", sc)
		f.caption += " Database reads: rows the strategy read from PostgreSQL, by the start of each read."
	}
	marks := faultEventMarks(runs)
	minX, maxX := math.Inf(1), math.Inf(-1)
	for i, pn := range panels {
		xl := ""
		if i == len(panels)-1 {
			xl = "time since run start (s)"
		}
		p := newPlot(pn.title, xl, pn.unit)
		if len(spans) > 0 {
			p.Add(shade{spans: spans, label: i == 0})
		}
		if len(marks) > 0 {
			p.Add(eventLines{marks: marks, label: i == 0})
		}
		maxY := 0.0
		for _, c := range cells {
			var xys plotter.XYs
			switch d := c.Run.DBLoad; {
			case pn.pick != nil:
				xys = seriesRates(c.Run, pn.pick)
			case d != nil && d.Recorded:
				xys = bucketRates(c.Run, d.Series.BucketUs, d.Series.DBReads)
			}
			for _, xy := range xys {
				maxY = math.Max(maxY, xy.Y)
				minX, maxX = math.Min(minX, xy.X), math.Max(maxX, xy.X)
			}
			m.addLine(p, c.Strategy, xys, plotter.PostStep)
		}
		p.Y.Min = 0
		if maxY == 0 {
			p.Y.Max = 1
			p.Add(noteText("none"))
		} else {
			p.Y.Max = maxY * 1.08
		}
		f.plots = append(f.plots, p)
	}
	if math.IsInf(minX, 1) {
		minX, maxX = 0, 1
	}
	for _, sp := range spans {
		minX, maxX = math.Min(minX, sp.start), math.Max(maxX, sp.end)
	}
	for _, p := range f.plots {
		p.X.Min, p.X.Max = minX, maxX
		p.X.Tick.Marker = linearTicks{}
	}
	for _, c := range cells {
		f.legend = append(f.legend, legendEntry{name: c.Strategy + statusSuffix(c), style: m.strategyStyle(c.Strategy)})
	}
	for _, sp := range spans {
		f.notes = append(f.notes, "Shaded: "+sp.describe()+".")
	}
	for _, e := range marks {
		f.notes = append(f.notes, "Dashed: "+e.describe()+".")
	}
	return f
}

// tradeoffFigure plots each strategy as a labelled point: stale-read ratio
// against p99 write latency. Safe and fast is the bottom left. The x axis
// is logarithmic, so that 0.01% and 1% are told apart; strategies with no
// stale read sit on the left edge, marked 0.
func (m *Matrix) tradeoffFigure(sc string) *figure {
	f := newFigure(fmt.Sprintf("%s: consistency against write cost", sc),
		"One point per strategy: x is the share of successful reads that were stale (pooled over repetitions; log scale; no stale read at all is the left edge, marked 0), y the median over repetitions of the 99th percentile write latency (log scale); the bars are their 95% intervals. Safe and fast is the bottom left. Strategies whose write availability was below 1 say so in the legend.")
	p := newPlot("", "stale reads (% of successful reads, log scale)", "p99 write latency (ms)")
	lp := &labelledPoints{}
	var ys, xs []float64
	eb := &errBars{}
	for _, c := range m.measuredCells(sc) {
		es, ew := c.Estimate(MetricStaleRatio), c.Estimate(MetricWriteP99)
		if es.N == 0 || ew.N == 0 || math.IsNaN(es.Value) || !(ew.Value > 0) {
			continue
		}
		x := es.Value * 100
		y := ew.Value / 1000
		st := m.strategyStyle(c.Strategy)
		lp.pts = append(lp.pts, labelledPoint{x: x, y: y, name: c.Strategy, style: st})
		b := errBar{x: x, xlo: x, xhi: x, y: y, ylo: y, yhi: y, style: st}
		if es.HasCI {
			b.xlo, b.xhi = es.Lo*100, es.Hi*100
		}
		if ew.HasCI {
			b.ylo, b.yhi = ew.Lo/1000, ew.Hi/1000
		}
		eb.bars = append(eb.bars, b)
		ys = append(ys, y, b.ylo, b.yhi)
		xs = append(xs, x, b.xhi)
		name := c.Strategy
		if c.Row.Availability != nil && *c.Row.Availability < 1 {
			name += fmt.Sprintf("  (write avail %s)", ratio(c.Row.Availability))
		}
		f.legend = append(f.legend, legendEntry{name: name + statusSuffix(c), style: st, glyph: true})
	}
	lo, hi, ok := logRange(xs)
	if !ok {
		lo, hi = 0.01, 1
	}
	zero := lo / 10 // where a ratio of 0 is drawn
	for i := range lp.pts {
		if lp.pts[i].x <= 0 {
			lp.pts[i].x = zero
		}
	}
	// Room on the right for the labels of the rightmost points.
	hi = math.Pow(10, math.Log10(hi)+0.15*(math.Log10(hi)-math.Log10(zero)))
	setLogAxis(&p.X, zero, hi, func(v float64) string {
		if v <= zero*(1+1e-9) {
			return "0"
		}
		return fmtNum(v) + "%"
	})
	p.X.Tick.Marker = zeroLogTicks{zero: zero}
	eb.floorX = zero
	if lo, _, ok := logRange(ys); ok {
		eb.floorY = lo
	}
	p.Add(eb, lp)
	if lo, hi, ok := logRange(ys); ok {
		setLogAxis(&p.Y, lo, hi, msLabel)
	} else {
		setLogAxis(&p.Y, 0.1, 10, msLabel)
		p.Add(noteText("no writes recorded"))
	}
	f.plots = []*plot.Plot{p}
	return f
}

// zeroLogTicks are percentage ticks on a log axis whose lowest value
// stands for 0.
type zeroLogTicks struct{ zero float64 }

func (z zeroLogTicks) Ticks(lo, hi float64) []plot.Tick {
	pct := logTicks{format: func(v float64) string { return fmtNum(v) + "%" }}
	return append([]plot.Tick{{Value: z.zero, Label: "0"}}, pct.Ticks(z.zero*1.5, hi)...)
}

// labelledPoint is one strategy on the trade-off plot.
type labelledPoint struct {
	x, y  float64
	name  string
	style seriesStyle
}

// labelledPoints draws glyphs with their names, moving a label up or down
// (with a leader line) when it would overlap one already placed.
type labelledPoints struct {
	pts []labelledPoint
}

// DataRange implements plot.DataRanger.
func (l *labelledPoints) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, p := range l.pts {
		xmin, xmax = math.Min(xmin, p.x), math.Max(xmax, p.x)
		ymin, ymax = math.Min(ymin, p.y), math.Max(ymax, p.y)
	}
	return
}

func (l *labelledPoints) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	ts := textStyle(9, color.Black)
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YCenter
	h := ts.Height("Xg") * 1.1
	type box struct{ min, max vg.Point }
	overlaps := func(a box, bs []box) bool {
		for _, b := range bs {
			if a.min.X < b.max.X && b.min.X < a.max.X && a.min.Y < b.max.Y && b.min.Y < a.max.Y {
				return true
			}
		}
		return false
	}
	order := make([]int, len(l.pts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return l.pts[order[a]].y > l.pts[order[b]].y })
	var placed []box
	for _, i := range order {
		pt := l.pts[i]
		px := vg.Point{X: trX(pt.x), Y: trY(pt.y)}
		r := pt.style.glyph().Radius
		placed = append(placed, box{vg.Point{X: px.X - r, Y: px.Y - r}, vg.Point{X: px.X + r, Y: px.Y + r}})
	}
	for _, i := range order {
		pt := l.pts[i]
		px := vg.Point{X: trX(pt.x), Y: trY(pt.y)}
		c.DrawGlyph(pt.style.glyph(), px)
		w := ts.Width(pt.name)
		gap := vg.Points(7)
		var at vg.Point
		found := false
		for k := 0; k < 24 && !found; k++ {
			dy := vg.Length((k+1)/2) * h
			if k%2 == 1 {
				dy = -dy
			}
			for _, left := range []bool{false, true} {
				x := px.X + gap
				if left {
					x = px.X - gap - w
				}
				b := box{vg.Point{X: x, Y: px.Y + dy - h/2}, vg.Point{X: x + w, Y: px.Y + dy + h/2}}
				if b.min.X < c.Min.X || b.max.X > c.Max.X || b.min.Y < c.Min.Y || b.max.Y > c.Max.Y || overlaps(b, placed) {
					continue
				}
				at, found = vg.Point{X: x, Y: px.Y + dy}, true
				placed = append(placed, b)
				break
			}
		}
		if !found {
			at = vg.Point{X: px.X + gap, Y: px.Y}
		}
		if at.Y != px.Y {
			lx := at.X
			if at.X < px.X {
				lx = at.X + w
			}
			c.StrokeLine2(draw.LineStyle{Color: color.Gray{Y: 0x90}, Width: vg.Points(0.5)}, px.X, px.Y, lx, at.Y)
		}
		c.FillText(ts, at, pt.name)
	}
}
