package report

import (
	"fmt"
	"io"
	"strings"
)

// agreementCriteria are the metrics on which two benches must not order a
// pair of strategies significantly in opposite directions: the safety
// criteria, write availability, p99 read latency and throughput.
var agreementCriteria = append(append([]string(nil), safetyCriteria...), MetricAvailability, MetricReadP99, MetricOpsPerSec)

// Contradiction is a pair of strategies that one bench orders
// significantly one way on a criterion and the other bench significantly
// the other way: A is better than B in old, worse in new.
type Contradiction struct {
	Criterion string  `json:"criterion"`
	A         string  `json:"a"`
	B         string  `json:"b"`
	OldP      float64 `json:"old_p"`
	NewP      float64 `json:"new_p"`
}

// Agreement compares the verdicts two benches give on one scenario: their
// safest and fastest groups, what the groups share, and every
// contradicting pair. Agree is true when both pairs of groups share a
// strategy and nothing contradicts; a scenario that either bench could
// not rank does not agree.
type Agreement struct {
	Scenario       string          `json:"scenario"`
	OldSafest      []string        `json:"old_safest"`
	NewSafest      []string        `json:"new_safest"`
	SharedSafest   []string        `json:"shared_safest"`
	OldFastest     []string        `json:"old_fastest"`
	NewFastest     []string        `json:"new_fastest"`
	SharedFastest  []string        `json:"shared_fastest"`
	Contradictions []Contradiction `json:"contradictions"`
	OldReps        int             `json:"old_reps"`
	NewReps        int             `json:"new_reps"`
	Agree          bool            `json:"agree"`
}

// Agree returns the agreement of old and new on every scenario both have,
// in old's order.
func Agree(old, nw *Matrix) []Agreement {
	var out []Agreement
	for _, sc := range old.Scenarios {
		if len(nw.Row(sc)) == 0 {
			continue
		}
		ro, rn := old.Rank(sc), nw.Rank(sc)
		a := Agreement{Scenario: sc, OldReps: ro.Reps, NewReps: rn.Reps,
			OldSafest: names(ro.Safest), NewSafest: names(rn.Safest),
			OldFastest: names(ro.Fastest), NewFastest: names(rn.Fastest)}
		a.SharedSafest = shared(a.OldSafest, a.NewSafest)
		a.SharedFastest = shared(a.OldFastest, a.NewFastest)
		a.Contradictions = contradictions(old, nw, sc)
		a.Agree = len(a.SharedSafest) > 0 && len(a.SharedFastest) > 0 && len(a.Contradictions) == 0
		out = append(out, a)
	}
	return out
}

// shared returns the names in both a and b, in a's order.
func shared(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	out := []string{}
	for _, s := range a {
		if in[s] {
			out = append(out, s)
		}
	}
	return out
}

// contradictions returns the pairs of completed cells of scenario sc that
// old and new order significantly in opposite directions.
func contradictions(old, nw *Matrix, sc string) []Contradiction {
	out := []Contradiction{}
	row := old.Row(sc)
	for i, oa := range row {
		for _, ob := range row[i+1:] {
			na, nb := nw.Cell(sc, oa.Strategy), nw.Cell(sc, ob.Strategy)
			if na == nil || nb == nil || oa.Completed() == 0 || ob.Completed() == 0 || na.Completed() == 0 || nb.Completed() == 0 {
				continue
			}
			for _, key := range agreementCriteria {
				o, po := compareCells(oa, ob, key)
				n, pn := compareCells(na, nb, key)
				switch {
				case o < 0 && n > 0:
					out = append(out, Contradiction{Criterion: key, A: oa.Strategy, B: ob.Strategy, OldP: po, NewP: pn})
				case o > 0 && n < 0:
					out = append(out, Contradiction{Criterion: key, A: ob.Strategy, B: oa.Strategy, OldP: po, NewP: pn})
				}
			}
		}
	}
	return out
}

// writeAgreementText prints one block per scenario: both benches' groups,
// what they share, and the contradictions.
func writeAgreementText(w io.Writer, as []Agreement) {
	if len(as) == 0 {
		return
	}
	fmt.Fprintf(w, "\nverdicts (groups by Mann-Whitney U at alpha 0.05, or at a sequential bench's level per look; agree = the safest groups share a strategy, the fastest groups share one, and no pair is ordered significantly one way in old and the other way in new):\n")
	n := 0
	for _, a := range as {
		verdict := "agree"
		if !a.Agree {
			verdict = "DISAGREE"
		} else {
			n++
		}
		fmt.Fprintf(w, "%s: %s (old %d, new %d repetitions per strategy)\n", a.Scenario, verdict, a.OldReps, a.NewReps)
		fmt.Fprintf(w, "  safest   old {%s}  new {%s}  shared {%s}\n", strings.Join(a.OldSafest, ", "), strings.Join(a.NewSafest, ", "), strings.Join(a.SharedSafest, ", "))
		fmt.Fprintf(w, "  fastest  old {%s}  new {%s}  shared {%s}\n", strings.Join(a.OldFastest, ", "), strings.Join(a.NewFastest, ", "), strings.Join(a.SharedFastest, ", "))
		for _, c := range a.Contradictions {
			fmt.Fprintf(w, "  contradiction on %s: %s better than %s in old (p=%.3g), worse in new (p=%.3g)\n", c.Criterion, c.A, c.B, c.OldP, c.NewP)
		}
	}
	fmt.Fprintf(w, "%d of %d scenarios agree\n", n, len(as))
}
