package stats

import (
	"math"
	"slices"
)

// Alpha is the significance level of the comparisons (benchstat's
// default).
const Alpha = 0.05

// Confidence is the level of the intervals.
const Confidence = 0.95

// Median returns the median of xs (the mean of the two middle values for
// an even count), NaN for an empty sample. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := sorted(xs)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func sorted(xs []float64) []float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}

// MedianCI returns the order-statistic confidence interval of the median
// of xs at level conf (0 < conf < 1) and its actual coverage. ok is false
// when xs is too small for any interval to reach conf (fewer than 6 values
// at 0.95): then lo and hi are the sample's extremes and coverage says how
// much they cover.
func MedianCI(xs []float64, conf float64) (lo, hi, coverage float64, ok bool) {
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN(), 0, false
	}
	s := sorted(xs)
	// k is 1-based: the interval is [s[k-1], s[n-k]].
	k := 0
	cov := 0.0
	for j := 1; j <= (n+1)/2; j++ {
		c := 1 - 2*binomCDF(j-1, n)
		if c < conf {
			break
		}
		k, cov = j, c
	}
	if k == 0 {
		return s[0], s[n-1], 1 - 2*binomCDF(0, n), false
	}
	return s[k-1], s[n-k], cov, true
}

// MinSamplesCI is the smallest sample for which MedianCI has an interval
// at level conf.
func MinSamplesCI(conf float64) int {
	for n := 1; ; n++ {
		if 1-2*binomCDF(0, n) >= conf {
			return n
		}
	}
}

// binomCDF is P(Binomial(n, 1/2) <= k).
func binomCDF(k, n int) float64 {
	if k < 0 {
		return 0
	}
	sum := 0.0
	for i := 0; i <= k && i <= n; i++ {
		lc, _ := math.Lgamma(float64(n + 1))
		la, _ := math.Lgamma(float64(i + 1))
		lb, _ := math.Lgamma(float64(n - i + 1))
		sum += math.Exp(lc - la - lb - float64(n)*math.Ln2)
	}
	return math.Min(1, sum)
}

// Estimate is a metric over the repetitions of one cell: its point
// estimate and a confidence interval [Lo, Hi]. HasCI is false when the
// sample is too small for an interval at the level (Lo, Hi are then the
// sample's extremes).
type Estimate struct {
	N        int     `json:"n"`
	Value    float64 `json:"value"`
	Lo       float64 `json:"lo"`
	Hi       float64 `json:"hi"`
	HasCI    bool    `json:"has_ci"`
	Coverage float64 `json:"coverage,omitempty"`
	// Method names how Value and the interval were computed: MethodMedian
	// or MethodCount.
	Method string `json:"method"`
}

// The methods of an Estimate.
const (
	MethodMedian = "median, order-statistic CI"
	MethodCount  = "mean per repetition, Poisson-t envelope CI"
)

// Summarize is the median of xs with its order-statistic interval at
// Confidence. An empty xs gives N = 0 and NaN values.
func Summarize(xs []float64) Estimate {
	e := Estimate{N: len(xs), Method: MethodMedian, Value: Median(xs)}
	e.Lo, e.Hi, e.Coverage, e.HasCI = MedianCI(xs, Confidence)
	return e
}
