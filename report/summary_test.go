package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// benchDir is a recorded bench (ghostbench bench -dir) with a few cells
// edited by hand to cover every status: see testdata/bench/README.
const benchDir = "testdata/bench"

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := WriteFileAtomic(path, got); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d (go test -update rewrites it):\ngot:  %q\nwant: %q", name, i+1, g, w)
			}
		}
	}
}

func loadTestBench(t testing.TB) *Matrix {
	t.Helper()
	b, runs, err := LoadBench(benchDir)
	if err != nil {
		t.Fatal(err)
	}
	return NewMatrix(b, runs)
}

func TestSummaryMarkdownGolden(t *testing.T) {
	m := loadTestBench(t)
	var buf bytes.Buffer
	if err := WriteSummaryMarkdown(&buf, m); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.md", buf.Bytes())
	// Every cell has its row, in every scenario's table.
	for _, sc := range m.Scenarios {
		for _, c := range m.Row(sc) {
			if !strings.Contains(buf.String(), "| "+c.Strategy+" | "+string(c.Status)+" |") {
				t.Errorf("summary.md: no row for %s / %s (%s)", sc, c.Strategy, c.Status)
			}
		}
	}
}

// fixedBench is a Bench with every field set, for the schema's golden file.
func fixedBench() *Bench {
	return &Bench{
		Schema: BenchSchemaVersion, Name: "golden",
		Started:        time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		ElapsedSeconds: 12.5, Status: record.StatusInterrupted, Seed: 7, Duration: "3s",
		Flags:     map[string]string{"duration": "3s", "seed": "7", "postgres-url": "postgres://u:xxxxx@h/db"},
		Scenarios: []string{"redis-outage"}, Strategies: []string{"cache-aside", "write-through"},
		ScenarioInfo: []BenchScenario{{Name: "redis-outage", Description: "Redis stopped", Scale: 0.3, Faults: []string{"redis-down at 900ms for 900ms"}}},
		Env:          &record.Environment{GoVersion: "go1.26.8", OS: "linux", Arch: "amd64", CPUs: 2, Provider: "local", PostgresVersion: "15.18", RedisVersion: "7.0.15"},
		Provisions:   1,
		Runs: []BenchRun{
			{Scenario: "redis-outage", Strategy: "cache-aside", Status: record.StatusOK, Dir: RunDir("redis-outage", "cache-aside"), Seed: 7, ElapsedSeconds: 3.2},
			{Scenario: "redis-outage", Strategy: "write-through", Status: record.StatusNotRun, Seed: 7},
		},
	}
}

func TestBenchJSONGolden(t *testing.T) {
	b := fixedBench()
	dir := t.TempDir()
	if err := WriteBench(dir, b); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, BenchFile))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "bench.json", data)
	got, err := ReadBench(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", got, b)
	}
	// Another schema version is refused, naming both.
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	raw["schema"] = BenchSchemaVersion + 1
	data, _ = json.Marshal(raw)
	if err := WriteFileAtomic(filepath.Join(dir, BenchFile), data); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBench(dir); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("ReadBench of schema %d: got %v, want an error naming the schema", BenchSchemaVersion+1, err)
	}
}

func TestLoadBenchStatuses(t *testing.T) {
	m := loadTestBench(t)
	seen := map[record.Status]bool{}
	for _, br := range m.Bench.Runs {
		seen[br.Status] = true
		c := m.Cell(br.Scenario, br.Strategy)
		if c == nil {
			t.Fatalf("no cell for %s / %s", br.Scenario, br.Strategy)
		}
		if got, want := c.Run != nil, br.Dir != ""; got != want {
			t.Errorf("%s / %s (%s): run loaded %v, want %v", br.Scenario, br.Strategy, br.Status, got, want)
		}
	}
	for _, s := range []record.Status{record.StatusOK, record.StatusError, record.StatusNotRun} {
		if !seen[s] {
			t.Errorf("testdata/bench has no run with status %s; the tests need one", s)
		}
	}
}

func f64(v float64) *float64 { return &v }

func TestJudge(t *testing.T) {
	tests := []struct {
		name                 string
		cells                []cellSpec
		safest               []string
		fastest, mostOps     string
		unavailable, baseRun []string
		allUnavailable       bool
	}{
		{
			name: "ghost reads weigh more than stale reads",
			cells: []cellSpec{
				ok("a", func(r *SummaryRow) { r.GhostReads = 1 }),
				ok("b", func(r *SummaryRow) { r.StaleRatio = f64(0.5); r.StaleUntilTTL = 3 }),
			},
			safest: []string{"b"}, fastest: "a", mostOps: "a",
		},
		{
			name: "then stuck stale, then stale reads; the window does not split a class",
			cells: []cellSpec{
				ok("a", func(r *SummaryRow) { r.GhostUntilTTL = 1 }),
				ok("b", func(r *SummaryRow) { r.StaleUntilTTL = 1 }),
				ok("c", func(r *SummaryRow) { r.StaleRatio = f64(0.01) }),
				ok("d", func(r *SummaryRow) { r.StaleRatio = f64(0.01); r.MaxStaleWindowUs = 5 }),
			},
			safest: []string{"c", "d"}, fastest: "a", mostOps: "a",
		},
		{
			name: "a rate sets a strategy aside within its class only beyond a factor of 2",
			cells: []cellSpec{
				ok("a", func(r *SummaryRow) { r.StaleRatio = f64(0.010) }),
				ok("b", func(r *SummaryRow) { r.StaleRatio = f64(0.015) }),
				ok("c", func(r *SummaryRow) { r.StaleRatio = f64(0.05) }),
			},
			safest: []string{"a", "b"}, fastest: "a", mostOps: "a",
		},
		{
			name: "ties are all named; fastest by p99 read, most ops separately",
			cells: []cellSpec{
				ok("a", func(r *SummaryRow) { r.ReadP99 = 900; r.OpsPerSec = 10 }),
				ok("b", func(r *SummaryRow) { r.ReadP99 = 800 }),
				ok("c", func(r *SummaryRow) { r.OpsPerSec = 5000; r.GhostReads = 2 }),
			},
			safest: []string{"a", "b"}, fastest: "b", mostOps: "c",
		},
		{
			name: "write availability below 1 excludes from safest, not from fastest",
			cells: []cellSpec{
				ok("strict", func(r *SummaryRow) { r.Availability = f64(0.7); r.ReadP99 = 10 }),
				ok("loose", func(r *SummaryRow) { r.StaleRatio = f64(0.2) }),
			},
			safest: []string{"loose"}, fastest: "strict", mostOps: "strict", unavailable: []string{"strict"},
		},
		{
			name: "all unavailable: ranked among themselves",
			cells: []cellSpec{
				ok("x", func(r *SummaryRow) { r.Availability = f64(0.5); r.StaleRatio = f64(0.1) }),
				ok("y", func(r *SummaryRow) { r.Availability = f64(0.9) }),
			},
			safest: []string{"y"}, fastest: "x", mostOps: "x", unavailable: []string{"x", "y"}, allUnavailable: true,
		},
		{
			name: "no cache hits is a baseline; failed runs are not ranked",
			cells: []cellSpec{
				ok("db-only", func(r *SummaryRow) { r.HitRatio = f64(0); r.ReadP99 = 1 }),
				{"broken", record.StatusError, SummaryRow{}},
				ok("cache", func(r *SummaryRow) { r.StaleRatio = f64(0.3) }),
			},
			safest: []string{"cache"}, fastest: "cache", mostOps: "cache", baseRun: []string{"db-only"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := matrixOf("sc", tt.cells)
			v := m.Rank("sc")
			if got := names(v.Safest); !reflect.DeepEqual(got, tt.safest) {
				t.Errorf("safest: got %v, want %v", got, tt.safest)
			}
			if len(v.Fastest) == 0 || v.Fastest[0].Strategy != tt.fastest {
				t.Errorf("fastest: got %v, want %s first", names(v.Fastest), tt.fastest)
			}
			if len(v.MostOps) == 0 || v.MostOps[0].Strategy != tt.mostOps {
				t.Errorf("most ops: got %v, want %s first", names(v.MostOps), tt.mostOps)
			}
			if got := names(v.Unavailable); !reflect.DeepEqual(got, tt.unavailable) {
				t.Errorf("unavailable: got %v, want %v", got, tt.unavailable)
			}
			if got := names(v.Baselines); !reflect.DeepEqual(got, tt.baseRun) {
				t.Errorf("baselines: got %v, want %v", got, tt.baseRun)
			}
			if v.AllUnavailable != tt.allUnavailable {
				t.Errorf("all unavailable: got %v, want %v", v.AllUnavailable, tt.allUnavailable)
			}
			s := v.Sentence()
			for _, n := range tt.safest {
				if !strings.Contains(s, n) {
					t.Errorf("sentence does not name safest %s: %s", n, s)
				}
			}
			if !strings.Contains(s, "Fastest by p99 read latency: "+tt.fastest) {
				t.Errorf("sentence does not name fastest %s by p99 read latency: %s", tt.fastest, s)
			}
		})
	}
}

// cellSpec is a hand-built cell: its metrics only as a SummaryRow.
type cellSpec struct {
	strategy string
	status   record.Status
	row      SummaryRow
}

// matrixOf builds a one-scenario matrix whose cells have the given rows
// (the Run is a stub with empty metrics so that the cells count as
// measured).
const testReps = 6

func matrixOf(sc string, cells []cellSpec) *Matrix {
	b := &Bench{Schema: BenchSchemaVersion, Scenarios: []string{sc}}
	m := &Matrix{Bench: b, Scenarios: []string{sc}, cells: map[[2]string]*Cell{}}
	for _, cs := range cells {
		b.Strategies = append(b.Strategies, cs.strategy)
		m.Strategies = append(m.Strategies, cs.strategy)
		c := &Cell{BenchRun: BenchRun{Scenario: sc, Strategy: cs.strategy, Status: cs.status}, Row: cs.row}
		if cs.status == record.StatusOK {
			c.Run = &record.Run{Metrics: &check.Metrics{}}
		}
		c.Row.Scenario, c.Row.Strategy, c.Row.Status = sc, cs.strategy, cs.status
		if c.Row.StaleRatio != nil && c.Row.OKReads == 0 {
			c.Row.OKReads = 1_000_000
			c.Row.StaleReads = int64(math.Round(*c.Row.StaleRatio * 1e6))
		}
		// testReps identical repetitions: a difference is then significant
		// (p = 0.002), equality is not.
		for r := 1; r <= testReps; r++ {
			br := c.BenchRun
			br.Rep = r
			c.Reps = append(c.Reps, Rep{BenchRun: br, Run: c.Run, Row: c.Row})
		}
		m.cells[[2]string{sc, cs.strategy}] = c
	}
	return m
}

func TestFileSafe(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"cache-aside", "cache-aside"},
		{"my scenario.yaml", "my_scenario.yaml"},
		{"../etc", "_.._etc"},
		{"", "_"},
		{"a/b", "a_b"},
	} {
		if got := fileSafe(tt.in); got != tt.want {
			t.Errorf("fileSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestThousandsAndPercent(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{{0, "0"}, {999.4, "999"}, {1000, "1\u202f000"}, {1234567, "1\u202f234\u202f567"}, {-4321, "-4\u202f321"}} {
		if got := thousands(tt.in); got != tt.want {
			t.Errorf("thousands(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   *float64
		want string
	}{{nil, "-"}, {f64(0), "0%"}, {f64(0.000562), "0.0562%"}, {f64(0.5), "50%"}} {
		if got := percent(tt.in); got != tt.want {
			t.Errorf("percent(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
