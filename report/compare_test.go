package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/record"
)

func TestCompare(t *testing.T) {
	old := repeatCells(loadTestBench(t), 6)
	nw := repeatCells(loadTestBench(t), 6)
	// The new bench: cache-aside got 2 ghost reads and a slower p99 read in
	// redis-outage, and version-checked is gone from steady-read-heavy.
	c := nw.Cell("redis-outage", "cache-aside")
	wantP99 := c.Row.ReadP99 * 2
	editRows(c, func(r *SummaryRow) { r.GhostReads = 2; r.ReadP99 = wantP99 })
	delete(nw.cells, [2]string{"steady-read-heavy", "version-checked"})

	cmp := Compare("old", old, "new", nw)
	if got, want := len(cmp.Rows), len(old.Bench.Runs); got != want {
		t.Fatalf("%d rows, want %d (every cell of old)", got, want)
	}
	find := func(sc, st string) CompareRow {
		for _, r := range cmp.Rows {
			if r.Scenario == sc && r.Strategy == st {
				return r
			}
		}
		t.Fatalf("no row for %s / %s", sc, st)
		return CompareRow{}
	}
	metric := func(r CompareRow, name string) CompareMetric {
		for _, m := range r.Metrics {
			if m.Name == name {
				return m
			}
		}
		t.Fatalf("no metric %q", name)
		return CompareMetric{}
	}
	r := find("redis-outage", "cache-aside")
	if g := metric(r, "ghost reads"); g.Old == nil || *g.Old != 0 || g.New == nil || *g.New != 2 || g.Delta == nil || *g.Delta != 2 || !g.Significant || g.P == nil || *g.P >= 0.05 {
		t.Errorf("ghost reads: got %+v, want 0 -> 2 (+2), significant", g)
	}
	if p := metric(r, "read p99"); p.New == nil || *p.New != float64(wantP99) || p.Delta == nil || *p.Delta != float64(wantP99)/2 {
		t.Errorf("read p99: got %+v, want doubled", p)
	}
	gone := find("steady-read-heavy", "version-checked")
	if gone.NewStatus != StatusMissing || metric(gone, "stale ratio").New != nil || metric(gone, "stale ratio").Delta != nil {
		t.Errorf("missing cell: got %+v, want new side missing and null", gone)
	}
	failed := find("steady-read-heavy", "leases")
	if failed.OldStatus != string(record.StatusError) || metric(failed, "read p99").Old != nil {
		t.Errorf("failed run: got %+v, want status error and no values", failed)
	}

	var text bytes.Buffer
	if err := cmp.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	line := ""
	for _, l := range strings.Split(text.String(), "\n") {
		if strings.HasPrefix(l, "redis-outage") && strings.Contains(l, " cache-aside ") {
			line = l
		}
	}
	if !strings.Contains(line, "0 -> 2 (+2 p=0.00216)") || !strings.Contains(line, "+100% p=0.00216") || !strings.Contains(line, "1.0000 -> 1.0000 (~ p=1)") {
		t.Errorf("text line for redis-outage / cache-aside: %q, want ghost 0 -> 2 (+2 p=0.00216), read p99 +100%% and ~ where nothing changed", line)
	}
	// The class matrix, cell by cell: cache-aside went from clean to ghost
	// in redis-outage, version-checked's steady-read-heavy cell is gone.
	for _, want := range []string{"classes, old -> new", "✓ clean -> ✖ ghost 2 reads", "= ✓ clean", "✓ clean -> · -", "2 of 12 cells changed class"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	// Every number formatted as the summary formats it: no raw float.
	if raw := regexp.MustCompile(`[0-9]\.[0-9]{7,}`).FindString(text.String()); raw != "" {
		t.Errorf("text prints a raw float %q:\n%s", raw, text.String())
	}

	var cb bytes.Buffer
	if err := cmp.WriteCSV(&cb); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cb).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(cmp.Rows)+1 || len(recs[0]) != 4+9*len(compareMetrics) {
		t.Errorf("csv: %d records of %d fields, want %d of %d", len(recs), len(recs[0]), len(cmp.Rows)+1, 4+9*len(compareMetrics))
	}

	var jb bytes.Buffer
	if err := cmp.WriteJSON(&jb); err != nil {
		t.Fatal(err)
	}
	var back Comparison
	if err := json.Unmarshal(jb.Bytes(), &back); err != nil || len(back.Rows) != len(cmp.Rows) {
		t.Errorf("json round trip: %v, %d rows", err, len(back.Rows))
	}
}

// FuzzReadBench feeds arbitrary bench.json files to the reader and, when
// it accepts one, to every writer that works from bench.json alone: none
// may panic.
func FuzzReadBench(f *testing.F) {
	for _, p := range []string{filepath.Join(benchDir, BenchFile), filepath.Join("testdata", "golden", "bench.json")} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"schema":1,"runs":[{"scenario":"a","strategy":"b","status":"ok","dir":"../../etc"}]}`))
	f.Add([]byte(`{"schema":1,"scenarios":["x","x"],"runs":[{"scenario":"","strategy":""}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, BenchFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := ReadBench(dir)
		if err != nil {
			return
		}
		m := NewMatrix(b, make([]*record.Run, len(b.Runs)))
		if err := WriteSummaryMarkdown(io.Discard, m); err != nil {
			t.Fatal(err)
		}
		if err := WriteBenchFmt(io.Discard, m); err != nil {
			t.Fatal(err)
		}
		if err := Compare("a", m, "b", m).WriteText(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
