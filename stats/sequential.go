package stats

import (
	"fmt"
	"math"
)

// Sequential is a group-sequential design for comparing cells whose
// repetitions are added in rounds: every cell starts with First
// repetitions, and after each round from First on (a look) a comparison
// is Different, NotDifferent or still Undecided; rounds are added only
// while some comparison is undecided, and never more than Max rounds.
//
// The error rate is kept by Bonferroni alpha spending over a fixed maximum
// of looks: there are at most Max-First+1 looks, of which Looks() can
// reach a significant result at all; each tests at Level() =
// Alpha/Looks(), so that two cells drawn from one distribution
// are found different at one look or another with probability at most
// Alpha, whatever the stopping rule did between looks. Bonferroni ignores
// how strongly successive looks agree, so the real rate is below Alpha;
// with sample sizes that depend on earlier looks the bound is checked
// by simulation (the A/A test of this package) rather than assumed.
//
// Futility is a non-binding futility boundary: a comparison whose p-value
// is at least Futility is decided NotDifferent and stops. Stopping early
// can only remove chances to find a difference, so it costs power, never
// the error rate. A design with First == Max has one look at Alpha: the
// fixed design.
type Sequential struct {
	// Alpha is the two-sided level of one comparison over all its looks.
	Alpha float64
	// First is the number of repetitions of every cell before the first
	// look (2 or more); Max the largest number of rounds (>= First).
	First, Max int
	// Futility is the p-value at or above which a comparison is decided
	// not different (0: never, only Max ends it).
	Futility float64

	// uncorrected is a mutation switch for the tests: every look at
	// Alpha, the optional-stopping error the A/A test must catch.
	uncorrected bool
}

// DefaultFutility is the futility boundary of the bench's design: a
// p-value of 0.5 or more.
const DefaultFutility = 0.5

// SequentialMethod names the method in summaries.
const SequentialMethod = "group-sequential Mann-Whitney U, Bonferroni alpha spending over a fixed maximum of looks"

// Validate returns an error naming the field when d cannot be used.
func (d Sequential) Validate() error {
	switch {
	case !(d.Alpha > 0 && d.Alpha < 1):
		return fmt.Errorf("sequential design: Alpha %v: want a level in (0, 1)", d.Alpha)
	case d.First < 2:
		return fmt.Errorf("sequential design: First %d: want at least 2 repetitions before the first look", d.First)
	case d.Max < d.First:
		return fmt.Errorf("sequential design: Max %d: want at least First (%d)", d.Max, d.First)
	case d.Futility < 0 || d.Futility > 1 || math.IsNaN(d.Futility):
		return fmt.Errorf("sequential design: Futility %v: want a p-value in [0, 1] (0: no futility stop)", d.Futility)
	}
	return nil
}

// Looks returns the number of looks that spend alpha: the rounds r in
// First..Max at which a comparison can reach Level() at all. With r
// repetitions or fewer per cell the smallest two-sided Mann-Whitney
// p-value is 2/C(2r, r) (0.029 for 4, 0.0079 for 5, 0.0022 for 6; ties
// only raise it), so a round where that is not below the level can only
// go on or stop for futility, and spends nothing. Looks is the smallest
// count l such that at most l rounds can reach Alpha/l.
func (d Sequential) Looks() int {
	rounds := max(1, d.Max-d.First+1)
	// able(l) is the number of rounds that can reach Alpha/l; it falls as
	// l grows, and l is valid when able(l) <= l.
	able := func(l int) int {
		n := 0
		for r := d.First; r <= d.Max; r++ {
			if minPValue(r) < d.Alpha/float64(l) {
				n++
			}
		}
		return n
	}
	for l := 1; l < rounds; l++ {
		if able(l) <= l {
			return l
		}
	}
	return rounds
}

// minPValue returns the smallest two-sided Mann-Whitney p-value of two
// samples of r values each: 2/C(2r, r).
func minPValue(r int) float64 {
	lc, _ := math.Lgamma(float64(2*r + 1))
	la, _ := math.Lgamma(float64(r + 1))
	return math.Min(1, 2/math.Exp(lc-2*la))
}

// Level returns the level of each look: Alpha/Looks().
func (d Sequential) Level() float64 {
	if d.uncorrected {
		return d.Alpha
	}
	return d.Alpha / float64(d.Looks())
}

// Verdict is the state of one comparison at a look.
type Verdict int

// Verdicts of Decide.
const (
	Undecided    Verdict = iota // add repetitions
	Different                   // p < Level(): significantly different
	NotDifferent                // p >= Futility: stop, not separable
)

func (v Verdict) String() string {
	switch v {
	case Different:
		return "different"
	case NotDifferent:
		return "not different"
	}
	return "undecided"
}

// Decide is one look at the comparison of x with y: Different when the
// two-sided Mann-Whitney p-value is below Level(), NotDifferent when it is
// at least Futility (and Futility > 0), Undecided in between; and the
// p-value.
func (d Sequential) Decide(x, y []float64) (Verdict, float64) {
	p := MannWhitney(x, y)
	switch {
	case p < d.Level():
		return Different, p
	case d.Futility > 0 && p >= d.Futility:
		return NotDifferent, p
	}
	return Undecided, p
}

// CompareAt is Compare at level instead of Alpha.
func CompareAt(a, b []float64, level float64) (order int, p float64) {
	p = MannWhitney(a, b)
	if p >= level {
		return 0, p
	}
	ma, mb := Median(a), Median(b)
	switch {
	case ma < mb:
		return -1, p
	case ma > mb:
		return 1, p
	}
	// Equal medians but separable ranks: decide by the mean rank.
	if mean(a) < mean(b) {
		return -1, p
	}
	return 1, p
}

// BinomialCI returns the Clopper-Pearson (exact) interval at conf of a
// proportion with k successes in n trials; [0, 1] for n = 0.
func BinomialCI(k, n int, conf float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	a := (1 - conf) / 2
	// P(X >= k | p) = I_p(k, n-k+1) increases with p; P(X <= k | p) =
	// 1 - I_p(k+1, n-k) decreases with p.
	lo, hi = 0, 1
	if k > 0 {
		lo = bisect(func(p float64) bool { return betaI(float64(k), float64(n-k+1), p) < a })
	}
	if k < n {
		hi = bisect(func(p float64) bool { return 1-betaI(float64(k+1), float64(n-k), p) > a })
	}
	return lo, hi
}

// bisect returns the p in [0, 1] where below(p) turns from true to false.
func bisect(below func(p float64) bool) float64 {
	l, h := 0.0, 1.0
	for range 60 {
		m := (l + h) / 2
		if below(m) {
			l = m
		} else {
			h = m
		}
	}
	return (l + h) / 2
}
