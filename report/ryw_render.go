package report

import (
	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

// rywRow returns the table numbers of r: violations per million reads
// (nil without the measure), the count and the p99 age.
func rywRow(r *check.RYW) (perMillion *float64, violations, p99Us int64) {
	if r == nil {
		return nil, 0, 0
	}
	pm := r.PerMillion
	if r.Age != nil {
		p99Us = r.Age.P99
	}
	return &pm, r.Violations, p99Us
}

// writeRYWText prints the read-your-writes line of a run.
func writeRYWText(p func(string, ...any), r *record.Run) {
	if r.RYW == nil {
		return
	}
	y := r.RYW
	if y.Violations == 0 || y.Age == nil {
		p("  read-your-writes\t0 violations in %d reads", y.Reads)
		return
	}
	p("  read-your-writes\t%d violations (%.1f per million reads), p50/p99/max age %s / %s / %s", y.Violations, y.PerMillion,
		FormatMicros(y.Age.P50), FormatMicros(y.Age.P99), FormatMicros(y.Age.Max))
}

// writeInstancesText prints the instances line of a run.
func writeInstancesText(p func(string, ...any), r *record.Run) {
	in := r.Instances
	if in == nil {
		return
	}
	p("instances\t%d; local caches at the audit: %d entries, %d stale (longest local TTL left %.1fs), %d ghost",
		in.Count, in.LocalEntries, in.LocalStale, in.LocalStaleMaxTTLSeconds, in.LocalGhost)
}
