package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CostColumn is one cost the matrix shows beside the classes: a metric of
// every cell relative to the baseline strategy's in the same scenario of
// the same bench, summarized over the scenarios by the geometric mean of
// the ratios. A new cost is one more entry in costColumns.
type CostColumn struct {
	// Head is the column's heading, Title its explanation.
	Head, Title string
	// Metric is the metric key (Metric*) compared.
	Metric string
}

// costColumns are the matrix's cost columns, in order.
var costColumns = []CostColumn{
	{"read p99", "p99 read latency relative to the baseline in the same scenario (below 1: faster)", MetricReadP99},
	{"write p99", "p99 write latency relative to the baseline in the same scenario (above 1: slower)", MetricWriteP99},
	{"ops/s", "throughput relative to the baseline in the same scenario (above 1: more operations per second)", MetricOpsPerSec},
	{"db reads", "database reads per second relative to the baseline in the same scenario (below 1: the cache keeps load off PostgreSQL)", MetricDBReadsPerSec},
}

// BaselineStrategy is the strategy costs are relative to when the bench
// ran it: the database alone.
const BaselineStrategy = "db-only"

// baseline returns the strategy the costs of m are relative to: db-only
// when the bench has it, else its first strategy.
func (m *Matrix) baseline() string {
	for _, st := range m.Strategies {
		if st == BaselineStrategy {
			return st
		}
	}
	if len(m.Strategies) > 0 {
		return m.Strategies[0]
	}
	return ""
}

// Cost is a strategy's cost on one CostColumn.
type Cost struct {
	// Ratio is the geometric mean over the scenarios of the strategy's
	// estimate divided by the baseline's (NaN without a scenario where
	// both have one).
	Ratio float64
	// PerScenario are the ratios, with the two estimates, per scenario
	// that has them, in scenario order.
	PerScenario []ScenarioCost
}

// ScenarioCost is one scenario's share of a Cost.
type ScenarioCost struct {
	Scenario       string
	Ratio          float64
	Value, BaseVal float64
}

// Cost returns strategy's cost on column col of m.
func (m *Matrix) Cost(strategy string, col CostColumn) Cost {
	base := m.baseline()
	var logs float64
	c := Cost{Ratio: math.NaN()}
	for _, sc := range m.Scenarios {
		a, b := m.Cell(sc, strategy), m.Cell(sc, base)
		if !a.measured() || !b.measured() || a.Completed() == 0 || b.Completed() == 0 {
			continue
		}
		va, vb := a.Estimate(col.Metric).Value, b.Estimate(col.Metric).Value
		if !(va > 0) || !(vb > 0) || math.IsInf(va, 0) || math.IsInf(vb, 0) {
			continue
		}
		r := va / vb
		c.PerScenario = append(c.PerScenario, ScenarioCost{Scenario: sc, Ratio: r, Value: va, BaseVal: vb})
		logs += math.Log(r)
	}
	if n := len(c.PerScenario); n > 0 {
		c.Ratio = math.Exp(logs / float64(n))
	}
	return c
}

// factorText renders a ratio as "×0.42", "×12", "-" for NaN.
func factorText(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "-"
	}
	prec := 2
	if r >= 10 {
		prec = 0
	} else if r >= 1 {
		prec = 1
	}
	return "×" + strconv.FormatFloat(r, 'f', prec, 64)
}

// costTitle explains a cost cell: the ratio per scenario with both values.
func (m *Matrix) costTitle(c Cost, col CostColumn) string {
	if len(c.PerScenario) == 0 {
		return col.Title + ": no scenario where both have it"
	}
	f := usText
	if col.Metric == MetricOpsPerSec {
		f = opsText
	}
	var parts []string
	for _, s := range c.PerScenario {
		parts = append(parts, fmt.Sprintf("%s %s (%s vs %s)", s.Scenario, factorText(s.Ratio), f(s.Value), f(s.BaseVal)))
	}
	return fmt.Sprintf("%s; relative to %s, geometric mean over %d scenarios of the medians' ratios: %s", col.Title, m.baseline(), len(c.PerScenario), strings.Join(parts, "; "))
}
