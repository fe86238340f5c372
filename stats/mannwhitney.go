package stats

import (
	"math"
	"slices"
)

// maxExact bounds the pooled sample size for which MannWhitney computes
// the exact distribution (a table of rank sums, O(n^2 · n1) operations).
const maxExact = 100

// MannWhitney returns the two-sided p-value of the Mann-Whitney U test of
// x against y: the probability, if both came from one distribution, of a
// rank sum of x at least as far from its mean as the one observed. It is
// exact for a pooled sample of up to 100 values (ties handled exactly,
// by the permutation distribution of the mid-ranks), and the normal
// approximation with tie and continuity correction above. It returns 1
// when either sample is empty or every value is equal.
func MannWhitney(x, y []float64) float64 { return mannWhitney(x, y, maxExact) }

func mannWhitney(x, y []float64, exactUpTo int) float64 {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return 1
	}
	n := n1 + n2
	type obs struct {
		v     float64
		fromX bool
	}
	all := make([]obs, 0, n)
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	slices.SortFunc(all, func(a, b obs) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	// Doubled mid-ranks are integers: ranks i+1..j of a tie group get i+j+1.
	rank2 := make([]int, n)
	var tieTerm float64 // sum of t^3 - t over tie groups
	for i := 0; i < n; {
		j := i
		for j < n && all[j].v == all[i].v {
			j++
		}
		for k := i; k < j; k++ {
			rank2[k] = i + j + 1
		}
		t := float64(j - i)
		tieTerm += t*t*t - t
		i = j
	}
	if tieTerm == float64(n)*float64(n)*float64(n)-float64(n) {
		return 1 // one tie group: every value equal
	}
	obs2 := 0
	for k := range all {
		if all[k].fromX {
			obs2 += rank2[k]
		}
	}
	mean2 := float64(n1) * float64(n+1) // doubled mean of the rank sum of x
	dev := math.Abs(float64(obs2) - mean2)
	if n <= exactUpTo {
		return exactP(rank2, n1, mean2, dev)
	}
	fn1, fn2, fn := float64(n1), float64(n2), float64(n)
	u := float64(obs2)/2 - fn1*(fn1+1)/2
	mu := fn1 * fn2 / 2
	sigma := math.Sqrt(fn1 * fn2 / 12 * ((fn + 1) - tieTerm/(fn*(fn-1))))
	if sigma == 0 {
		return 1
	}
	z := (math.Abs(u-mu) - 0.5) / sigma
	if z < 0 {
		return 1
	}
	return math.Min(1, math.Erfc(z/math.Sqrt2))
}

// exactP counts, over every choice of n1 of the doubled ranks, the share
// whose sum is at least dev from mean2.
func exactP(rank2 []int, n1 int, mean2, dev float64) float64 {
	maxSum := 0
	for _, r := range rank2 {
		maxSum += r
	}
	// ways[j][s]: choices of j ranks summing to s (float64: the counts
	// overflow int64 for large samples).
	ways := make([][]float64, n1+1)
	for j := range ways {
		ways[j] = make([]float64, maxSum+1)
	}
	ways[0][0] = 1
	for _, r := range rank2 {
		for j := n1; j >= 1; j-- {
			prev, cur := ways[j-1], ways[j]
			for s := maxSum; s >= r; s-- {
				if prev[s-r] != 0 {
					cur[s] += prev[s-r]
				}
			}
		}
	}
	var total, tail float64
	for s, w := range ways[n1] {
		if w == 0 {
			continue
		}
		total += w
		if math.Abs(float64(s)-mean2) >= dev-1e-9 {
			tail += w
		}
	}
	return math.Min(1, tail/total)
}

// Compare says how cell a compares to cell b on one metric where lower
// is better: -1 when a is significantly lower (better), +1 significantly
// higher, 0 when the test at Alpha cannot separate them; p is the
// Mann-Whitney p-value. Direction is by the medians.
func Compare(a, b []float64) (order int, p float64) { return CompareAt(a, b, Alpha) }

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
