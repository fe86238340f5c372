package report

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// answerBenchDir is a small real bench (every strategy, three scenarios,
// two repetitions) with lost-replies and redis-outage in it: see
// testdata/answer-bench/README.
const answerBenchDir = "testdata/answer-bench"

// EnvAnswerBench names a rendered results folder that TestAnswerInBrowser
// checks instead of rendering testdata/answer-bench: its index.html as it
// is (GHOSTBENCH_ANSWER_BENCH=results/reference go test -run
// TestAnswerInBrowser -artifacts ./report/ keeps the screenshot of the
// reference bench's first screen).
const EnvAnswerBench = "GHOSTBENCH_ANSWER_BENCH"

// The window of the first-screen test: a laptop's browser.
const screenW, screenH = 1400, 900

// matrixProbe reads the class matrix and where its cells are on the
// first screen.
const matrixProbe = `JSON.stringify({
	firstTable: document.querySelector("table") ? document.querySelector("table").className : "",
	tablesBefore: (function () { var t = document.querySelector("table.matrix"); var n = 0; document.querySelectorAll("table").forEach(function (x) { if (t && (x.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING)) n++; }); return n; })(),
	symbols: Array.from(document.querySelectorAll("table.matrix tbody td.cls .sym")).length,
	matrixRight: document.querySelector("table.matrix") ? document.querySelector("table.matrix").getBoundingClientRect().right : 0,
	rows: Array.from(document.querySelectorAll("table.matrix tbody tr")).map(function (tr) {
		var name = tr.cells[0].getBoundingClientRect();
		return {
			strategy: tr.dataset.strategy,
			nameVisible: name.top >= 0 && name.left >= 0 && name.bottom <= innerHeight && name.right <= innerWidth,
			cells: Array.from(tr.querySelectorAll("td.cls")).map(function (td) {
				var r = td.getBoundingClientRect();
				var sym = td.querySelector(".sym");
				return {scenario: td.dataset.scenario, cls: td.dataset.class, title: td.title, text: td.textContent,
					symbol: sym ? sym.textContent : "",
					visible: r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.width > 0};
			})
		};
	}),
	width: innerWidth, height: innerHeight
})`

type matrixInfo struct {
	FirstTable   string
	TablesBefore int
	Symbols      int
	MatrixRight  float64
	Rows         []struct {
		Strategy    string
		NameVisible bool
		Cells       []struct {
			Scenario, Cls, Title, Text, Symbol string
			Visible                            bool
		}
	}
	Width, Height int
}

// TestAnswerInBrowser renders the small real bench and loads its
// index.html in headless Chromium in a 1400x900 window: the class matrix
// is the first table, every cell has a symbol and a title and shows the
// class the report computed, and with only the first screen, which
// strategies served a ghost in lost-replies and which kept writes
// available in redis-outage can be read (every row's name and those two
// cells are inside the window). The screenshot of that first screen is
// saved in the test's artifact directory (go test -artifacts keeps it).
func TestAnswerInBrowser(t *testing.T) {
	bin := findChromium(t)
	var m *Matrix
	dir := os.Getenv(EnvAnswerBench)
	if dir != "" {
		b, runs, err := LoadBench(dir)
		if err != nil {
			t.Fatal(err)
		}
		m = NewMatrix(b, runs)
	} else {
		dir = t.TempDir()
		copyTree(t, answerBenchDir, dir)
		var err error
		if m, err = RenderBench(dir, RenderOptions{Light: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sc := range []string{"lost-replies", "redis-outage"} {
		if len(m.Row(sc)) == 0 {
			t.Fatalf("%s has no %s scenario; the test needs it", answerBenchDir, sc)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b, err := startBrowser(ctx, t, bin)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	abs, err := filepath.Abs(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	raw, png, problems, err := b.view(ctx, (&url.URL{Scheme: "file", Path: abs}).String(),
		viewOptions{probe: matrixProbe, width: screenW, height: screenH, screenshot: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("index.html: %s", p)
	}
	shot := filepath.Join(t.ArtifactDir(), "first-screen.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("first screen at %dx%d: %s", screenW, screenH, shot)
	var pg matrixInfo
	if err := json.Unmarshal([]byte(raw), &pg); err != nil {
		t.Fatalf("probe: %v: %s", err, raw)
	}
	for _, p := range checkMatrix(pg, m) {
		t.Error(p)
	}
}

// checkMatrix returns what is wrong with the matrix pg read, against m.
func checkMatrix(pg matrixInfo, m *Matrix) []string {
	var bad []string
	if pg.Width != screenW || pg.Height != screenH {
		bad = append(bad, fmt.Sprintf("window %dx%d, want %dx%d", pg.Width, pg.Height, screenW, screenH))
	}
	if !strings.Contains(pg.FirstTable, "matrix") || pg.TablesBefore != 0 {
		bad = append(bad, fmt.Sprintf("the first table is %q with %d tables before the matrix; the matrix must be the first", pg.FirstTable, pg.TablesBefore))
	}
	if pg.MatrixRight > float64(screenW) {
		bad = append(bad, fmt.Sprintf("the matrix is %.0f px wide, wider than the %d px window", pg.MatrixRight, screenW))
	}
	a := m.Answer()
	if len(pg.Rows) != len(a.Rows) {
		return append(bad, fmt.Sprintf("matrix has %d rows, want %d (one per strategy)", len(pg.Rows), len(a.Rows)))
	}
	symbols := map[string]Class{}
	for _, k := range Classes() {
		symbols[k.Symbol()] = k
	}
	for i, r := range pg.Rows {
		want := a.Rows[i]
		if r.Strategy != want.Strategy {
			bad = append(bad, fmt.Sprintf("row %d is %s, want %s", i, r.Strategy, want.Strategy))
			continue
		}
		if !r.NameVisible {
			bad = append(bad, fmt.Sprintf("%s: the strategy's name is not on the first screen", r.Strategy))
		}
		if len(r.Cells) != len(a.Scenarios) {
			bad = append(bad, fmt.Sprintf("%s: %d cells, want %d (one per scenario)", r.Strategy, len(r.Cells), len(a.Scenarios)))
			continue
		}
		for j, c := range r.Cells {
			k, ok := symbols[c.Symbol]
			switch {
			case !ok:
				bad = append(bad, fmt.Sprintf("%s / %s: symbol %q is not a class symbol", c.Scenario, r.Strategy, c.Symbol))
			case k != want.Cells[j].Class || c.Cls != classInfo[k].css:
				bad = append(bad, fmt.Sprintf("%s / %s: shows %s (%s), the report computed %s", c.Scenario, r.Strategy, k, c.Cls, want.Cells[j].Class))
			}
			if !strings.HasPrefix(c.Text, c.Symbol) {
				bad = append(bad, fmt.Sprintf("%s / %s: text %q does not start with its symbol", c.Scenario, r.Strategy, c.Text))
			}
			if strings.TrimSpace(c.Title) == "" || !strings.Contains(c.Title, r.Strategy) {
				bad = append(bad, fmt.Sprintf("%s / %s: title %q does not explain the cell", c.Scenario, r.Strategy, c.Title))
			}
			if (c.Scenario == "lost-replies" || c.Scenario == "redis-outage") && !c.Visible {
				bad = append(bad, fmt.Sprintf("%s / %s: not on the first screen (%dx%d)", c.Scenario, r.Strategy, screenW, screenH))
			}
		}
	}
	return bad
}

// The inspection can fail: a page whose matrix comes after another table,
// lacks a symbol and a title, and is pushed below the first screen is
// reported on each count.
func TestCheckMatrixFinds(t *testing.T) {
	m := loadTestBench(t)
	a := m.Answer()
	var pg matrixInfo
	pg.FirstTable, pg.TablesBefore, pg.Width, pg.Height, pg.MatrixRight = "summary", 1, screenW, screenH, 1500
	for _, r := range a.Rows {
		row := struct {
			Strategy    string
			NameVisible bool
			Cells       []struct {
				Scenario, Cls, Title, Text, Symbol string
				Visible                            bool
			}
		}{Strategy: r.Strategy, NameVisible: true}
		for j, c := range r.Cells {
			row.Cells = append(row.Cells, struct {
				Scenario, Cls, Title, Text, Symbol string
				Visible                            bool
			}{a.Scenarios[j], classInfo[c.Class].css, c.Title, c.Text, c.Class.Symbol(), false})
		}
		pg.Rows = append(pg.Rows, row)
	}
	pg.Rows[0].Cells[0].Symbol, pg.Rows[0].Cells[0].Title = "", ""
	got := strings.Join(checkMatrix(pg, m), "\n")
	for _, want := range []string{"the matrix must be the first", "is not a class symbol", "does not explain the cell", "not on the first screen", "wider than the 1400 px window"} {
		if !strings.Contains(got, want) {
			t.Errorf("checkMatrix did not report %q; it reported:\n%s", want, got)
		}
	}
}
