package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/stats"
)

// safetyCriteria are the safety metrics in priority order.
var safetyCriteria = []string{MetricGhostReads, MetricGhostUntilTTL, MetricStaleUntilTTL, MetricStaleRatio, MetricMaxStaleWindow}

var criterionName = map[string]string{
	MetricGhostReads: "ghost reads", MetricGhostUntilTTL: "ghost-until-TTL keys", MetricStaleUntilTTL: "stale-until-TTL keys",
	MetricStaleRatio: "stale-read ratio", MetricMaxStaleWindow: "max stale window", MetricReadP99: "p99 read latency",
	MetricOpsPerSec: "throughput",
}

// Ranking is the generated comparison of one scenario's strategies, by
// significance across repetitions.
//
// Only cells with at least one completed repetition (status ok) of a
// caching strategy are ranked; a strategy that served no read from the
// cache (hit ratio 0 in its representative run, such as db-only) is a
// baseline, shown but not ranked.
//
// Safest: among the ranked cells whose median write availability is 1,
// the criteria are taken in priority order: ghost reads, ghost-until-TTL
// keys, stale-until-TTL keys, stale-read ratio, max stale window. On each,
// the best cell (lowest estimate) is found among the cells still in, and
// every cell significantly worse than it (two-sided Mann-Whitney U over
// the repetitions, at the level of the bench: stats.Alpha, or a sequential
// bench's level per look) is set aside at that criterion. The
// cells left after the last criterion are the Safest group, best first.
// Order lists every eligible cell: those set aside later rank above those
// set aside earlier, so a cell significantly worse on a higher-priority
// criterion never ranks above one that is not; within a level, by the
// estimates, lexicographically.
//
// Fastest: the ranked cell with the lowest median p99 read latency and
// every ranked cell not significantly slower. MostOps: the highest median
// throughput and every cell not significantly lower.
type Ranking struct {
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
	// SetAside[i] are the cells set aside at safetyCriteria[i].
	SetAside [][]*Cell
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
	v := Ranking{Scenario: scenario, SetAside: make([][]*Cell, len(safetyCriteria))}
	for _, c := range m.Row(scenario) {
		if _, n := c.behind(); n > 0 {
			v.Behind = append(v.Behind, c)
		}
		switch {
		case c.Status != record.StatusOK || c.Completed() == 0:
			v.NotRanked = append(v.NotRanked, c)
		case c.Row.HitRatio == nil || *c.Row.HitRatio == 0:
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
		if a := c.Estimate(MetricAvailability); a.N == 0 || stats.Median(c.Samples(MetricAvailability)) >= 1 {
			eligible = append(eligible, c)
		} else {
			v.Unavailable = append(v.Unavailable, c)
		}
	}
	if len(eligible) == 0 {
		eligible, v.AllUnavailable = v.Ranked, true
	}
	level := map[*Cell]int{}
	in := eligible
	for i, key := range safetyCriteria {
		best := bestOf(in, key)
		var keep []*Cell
		for _, c := range in {
			if o, _ := compareCells(c, best, key); o > 0 {
				level[c] = i
				v.SetAside[i] = append(v.SetAside[i], c)
				continue
			}
			keep = append(keep, c)
		}
		in = keep
	}
	for _, c := range in {
		level[c] = len(safetyCriteria)
	}
	v.Order = append([]*Cell(nil), eligible...)
	sort.SliceStable(v.Order, func(i, j int) bool {
		a, b := v.Order[i], v.Order[j]
		if level[a] != level[b] {
			return level[a] > level[b]
		}
		return lexLess(a, b)
	})
	v.Safest = v.Order[:len(in)]
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

// Sentence renders v as one paragraph of markdown: the safest, fastest and
// highest-throughput groups, how many repetitions support them, and
// plainly when the data cannot separate strategies.
func (v Ranking) Sentence() string {
	var b strings.Builder
	if len(v.Safest) == 0 {
		b.WriteString("No caching strategy completed this scenario, so none is ranked.")
	} else {
		reps := fmt.Sprintf("%d repetitions per strategy", v.Reps)
		if v.Reps == 1 {
			reps = "1 repetition per strategy, too few for any test to separate strategies"
		}
		test := fmt.Sprintf("Mann-Whitney U, alpha %.2g", stats.Alpha)
		if v.Level > 0 && v.Level != stats.Alpha {
			if v.MaxReps > v.Reps {
				reps = fmt.Sprintf("%d to %d repetitions per strategy, added where the verdict was undecided", v.Reps, v.MaxReps)
			}
			test = fmt.Sprintf("Mann-Whitney U at %.2g per look, sequential", v.Level)
		}
		best := v.Safest[0]
		fmt.Fprintf(&b, "**Safest: %s** (%s; %s). ", joinAnd(names(v.Safest)), reps, test)
		fmt.Fprintf(&b, "Best: %s with ghost reads %s, ghost-until-TTL keys %s, stale-until-TTL keys %s, stale reads %s, max stale window %s.",
			best.Strategy, estText(best.Estimate(MetricGhostReads), countText), estText(best.Estimate(MetricGhostUntilTTL), countText),
			estText(best.Estimate(MetricStaleUntilTTL), countText), estText(best.Estimate(MetricStaleRatio), pctText),
			estText(best.Estimate(MetricMaxStaleWindow), usText))
		switch {
		case len(v.Safest) == len(v.Order) && len(v.Order) > 1:
			b.WriteString(" The data cannot separate these strategies on safety.")
		case len(v.Safest) > 1:
			b.WriteString(" The others in the group are not significantly less safe.")
		}
		var aside []string
		for i, cs := range v.SetAside {
			if len(cs) > 0 {
				aside = append(aside, fmt.Sprintf("on %s: %s", criterionName[safetyCriteria[i]], strings.Join(names(cs), ", ")))
			}
		}
		if len(aside) > 0 {
			fmt.Fprintf(&b, " Significantly less safe, %s.", strings.Join(aside, "; "))
		}
		if v.AllUnavailable {
			b.WriteString(" Every caching strategy failed some writes here (median write availability below 1), so all were ranked.")
		}
		f := v.Fastest[0]
		fmt.Fprintf(&b, " **Fastest by p99 read latency: %s** (%s: %s)", joinAnd(names(v.Fastest)), f.Strategy, estText(f.Estimate(MetricReadP99), usText))
		if len(v.Fastest) == len(v.Ranked) && len(v.Ranked) > 1 {
			b.WriteString(", the data cannot separate them")
		}
		o := v.MostOps[0]
		fmt.Fprintf(&b, "; most throughput: %s (%s: %s ops/s).", joinAnd(names(v.MostOps)), o.Strategy, estText(o.Estimate(MetricOpsPerSec), opsText))
	}
	if len(v.Unavailable) > 0 && !v.AllUnavailable {
		parts := make([]string, len(v.Unavailable))
		for i, c := range v.Unavailable {
			parts[i] = fmt.Sprintf("%s (%s)", c.Strategy, estText(c.Estimate(MetricAvailability), ratioText))
		}
		fmt.Fprintf(&b, " Not eligible for safest, median write availability below 1: %s.", strings.Join(parts, ", "))
	}
	if len(v.Baselines) > 0 {
		parts := make([]string, len(v.Baselines))
		for i, c := range v.Baselines {
			parts[i] = fmt.Sprintf("%s (p99 read %s)", c.Strategy, estText(c.Estimate(MetricReadP99), usText))
		}
		fmt.Fprintf(&b, " Baseline without cache hits, not ranked: %s.", strings.Join(parts, ", "))
	}
	if len(v.NotRanked) > 0 {
		parts := make([]string, len(v.NotRanked))
		for i, c := range v.NotRanked {
			parts[i] = fmt.Sprintf("%s (%s)", c.Strategy, c.Status)
		}
		fmt.Fprintf(&b, " Did not complete, not ranked: %s.", strings.Join(parts, ", "))
	}
	for _, c := range v.Behind {
		r, n := c.behind()
		fmt.Fprintf(&b, " **Warning, %s: %s", c.Strategy, r.LagWarning())
		if len(c.Reps) > 1 {
			fmt.Fprintf(&b, " (in %d of %d repetitions)", n, len(c.Reps))
		}
		b.WriteString(".**")
	}
	return b.String()
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
