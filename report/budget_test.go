package report

import (
	"math"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

func TestBudget(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	run := &record.Run{Metrics: &check.Metrics{
		Reads:  check.ReadMetrics{Stale: 12, Ghost: 1, StaleRatio: f(0.002), StalenessAge: &check.Histogram{P99: 4500}},
		Writes: check.WriteMetrics{Availability: f(0.98)},
		Audit:  check.AuditResult{StaleUntilTTL: 2},
	}}
	for _, tc := range []struct {
		budget string
		want   []string
	}{
		{"", nil},
		{"ghost<=0", []string{"ghost = 1, budget <= 0"}},
		{"ghost<=1,stale-ratio<=0.01", nil},
		{"stale-ratio<=0.001, availability>=0.99", []string{"stale-ratio = 0.002, budget <= 0.001", "availability = 0.98, budget >= 0.99"}},
		{"stale-until-ttl<=0,p99-staleness-ms<=4", []string{"stale-until-ttl = 2, budget <= 0", "p99-staleness-ms = 4.5, budget <= 4"}},
	} {
		b, err := ParseBudget(tc.budget)
		if err != nil {
			t.Fatalf("ParseBudget(%q): %v", tc.budget, err)
		}
		var got []string
		for _, v := range b.Check(run) {
			got = append(got, v.String())
		}
		if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
			t.Errorf("budget %q: got %q, want %q", tc.budget, got, tc.want)
		}
	}
	// A run that measured nothing breaks every bound.
	b, _ := ParseBudget("ghost<=0")
	if v := b.Check(&record.Run{}); len(v) != 1 {
		t.Errorf("run without metrics: %d violations, want 1", len(v))
	}
}

func TestParseBudgetErrors(t *testing.T) {
	for in, want := range map[string]string{
		"ghost=0":          "want name<=value or name>=value",
		"ghosts<=0":        `unknown metric "ghosts"; allowed:`,
		"availability<=1":  "availability takes >=",
		"ghost>=1":         "ghost takes <=",
		"stale-ratio<=abc": `value "abc" is not a number`,
	} {
		_, err := ParseBudget(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseBudget(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func FuzzParseBudget(f *testing.F) {
	for _, s := range []string{"ghost<=0", "availability>=1,stale-ratio<=0.01", "x", ",,", "stale<=1e9", "stale<=NaN", "ghost<=+Inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBudget(s)
		if err != nil {
			return
		}
		for _, l := range b.limits {
			if math.IsNaN(l.bound) || math.IsInf(l.bound, 0) {
				t.Fatalf("ParseBudget(%q) accepted the bound %v: a NaN or infinite bound turns the gate off", s, l.bound)
			}
		}
		_ = b.Check(&record.Run{Metrics: &check.Metrics{}})
	})
}

// TestParseBudgetRejectsNonFinite: 'stale<=NaN' would pass every run (every
// comparison with NaN is false), so it is refused.
func TestParseBudgetRejectsNonFinite(t *testing.T) {
	for _, s := range []string{"stale<=NaN", "ghost<=nan", "stale-ratio<=Inf", "availability>=-Inf"} {
		if _, err := ParseBudget(s); err == nil || !strings.Contains(err.Error(), "want a finite number") {
			t.Errorf("ParseBudget(%q): got %v, want an error saying the value must be finite", s, err)
		}
	}
}
