package report

import (
	"github.com/ghostbench/ghostbench/record"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// repeatCells gives every cell of m n identical repetitions (its first
// one, repeated): a difference between cells is then significant, and an
// interval exists.
func repeatCells(m *Matrix, n int) *Matrix {
	for _, c := range m.cells {
		first := c.Reps[0]
		c.Reps = nil
		for r := 1; r <= n; r++ {
			rep := first
			rep.Rep = r
			c.Reps = append(c.Reps, rep)
		}
		c.est = nil
	}
	return m
}

// editRows applies f to the headline numbers of c and of every one of its
// repetitions.
func editRows(c *Cell, f func(r *SummaryRow)) {
	f(&c.Row)
	for i := range c.Reps {
		f(&c.Reps[i].Row)
	}
	c.est = nil
}

func TestRankClassesFirst(t *testing.T) {
	// a: no ghost read but a high stale ratio; b: 1 ghost read per
	// repetition, no stale read. Classes come first: b is of a worse class
	// (ghost) and ranks below a although it is better on the stale ratio.
	m := matrixOf("sc", []cellSpec{
		ok("a", func(r *SummaryRow) { r.StaleRatio = f64(0.3) }),
		ok("b", func(r *SummaryRow) { r.GhostReads = 1; r.StaleRatio = f64(0) }),
		ok("c", func(r *SummaryRow) { r.StaleRatio = f64(0.3) }),
	})
	v := m.Rank("sc")
	if got := names(v.Order); len(got) != 3 || got[2] != "b" {
		t.Errorf("order: got %v, want b last (a worse class)", got)
	}
	if got := names(v.Safest); len(got) != 2 || got[0] != "a" || got[1] != "c" {
		t.Errorf("safest: got %v, want [a c] (same class, same rate)", got)
	}
	if got := names(v.WorseClass); len(got) != 1 || got[0] != "b" {
		t.Errorf("worse class: got %v, want [b]", got)
	}
	if v.Class != ClassStaleReads {
		t.Errorf("group class: got %v, want stale-reads", v.Class)
	}
}

func TestRankSentenceSaysWhenNotSeparable(t *testing.T) {
	m := matrixOf("sc", []cellSpec{ok("a", nil), ok("b", nil)})
	s := m.Rank("sc").Sentence()
	for _, want := range []string{"6 repetitions", "clean in this load", "no rate to order them by", "Fastest by p99 read latency"} {
		if !contains(s, want) {
			t.Errorf("sentence lacks %q: %s", want, s)
		}
	}
	if n := strings.Count(s, ". "); n != 1 {
		t.Errorf("sentence has %d sentence breaks, want two sentences: %s", n, s)
	}
}

func TestEstimateIntervals(t *testing.T) {
	m := matrixOf("sc", []cellSpec{ok("a", func(r *SummaryRow) { r.ReadP99 = 1000; r.GhostReads = 0 })})
	c := m.Cell("sc", "a")
	e := c.Estimate(MetricReadP99)
	if !e.HasCI || e.Value != 1000 || e.Lo != 1000 || e.Hi != 1000 {
		t.Errorf("read p99: got %+v, want 1000 [1000, 1000]", e)
	}
	g := c.Estimate(MetricGhostReads)
	if !g.HasCI || g.Value != 0 || g.Lo != 0 || !(g.Hi > 0) || math.IsInf(g.Hi, 0) {
		t.Errorf("ghost reads: got %+v, want 0 with an upper bound above 0 (no event is not proof of none)", g)
	}
	if txt := cellText(c); !contains(txt[11], "[") {
		t.Errorf("read p99 cell %q shows no interval", txt[11])
	}
}

// TestRankCalibration: cells whose repetitions come from one distribution
// are called not separable in at least 95% of trials; a real shift is
// separated.
func TestRankCalibration(t *testing.T) {
	r := newTestRand(7)
	same, shifted := 0, 0
	const trials = 400
	for range trials {
		mk := func(shift float64) func(i int, row *SummaryRow) {
			return func(i int, row *SummaryRow) {
				row.ReadP99 = int64(10000 + 1000*r.NormFloat64() + shift)
			}
		}
		m := matrixOf("sc", []cellSpec{ok("a", nil), ok("b", nil)})
		jitter(m.Cell("sc", "a"), mk(0))
		jitter(m.Cell("sc", "b"), mk(0))
		if len(m.Rank("sc").Fastest) == 2 {
			same++
		}
		jitter(m.Cell("sc", "b"), mk(4000))
		if len(m.Rank("sc").Fastest) == 1 {
			shifted++
		}
	}
	if f := float64(same) / trials; f < 0.95 {
		t.Errorf("same distribution: not separable in %.3f of trials, want >= 0.95", f)
	}
	if f := float64(shifted) / trials; f < 0.9 {
		t.Errorf("4 sd shift: separated in %.3f of trials, want >= 0.9", f)
	}
}

func jitter(c *Cell, f func(i int, r *SummaryRow)) {
	for i := range c.Reps {
		f(i, &c.Reps[i].Row)
	}
	c.est = nil
}

// ok is a completed cell of a caching strategy with clean numbers, mod
// applied.
func ok(st string, mod func(r *SummaryRow)) cellSpec {
	r := SummaryRow{Strategy: st, Status: record.StatusOK, HitRatio: f64(0.9), StaleRatio: f64(0), Availability: f64(1), ReadP99: 1000, OpsPerSec: 1000}
	if mod != nil {
		mod(&r)
	}
	return cellSpec{st, record.StatusOK, r}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed+1)) }

// Every measurement cell of the table shows an interval: the 95% one with
// 6 repetitions, and the range with its own coverage where only some
// repetitions have the metric (p99 staleness of 3 runs with stale reads).
func TestEveryCellHasAnInterval(t *testing.T) {
	m := matrixOf("sc", []cellSpec{
		ok("a", func(r *SummaryRow) { r.StaleRatio = f64(0.01); r.P99StalenessUs = 5000; r.MaxStaleWindowUs = 9000 }),
		ok("b", nil),
	})
	c := m.Cell("sc", "a")
	jitter(c, func(i int, r *SummaryRow) {
		r.ReadP99 += int64(i * 10)
		if i%2 == 1 {
			r.StaleReads, r.StaleRatio, r.P99StalenessUs = 0, f64(0), 0
		}
	})
	for _, cell := range []*Cell{c, m.Cell("sc", "b")} {
		for i, col := range tableColumns {
			if col.head == "strategy" || col.head == "status" {
				continue
			}
			got := cellText(cell)[i]
			if got != "-" && !strings.Contains(got, "[") {
				t.Errorf("%s %s: %q has no interval", cell.Strategy, col.head, got)
			}
		}
	}
	if got := cellText(c)[columnIndex(t, "p99 staleness")]; !strings.Contains(got, "(75%, n=3)") {
		t.Errorf("p99 staleness of 3 repetitions: %q, want the range with its 75%% coverage", got)
	}
}

func columnIndex(t *testing.T, name string) int {
	t.Helper()
	for i, col := range tableColumns {
		if col.head == name {
			return i
		}
	}
	t.Fatalf("no column %q", name)
	return -1
}
