package report

import (
	"strconv"

	"github.com/ghostbench/ghostbench/record"
)

// LagBehindWarning is record.LagBehindWarning, the warning a run and a
// summary give when an invalidation pipeline fell behind.
const LagBehindWarning = record.LagBehindWarning

// lagText renders p50 / p99 of an invalidation lag, "-" when there is none.
func lagText(p50, p99 *int64) string {
	if p50 == nil || p99 == nil {
		return "-"
	}
	return FormatMicros(*p50) + " / " + FormatMicros(*p99)
}

// lagMicros renders an optional lag in microseconds, "-" when absent.
func lagMicros(v *int64, human bool) string {
	if v == nil {
		return "-"
	}
	if human {
		return FormatMicros(*v)
	}
	return strconv.FormatInt(*v, 10)
}

func i64ptr(v int64) *int64 { return &v }
