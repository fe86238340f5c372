package report

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ghostbench/ghostbench/record"
)

// eventMark is one kind of fault event on the time series (a fault's
// begin and heal, and what it saw happen in between: a primary killed, a
// new one elected, the clients following), over the runs of a scenario:
// drawn at the median time, the notes give the range.
type eventMark struct {
	fault, label        string
	first, median, last float64
	n                   int
}

// eventLabels shorten the events the built-in faults record (faults
// package, record.FaultEvent.What) to a label; an event none matches is
// labelled by its own words without addresses and numbers.
var eventLabels = []struct{ has, label string }{
	{"link delayed", "link delayed"},
	{"through the relay again", "link through relay again"},
	{"elected", "new primary elected"},
	{"promoted", "replica promoted"},
	{"clients followed", "clients followed"},
	{"back as a replica", "old primary back as replica"},
	{"killed", "primary killed"},
	{"frozen", "primary frozen"},
	{"migrating", "slot migrating (ASK)"},
	{"now owned", "slot reassigned (MOVED)"},
}

// eventLabel returns the label of an event's text.
func eventLabel(what string) string {
	for _, l := range eventLabels {
		if strings.Contains(what, l.has) {
			if strings.Contains(what, "master") && !strings.Contains(what, "primary") {
				return strings.ReplaceAll(l.label, "primary", "master") // a cluster's
			}
			return l.label
		}
	}
	if i := strings.Index(what, ": "); i > 0 {
		what = what[:i]
	}
	var words []string
	for _, w := range strings.Fields(what) {
		if !strings.ContainsAny(w, "0123456789") {
			words = append(words, w)
		}
	}
	if len(words) > 5 {
		words = words[:5]
	}
	return strings.Join(words, " ")
}

// faultEventMarks returns the fault events of runs, grouped by fault and
// label, in order of their median time: each window's begin and (when
// healed) heal, and its recorded events.
func faultEventMarks(runs []*record.Run) []eventMark {
	type group struct {
		fault, label string
		at           []float64
	}
	var groups []*group
	byKey := map[[2]string]*group{}
	add := func(fault, label string, at float64) {
		k := [2]string{fault, label}
		g := byKey[k]
		if g == nil {
			g = &group{fault: fault, label: label}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.at = append(g.at, at)
	}
	for _, r := range runs {
		if r == nil {
			continue
		}
		for _, fw := range r.Faults {
			if fw.InjectError != "" {
				continue // never in effect
			}
			if fw.Start > 0 {
				add(fw.Fault, "begins", fw.Start)
			}
			for _, e := range fw.Events {
				add(fw.Fault, eventLabel(e.What), e.At)
			}
			if fw.End > 0 {
				add(fw.Fault, "healed", fw.End)
			}
		}
	}
	marks := make([]eventMark, 0, len(groups))
	for _, g := range groups {
		sort.Float64s(g.at)
		n := len(g.at)
		med := g.at[n/2]
		if n%2 == 0 {
			med = (g.at[n/2-1] + g.at[n/2]) / 2
		}
		marks = append(marks, eventMark{fault: g.fault, label: g.label, first: g.at[0], median: med, last: g.at[n-1], n: n})
	}
	sort.SliceStable(marks, func(i, j int) bool { return marks[i].median < marks[j].median })
	return marks
}

// describe says when the event happened, for the figure's notes.
func (e eventMark) describe() string {
	s := fmt.Sprintf("%s: %s at %.2f s", e.fault, e.label, e.median)
	if e.n > 1 {
		s += fmt.Sprintf(" (median of %d runs, %.2f-%.2f s)", e.n, e.first, e.last)
	}
	return s
}

// eventRule is the colour of the event lines.
var eventRule = color.RGBA{R: 0x80, G: 0x20, B: 0x20, A: 0xff}

// eventLines draws each mark as a dashed vertical line over the data
// area, labelled (when label is set) by rotated text along the line from
// the bottom, skipping a label that would overlap the previous one.
type eventLines struct {
	marks []eventMark
	label bool
}

func (e eventLines) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	ls := draw.LineStyle{Color: eventRule, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
	ts := textStyle(8, eventRule)
	ts.Rotation = math.Pi / 2
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YTop
	lastLabel := vg.Length(math.Inf(-1))
	for _, m := range e.marks {
		x := trX(m.median)
		if x < c.Min.X || x > c.Max.X {
			continue
		}
		c.StrokeLine2(ls, x, c.Min.Y, x, c.Max.Y)
		if !e.label || x-lastLabel < vg.Points(10) {
			continue
		}
		c.FillText(ts, vg.Point{X: x + vg.Points(2), Y: c.Min.Y + vg.Points(3)}, m.label)
		lastLabel = x
	}
}
