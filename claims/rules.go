package claims

import (
	"fmt"

	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/stats"
)

// metric reads one number from a run; ok is false when the run does not
// have it (no stale read, so no staleness percentile).
type metric func(r *record.Run) (v float64, ok bool)

// values returns the metric of cell label over its repetitions, and a
// reason when one is missing: a run that failed or lacks the metric makes
// the whole claim not decided.
func (ev *Evidence) values(label string, m metric) ([]float64, string) {
	runs := ev.Runs[label]
	if len(runs) == 0 {
		return nil, fmt.Sprintf("%s: no run", label)
	}
	var xs []float64
	for i, r := range runs {
		if r == nil || r.Status != record.StatusOK || r.Metrics == nil {
			st := "not done"
			if r != nil {
				st = string(r.Status) + " " + r.Error
			}
			return nil, fmt.Sprintf("%s repetition %d failed (%s)", label, i+1, st)
		}
		v, ok := m(r)
		if !ok {
			return nil, fmt.Sprintf("%s repetition %d has no value for the metric", label, i+1)
		}
		xs = append(xs, v)
	}
	return xs, ""
}

// interval is the median of xs with its 95% order-statistic interval.
type interval struct {
	med, lo, hi float64
	ok          bool
	n           int
}

func medianCI(xs []float64) interval {
	lo, hi, _, ok := stats.MedianCI(xs, stats.Confidence)
	return interval{med: stats.Median(xs), lo: lo, hi: hi, ok: ok, n: len(xs)}
}

func (iv interval) String(unit string, scale float64) string {
	ci := "95% CI"
	if !iv.ok {
		ci = "range, too few repetitions for a 95% CI"
	}
	return fmt.Sprintf("%.3g %s [%.3g, %.3g] (median of %d, %s)", iv.med/scale, unit, iv.lo/scale, iv.hi/scale, iv.n, ci)
}

// decideWithin: holds when the interval lies within [lo, hi], refuted when
// it lies wholly outside, not decided otherwise.
func decideWithin(iv interval, lo, hi float64, what string) Decision {
	switch {
	case !iv.ok:
		return Decision{Verdict: NotDecided, Why: "too few repetitions for an interval"}
	case iv.lo >= lo && iv.hi <= hi:
		return Decision{Verdict: Holds, Why: what + ": the interval lies within the bounds"}
	case iv.hi < lo || iv.lo > hi:
		return Decision{Verdict: Refuted, Why: what + ": the interval lies outside the bounds"}
	default:
		return Decision{Verdict: NotDecided, Why: what + ": the interval straddles a bound"}
	}
}

// decideBelow: holds when the interval lies at or below bound, refuted when
// it lies above.
func decideBelow(iv interval, bound float64, what string) Decision {
	switch {
	case !iv.ok:
		return Decision{Verdict: NotDecided, Why: "too few repetitions for an interval"}
	case iv.hi <= bound:
		return Decision{Verdict: Holds, Why: what + ": the interval lies below the bound"}
	case iv.lo > bound:
		return Decision{Verdict: Refuted, Why: what + ": the interval lies above the bound"}
	default:
		return Decision{Verdict: NotDecided, Why: what + ": the interval straddles the bound"}
	}
}

// counts returns a count metric per repetition with its exposure.
func (ev *Evidence) counts(label string, count, exposure metric) ([]int64, []float64, string) {
	cs, why := ev.values(label, count)
	if why != "" {
		return nil, nil, why
	}
	var ex []float64
	if exposure != nil {
		if ex, why = ev.values(label, exposure); why != "" {
			return nil, nil, why
		}
	}
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = int64(c)
	}
	return out, ex, ""
}

func countString(est stats.Estimate, counts []int64, unit string, scale float64) string {
	var total int64
	for _, c := range counts {
		total += c
	}
	return fmt.Sprintf("%.3g %s [%.3g, %.3g] (%d in %d repetitions, %s, 95%%)",
		est.Value*scale, unit, est.Lo*scale, est.Hi*scale, total, len(counts), est.Method)
}

func total(cs []int64) int64 {
	var t int64
	for _, c := range cs {
		t += c
	}
	return t
}

// decideRepros: holds when every run of every repro came out as it wants,
// refuted when a run came out clean where an anomaly is wanted or the
// other way round (only for repros that are not controls), not decided
// when a run failed or was unknown, or a control did not show its anomaly.
func decideRepros(cl Claim, ev *Evidence) Decision {
	d := Decision{Verdict: Holds, Why: "every run came out as the claim says"}
	refuted, undecided := "", ""
	for _, rp := range cl.Repros {
		outs := ev.Outcomes[rp.Label]
		n := map[string]int{}
		for _, o := range outs {
			n[o]++
		}
		d.Numbers = append(d.Numbers, fmt.Sprintf("%s (%s on %s): %d anomaly, %d clean, %d unknown/error of %d runs (want %s)",
			rp.Label, rp.Case, rp.Strategy, n["anomaly"], n["clean"], len(outs)-n["anomaly"]-n["clean"], len(outs), rp.Want))
		switch {
		case len(outs) < cl.Reps || n["anomaly"]+n["clean"] < len(outs):
			undecided = rp.Label + ": a run failed or could not be verified"
		case n[rp.Want] == len(outs):
		case rp.Label == "control":
			undecided = "the control did not show the anomaly, so the test saw nothing"
		default:
			refuted = fmt.Sprintf("%s: %d of %d runs were not %s", rp.Label, len(outs)-n[rp.Want], len(outs), rp.Want)
		}
	}
	switch {
	case undecided != "":
		d.Verdict, d.Why = NotDecided, undecided
	case refuted != "":
		d.Verdict, d.Why = Refuted, refuted
	}
	return d
}

func notDecided(why string) Decision { return Decision{Verdict: NotDecided, Why: why} }

// paired returns the metric of cells a and b over the same repetitions
// (the cells run one after the other in each repetition, so a pair shares
// the machine's load of the moment).
func (ev *Evidence) paired(a, b string, m metric) (xa, xb []float64, why string) {
	if xa, why = ev.values(a, m); why != "" {
		return nil, nil, why
	}
	if xb, why = ev.values(b, m); why != "" {
		return nil, nil, why
	}
	if len(xa) != len(xb) {
		return nil, nil, fmt.Sprintf("%s has %d repetitions, %s %d", a, len(xa), b, len(xb))
	}
	return xa, xb, ""
}

// ratios is a[i]/b[i]; ok is false when some b[i] is not positive.
func ratios(a, b []float64) ([]float64, bool) {
	out := make([]float64, len(a))
	for i := range a {
		if b[i] <= 0 {
			return nil, false
		}
		out[i] = a[i] / b[i]
	}
	return out, true
}

// diffs is a[i]-b[i].
func diffs(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] - b[i]
	}
	return out
}

// mannWhitney is the comparison of a with b at stats.Alpha as a number
// line: "Mann-Whitney p = 0.002 (a higher)".
func mannWhitney(a, b []float64, nameA, nameB string) (order int, line string) {
	order, p := stats.Compare(a, b)
	what := "not significantly different"
	switch order {
	case 1:
		what = nameA + " significantly higher"
	case -1:
		what = nameA + " significantly lower"
	}
	return order, fmt.Sprintf("Mann-Whitney U, %s (n=%d) against %s (n=%d): p = %.2g, %s at alpha %.2g",
		nameA, len(a), nameB, len(b), p, what, stats.Alpha)
}

// rateString is a count rate's estimate with its interval, as a share
// (scale 100, unit "%").
func rateString(est stats.Estimate, counts []int64, of string) string {
	return fmt.Sprintf("%.3g%% [%.3g%%, %.3g%%] of %s (%d in %d repetitions, %s, 95%%)",
		est.Value*100, est.Lo*100, est.Hi*100, of, total(counts), len(counts), est.Method)
}
