package report

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/ghostbench/ghostbench/stats"
)

// MaxRepsAdvice is the most repetitions Power advice names; beyond it the
// data is said not to separate the pair at all.
const MaxRepsAdvice = 1000

// holdsMost reports whether a group of n out of total strategies holds
// most of them (and more than one).
func holdsMost(n, total int) bool { return n > 1 && 2*n > total }

// sdOf returns the sample standard deviation of xs.
func sdOf(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

func meanOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// repsToShift returns about how many repetitions per strategy the
// Mann-Whitney U test at alpha stats.Alpha needs to separate two samples
// whose means and spreads are those observed, with 80% power (the normal
// approximation, times pi/3 for the test's efficiency); -1 when their
// means do not differ.
func repsToShift(a, b []float64) int {
	d := math.Abs(meanOf(a) - meanOf(b))
	if !(d > 0) {
		return -1
	}
	sa, sb := sdOf(a), sdOf(b)
	const z = 1.96 + 0.84
	n := math.Ceil(z * z * (sa*sa + sb*sb) / (d * d) * math.Pi / 3)
	return int(max(n, 2))
}

// repsToFactor returns about how many repetitions per strategy make the
// 95% intervals of two rates separate by factor (worse's lower end above
// factor times better's upper end) if their means and spreads stay as
// observed; -1 when the observed means are not that far apart.
func repsToFactor(better, worse []float64, factor float64) int {
	d := meanOf(worse) - factor*meanOf(better)
	if !(d > 0) {
		return -1
	}
	w := 1.96 * (sdOf(worse) + factor*sdOf(better))
	n := math.Ceil(w * w / (d * d))
	return int(max(n, 2))
}

// powerAdvice renders n repetitions per strategy, with the run length
// that would do the same with the bench's repetitions if the spread
// shrinks with the square root of the run's length.
func (m *Matrix) powerAdvice(n, reps int) string {
	s := fmt.Sprintf("about %d repetitions", n)
	if d, err := time.ParseDuration(m.Bench.Duration); err == nil && reps > 0 && n > reps {
		long := time.Duration(float64(d) * float64(n) / float64(reps)).Round(100 * time.Millisecond)
		s += fmt.Sprintf(", or %d of %v runs", reps, long)
	}
	return s
}

// safestPower says, when the safest group holds most ranked strategies,
// why the data does not split it and what would.
func (v Ranking) safestPower() string {
	if !holdsMost(len(v.Safest), len(v.Ranked)) || v.m == nil {
		return ""
	}
	rate := classRateMetric[v.Class]
	if rate == "" {
		return fmt.Sprintf("the group holds most strategies because none showed anything worse than %s in this load: there is no rate to order them by", v.Class.Label())
	}
	best := v.Safest[0]
	bs := best.Samples(rate)
	closest, cn := (*Cell)(nil), -1
	var ratio float64
	for _, c := range v.Safest[1:] {
		if n := repsToFactor(bs, c.Samples(rate), RateFactor); n > 0 && (cn < 0 || n < cn) {
			closest, cn = c, n
		}
		if b := best.Estimate(rate).Value; b > 0 {
			ratio = max(ratio, c.Estimate(rate).Value/b)
		}
	}
	if closest == nil || cn > MaxRepsAdvice {
		if ratio > 0 {
			return fmt.Sprintf("the group holds most strategies because their rates differ by at most %s× (under the %d× that orders a class), which no number of repetitions turns into an order", strconv.FormatFloat(ratio, 'f', 1, 64), RateFactor)
		}
		return fmt.Sprintf("the group holds most strategies because their rates differ by less than %d×, which no number of repetitions turns into an order", RateFactor)
	}
	return fmt.Sprintf("the group holds most strategies because the intervals overlap: %s would likely set %s apart from %s by the observed spread", v.m.powerAdvice(cn, v.Reps), closest.Strategy, best.Strategy)
}

// fastestPower says, when the fastest group holds most ranked strategies,
// how much data would separate the pair closest to being separated.
func (v Ranking) fastestPower() string {
	if !holdsMost(len(v.Fastest), len(v.Ranked)) || v.m == nil {
		return ""
	}
	best := v.Fastest[0]
	closest, cn := (*Cell)(nil), -1
	for _, c := range v.Fastest[1:] {
		if n := repsToShift(best.Samples(MetricReadP99), c.Samples(MetricReadP99)); n > 0 && (cn < 0 || n < cn) {
			closest, cn = c, n
		}
	}
	lead := fmt.Sprintf("the data cannot separate %d of %d strategies", len(v.Fastest), len(v.Ranked))
	if closest == nil || cn > MaxRepsAdvice {
		return lead + fmt.Sprintf(" (more than %d repetitions would be needed)", MaxRepsAdvice)
	}
	return lead + fmt.Sprintf(": %s would likely set %s apart from %s (Mann-Whitney U, alpha %.2g, 80%% power, by the observed spread)", v.m.powerAdvice(cn, v.Reps), closest.Strategy, best.Strategy, stats.Alpha)
}
