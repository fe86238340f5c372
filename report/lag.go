package report

import (
	"strconv"

	"github.com/ghostbench/ghostbench/record"
)

// LagBehindWarning is record.LagBehindWarning, the warning a run and a
// summary give when an invalidation pipeline fell behind.
const LagBehindWarning = record.LagBehindWarning

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

// lagCell renders a cell's invalidation lag across its repetitions: the
// median p50 / the median p99 with its interval; "-" without a pipeline.
func lagCell(c *Cell) string {
	p50, p99 := c.Estimate(MetricInvalLagP50), c.Estimate(MetricInvalLagP99)
	if p99.N == 0 {
		return "-"
	}
	return estText(p50, usText) + " / " + estText(p99, usText)
}
