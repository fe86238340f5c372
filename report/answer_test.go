package report

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/record"
)

// TestAnswerMarkdownGolden: the matrix of summary.md is a Markdown table
// without HTML, one row per strategy with one cell per scenario, each
// starting with its class's symbol, then the proved races and the costs.
func TestAnswerMarkdownGolden(t *testing.T) {
	m := loadTestBench(t)
	a := m.Answer()
	var buf bytes.Buffer
	a.WriteMarkdown(&buf)
	golden(t, "answer.md", buf.Bytes())
	if regexp.MustCompile(`<[a-zA-Z/!]`).MatchString(buf.String()) {
		t.Errorf("the matrix has HTML in it:\n%s", buf.String())
	}
	lines := strings.Split(buf.String(), "\n")
	wantCols := 1 + len(m.Scenarios) + 1 + len(costColumns)
	symbols := map[string]bool{}
	for _, k := range Classes() {
		symbols[k.Symbol()] = true
	}
	for i, st := range m.Strategies {
		cols := strings.Split(strings.Trim(lines[2+i], "| "), " | ")
		if len(cols) != wantCols || cols[0] != st {
			t.Errorf("matrix row %d = %q, want %d columns for %s", i, lines[2+i], wantCols, st)
			continue
		}
		for j, c := range cols[1 : 1+len(m.Scenarios)] {
			sym, _, _ := strings.Cut(c, " ")
			if !symbols[sym] {
				t.Errorf("%s / %s: cell %q does not start with a class symbol", m.Scenarios[j], st, c)
			}
		}
	}
	// The summary starts with it.
	var sum bytes.Buffer
	if err := WriteSummaryMarkdown(&sum, m); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sum.String(), "# ghostbench bench: "+m.Bench.Name+"\n\n"+lines[0]) {
		t.Errorf("summary.md does not start with the matrix:\n%.400s", sum.String())
	}
	// cache-aside's row shows its proved race, and each of its cells that
	// measured less than the race marks it.
	ca := a.Rows[1]
	if ca.Strategy != "cache-aside" || !strings.Contains(ca.Races, ClassStuckStale.Symbol()+" stuck stale") {
		t.Errorf("cache-aside's proved races = %q, want the stuck-stale race", ca.Races)
	}
	for j, c := range ca.Cells {
		if c.Class < ClassStuckStale && !strings.HasSuffix(c.Text, "†") {
			t.Errorf("cache-aside / %s: %q (%s) lacks the † of its proved race", m.Scenarios[j], c.Text, c.Class)
		}
	}
}

func TestRepClass(t *testing.T) {
	for _, tt := range []struct {
		row  SummaryRow
		want Class
	}{
		{SummaryRow{}, ClassClean},
		{SummaryRow{UnknownReads: 1}, ClassUnknown},
		{SummaryRow{Availability: f64(0.9)}, ClassWritesFailed},
		{SummaryRow{Availability: f64(0.9), StaleReads: 1}, ClassStaleReads},
		{SummaryRow{StaleReads: 3, StaleUntilTTL: 1}, ClassStuckStale},
		{SummaryRow{StaleUntilTTL: 1, GhostUntilTTL: 1}, ClassGhost},
		{SummaryRow{GhostReads: 1}, ClassGhost},
	} {
		if got := RepClass(tt.row); got != tt.want {
			t.Errorf("RepClass(%+v) = %s, want %s", tt.row, got, tt.want)
		}
	}
	for _, k := range Classes() {
		if got, err := ParseClass(k.String()); err != nil || got != k {
			t.Errorf("ParseClass(%q) = %v, %v", k, got, err)
		}
	}
	if _, err := ParseClass("stale"); err == nil || !strings.Contains(err.Error(), "stuck-stale") {
		t.Errorf("ParseClass(stale): got %v, want an error naming the allowed classes", err)
	}
}

// A cell's class is the median of its repetitions' classes: 4 of 6 in one
// class make it that class whatever the other two are, and the worst one
// is kept beside it.
func TestCellClassMedian(t *testing.T) {
	for _, tt := range []struct {
		name          string
		reps          []func(*SummaryRow)
		want, worst   Class
		worstN, reps2 int
	}{
		{"4 of 6 clean, 2 ghost", []func(*SummaryRow){nil, nil, nil, nil, ghost, ghost}, ClassClean, ClassGhost, 2, 6},
		{"3 of 6 stuck, 3 clean: not a majority", []func(*SummaryRow){stuck, stuck, stuck, nil, nil, nil}, ClassClean, ClassStuckStale, 3, 6},
		{"4 of 6 stale, 1 ghost, 1 clean", []func(*SummaryRow){stale, stale, stale, stale, ghost, nil}, ClassStaleReads, ClassGhost, 1, 6},
		{"2 stuck, 2 stale, 2 clean: the 4th worst", []func(*SummaryRow){stuck, stuck, stale, stale, nil, nil}, ClassStaleReads, ClassStuckStale, 2, 6},
		{"one repetition", []func(*SummaryRow){ghost}, ClassGhost, ClassGhost, 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := matrixOf("sc", []cellSpec{ok("a", nil)})
			c := m.Cell("sc", "a")
			c.Reps = c.Reps[:len(tt.reps)]
			for i, f := range tt.reps {
				if f != nil {
					f(&c.Reps[i].Row)
				}
			}
			cc := c.Classify()
			if cc.Class != tt.want || cc.Worst != tt.worst || cc.WorstReps != tt.worstN || cc.Reps != tt.reps2 {
				t.Errorf("got %s (worst %s in %d of %d), want %s (worst %s in %d of %d)", cc.Class, cc.Worst, cc.WorstReps, cc.Reps, tt.want, tt.worst, tt.worstN, tt.reps2)
			}
		})
	}
	// A repetition that did not complete is no sample.
	m := matrixOf("sc", []cellSpec{ok("a", ghost)})
	c := m.Cell("sc", "a")
	for i := range c.Reps[:4] {
		c.Reps[i].Status = record.StatusError
	}
	if cc := c.Classify(); cc.Reps != 2 || cc.Class != ClassGhost {
		t.Errorf("with 4 failed repetitions: %+v, want 2 ghost repetitions", cc)
	}
}

func ghost(r *SummaryRow) { r.GhostReads = 2 }
func stuck(r *SummaryRow) { r.StaleUntilTTL = 1; r.StaleReads = 5 }
func stale(r *SummaryRow) { r.StaleReads = 5 }

func TestCostRelativeToBaseline(t *testing.T) {
	m := matrixOf("a", []cellSpec{
		ok("db-only", func(r *SummaryRow) { r.ReadP99, r.OpsPerSec = 1000, 100 }),
		ok("cache", func(r *SummaryRow) { r.ReadP99, r.OpsPerSec = 250, 400 }),
	})
	c := m.Cost("cache", costColumns[0])
	if math.Abs(c.Ratio-0.25) > 1e-9 || len(c.PerScenario) != 1 {
		t.Errorf("read p99 cost = %+v, want 0.25 in one scenario", c)
	}
	if got := factorText(m.Cost("cache", costColumns[2]).Ratio); got != "×4.0" {
		t.Errorf("ops/s cost = %q, want ×4.0", got)
	}
	for _, tt := range []struct {
		in   float64
		want string
	}{{0.4219, "×0.42"}, {1.04, "×1.0"}, {12.6, "×13"}, {math.NaN(), "-"}} {
		if got := factorText(tt.in); got != tt.want {
			t.Errorf("factorText(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The questions are answered from the data: who served a ghost, who
// failed writes when Redis failed, who kept the budget, and the cheapest
// of those who did all three.
func TestQuestions(t *testing.T) {
	m := matrixOf("lost-replies", []cellSpec{
		ok("db-only", func(r *SummaryRow) { r.ReadP99 = 1000; r.HitRatio = f64(0) }),
		ok("strict", func(r *SummaryRow) { r.GhostReads = 3; r.Availability = f64(0.9); r.ReadP99 = 200 }),
		ok("loose", func(r *SummaryRow) { r.StaleRatio = f64(0.01); r.ReadP99 = 300 }),
		ok("careful", func(r *SummaryRow) { r.ReadP99 = 500 }),
	})
	m.Bench.ScenarioInfo = []BenchScenario{{Name: "lost-replies", Faults: []string{"redis-lost-replies at 225ms for 225ms"}}}
	for _, c := range m.cells {
		for i := range c.Reps {
			c.Reps[i].Run = &record.Run{Metrics: c.Run.Metrics}
		}
	}
	qs := m.Answer().Questions
	if len(qs) != 4 {
		t.Fatalf("%d questions, want 4", len(qs))
	}
	for i, want := range []string{
		"db-only, loose and careful. Served one: strict (lost-replies 6/6)",
		"lost-replies: db-only, loose and careful. Failed writes (the median share committed, the repetitions with a failed write): strict (lost-replies 90%, 6/6)",
		"give one with -budget",
		"of the 3 that never served a ghost, kept writes available, **loose** by p99 read latency",
	} {
		if !strings.Contains(qs[i].A, want) {
			t.Errorf("question %q: answer %q lacks %q", qs[i].Q, qs[i].A, want)
		}
	}
}
