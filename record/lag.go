package record

import (
	"strings"
	"time"

	"github.com/ghostbench/ghostbench/check"
)

// LagBehindWarning is what a run and a summary say about a strategy whose
// invalidation pipeline did not keep its design (DESIGN.md section 2).
const LagBehindWarning = "the invalidation pipeline fell behind; staleness here measures its backlog"

// lagToleranceUs is the least slack, in microseconds, between the
// configured invalidation lag and the achieved p99 before a pipeline counts
// as fallen behind.
const lagToleranceUs = 50_000

// LagStage is one stage of a run's invalidation lag: the time from one
// instant a pipeline observes on a change's way to its DEL to the next
// (for cdc-invalidation: commit-ack, PostgreSQL sent the change,
// the consumer received it, the DEL returned). The stages of a run are
// measured on the same changes as its InvalidationLag.
type LagStage struct {
	// Name is "<from>-to-<to>", for example commit-to-sent.
	Name string `json:"name"`
	// Did and After say what ended and what began the stage, for a
	// sentence "<did> <duration> after <after>".
	Did   string `json:"did"`
	After string `json:"after"`
	// Histogram is the stage's durations in microseconds.
	Histogram *check.Histogram `json:"histogram"`
	// Negative counts durations below 0, recorded as 0: the two instants
	// come from different clocks or threads (the walsender may send a
	// change before its writer sees COMMIT return).
	Negative int64 `json:"negative,omitempty"`
}

// Sentence returns "<did> <p99> after <after>", the stage at its 99th
// percentile, "" without samples.
func (s LagStage) Sentence() string {
	if s.Histogram == nil || s.Histogram.Count == 0 {
		return ""
	}
	return s.Did + " " + lagUs(s.Histogram.P99) + " after " + s.After
}

// DominantLagStage returns the index of r's lag stage with the largest
// 99th percentile, -1 when r has no stage with samples.
func (r *Run) DominantLagStage() int {
	best := -1
	for i, s := range r.InvalidationLagStages {
		if s.Histogram == nil || s.Histogram.Count == 0 {
			continue
		}
		if best < 0 || s.Histogram.P99 > r.InvalidationLagStages[best].Histogram.P99 {
			best = i
		}
	}
	return best
}

// LagBehind reports whether r's achieved invalidation lag p99 exceeds the
// configured lag by more than half of it or 50 ms, whichever is larger
// (for a pipeline meant to invalidate at once, configured lag 0, that is
// 50 ms). Runs without an invalidation lag never fell behind.
func (r *Run) LagBehind() bool {
	h := r.InvalidationLag
	if h == nil || h.Count == 0 {
		return false
	}
	conf := r.InvalidationLagConfiguredUs
	return h.P99-conf > max(conf/2, lagToleranceUs)
}

func lagUs(v int64) string {
	return (time.Duration(v) * time.Microsecond).Round(100 * time.Microsecond).String()
}

// LagWarning returns LagBehindWarning with the numbers when r's pipeline
// fell behind (LagBehind), "" otherwise. With lag stages it names the
// dominant one (the largest 99th percentile) and gives every stage at its
// 99th percentile, in order: "...; by stage (p99), dominated by
// commit-to-sent: PostgreSQL's walsender sent the change 410ms after
// COMMIT; the consumer read it off the socket 200µs after it was sent;
// the consumer applied it 3ms after receipt".
func (r *Run) LagWarning() string {
	if !r.LagBehind() {
		return ""
	}
	w := LagBehindWarning + " (achieved invalidation lag p99 " + lagUs(r.InvalidationLag.P99) +
		", configured " + lagUs(r.InvalidationLagConfiguredUs) + ")"
	d := r.DominantLagStage()
	if d < 0 {
		return w
	}
	var parts []string
	for _, s := range r.InvalidationLagStages {
		if t := s.Sentence(); t != "" {
			parts = append(parts, t)
		}
	}
	return w + "; by stage (p99), dominated by " + r.InvalidationLagStages[d].Name + ": " + strings.Join(parts, "; ")
}
