package report

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// errBar is one point's 95% interval on both axes (lo == hi: none).
type errBar struct {
	x, xlo, xhi float64
	y, ylo, yhi float64
	style       seriesStyle
}

// errBars draws the intervals of points as thin lines with end caps, in
// data coordinates (so they follow log axes).
type errBars struct {
	bars []errBar
	// floorX, floorY clamp values a log axis cannot show (0) to its
	// lowest value.
	floorX, floorY float64
	// glyphs draws each point's glyph too.
	glyphs bool
}

// DataRange implements plot.DataRanger.
func (e *errBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, b := range e.bars {
		xmin, xmax = math.Min(xmin, math.Max(b.xlo, e.floorX)), math.Max(xmax, b.xhi)
		ymin, ymax = math.Min(ymin, math.Max(b.ylo, e.floorY)), math.Max(ymax, b.yhi)
	}
	return
}

// Plot implements plot.Plotter.
func (e *errBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	cap := vg.Points(3)
	for _, b := range e.bars {
		ls := b.style.line()
		ls.Width = vg.Points(0.9)
		ls.Dashes = nil
		x, xlo, xhi := trX(math.Max(b.x, e.floorX)), trX(math.Max(b.xlo, e.floorX)), trX(math.Max(b.xhi, e.floorX))
		y, ylo, yhi := trY(math.Max(b.y, e.floorY)), trY(math.Max(b.ylo, e.floorY)), trY(math.Max(b.yhi, e.floorY))
		if xhi > xlo {
			c.StrokeLine2(ls, xlo, y, xhi, y)
			c.StrokeLine2(ls, xlo, y-cap, xlo, y+cap)
			c.StrokeLine2(ls, xhi, y-cap, xhi, y+cap)
		}
		if yhi > ylo {
			c.StrokeLine2(ls, x, ylo, x, yhi)
			c.StrokeLine2(ls, x-cap, ylo, x+cap, ylo)
			c.StrokeLine2(ls, x-cap, yhi, x+cap, yhi)
		}
		if e.glyphs {
			c.DrawGlyph(b.style.glyph(), vg.Point{X: x, Y: y})
		}
	}
}

// metricsFigure compares the strategies of sc on the headline metrics, one
// panel per metric: the estimate across repetitions and its 95% interval
// per strategy.
func (m *Matrix) metricsFigure(sc string) *figure {
	f := newFigure(fmt.Sprintf("%s: strategies compared, with 95%% intervals", sc),
		"One column per strategy (numbered as in the legend), one panel per metric: the dot is the estimate across repetitions (median for latency and throughput, mean per repetition for stale-until-TTL keys), the bar its 95% interval (package stats; none with fewer than 6 repetitions). Overlapping bars do not prove equality: the summary's groups come from the Mann-Whitney U test.")
	f.height = TimeSeriesHeight
	cells := m.measuredCells(sc)
	panels := []struct {
		key, label string
		scale      float64
		log        bool
	}{
		{MetricReadP99, "p99 read latency (ms)", 1e-3, true},
		{MetricWriteP99, "p99 write latency (ms)", 1e-3, true},
		{MetricOpsPerSec, "throughput (ops/s)", 1, false},
		{MetricStaleUntilTTL, "stale-until-TTL keys", 1, false},
	}
	var ticks []plot.Tick
	for i := range cells {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: fmt.Sprint(i + 1)})
	}
	for _, pn := range panels {
		p := newPlot("", "", pn.label)
		eb := &errBars{floorX: math.Inf(-1), floorY: math.Inf(-1), glyphs: true}
		var ys []float64
		for i, c := range cells {
			e := c.Estimate(pn.key)
			if e.N == 0 || math.IsNaN(e.Value) {
				continue
			}
			st := m.strategyStyle(c.Strategy)
			y, lo, hi := e.Value*pn.scale, e.Value*pn.scale, e.Value*pn.scale
			if e.HasCI {
				lo, hi = e.Lo*pn.scale, e.Hi*pn.scale
			}
			eb.bars = append(eb.bars, errBar{x: float64(i), xlo: float64(i), xhi: float64(i), y: y, ylo: lo, yhi: hi, style: st})
			ys = append(ys, y, lo, hi)
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = -0.5, float64(len(cells))-0.5
		if pn.log {
			if lo, hi, ok := logRange(ys); ok {
				setLogAxis(&p.Y, lo, hi, msLabel)
				eb.floorY = lo
			} else {
				setLogAxis(&p.Y, 0.1, 10, msLabel)
			}
		}
		if len(eb.bars) == 0 {
			p.Add(noteText("no completed run"))
		}
		p.Add(eb)
		f.plots = append(f.plots, p)
	}
	for i, c := range cells {
		f.legend = append(f.legend, legendEntry{name: fmt.Sprintf("%d %s", i+1, c.Strategy) + statusSuffix(c), style: m.strategyStyle(c.Strategy), glyph: true})
	}
	return f
}
