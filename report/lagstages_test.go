package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

// withStages is withLag (a lag that fell behind) with two stages, the
// first dominant, on the async-invalidation run of steady-read-heavy.
func withStages(t *testing.T) *Matrix {
	t.Helper()
	m := withLag(t, 280*time.Millisecond, 4*time.Second)
	r := m.Cell("steady-read-heavy", "async-invalidation").Run
	pg, _ := check.DurationHistogram([]time.Duration{time.Millisecond, 3 * time.Second})
	cons, _ := check.DurationHistogram([]time.Duration{time.Millisecond, 2 * time.Millisecond})
	r.InvalidationLagStages = []record.LagStage{
		{Name: "commit-to-sent", Did: "PostgreSQL's walsender sent the change", After: "COMMIT", Histogram: pg},
		{Name: "received-to-applied", Did: "the consumer applied it", After: "receipt", Histogram: cons},
	}
	return m
}

// Every table shows the lag stages, and the warning names the dominant one.
func TestLagStagesInEveryTable(t *testing.T) {
	m := withStages(t)
	c := m.Cell("steady-read-heavy", "async-invalidation")
	c.Row = Summarize(c.Run)
	for i := range c.Reps {
		if c.Reps[i].Run == c.Run {
			c.Reps[i].Row = c.Row
		}
	}
	c.est = nil
	if got := len(c.Row.InvalidationLagStages); got != 2 {
		t.Fatalf("summary row: %d stages, want 2", got)
	}
	cell := lagStagesCell(c)
	if !strings.Contains(cell, "commit-to-sent 3.00s") || !strings.Contains(cell, "received-to-applied 2.0ms") {
		t.Errorf("stages cell %q", cell)
	}
	var md bytes.Buffer
	if err := WriteSummaryMarkdown(&md, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), cell) || !strings.Contains(md.String(), "dominated by commit-to-sent") {
		t.Errorf("summary.md: no stage cell %q or no dominant stage in the warning", cell)
	}
	var run bytes.Buffer
	if err := WriteRunText(&run, c.Run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(run.String(), "commit-to-sent") || !strings.Contains(run.String(), "dominant") {
		t.Errorf("run text: no stage lines:\n%s", run.String())
	}
	var sum bytes.Buffer
	if err := WriteSummaryText(&sum, []*record.Run{c.Run}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum.String(), "commit-to-sent 1.0ms/3.00s") {
		t.Errorf("summary text: no stages:\n%s", sum.String())
	}
	if _, ok := c.Estimates()[MetricLagStageP99("commit-to-sent")]; !ok {
		t.Errorf("Estimates has no per-stage metric")
	}
	cmp := Compare("a", loadTestBench(t), "b", m)
	var found bool
	for _, r := range cmp.Rows {
		if got, want := len(r.Metrics), len(cmp.Rows[0].Metrics); got != want {
			t.Fatalf("compare row %s/%s: %d metrics, want %d like every row", r.Scenario, r.Strategy, got, want)
		}
		for _, mt := range r.Metrics {
			if r.Strategy == "async-invalidation" && r.Scenario == "steady-read-heavy" && mt.Name == "commit-to-sent p99" && mt.New != nil && *mt.New > 2.99e6 && *mt.New < 3.01e6 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("compare: no commit-to-sent p99 of 3s on the new side")
	}
	var csvOut bytes.Buffer
	if err := cmp.WriteCSV(&csvOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.SplitN(csvOut.String(), "\n", 2)[0], "commit_to_sent_p99_us_new") {
		t.Errorf("compare CSV header has no stage column")
	}
}
