package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

func TestLagBehind(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		configured time.Duration
		lags       []time.Duration // the histogram's values: p99 is the largest here
		want       bool
	}{
		{0, nil, false}, // no lag recorded
		{0, []time.Duration{ms(1), ms(20)}, false},   // at once, within 50ms
		{0, []time.Duration{ms(1), ms(51)}, true},    // at once, 51ms behind
		{ms(280), []time.Duration{ms(300)}, false},   // 20ms late
		{ms(280), []time.Duration{ms(415)}, false},   // within 50% (140ms)
		{ms(280), []time.Duration{ms(425)}, true},    // beyond 50%
		{ms(20), []time.Duration{ms(65)}, false},     // 50ms is the larger slack
		{ms(20), []time.Duration{ms(75)}, true},      // beyond 50ms
		{ms(280), []time.Duration{ms(11_000)}, true}, // a backlog
	} {
		r := &record.Run{InvalidationLagConfiguredUs: tc.configured.Microseconds()}
		if tc.lags != nil {
			r.InvalidationLag, _ = check.DurationHistogram(tc.lags)
		}
		if got := r.LagBehind(); got != tc.want {
			t.Errorf("configured %v, lags %v: LagBehind = %v, want %v", tc.configured, tc.lags, got, tc.want)
		}
		if got := r.LagWarning() != ""; got != tc.want {
			t.Errorf("configured %v, lags %v: LagWarning %q, want one: %v", tc.configured, tc.lags, r.LagWarning(), tc.want)
		}
	}
}

// withLag loads the test bench with the async-invalidation run of
// steady-read-heavy given an invalidation lag of lags (configured 280ms).
func withLag(t *testing.T, lags ...time.Duration) *Matrix {
	t.Helper()
	b, runs, err := LoadBench(benchDir)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range runs {
		if r != nil && r.Strategy == "async-invalidation" && r.Scenario == "steady-read-heavy" {
			r.InvalidationLag, _ = check.DurationHistogram(lags)
			r.InvalidationLagConfiguredUs = 280_000
			found = true
		}
	}
	if !found {
		t.Fatal("the test bench has no async-invalidation run of steady-read-heavy")
	}
	return NewMatrix(b, runs)
}

// Every table shows the lag of a strategy that has one, and the warning
// appears when (and only when) it fell behind.
func TestLagInEveryTable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lag    time.Duration
		behind bool
	}{
		{"KeptUp", 290 * time.Millisecond, false},
		{"FellBehind", 4 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := withLag(t, 280*time.Millisecond, tc.lag)
			h := m.Cell("steady-read-heavy", "async-invalidation").Run.InvalidationLag
			cell := lagCell(m.Cell("steady-read-heavy", "async-invalidation"))
			for _, want := range []string{FormatMicros(h.P50), FormatMicros(h.P99)} {
				if !strings.Contains(cell, want) {
					t.Errorf("lag cell %q does not show %s", cell, want)
				}
			}
			var md, html, txt bytes.Buffer
			if err := WriteSummaryMarkdown(&md, m); err != nil {
				t.Fatal(err)
			}
			if err := WriteIndexHTML(&html, t.TempDir(), m, nil); err != nil {
				t.Fatal(err)
			}
			if err := WriteBenchFmt(&txt, m); err != nil {
				t.Fatal(err)
			}
			for name, out := range map[string]string{"summary.md": md.String(), "index.html": html.String()} {
				if !strings.Contains(out, cell) {
					t.Errorf("%s: no lag cell %q", name, cell)
				}
				if got := strings.Count(out, LagBehindWarning); got != b2i(tc.behind) {
					t.Errorf("%s: the warning appears %d times, want %d", name, got, b2i(tc.behind))
				}
			}
			line := ""
			for _, l := range strings.Split(txt.String(), "\n") {
				if strings.HasPrefix(l, BenchName("steady-read-heavy", "async-invalidation")+"\t") {
					line = l
				}
			}
			if !strings.Contains(line, " invalidation-lag-p99-sec") {
				t.Errorf("bench.txt: no invalidation-lag-p99-sec in %q", line)
			}
			if l := BenchName("steady-read-heavy", "cache-aside"); strings.Contains(txt.String(), l) && strings.Contains(lineOf(txt.String(), l), "invalidation-lag") {
				t.Errorf("bench.txt: cache-aside has an invalidation lag: %q", lineOf(txt.String(), l))
			}
			var run bytes.Buffer
			if err := WriteRunText(&run, m.Cell("steady-read-heavy", "async-invalidation").Run); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(run.String(), "invalidation lag") || strings.Contains(run.String(), LagBehindWarning) != tc.behind {
				t.Errorf("run text: lag line or warning (want %v) missing:\n%s", tc.behind, run.String())
			}
			cmp := Compare("a", loadTestBench(t), "b", m)
			var cmpText bytes.Buffer
			if err := cmp.WriteText(&cmpText); err != nil {
				t.Fatal(err)
			}
			var got *CompareMetric
			for _, r := range cmp.Rows {
				for i := range r.Metrics {
					if r.Scenario == "steady-read-heavy" && r.Strategy == "async-invalidation" && r.Metrics[i].Name == "inval lag p99" {
						got = &r.Metrics[i]
					}
				}
			}
			if got == nil || got.Old != nil || got.New == nil {
				t.Errorf("compare: inval lag p99 = %+v, want none before and a value after", got)
			}
			if !strings.Contains(cmpText.String(), "inval lag p99") {
				t.Errorf("compare text has no inval lag p99:\n%s", cmpText.String())
			}
		})
	}
}

func lineOf(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix+"\t") {
			return l
		}
	}
	return ""
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
