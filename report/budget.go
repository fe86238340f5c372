package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

// Budget is a consistency budget: limits on what one run may show, to gate
// a CI job on ("no ghost read, at most 0.1% stale reads, no key left
// stale"). A zero Budget allows everything.
type Budget struct {
	limits []limit
}

type limit struct {
	metric string
	max    bool // true: value <= bound; false: value >= bound
	bound  float64
}

// budgetMetrics are the quantities a budget can bound, with whether the
// bound is an upper one (<=) and how to read them from a run. A ratio that
// is undefined (no reads, no writes) satisfies any bound: nothing was
// measured against it, which the summary shows.
var budgetMetrics = map[string]struct {
	upper bool
	get   func(*check.Metrics) (float64, bool)
}{
	"stale-ratio":     {true, func(m *check.Metrics) (float64, bool) { return deref(m.Reads.StaleRatio) }},
	"stale":           {true, func(m *check.Metrics) (float64, bool) { return float64(m.Reads.Stale), true }},
	"ghost":           {true, func(m *check.Metrics) (float64, bool) { return float64(m.Reads.Ghost), true }},
	"unknown":         {true, func(m *check.Metrics) (float64, bool) { return float64(m.Reads.Unknown), true }},
	"stale-until-ttl": {true, func(m *check.Metrics) (float64, bool) { return float64(m.Audit.StaleUntilTTL), true }},
	"ghost-until-ttl": {true, func(m *check.Metrics) (float64, bool) { return float64(m.Audit.GhostUntilTTL), true }},
	"p99-staleness-ms": {true, func(m *check.Metrics) (float64, bool) {
		if m.Reads.StalenessAge == nil {
			return 0, false
		}
		return float64(m.Reads.StalenessAge.P99) / 1000, true
	}},
	"max-stale-window-ms": {true, func(m *check.Metrics) (float64, bool) { return float64(m.StaleWindow.MaxUs) / 1000, true }},
	"availability":        {false, func(m *check.Metrics) (float64, bool) { return deref(m.Writes.Availability) }},
}

func deref(p *float64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

// BudgetMetrics returns the names a budget can bound, sorted.
func BudgetMetrics() []string {
	out := make([]string, 0, len(budgetMetrics))
	for k := range budgetMetrics {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ParseBudget parses "name<=value,name>=value,...", e.g.
// "ghost<=0,stale-ratio<=0.001,availability>=1". Availability takes >=,
// everything else <=. The error names the term, the metric and what is
// allowed.
func ParseBudget(s string) (Budget, error) {
	var b Budget
	if strings.TrimSpace(s) == "" {
		return b, nil
	}
	for _, term := range strings.Split(s, ",") {
		term = strings.TrimSpace(term)
		op, upper := "<=", true
		name, val, ok := strings.Cut(term, "<=")
		if !ok {
			op, upper = ">=", false
			name, val, ok = strings.Cut(term, ">=")
		}
		if !ok {
			return Budget{}, fmt.Errorf("budget term %q: want name<=value or name>=value", term)
		}
		name = strings.TrimSpace(name)
		m, known := budgetMetrics[name]
		if !known {
			return Budget{}, fmt.Errorf("budget term %q: unknown metric %q; allowed: %s", term, name, strings.Join(BudgetMetrics(), ", "))
		}
		if m.upper != upper {
			want := "<="
			if !m.upper {
				want = ">="
			}
			return Budget{}, fmt.Errorf("budget term %q: %s takes %s, not %s", term, name, want, op)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return Budget{}, fmt.Errorf("budget term %q: value %q is not a number (want a finite number)", term, strings.TrimSpace(val))
		}
		b.limits = append(b.limits, limit{metric: name, max: upper, bound: v})
	}
	return b, nil
}

// Violation is one bound a run broke.
type Violation struct {
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	Bound  float64 `json:"bound"`
	Op     string  `json:"op"`
}

// String returns "ghost = 3, budget <= 0".
func (v Violation) String() string {
	return fmt.Sprintf("%s = %s, budget %s %s", v.Metric, strconv.FormatFloat(v.Value, 'g', 6, 64), v.Op, strconv.FormatFloat(v.Bound, 'g', 6, 64))
}

// Check returns the bounds r broke. A run without metrics breaks every
// bound (nothing was verified), with NaN-free zero values.
func (b Budget) Check(r *record.Run) []Violation {
	var out []Violation
	for _, l := range b.limits {
		op := "<="
		if !l.max {
			op = ">="
		}
		if r == nil || r.Metrics == nil {
			out = append(out, Violation{Metric: l.metric, Bound: l.bound, Op: op})
			continue
		}
		v, ok := budgetMetrics[l.metric].get(r.Metrics)
		if !ok {
			continue
		}
		if (l.max && v > l.bound) || (!l.max && v < l.bound) {
			out = append(out, Violation{Metric: l.metric, Value: v, Bound: l.bound, Op: op})
		}
	}
	return out
}
