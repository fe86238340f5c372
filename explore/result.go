package explore

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ghostbench/ghostbench/strategies"
)

// Outcomes of an exploration.
const (
	// OutcomeAnomaly: at least one schedule showed an anomaly.
	OutcomeAnomaly = "anomaly"
	// OutcomeClean: the bounded space was exhausted and no schedule
	// showed an anomaly or stayed unknown ("clean within bound N", which
	// is not "safe": see docs/explore.md).
	OutcomeClean = "clean"
	// OutcomeIncomplete: no anomaly, but the space was not exhausted (a
	// budget, the random mode) or some schedule stayed unknown.
	OutcomeIncomplete = "incomplete"
)

// Result is what an exploration found.
type Result struct {
	Strategy  string            `json:"strategy"`
	Params    strategies.Params `json:"params,omitempty"`
	Exec      string            `json:"exec,omitempty"`
	Workload  Workload          `json:"workload"`
	Starts    []string          `json:"starts"`
	Mode      string            `json:"mode"`
	Bound     int               `json:"bound"`
	MaxFaults int               `json:"max_faults"`
	Faults    []string          `json:"faults,omitempty"`
	Wire      bool              `json:"wire"`
	Reduced   bool              `json:"reduced"`
	Seed      int64             `json:"seed,omitempty"`
	Depth     int               `json:"depth,omitempty"`

	Outcome string `json:"outcome"`
	// Summary is the outcome in one sentence.
	Summary string `json:"summary"`
	// Exhausted is set when every schedule within the bounds ran.
	Exhausted bool `json:"exhausted"`
	Schedules int  `json:"schedules"`
	// Ends counts the schedules by how they ended (done, deadlock,
	// diverged, stuck, step-bound).
	Ends map[string]int `json:"ends"`
	// Anomalous counts the schedules that showed an anomaly; Unknown
	// those whose outcome could not be verified.
	Anomalous int `json:"anomalous"`
	Unknown   int `json:"unknown"`
	// Classes counts the schedules that showed each anomaly class.
	Classes map[string]int `json:"classes"`
	// Anomalies are the distinct anomalies by shape (the set of classes
	// one schedule showed), each with its smallest schedule.
	Anomalies      []Anomaly `json:"anomalies"`
	ElapsedSeconds float64   `json:"elapsed_seconds"`
	PerSecond      float64   `json:"schedules_per_second"`
	// PCT states, for the random mode, the probability bound it gives.
	PCT string `json:"pct,omitempty"`
	// Notes are facts worth a reader's attention (deadlocks, diverged
	// schedules).
	Notes []string `json:"notes,omitempty"`
}

// Anomaly is one distinct anomaly: its classes, how many schedules showed
// it, and the smallest of them (fewest preemptions, then faults, then
// steps) with its evidence.
type Anomaly struct {
	Shape    string   `json:"shape"`
	Classes  []string `json:"classes"`
	Count    int      `json:"count"`
	Schedule Schedule `json:"schedule"`
	Evidence []string `json:"evidence"`
	// File is the schedule file's name in the results folder; Replay the
	// replayed timeline's page, Replayed whether that replay showed the
	// anomaly again (ReplayNote says what differed).
	File       string `json:"file,omitempty"`
	Replay     string `json:"replay,omitempty"`
	Replayed   bool   `json:"replayed,omitempty"`
	ReplayNote string `json:"replay_note,omitempty"`
}

func (x *exploration) result(elapsed time.Duration, exhausted bool) *Result {
	o := x.opts
	r := &Result{
		Strategy: x.info.Name, Params: x.params, Exec: o.Exec, Workload: o.Workload, Starts: o.Starts,
		Mode: o.Mode, Bound: o.Bound, MaxFaults: o.MaxFaults, Faults: o.Faults, Wire: !o.NoWire, Reduced: x.reduce,
		Exhausted: exhausted, Schedules: len(x.results), Ends: map[string]int{}, Classes: map[string]int{},
		ElapsedSeconds: elapsed.Seconds(),
	}
	if o.MaxFaults == 0 {
		r.Faults = nil
	}
	if o.Mode == ModeRandom {
		r.Seed, r.Depth, r.Bound = o.Seed, o.Depth, 0
		r.PCT = pctBound(len(o.Starts), o.Workload, x.results, o.Depth)
	}
	if elapsed > 0 {
		r.PerSecond = float64(len(x.results)) / elapsed.Seconds()
	}
	results := append([]*trialResult(nil), x.results...)
	sortResults(results)
	byShape := map[string]*Anomaly{}
	for _, t := range results {
		r.Ends[t.end]++
		if t.unknown {
			r.Unknown++
		}
		if !anomalous(t.classes) {
			continue
		}
		r.Anomalous++
		for _, c := range t.classes {
			r.Classes[c]++
		}
		shape := strings.Join(t.classes, "+")
		a := byShape[shape]
		if a == nil {
			a = &Anomaly{Shape: shape, Classes: t.classes, Schedule: t.sched, Evidence: t.evidence}
			byShape[shape] = a
		}
		a.Count++
	}
	for _, a := range byShape {
		r.Anomalies = append(r.Anomalies, *a)
	}
	sort.Slice(r.Anomalies, func(i, j int) bool { return r.Anomalies[i].Shape < r.Anomalies[j].Shape })
	if n := r.Ends[EndDeadlock]; n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d schedule(s) deadlocked: every remaining actor waited for a lock a parked actor held (the database would have broken the tie with a timeout); not an anomaly", n))
	}
	if n := r.Ends[EndDiverged]; n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d schedule(s) diverged on replay of their prefix: the strategy did not reach the same points under the same choices (nondeterminism outside the scheduler's control)", n))
	}
	switch {
	case r.Anomalous > 0:
		r.Outcome = OutcomeAnomaly
		r.Summary = fmt.Sprintf("%d distinct anomal%s in %d of %d schedules (%s)", len(r.Anomalies), plural(len(r.Anomalies), "y", "ies"),
			r.Anomalous, r.Schedules, strings.Join(r.classNames(), ", "))
	case exhausted && r.Unknown == 0 && o.Mode == ModeExhaustive:
		r.Outcome = OutcomeClean
		r.Summary = fmt.Sprintf("clean within bound %d (%s): %d schedules, the whole bounded space, showed no anomaly; this is not a proof of safety beyond the bound, the workload and the faults explored", o.Bound, r.faultText(), r.Schedules)
	default:
		r.Outcome = OutcomeIncomplete
		why := "the budget ran out before the bounded space was exhausted"
		if o.Mode == ModeRandom {
			why = "random schedules never exhaust the space"
		}
		if r.Unknown > 0 {
			why = fmt.Sprintf("%d schedule(s) could not be verified", r.Unknown)
		}
		r.Summary = fmt.Sprintf("no anomaly in %d schedules, but not clean: %s", r.Schedules, why)
	}
	return r
}

func (r *Result) classNames() []string {
	var out []string
	for _, c := range Classes() {
		if r.Classes[c] > 0 {
			out = append(out, c)
		}
	}
	return out
}

func (r *Result) faultText() string {
	if r.MaxFaults == 0 || len(r.Faults) == 0 {
		return "no faults"
	}
	return fmt.Sprintf("at most %d fault%s of %s per schedule", r.MaxFaults, plural(r.MaxFaults, "", "s"), strings.Join(r.Faults, ", "))
}

// pctBound states PCT's guarantee: a run finds a given bug of depth d
// with probability at least 1/(n k^(d-1)), for n actors and k steps.
func pctBound(starts int, w Workload, rs []*trialResult, d int) string {
	n := w.Readers + w.Writers
	k := 1
	for _, r := range rs {
		k = max(k, len(r.sched.Choices))
	}
	if len(rs) == 0 {
		return ""
	}
	p := 1 / (float64(n) * math.Pow(float64(k), float64(d-1)))
	runs := len(rs) / max(starts, 1)
	miss := math.Pow(1-p, float64(runs))
	return fmt.Sprintf("PCT with depth %d: each schedule finds a given ordering bug of depth <= %d with probability >= 1/(n*k^(d-1)) = %.2g "+
		"(n=%d actors, k=%d steps); %d schedules per initial state miss it with probability <= %.3g (faults are chosen at random besides, outside this bound)",
		d, d, p, n, k, runs, miss)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
