package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ghostbench/ghostbench/record"
)

// safetyCriteria are the safety metrics in priority order, on which two
// benches must not contradict each other (Agree).
var safetyCriteria = []string{MetricGhostReads, MetricGhostUntilTTL, MetricStaleUntilTTL, MetricStaleRatio, MetricMaxStaleWindow}

// classRateMetric is the rate that orders the strategies within a class;
// the clean and unknown classes have none.
var classRateMetric = map[Class]string{
	ClassStaleReads: MetricStaleRatio, ClassStuckStale: MetricStaleUntilTTL, ClassGhost: MetricGhostReads,
}

// RateFactor is how much worse a strategy's rate must be, interval
// against interval, to be set aside from the best of its class: the lower
// end of its 95% interval above RateFactor times the upper end of the
// best's. A smaller difference, even a significant one, is not what a
// person should choose by: it flips with the machine's load.
const RateFactor = 2

// Ranking is the generated comparison of one scenario's strategies:
// categories first, then rates only where they differ by RateFactor.
//
// Only cells with at least one completed repetition (status ok) of a
// caching strategy are ranked; a strategy that served no read from the
// cache (hit ratio 0 in every completed repetition, such as db-only) is a
// baseline, shown but not ranked.
//
// Safest: among the ranked cells whose median write availability is 1,
// those of the best class (Cell.Classify: clean before stale reads before
// stuck stale before ghost); within that class, every cell whose rate
// (stale-read ratio, stale-until-TTL keys or ghost reads) has a 95%
// interval wholly above RateFactor times the upper end of the best cell's
// is set aside. The cells left are the Safest group, best first. Order
// lists every eligible cell: by class, then set-aside cells after the
// group, then by the rate's estimate.
//
// Fastest: the ranked cell with the lowest median p99 read latency and
// every ranked cell not significantly slower (Mann-Whitney U over the
// repetitions, alpha stats.Alpha). MostOps: the highest median throughput
// and every cell not significantly lower.
type Ranking struct {
	m        *Matrix
	Scenario string
	// Reps is the smallest number of completed repetitions of a ranked
	// cell: what the tests rest on; MaxReps the largest (more than Reps
	// in a sequential bench).
	Reps, MaxReps int
	// Level is the level of each comparison: stats.Alpha, or a
	// sequential bench's level per look.
	Level float64
	// Safest is the safest group, best first; Order every eligible cell
	// in rank order (Safest is its prefix).
	Safest, Order []*Cell
	// Class is the class of the safest group; Classes every ranked
	// cell's classification.
	Class   Class
	Classes map[*Cell]CellClass
	// WorseClass are the eligible cells of a worse class than the group's;
	// Outranked those of its class set aside on their rate.
	WorseClass, Outranked []*Cell
	// Fastest and MostOps are groups, best first.
	Fastest, MostOps []*Cell
	// Ranked are every ranked cell; Baselines completed cells without
	// cache hits.
	Ranked, Baselines []*Cell
	// Unavailable are ranked cells excluded from Safest for write
	// availability below 1.
	Unavailable []*Cell
	// AllUnavailable is set when every ranked cell had availability below
	// 1, so Safest was chosen among them.
	AllUnavailable bool
	// NotRanked are cells without a completed repetition.
	NotRanked []*Cell
	// Behind are cells with a repetition whose invalidation pipeline fell
	// behind (Run.LagBehind), ranked or not.
	Behind []*Cell
}

// Rank returns the ranking of one scenario of m.
func (m *Matrix) Rank(scenario string) Ranking {
	v := Ranking{m: m, Scenario: scenario, Classes: map[*Cell]CellClass{}}
	for _, c := range m.Row(scenario) {
		if _, n := c.behind(); n > 0 {
			v.Behind = append(v.Behind, c)
		}
		switch {
		case c.Status != record.StatusOK || c.Completed() == 0:
			v.NotRanked = append(v.NotRanked, c)
		case !c.hit():
			v.Baselines = append(v.Baselines, c)
		default:
			v.Ranked = append(v.Ranked, c)
		}
	}
	if len(v.Ranked) == 0 {
		return v
	}
	v.Reps = math.MaxInt
	v.Level = v.Ranked[0].Level()
	var eligible []*Cell
	for _, c := range v.Ranked {
		v.Reps = min(v.Reps, c.Completed())
		v.MaxReps = max(v.MaxReps, c.Completed())
		cc := c.Classify()
		v.Classes[c] = cc
		if !cc.WritesFailed {
			eligible = append(eligible, c)
		} else {
			v.Unavailable = append(v.Unavailable, c)
		}
	}
	if len(eligible) == 0 {
		eligible, v.AllUnavailable = v.Ranked, true
	}
	v.Class = ClassGhost
	for _, c := range eligible {
		v.Class = min(v.Class, v.Classes[c].Class)
	}
	var in []*Cell
	for _, c := range eligible {
		if v.Classes[c].Class == v.Class {
			in = append(in, c)
		} else {
			v.WorseClass = append(v.WorseClass, c)
		}
	}
	rate := classRateMetric[v.Class]
	outranked := map[*Cell]bool{}
	if rate != "" {
		best := bestOf(in, rate)
		bh := best.Estimate(rate).Hi
		var keep []*Cell
		for _, c := range in {
			if e := c.Estimate(rate); c != best && e.HasCI && e.Lo > RateFactor*bh {
				v.Outranked = append(v.Outranked, c)
				outranked[c] = true
				continue
			}
			keep = append(keep, c)
		}
		in = keep
	}
	v.Order = append([]*Cell(nil), eligible...)
	sort.SliceStable(v.Order, func(i, j int) bool {
		a, b := v.Order[i], v.Order[j]
		if ka, kb := v.Classes[a].Class, v.Classes[b].Class; ka != kb {
			return ka < kb
		}
		if outranked[a] != outranked[b] {
			return !outranked[a]
		}
		return lexLess(a, b)
	})
	v.Safest = v.Order[:len(in)]
	// Within the group, strategies without a proved race worse than the
	// group's class come first.
	sort.SliceStable(v.Safest, func(i, j int) bool {
		return m.raceNote(v.Safest[i].Strategy, v.Class) == "" && m.raceNote(v.Safest[j].Strategy, v.Class) != ""
	})
	v.Fastest = groupOf(v.Ranked, MetricReadP99)
	v.MostOps = groupOf(v.Ranked, MetricOpsPerSec)
	return v
}

// lexLess orders two cells by their safety estimates, lexicographically.
func lexLess(a, b *Cell) bool {
	for _, k := range safetyCriteria {
		ea, eb := a.Estimate(k).Value, b.Estimate(k).Value
		if math.IsNaN(ea) {
			ea = math.Inf(1)
		}
		if math.IsNaN(eb) {
			eb = math.Inf(1)
		}
		if ea != eb {
			return ea < eb
		}
	}
	return false
}

// bestOf returns the cell of cs with the best estimate of key (the first
// on a tie).
func bestOf(cs []*Cell, key string) *Cell {
	d := metricDefOf(key)
	best := cs[0]
	for _, c := range cs[1:] {
		b, e := best.Estimate(key).Value, c.Estimate(key).Value
		if math.IsNaN(e) {
			continue
		}
		if math.IsNaN(b) || (d.higher && e > b) || (!d.higher && e < b) {
			best = c
		}
	}
	return best
}

// groupOf returns the best cell of cs on key and every cell not
// significantly worse than it, best first, then by estimate.
func groupOf(cs []*Cell, key string) []*Cell {
	best := bestOf(cs, key)
	out := []*Cell{best}
	for _, c := range cs {
		if c == best {
			continue
		}
		if o, _ := compareCells(c, best, key); o <= 0 {
			out = append(out, c)
		}
	}
	d := metricDefOf(key)
	rest := out[1:]
	sort.SliceStable(rest, func(i, j int) bool {
		a, b := rest[i].Estimate(key).Value, rest[j].Estimate(key).Value
		if d.higher {
			return a > b
		}
		return a < b
	})
	return out
}

func names(cs []*Cell) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Strategy)
	}
	return out
}

// Sentence renders v as two sentences of markdown: the safest group with
// its class (and, for a member with a proved race worse than this load
// showed, what the race can do), then the fastest group and the
// throughput leader; each says when a group holds most strategies because
// the data cannot separate them, and how much more data would (Power).
// Notes has the rest.
func (v Ranking) Sentence() string {
	if len(v.Safest) == 0 {
		return "No caching strategy completed this scenario, so none is ranked."
	}
	var b strings.Builder
	reps := fmt.Sprintf("%d repetitions", v.Reps)
	if v.Reps == 1 {
		reps = "1 repetition, too few to separate strategies"
	}
	fmt.Fprintf(&b, "**Safest: %s**", joinAnd(v.markedNames(v.Safest)))
	best := v.Safest[0]
	switch rate := classRateMetric[v.Class]; {
	case rate != "":
		fmt.Fprintf(&b, ", %s at the lowest rate: %s %s", v.Class.Label(), best.Strategy, best.classRate(v.Class, true))
	default:
		fmt.Fprintf(&b, ", %s in this load", v.Class.Label())
	}
	fmt.Fprintf(&b, " (the median class of %s; %d of %d caching strategies", reps, len(v.Safest), len(v.Ranked))
	if n := len(v.WorseClass); n > 0 {
		fmt.Fprintf(&b, ", %d in a worse class", n)
	}
	if n := len(v.Outranked); n > 0 {
		fmt.Fprintf(&b, ", %d at over %d× the best rate", n, RateFactor)
	}
	if n := len(v.Unavailable); n > 0 && !v.AllUnavailable {
		fmt.Fprintf(&b, ", %d with failed writes", n)
	}
	b.WriteString(")")
	if p := v.safestPower(); p != "" {
		b.WriteString("; " + p)
	}
	b.WriteString(". ")
	f := v.Fastest[0]
	fmt.Fprintf(&b, "**Fastest by p99 read latency: %s** (%s: %s)", joinAnd(names(v.Fastest)), f.Strategy, estText(f.Estimate(MetricReadP99), usText))
	if p := v.fastestPower(); p != "" {
		b.WriteString("; " + p)
	}
	o := v.MostOps[0]
	fmt.Fprintf(&b, "; most throughput: %s (%s ops/s).", o.Strategy, estText(o.Estimate(MetricOpsPerSec), opsText))
	return b.String()
}

// markedNames returns the names of cs, each of a strategy with a proved
// race worse than its class here followed by what the race can do.
func (v Ranking) markedNames(cs []*Cell) []string {
	out := names(cs)
	if v.m == nil {
		return out
	}
	for i, c := range cs {
		if note := v.m.raceNote(c.Strategy, v.Classes[c].Class); note != "" {
			out[i] += " [" + note + "]"
		}
	}
	return out
}

// Notes returns the facts about the scenario beside the two sentences:
// why the safest group was chosen among unavailable strategies, which did
// not complete, and invalidation pipelines that fell behind.
func (v Ranking) Notes() []string {
	var out []string
	if v.AllUnavailable {
		out = append(out, "Every caching strategy failed some writes here (median write availability below 1), so the safest group was chosen among them.")
	}
	if len(v.NotRanked) > 0 {
		parts := make([]string, len(v.NotRanked))
		for i, c := range v.NotRanked {
			parts[i] = fmt.Sprintf("%s (%s)", c.Strategy, c.Status)
		}
		out = append(out, fmt.Sprintf("Did not complete, not ranked: %s.", strings.Join(parts, ", ")))
	}
	for _, c := range v.Behind {
		r, n := c.behind()
		s := fmt.Sprintf("**Warning, %s: %s", c.Strategy, r.LagWarning())
		if len(c.Reps) > 1 {
			s += fmt.Sprintf(" (in %d of %d repetitions)", n, len(c.Reps))
		}
		out = append(out, s+".**")
	}
	return out
}

// hit reports whether a completed repetition of c served a read from the
// cache. On a machine so loaded that a short run's cache stays cold, one
// repetition without a hit does not make a caching strategy a baseline.
func (c *Cell) hit() bool {
	for i := range c.Reps {
		r := &c.Reps[i]
		if r.measured() && r.Row.HitRatio != nil && *r.Row.HitRatio > 0 {
			return true
		}
	}
	return false
}

// behind returns the first measured repetition of c whose invalidation
// pipeline fell behind, and how many did.
func (c *Cell) behind() (*record.Run, int) {
	var first *record.Run
	n := 0
	for i := range c.Reps {
		r := &c.Reps[i]
		if r.measured() && r.Run.LagBehind() {
			if first == nil {
				first = r.Run
			}
			n++
		}
	}
	return first, n
}
