package record

import "time"

// LagBehindWarning is what a run and a summary say about a strategy whose
// invalidation pipeline did not keep its design (DESIGN.md section 2).
const LagBehindWarning = "the invalidation pipeline fell behind; staleness here measures its backlog"

// lagToleranceUs is the least slack, in microseconds, between the
// configured invalidation lag and the achieved p99 before a pipeline counts
// as fallen behind.
const lagToleranceUs = 50_000

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

// LagWarning returns LagBehindWarning with the numbers when r's pipeline
// fell behind (LagBehind), "" otherwise.
func (r *Run) LagWarning() string {
	if !r.LagBehind() {
		return ""
	}
	us := func(v int64) string {
		return (time.Duration(v) * time.Microsecond).Round(100 * time.Microsecond).String()
	}
	return LagBehindWarning + " (achieved invalidation lag p99 " + us(r.InvalidationLag.P99) +
		", configured " + us(r.InvalidationLagConfiguredUs) + ")"
}
