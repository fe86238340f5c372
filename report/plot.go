package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Plot kinds, one figure of each per scenario (PlotFile.Kind).
const (
	PlotLatencyRead  = "latency-read"  // read latency by percentile, one line per strategy
	PlotLatencyWrite = "latency-write" // write latency by percentile
	PlotStaleness    = "staleness"     // CDF of the staleness age of stale reads
	PlotStaleWindow  = "stale-window"  // share of writes with a stale window longer than x
	PlotTimeSeries   = "timeseries"    // throughput, errors and stale reads over time, faults shaded
	PlotTradeoff     = "tradeoff"      // p99 write latency against stale-read ratio, with 95% intervals
	PlotMetrics      = "metrics"       // per-metric comparison of the strategies, with 95% intervals
)

// plotKinds lists the kinds in the order the report shows them.
var plotKinds = []string{PlotLatencyRead, PlotLatencyWrite, PlotStaleness, PlotStaleWindow, PlotTimeSeries, PlotTradeoff, PlotMetrics}

// PlotDPI is the resolution of the PNG plots; PlotWidth and PlotHeight
// their size (the time series is taller: TimeSeriesHeight).
const (
	PlotDPI          = 110
	PlotWidth        = 10 * vg.Inch
	PlotHeight       = 5.5 * vg.Inch
	TimeSeriesHeight = 8 * vg.Inch
)

// PlotSize returns the size in pixels of the PNG of a plot of kind.
func PlotSize(kind string) (w, h int) {
	ht := PlotHeight
	if kind == PlotTimeSeries || kind == PlotMetrics {
		ht = TimeSeriesHeight
	}
	px := func(l vg.Length) int { return int(math.Ceil(l.Dots(PlotDPI))) }
	return px(PlotWidth), px(ht)
}

// PlotFile is one rendered figure.
type PlotFile struct {
	Scenario string
	Kind     string
	// Title is the figure's title; Caption says how to read it.
	Title   string
	Caption string
	// Base is the path relative to the bench folder without extension:
	// Base+".png" and Base+".svg" exist.
	Base string
}

// PlotBase returns the path, relative to the bench folder and without
// extension, of the plot of kind for scenario.
func PlotBase(scenario, kind string) string {
	return filepath.ToSlash(filepath.Join(PlotsDir, fileSafe(scenario)+"-"+kind))
}

// WritePlots renders every plot of m into dir/plots as PNG and SVG (PNG
// only, removing the SVG, with opt.Light), files written atomically, and
// returns them in report order (per scenario, per kind). A plot with no
// data to show still renders, with its axes and a note saying so.
func WritePlots(dir string, m *Matrix, opt RenderOptions) ([]PlotFile, error) {
	var out []PlotFile
	formats := []string{"png", "svg"}
	for _, sc := range m.Scenarios {
		for _, kind := range plotKinds {
			fig := m.figure(sc, kind)
			base := PlotBase(sc, kind)
			if opt.Light {
				formats = []string{"png"}
				if err := removeIn(dir, filepath.FromSlash(base)+".svg"); err != nil {
					return out, err
				}
			}
			for _, format := range formats {
				data, err := fig.render(format)
				if err != nil {
					return out, fmt.Errorf("plot %s: %w", base, err)
				}
				if err := WriteFileIn(dir, filepath.FromSlash(base)+"."+format, data); err != nil {
					return out, err
				}
			}
			out = append(out, PlotFile{Scenario: sc, Kind: kind, Title: fig.title, Caption: fig.caption, Base: base})
		}
	}
	return out, nil
}

// figure is one image: plots stacked vertically on the left and a legend
// strip on the right, so that the legend never hides data.
type figure struct {
	title   string
	caption string
	width   vg.Length
	height  vg.Length
	plots   []*plot.Plot
	legend  []legendEntry
	notes   []string
}

type legendEntry struct {
	name  string
	style seriesStyle
	glyph bool // draw a glyph (scatter) rather than a line sample
}

// legendWidth returns the width of the legend strip: enough for the
// longest entry, at least 2 and at most 4 inches.
func (f *figure) legendWidth() vg.Length {
	ts := legendTextStyle()
	w := 2 * vg.Inch
	for _, e := range f.legend {
		w = max(w, legendThumb+vg.Points(6)+ts.Width(e.name)+vg.Points(16))
	}
	return min(w, 4*vg.Inch)
}

// legendThumb is the width of a legend entry's line sample.
const legendThumb = vg.Length(28)

func legendTextStyle() text.Style {
	ts := textStyle(10, color.Black)
	ts.YAlign = draw.YCenter
	return ts
}

// render draws f in format ("png" or "svg").
func (f *figure) render(format string) ([]byte, error) {
	var buf bytes.Buffer
	switch format {
	case "png":
		ic := vgimg.NewWith(vgimg.UseWH(f.width, f.height), vgimg.UseDPI(PlotDPI), vgimg.UseBackgroundColor(color.White))
		f.draw(draw.New(ic))
		// Default compression: BestCompression saves 10% for ten times
		// the time.
		if err := png.Encode(&buf, paletted(ic.Image())); err != nil {
			return nil, err
		}
	case "svg":
		sc := vgsvg.New(f.width, f.height)
		f.draw(draw.New(sc))
		if _, err := sc.WriteTo(&buf); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown format %q", format)
	}
	return buf.Bytes(), nil
}

// blendWhite returns c drawn with opacity a/256 over white.
func blendWhite(c color.RGBA, a int) color.RGBA {
	f := func(v uint8) uint8 { return uint8((int(v)*a + 255*(256-a)) / 256) }
	return color.RGBA{f(c.R), f(c.G), f(c.B), 0xff}
}

// paletted returns img with at most 256 colours: the plot colours and its
// most frequent ones, every other pixel mapped to the nearest of them. Plots are flat colours
// plus anti-aliasing, so this is all but lossless and makes the PNG files
// about three times smaller.
func paletted(img image.Image) *image.Paletted {
	b := img.Bounds()
	src, ok := img.(*image.RGBA)
	if !ok { // vgimg draws on *image.RGBA; anything else is converted once
		src = image.NewRGBA(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				src.Set(x, y, img.At(x, y))
			}
		}
	}
	// Pixels are counted by their packed RGBA value.
	pack := func(i int) uint32 {
		p := src.Pix[i : i+4 : i+4]
		return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
	}
	unpack := func(v uint32) color.RGBA { return color.RGBA{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v)} }
	counts := map[uint32]int{}
	var last uint32
	run := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := src.PixOffset(b.Min.X, y)
		for x := 0; x < b.Dx(); x++ {
			v := pack(row + 4*x)
			if v == last && run > 0 {
				run++
				continue
			}
			if run > 0 {
				counts[last] += run
			}
			last, run = v, 1
		}
	}
	if run > 0 {
		counts[last] += run
	}
	// The series colours and their blends with white come first, so that
	// thin anti-aliased lines keep their hue; then the most frequent ones.
	var cols []uint32
	reserved := map[uint32]bool{}
	for _, pc := range append(palette[:len(palette):len(palette)], faultBand, faultBandLight, color.RGBA{A: 0xff}) {
		for _, a := range []int{256, 192, 128, 64} {
			c := blendWhite(pc, a)
			v := uint32(c.R)<<24 | uint32(c.G)<<16 | uint32(c.B)<<8 | uint32(c.A)
			if !reserved[v] {
				reserved[v] = true
				cols = append(cols, v)
			}
		}
	}
	nres := len(cols)
	for v := range counts {
		if !reserved[v] {
			cols = append(cols, v)
		}
	}
	freq := cols[nres:]
	sort.Slice(freq, func(i, j int) bool {
		if counts[freq[i]] != counts[freq[j]] {
			return counts[freq[i]] > counts[freq[j]]
		}
		return freq[i] < freq[j]
	})
	if len(cols) > 256 {
		cols = cols[:256]
	}
	pal := make(color.Palette, len(cols))
	index := make(map[uint32]uint8, len(counts))
	for i, v := range cols {
		pal[i] = unpack(v)
		index[v] = uint8(i)
	}
	out := image.NewPaletted(b, pal)
	var prev uint32
	var prevI uint8
	havePrev := false
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := src.PixOffset(b.Min.X, y)
		orow := out.PixOffset(b.Min.X, y)
		for x := 0; x < b.Dx(); x++ {
			v := pack(row + 4*x)
			if !havePrev || v != prev {
				i, ok := index[v]
				if !ok {
					i = uint8(pal.Index(unpack(v)))
					index[v] = i
				}
				prev, prevI, havePrev = v, i, true
			}
			out.Pix[orow+x] = prevI
		}
	}
	return out
}

func (f *figure) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	pad := vg.Points(8)
	c = draw.Crop(c, pad, -pad, pad, -pad)
	// Title across the whole width.
	ts := textStyle(14, color.Black)
	ts.XAlign, ts.YAlign = draw.XCenter, draw.YTop
	c.FillText(ts, vg.Point{X: c.Center().X, Y: c.Max.Y}, f.title)
	c.Max.Y -= ts.Height(f.title) + vg.Points(6)

	lw := f.legendWidth()
	plotArea := draw.Crop(c, 0, -lw, 0, 0)
	legendArea := draw.Crop(c, c.Size().X-lw+vg.Points(14), 0, 0, 0)
	if len(f.plots) == 1 {
		drawPlot(f.plots[0], plotArea)
	} else if len(f.plots) > 1 {
		rows := make([][]*plot.Plot, len(f.plots))
		for i, p := range f.plots {
			rows[i] = []*plot.Plot{p}
		}
		tiles := draw.Tiles{Rows: len(f.plots), Cols: 1, PadY: vg.Points(10)}
		canvases := plot.Align(rows, tiles, plotArea)
		for i, p := range f.plots {
			p.Draw(canvases[i][0])
		}
	}
	f.drawLegend(legendArea)
}

// drawPlot draws p on c. On a log-scale x axis it draws the axis label
// itself, centred under the data area: gonum/plot reserves room for it at
// the data midpoint of the range, which on a log scale lies far right and
// shrinks the plot.
func drawPlot(p *plot.Plot, c draw.Canvas) {
	label := p.X.Label.Text
	if _, isLog := p.X.Scale.(plot.LogScale); !isLog || label == "" {
		p.Draw(c)
		return
	}
	p.X.Label.Text = ""
	defer func() { p.X.Label.Text = label }()
	ts := p.X.Label.TextStyle
	ts.XAlign, ts.YAlign = draw.XCenter, draw.YBottom
	h := ts.Height(label) + p.X.Label.Padding
	inner := draw.Crop(c, 0, 0, h, 0)
	p.Draw(inner)
	dc := p.DataCanvas(inner)
	c.FillText(ts, vg.Point{X: dc.Center().X, Y: c.Min.Y + ts.FontExtents().Descent}, label)
}

// drawLegend draws the entries top down, then the notes, wrapped.
func (f *figure) drawLegend(c draw.Canvas) {
	ts := legendTextStyle()
	lineH := ts.Height("Xg") * 1.5
	y := c.Max.Y - vg.Points(24)
	thumb := legendThumb
	for _, e := range f.legend {
		if e.glyph {
			c.DrawGlyph(e.style.glyph(), vg.Point{X: c.Min.X + thumb/2, Y: y})
		} else {
			c.StrokeLine2(e.style.line(), c.Min.X, y, c.Min.X+thumb, y)
		}
		c.FillText(ts, vg.Point{X: c.Min.X + thumb + vg.Points(6), Y: y}, e.name)
		y -= lineH
	}
	ns := textStyle(9, color.Gray{Y: 0x40})
	ns.YAlign = draw.YTop
	y -= vg.Points(6)
	for _, n := range f.notes {
		for _, line := range wrapText(ns, n, c.Size().X) {
			c.FillText(ns, vg.Point{X: c.Min.X, Y: y}, line)
			y -= ns.Height("Xg") * 1.25
		}
		y -= vg.Points(4)
	}
}

// wrapText splits s into lines no wider than width in style ts.
func wrapText(ts text.Style, s string, width vg.Length) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		try := w
		if cur != "" {
			try = cur + " " + w
		}
		if cur != "" && ts.Width(try) > width {
			lines = append(lines, cur)
			cur = w
			continue
		}
		cur = try
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// Fonts: Liberation Sans (metric-compatible with Arial), bundled with
// gonum/plot, so rendering needs no system font.
var sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

func textStyle(size font.Length, c color.Color) text.Style {
	return text.Style{Color: c, Font: font.From(sansFont, size), Handler: plot.DefaultTextHandler}
}

// newPlot returns a plot with the report's fonts and grid-friendly axes.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle = textStyle(12, color.Black)
	p.Title.TextStyle.XAlign, p.Title.TextStyle.YAlign = draw.XCenter, draw.YTop
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sansFont, 11)
		ax.Tick.Label.Font = font.From(sansFont, 10)
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.Add(gridLines())
	return p
}

// gridLines returns light grid lines at the major ticks.
func gridLines() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xdd}
	g.Horizontal.Color = color.Gray{Y: 0xdd}
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	return g
}

// noteText draws a note in the middle of a plot's data area (for "no
// data" messages).
type noteText string

func (n noteText) Plot(c draw.Canvas, _ *plot.Plot) {
	ts := textStyle(12, color.Gray{Y: 0x60})
	ts.XAlign, ts.YAlign = draw.XCenter, draw.YCenter
	c.FillText(ts, c.Center(), string(n))
}

// seriesStyle is how one strategy is drawn, the same in every plot: a
// colour from a ten-colour palette (Tableau 10, distinguishable in print
// and by most colour-blind readers) and, past ten strategies, a dash
// pattern and another glyph shape.
type seriesStyle struct {
	color  color.Color
	dashes []vg.Length
	shape  draw.GlyphDrawer
}

var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0xff, 0x7f, 0x0e, 0xff}, // orange
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0xd6, 0x27, 0x28, 0xff}, // red
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff}, // brown
	{0xe3, 0x77, 0xc2, 0xff}, // pink
	{0x7f, 0x7f, 0x7f, 0xff}, // grey
	{0xbc, 0xbd, 0x22, 0xff}, // olive
	{0x17, 0xbe, 0xcf, 0xff}, // cyan
}

// faultBand and faultBandLight are the colours of fault windows on the
// time series (in effect in every run, in some run).
var (
	faultBand      = color.RGBA{R: 0xff, G: 0xc4, B: 0xc4, A: 0xff}
	faultBandLight = color.RGBA{R: 0xff, G: 0xe8, B: 0xe8, A: 0xff}
)

var dashPatterns = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(2), vg.Points(2)},
	{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)},
}

// glyphShapes are filled shapes, one per round of the palette (the
// colour tells strategies apart; the shape, like the dashes, tells apart
// two that share a colour).
var glyphShapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}}

// styleFor returns the style of the i-th strategy.
func styleFor(i int) seriesStyle {
	return seriesStyle{
		color:  palette[i%len(palette)],
		dashes: dashPatterns[(i/len(palette))%len(dashPatterns)],
		shape:  glyphShapes[(i/len(palette))%len(glyphShapes)],
	}
}

func (s seriesStyle) line() draw.LineStyle {
	return draw.LineStyle{Color: s.color, Width: vg.Points(1.6), Dashes: s.dashes}
}

func (s seriesStyle) glyph() draw.GlyphStyle {
	return draw.GlyphStyle{Color: s.color, Radius: vg.Points(4.5), Shape: s.shape}
}

// strategyStyle returns the style of strategy in m (by its position on the
// strategy axis, so that a strategy looks the same in every plot).
func (m *Matrix) strategyStyle(strategy string) seriesStyle {
	for i, s := range m.Strategies {
		if s == strategy {
			return styleFor(i)
		}
	}
	return styleFor(len(m.Strategies))
}

// addLine adds a line for strategy to p and returns its legend entry.
func (m *Matrix) addLine(p *plot.Plot, strategy string, xys plotter.XYs, step plotter.StepKind) {
	if len(xys) == 0 {
		return
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return // NaN or Inf: nothing sensible to draw
	}
	l.LineStyle = m.strategyStyle(strategy).line()
	l.StepStyle = step
	p.Add(l)
}

// logTicks marks a log axis with labels at 1, 2 and 5 times powers of ten
// when the range spans less than three decades, at powers of ten only
// otherwise, and minor ticks in between. Labels use format.
type logTicks struct {
	format func(float64) string
}

func (t logTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= 0 || !(max > min) {
		return nil
	}
	decades := math.Log10(max) - math.Log10(min)
	var ticks []plot.Tick
	lo := math.Floor(math.Log10(min))
	hi := math.Ceil(math.Log10(max))
	for e := lo; e <= hi; e++ {
		base := math.Pow(10, e)
		for i := 1; i < 10; i++ {
			v := base * float64(i)
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			label := ""
			if i == 1 || decades < 3 && (i == 2 || i == 5) {
				label = t.format(v)
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: label})
		}
	}
	return ticks
}

// linearTicks marks a linear axis at a round step (1, 2, 2.5 or 5 times a
// power of ten) giving five to ten labels, with a minor tick between.
type linearTicks struct{}

func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return nil
	}
	span := hi - lo
	step := math.Pow(10, math.Floor(math.Log10(span)))
	for _, m := range []float64{0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10} {
		if span/(step*m) <= 10 {
			step *= m
			break
		}
	}
	var ticks []plot.Tick
	prec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	if step*math.Pow(10, float64(prec)) != math.Round(step*math.Pow(10, float64(prec))) {
		prec++
	}
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0 // not -0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
		if h := v + step/2; h < hi {
			ticks = append(ticks, plot.Tick{Value: h})
		}
	}
	return ticks
}

// fmtNum renders a tick value: 0.001, 0.5, 2, 1000, 1e+06.
func fmtNum(v float64) string {
	if v >= 1e6 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// logRange returns [lo, hi] widened to whole 1-2-5 steps around the
// positive values vs, and ok false when there is none.
func logRange(vs []float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if math.IsInf(lo, 1) {
		return 0, 0, false
	}
	down := func(v float64) float64 {
		e := math.Pow(10, math.Floor(math.Log10(v)))
		for _, m := range []float64{5, 2, 1} {
			if m*e <= v {
				return m * e
			}
		}
		return e
	}
	up := func(v float64) float64 {
		e := math.Pow(10, math.Floor(math.Log10(v)))
		for _, m := range []float64{1, 2, 5, 10} {
			if m*e >= v {
				return m * e
			}
		}
		return 10 * e
	}
	lo, hi = down(lo), up(hi)
	if lo == hi {
		hi = up(hi * 1.0001)
	}
	return lo, hi, true
}

// setLogAxis makes ax a log axis over [lo, hi] labelled with format.
func setLogAxis(ax *plot.Axis, lo, hi float64, format func(float64) string) {
	ax.Scale = plot.LogScale{}
	ax.Tick.Marker = logTicks{format: format}
	ax.Min, ax.Max = lo, hi
}

// ninesTicks marks the "1/(1-percentile)" axis of a percentile spectrum:
// 0% at 1, 90% at 10, 99% at 100, 99.9% at 1000...
type ninesTicks struct{}

func (ninesTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for e := 0; e <= 9; e++ {
		v := math.Pow(10, float64(e))
		if v > max*(1+1e-9) {
			break
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: ninesLabel(e)})
		for i := 2; i < 10; i++ {
			if w := v * float64(i); w <= max {
				ticks = append(ticks, plot.Tick{Value: w})
			}
		}
	}
	return ticks
}

// ninesLabel returns the percentile at 1/(1-p) = 10^e: "0%", "90%",
// "99%", "99.9%"...
func ninesLabel(e int) string {
	switch e {
	case 0:
		return "0%"
	case 1:
		return "90%"
	case 2:
		return "99%"
	}
	return "99." + strings.Repeat("9", e-2) + "%"
}
