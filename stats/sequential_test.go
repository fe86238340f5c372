package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// benchDesign is the bench's default design.
var benchDesign = Sequential{Alpha: Alpha, First: 4, Max: 10, Futility: DefaultFutility}

// aaBenches simulates n benches of two cells drawn from one distribution,
// run the way the bench runs them: First repetitions each, then one more
// round of both while the look is undecided, at most Max rounds. It
// returns how many ended with the two found different.
func aaBenches(d Sequential, n int, draw func(*rand.Rand) float64, rng *rand.Rand) int {
	different := 0
	for range n {
		var x, y []float64
		for range d.First {
			x, y = append(x, draw(rng)), append(y, draw(rng))
		}
		for {
			v, _ := d.Decide(x, y)
			if v == Different {
				different++
			}
			if v != Undecided || len(x) >= d.Max {
				break
			}
			x, y = append(x, draw(rng)), append(y, draw(rng))
		}
	}
	return different
}

// TestSequentialAA is the A/A test of the design: over thousands of
// simulated benches, two identical cells are found different at most at
// the stated rate Alpha (the upper bound of the rate's 95% Clopper-Pearson
// interval), for a continuous latency-like distribution and for a
// discrete one with many ties (event counts). The mutant that tests every
// look at Alpha, with no correction, must fail the same test: its rate's
// lower bound is above Alpha.
func TestSequentialAA(t *testing.T) {
	const sims = 4000
	dists := []struct {
		name string
		draw func(*rand.Rand) float64
	}{
		{"lognormal", func(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()) }},
		{"counts", func(r *rand.Rand) float64 { return float64(poisson(r, 1.5)) }},
	}
	for _, dist := range dists {
		t.Run(dist.name, func(t *testing.T) {
			rate := func(d Sequential, seed uint64) (k int, lo, hi float64) {
				k = aaBenches(d, sims, dist.draw, rand.New(rand.NewPCG(seed, 7)))
				lo, hi = BinomialCI(k, sims, Confidence)
				return k, lo, hi
			}
			k, lo, hi := rate(benchDesign, 1)
			t.Logf("%s: %d of %d A/A benches found different: rate %.4f (95%% CI %.4f-%.4f), alpha %.2g, %d looks at %.4g",
				SequentialMethod, k, sims, float64(k)/sims, lo, hi, benchDesign.Alpha, benchDesign.Looks(), benchDesign.Level())
			if hi > benchDesign.Alpha {
				t.Errorf("A/A rate %.4f (95%% CI %.4f-%.4f) is not at or under alpha %.2g", float64(k)/sims, lo, hi, benchDesign.Alpha)
			}
			mutant := benchDesign
			mutant.uncorrected = true
			mk, mlo, mhi := rate(mutant, 1)
			t.Logf("mutant (every look at alpha): %d of %d: rate %.4f (95%% CI %.4f-%.4f)", mk, sims, float64(mk)/sims, mlo, mhi)
			if mlo <= benchDesign.Alpha {
				t.Errorf("the uncorrected mutant's A/A rate %.4f (95%% CI %.4f-%.4f) is not above alpha %.2g: the test cannot tell optional stopping from the design", float64(mk)/sims, mlo, mhi, benchDesign.Alpha)
			}
		})
	}
}

func TestSequentialDecide(t *testing.T) {
	d := Sequential{Alpha: 0.05, First: 4, Max: 12, Futility: 0.5}
	// Rounds 4 and 5 cannot reach 0.05/7 (their smallest p-values are
	// 0.029 and 0.0079): 7 looks, rounds 6..12.
	if got, want := d.Looks(), 7; got != want {
		t.Errorf("Looks = %d, want %d", got, want)
	}
	if got, want := d.Level(), 0.05/7; math.Abs(got-want) > 1e-15 {
		t.Errorf("Level = %v, want %v", got, want)
	}
	// 4..10: 6 looks at 0.0083, which round 5 (0.0079) can reach.
	if got := (Sequential{Alpha: 0.05, First: 4, Max: 10}).Looks(); got != 6 {
		t.Errorf("Looks(4..10) = %d, want 6", got)
	}
	for r, want := range map[int]float64{4: 2.0 / 70, 5: 2.0 / 252, 6: 2.0 / 924} {
		if got := minPValue(r); math.Abs(got-want) > 1e-12 {
			t.Errorf("minPValue(%d) = %v, want %v", r, got, want)
		}
	}
	lo := []float64{1, 2, 3, 4, 5, 6}
	hi := []float64{11, 12, 13, 14, 15, 16}
	for _, c := range []struct {
		x, y []float64
		want Verdict
	}{
		{lo, hi, Different},         // p = 0.0022 < 0.0056
		{lo[:4], hi[:4], Undecided}, // p = 0.029: not below the level yet
		{lo, []float64{1.5, 2.5, 3.5, 4.5, 5.5, 6.5}, NotDifferent}, // p >= 0.5
	} {
		if got, p := d.Decide(c.x, c.y); got != c.want {
			t.Errorf("Decide(%v, %v) = %v (p %.4f), want %v", c.x, c.y, got, p, c.want)
		}
	}
	fixed := Sequential{Alpha: 0.05, First: 6, Max: 6}
	if fixed.Level() != 0.05 {
		t.Errorf("a fixed design's level = %v, want alpha", fixed.Level())
	}
	for _, bad := range []Sequential{{Alpha: 0, First: 4, Max: 6}, {Alpha: 0.05, First: 1, Max: 6}, {Alpha: 0.05, First: 4, Max: 3}, {Alpha: 0.05, First: 4, Max: 6, Futility: 2}} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", bad)
		}
	}
}

func TestBinomialCI(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{0, 10, 0, 0.3085}, // (1-0.025)^(1/10) complement
		{10, 10, 0.6915, 1},
		{5, 10, 0.1871, 0.8129}, // the textbook Clopper-Pearson bounds
		{50, 1000, 0.0373, 0.0654},
	} {
		lo, hi := BinomialCI(c.k, c.n, 0.95)
		if math.Abs(lo-c.lo) > 5e-4 || math.Abs(hi-c.hi) > 5e-4 {
			t.Errorf("BinomialCI(%d, %d) = %.4f-%.4f, want %.4f-%.4f", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}
