package report

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/ghostbench/ghostbench/record"
)

// failoverRun is a run whose redis-failover window recorded the events
// the fault records, shifted by d seconds.
func failoverRun(d float64) *record.Run {
	return &record.Run{Faults: []record.FaultWindow{{
		Fault: "redis-failover", ScheduledStart: 3, ScheduledEnd: 7, Start: 3 + d, End: 7.5 + d,
		Events: []record.FaultEvent{
			{At: 3 + d, What: "replication link delayed by 200ms"},
			{At: 3.2 + d, What: "link cut and primary 127.0.0.1:6379 killed"},
			{At: 4.1 + d, What: "Sentinel elected 127.0.0.1:6380 as the new primary"},
			{At: 4.3 + d, What: "clients followed: the run's client reaches 127.0.0.1:6380"},
			{At: 7.4 + d, What: "old primary 127.0.0.1:6379 back as a replica"},
		},
	}}}
}

func TestFaultEventMarks(t *testing.T) {
	failed := &record.Run{Faults: []record.FaultWindow{{Fault: "redis-failover", InjectError: "no Sentinel",
		Events: []record.FaultEvent{{At: 1, What: "never"}}}}}
	marks := faultEventMarks([]*record.Run{failoverRun(0), failoverRun(0.2), nil, failoverRun(0.1), failed})
	var got []string
	for _, m := range marks {
		got = append(got, m.label)
	}
	want := "begins link delayed primary killed new primary elected clients followed old primary back as replica healed"
	// begins and link delayed share their times: stable order keeps the
	// window's begin first.
	if strings.Join(got, " ") != want {
		t.Fatalf("labels in time order: %q, want %q", strings.Join(got, " "), want)
	}
	el := marks[3]
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if el.n != 3 || !near(el.first, 4.1) || !near(el.last, 4.3) || !near(el.median, 4.2) {
		t.Errorf("elected mark = %+v, want 3 runs, 4.1-4.3 s, median 4.2", el)
	}
	if d := el.describe(); !strings.Contains(d, "new primary elected at 4.20 s (median of 3 runs, 4.10-4.30 s)") {
		t.Errorf("describe = %q", d)
	}
	if l := eventLabel("master 127.0.0.1:7000 of slot 866 (key gb:row:0) killed"); l != "master killed" {
		t.Errorf("cluster label %q, want master killed", l)
	}
	if l := eventLabel("slot 1234 (key gb:row:0) in a state 17 never seen"); l != "slot (key in a state" {
		t.Errorf("fallback label %q", l)
	}
}

// TestEventLinesDrawn: the event lines are drawn in their colour on the
// time-series panel, and not without marks.
func TestEventLinesDrawn(t *testing.T) {
	render := func(marks []eventMark) int {
		f := newFigure("events", "test")
		p := newPlot("throughput", "time since run start (s)", "ops/s")
		p.Add(plotter.NewFunction(func(x float64) float64 { return 100 }))
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 10, 0, 200
		if len(marks) > 0 {
			p.Add(eventLines{marks: marks, label: true})
		}
		f.plots = append(f.plots, p)
		data, err := f.render("png")
		if err != nil {
			t.Fatal(err)
		}
		if dir := os.Getenv("GB_PLOT_OUT"); dir != "" && len(marks) > 0 {
			os.WriteFile(dir+"/events.png", data, 0o644)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r>>8 == uint32(eventRule.R) && g>>8 == uint32(eventRule.G) && bl>>8 == uint32(eventRule.B) {
					n++
				}
			}
		}
		return n
	}
	if n := render(nil); n != 0 {
		t.Fatalf("%d pixels in the event colour without events", n)
	}
	if n := render(faultEventMarks([]*record.Run{failoverRun(0)})); n < 200 {
		t.Errorf("%d pixels in the event colour with 7 event lines, want lines drawn", n)
	}
}
