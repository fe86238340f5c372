package report

import (
	"reflect"
	"testing"

	"github.com/ghostbench/ghostbench/stats"
)

// TestUndecided: a look of a sequential design leaves undecided exactly
// the cells whose comparison with their group's best has a p-value
// between the level and the futility boundary, with that best.
func TestUndecided(t *testing.T) {
	d := stats.Sequential{Alpha: stats.Alpha, First: 4, Max: 10, Futility: stats.DefaultFutility}
	p99 := map[string][]int64{
		"a": {1000, 1010, 1020, 1030, 1040, 1050}, // the fastest
		"b": {1000, 1010, 1020, 1030, 1040, 1050}, // the same: p = 1, not different
		"c": {5000, 5000, 5000, 5000, 5000, 5000}, // p = 0.002 < level: different
		"d": {1025, 1035, 1045, 1055, 1065, 1075}, // overlapping: undecided
	}
	m := matrixOf("sc", []cellSpec{ok("a", nil), ok("b", nil), ok("c", nil), ok("d", nil)})
	for st, vs := range p99 {
		c := m.Cell("sc", st)
		c.level = d.Level()
		jitter(c, func(i int, r *SummaryRow) { r.ReadP99 = vs[i] })
	}
	if v, p := d.Decide(m.Cell("sc", "d").Samples(MetricReadP99), m.Cell("sc", "a").Samples(MetricReadP99)); v != stats.Undecided {
		t.Fatalf("the test's d is not undecided against a: %v (p %.4f)", v, p)
	}
	if got, want := m.Undecided("sc", d), []string{"a", "d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Undecided = %v, want %v (d against the fastest, a)", got, want)
	}
	// d well above a in every repetition: separated, nothing is left
	// undecided.
	jitter(m.Cell("sc", "d"), func(i int, r *SummaryRow) { r.ReadP99 = 3000 })
	if got := m.Undecided("sc", d); len(got) != 0 {
		t.Errorf("Undecided = %v after d was separated, want none", got)
	}
	if f := m.Rank("sc").Fastest; len(f) != 2 {
		t.Errorf("fastest group %v, want a and b", names(f))
	}
}
