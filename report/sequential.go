package report

import "github.com/ghostbench/ghostbench/stats"

// Undecided returns the strategies of scenario whose place in a group of
// the ranking (safest, fastest, highest throughput; see Ranking) still
// rests on a comparison that design d leaves undecided at this look: a
// Mann-Whitney p-value between d's level and its futility boundary. The
// best cell of a group is undecided with any cell undecided against it:
// both need more repetitions. Cells that are not ranked (baselines, cells
// without a completed repetition) are never undecided. The order is the
// scenario's strategy order.
func (m *Matrix) Undecided(scenario string, d stats.Sequential) []string {
	v := m.Rank(scenario)
	und := map[*Cell]bool{}
	// look compares every cell of cs with the best of cs on key and
	// returns the cells not set aside (significantly worse).
	look := func(cs []*Cell, key string) []*Cell {
		if len(cs) == 0 {
			return nil
		}
		best := bestOf(cs, key)
		keep := []*Cell{best}
		for _, c := range cs {
			if c == best {
				continue
			}
			verdict, _ := d.Decide(c.Samples(key), best.Samples(key))
			if verdict == stats.Undecided {
				und[c], und[best] = true, true
			}
			if o, _ := compareCells(c, best, key); o > 0 {
				continue
			}
			keep = append(keep, c)
		}
		return keep
	}
	// Safest: the criteria in Rank's order, among the cells Rank found
	// eligible (Order).
	in := v.Order
	for _, key := range safetyCriteria {
		in = look(in, key)
	}
	look(v.Ranked, MetricReadP99)
	look(v.Ranked, MetricOpsPerSec)
	var out []string
	for _, c := range m.Row(scenario) {
		if und[c] {
			out = append(out, c.Strategy)
		}
	}
	return out
}
