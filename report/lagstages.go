package report

import (
	"strconv"
	"strings"

	"github.com/ghostbench/ghostbench/record"
)

// LagStageRow is one invalidation lag stage of a run (record.LagStage) in
// a summary: its name and 50th and 99th percentiles in microseconds.
type LagStageRow struct {
	Name         string
	P50Us, P99Us int64
}

// lagStageRows returns r's lag stages with samples, in order.
func lagStageRows(r *record.Run) []LagStageRow {
	var out []LagStageRow
	for _, s := range r.InvalidationLagStages {
		if s.Histogram == nil || s.Histogram.Count == 0 {
			continue
		}
		out = append(out, LagStageRow{Name: s.Name, P50Us: s.Histogram.P50, P99Us: s.Histogram.P99})
	}
	return out
}

// lagStagesText renders stages as "name p50/p99, ...", "-" without any.
func lagStagesText(stages []LagStageRow, human bool) string {
	if len(stages) == 0 {
		return "-"
	}
	parts := make([]string, len(stages))
	for i, s := range stages {
		parts[i] = s.Name + " " + lagMicros(&s.P50Us, human) + "/" + lagMicros(&s.P99Us, human)
	}
	return strings.Join(parts, ", ")
}

// Metric key prefixes of the per-stage invalidation lag: the key is the
// prefix followed by the stage's name (MetricLagStageP50, MetricLagStageP99).
const (
	metricLagStageP50Prefix = "invalidation_lag_stage_p50_us:"
	metricLagStageP99Prefix = "invalidation_lag_stage_p99_us:"
)

// MetricLagStageP50 returns the metric key of lag stage name's 50th
// percentile (microseconds, median over repetitions).
func MetricLagStageP50(name string) string { return metricLagStageP50Prefix + name }

// MetricLagStageP99 returns the metric key of lag stage name's 99th
// percentile.
func MetricLagStageP99(name string) string { return metricLagStageP99Prefix + name }

// lagStageDef returns the metric definition of a per-stage key; ok false
// for other keys.
func lagStageDef(key string) (metricDef, bool) {
	name, p99 := strings.CutPrefix(key, metricLagStageP99Prefix)
	if !p99 {
		var p50 bool
		if name, p50 = strings.CutPrefix(key, metricLagStageP50Prefix); !p50 {
			return metricDef{}, false
		}
	}
	return metricDef{key: key, value: func(r SummaryRow) (float64, bool) {
		for _, s := range r.InvalidationLagStages {
			if s.Name == name {
				if p99 {
					return float64(s.P99Us), true
				}
				return float64(s.P50Us), true
			}
		}
		return 0, false
	}}, true
}

// lagStageNames returns the names of the lag stages of cells' completed
// repetitions, in the order first seen.
func lagStageNames(cells ...*Cell) []string {
	var names []string
	seen := map[string]bool{}
	for _, c := range cells {
		if c == nil {
			continue
		}
		for i := range c.Reps {
			if !c.Reps[i].measured() {
				continue
			}
			for _, s := range c.Reps[i].Row.InvalidationLagStages {
				if !seen[s.Name] {
					seen[s.Name] = true
					names = append(names, s.Name)
				}
			}
		}
	}
	return names
}

// lagStagesCell renders a cell's lag stages across its repetitions: each
// stage's median p99 with its interval; "-" without stages.
func lagStagesCell(c *Cell) string {
	names := lagStageNames(c)
	if len(names) == 0 {
		return "-"
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + " " + estText(c.Estimate(MetricLagStageP99(n)), usText)
	}
	return strings.Join(parts, ", ")
}

// lagStageKeys returns the per-stage metric keys (p50 and p99 of every
// stage) of cells, for bench.json's stats and compare.
func lagStageKeys(cells ...*Cell) []string {
	var keys []string
	for _, n := range lagStageNames(cells...) {
		keys = append(keys, MetricLagStageP50(n), MetricLagStageP99(n))
	}
	return keys
}

// stageMetricName is the display name of a per-stage key in compare.
func stageMetricName(key string) string {
	if n, ok := strings.CutPrefix(key, metricLagStageP99Prefix); ok {
		return n + " p99"
	}
	n, _ := strings.CutPrefix(key, metricLagStageP50Prefix)
	return n + " p50"
}

// writeLagStagesText writes one line per lag stage of r for the text
// report, the dominant one (largest p99) marked.
func writeLagStagesText(p func(format string, args ...any), r *record.Run) {
	d := r.DominantLagStage()
	for i, s := range r.InvalidationLagStages {
		h := s.Histogram
		if h == nil || h.Count == 0 {
			continue
		}
		mark := ""
		if i == d {
			mark = "  dominant"
		}
		neg := ""
		if s.Negative > 0 {
			neg = ", " + strconv.FormatInt(s.Negative, 10) + " below 0 counted as 0"
		}
		p("  %s\tp50 %s  p99 %s  max %s  (n=%d%s; %s)%s", s.Name, FormatMicros(h.P50), FormatMicros(h.P99), FormatMicros(h.Max), h.Count, neg, s.Sentence(), mark)
	}
}

// addLagStageMetrics appends to every row of cmp the p50 and p99 of every
// invalidation lag stage found in either bench (after the fixed metrics,
// the same list on every row so that the text table's columns align; a
// cell without the stage compares as absent).
func addLagStageMetrics(cmp *Comparison, old, nw *Matrix) {
	var cells []*Cell
	for _, m := range []*Matrix{old, nw} {
		for _, sc := range m.Scenarios {
			cells = append(cells, m.Row(sc)...)
		}
	}
	keys := lagStageKeys(cells...)
	for i := range cmp.Rows {
		r := &cmp.Rows[i]
		oc, nc := old.Cell(r.Scenario, r.Strategy), nw.Cell(r.Scenario, r.Strategy)
		for _, k := range keys {
			r.Metrics = append(r.Metrics, compareMetric(stageMetricName(k), "us", k, oc, nc))
		}
	}
}
