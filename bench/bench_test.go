package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/stats"
)

func builtin(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	sc, ok := scenarios.Builtin(name)
	if !ok {
		t.Fatalf("no %s scenario", name)
	}
	return sc
}

func TestNewPlanRefuses(t *testing.T) {
	good := func() Config {
		return Config{Name: "b", Dir: t.TempDir(), Duration: time.Second, Seed: 1,
			Strategies: []string{"cache-aside"}, Scenarios: []*scenarios.Scenario{builtin(t, "steady-read-heavy")}}
	}
	bad := builtin(t, "steady-read-heavy")
	bad.Keys = -1
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"duration", func(c *Config) { c.Duration = 0 }, "Duration 0s"},
		{"name", func(c *Config) { c.Name = "a/b" }, `Name "a/b"`},
		{"dir", func(c *Config) { c.Dir = "" }, "Dir is empty"},
		{"no strategies", func(c *Config) { c.Strategies = nil }, "Strategies: none given"},
		{"unknown strategy", func(c *Config) { c.Strategies = []string{"cache-aside", "nosuch"} }, `"nosuch" is not a registered strategy; allowed: `},
		{"no scenarios", func(c *Config) { c.Scenarios = nil }, "Scenarios: none given"},
		{"twice", func(c *Config) { c.Scenarios = append(c.Scenarios, c.Scenarios[0]) }, "steady-read-heavy given twice"},
		{"invalid scenario", func(c *Config) { c.Scenarios = []*scenarios.Scenario{bad} }, "keys"},
		{"min count", func(c *Config) { c.Count, c.MinCount = 6, 1 }, "MinCount 1: want 2..Count (6)"},
		{"min count above count", func(c *Config) { c.Count, c.MinCount = 3, 4 }, "MinCount 4: want 2..Count (3)"},
		{"budget", func(c *Config) { c.BudgetTime = -time.Second }, "BudgetTime -1s"},
		{"budget", func(c *Config) { c.Budget = "stale-ratio>=0.1" }, `Budget: budget term "stale-ratio>=0.1": stale-ratio takes <=`},
	}
	if _, err := NewPlan(good()); err != nil {
		t.Fatalf("NewPlan(good config): %v", err)
	}
	for _, tt := range tests {
		cfg := good()
		tt.change(&cfg)
		_, err := NewPlan(cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewPlan error %v, want one with %q", tt.name, err, tt.want)
		}
	}
}

// TestNewPlanScales checks that the plan scales copies of the scenarios
// (the caller's are untouched) and describes their fault schedules.
func TestNewPlanScales(t *testing.T) {
	sc := builtin(t, "redis-outage")
	before := *sc
	beforeFaults := append([]scenarios.FaultStep(nil), sc.Faults...)
	p, err := NewPlan(Config{Name: "b", Dir: t.TempDir(), Duration: 3 * time.Second, Seed: 7,
		Strategies: []string{"db-only", "cache-aside"}, Scenarios: []*scenarios.Scenario{sc}})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Duration != before.Duration || sc.Seed != before.Seed || !reflect.DeepEqual(sc.Faults, beforeFaults) {
		t.Errorf("NewPlan changed the caller's scenario: %+v", sc)
	}
	want := []report.BenchScenario{{Name: "redis-outage", Description: sc.Description, Scale: 0.3, Faults: []string{"redis-down at 900ms for 900ms"}}}
	if !reflect.DeepEqual(p.infos, want) {
		t.Errorf("infos %+v, want %+v", p.infos, want)
	}
	if len(p.cells) != 2 || p.cells[0].strategy != "db-only" || p.cells[1].strategy != "cache-aside" {
		t.Fatalf("cells %+v, want db-only then cache-aside", p.cells)
	}
	if c := p.cells[0].sc; c.Seed != 7 || c.Duration.D() != 3*time.Second || c.Faults[0].At.D() != 900*time.Millisecond {
		t.Errorf("cell scenario: seed %d, duration %v, fault at %v; want 7, 3s, 900ms", c.Seed, c.Duration, c.Faults[0].At)
	}
}

func TestDescribeFaultsParams(t *testing.T) {
	sc := &scenarios.Scenario{Faults: []scenarios.FaultStep{
		{Fault: "redis-latency", At: scenarios.Duration(time.Second), For: scenarios.Duration(2 * time.Second), Params: map[string]string{"latency": "50ms", "jitter": "5ms"}},
	}}
	if got, want := describeFaults(sc), []string{"redis-latency at 1s for 2s (jitter=5ms, latency=50ms)"}; !reflect.DeepEqual(got, want) {
		t.Errorf("describeFaults = %q, want %q", got, want)
	}
}

func TestClearDir(t *testing.T) {
	if err := ClearDir(filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Errorf("missing dir: %v", err)
	}
	write := func(dir, name string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(dir, name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}

	other := t.TempDir()
	write(other, "precious.txt")
	if err := ClearDir(other); !errors.Is(err, ErrNotResults) {
		t.Errorf("folder without bench.json: %v, want ErrNotResults", err)
	}
	if !exists(other, "precious.txt") {
		t.Error("a refused folder lost its file")
	}

	res := t.TempDir()
	bench := []string{report.BenchFile, report.SummaryFile, report.BenchFmtFile, report.IndexFile, "runs/a/b/run.json", "plots/a.png"}
	for _, n := range append(bench, "notes.txt") {
		write(res, n)
	}
	if err := ClearDir(res); err != nil {
		t.Fatal(err)
	}
	for _, n := range bench {
		if exists(res, n) {
			t.Errorf("%s survived ClearDir", n)
		}
	}
	if !exists(res, "notes.txt") {
		t.Error("ClearDir removed a file no bench wrote")
	}
}

// TestRun runs a 2 x 1 matrix through the library on real servers (the
// provider GHOSTBENCH_PROVIDER selects, as ghostbench bench does) and
// checks what it returns, what it wrote and what the observer saw.
func TestRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bench")
	pcfg := docker.ConfigFromEnv()
	pcfg.Logf = t.Logf
	var events []string
	var progress int
	obs := Observer{
		Started:     func(b *report.Bench) { events = append(events, "started "+string(b.Runs[1].Status)) },
		Provisioned: func(*docker.Servers) { events = append(events, "provisioned") },
		Unhealthy:   func(err error) { events = append(events, "unhealthy "+err.Error()) },
		RunStarting: func(i int, r *report.BenchRun) { events = append(events, "start "+r.Strategy) },
		RunProgress: func(int, *report.BenchRun, runner.Progress) { progress++ },
		RunFinished: func(i int, r *report.BenchRun, res *record.Run) {
			events = append(events, "end "+r.Strategy+" "+string(r.Status))
			if res == nil || res.Seed != 5 {
				t.Errorf("run %d: record %v", i, res)
			}
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := Run(ctx, Config{
		Name: "lib", Dir: dir, Duration: time.Second, Seed: 5,
		Strategies: []string{"db-only", "cache-aside"}, Scenarios: []*scenarios.Scenario{builtin(t, "steady-read-heavy")},
		Servers: pcfg, Flags: map[string]string{"from": "test"}, Observer: obs,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{"started not-run", "provisioned", "start db-only", "end db-only ok", "start cache-aside", "end cache-aside ok"}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events %q, want %q", events, want)
	}
	if progress == 0 {
		t.Error("RunProgress never called")
	}
	if b.Status != record.StatusOK || b.Provisions != 1 || b.Env == nil || b.StatusCounts() != "2 ok" {
		t.Errorf("bench: status %s, provisions %d, env %v, runs %s; want ok, 1, set, 2 ok", b.Status, b.Provisions, b.Env, b.StatusCounts())
	}
	got, runs, err := report.LoadBench(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != record.StatusOK || got.Name != "lib" || got.Seed != 5 || got.Duration != "1s" || got.Flags["from"] != "test" ||
		!reflect.DeepEqual(got.Strategies, []string{"db-only", "cache-aside"}) || !reflect.DeepEqual(got.Scenarios, []string{"steady-read-heavy"}) {
		t.Errorf("bench.json: %+v", got)
	}
	if len(got.Runs) != 2 || len(runs) != 2 {
		t.Fatalf("bench.json has %d runs, %d run.json loaded; want 2", len(got.Runs), len(runs))
	}
	for i, r := range got.Runs {
		if r.Status != record.StatusOK || r.Seed != 5 || r.Dir != report.RunDir("steady-read-heavy", r.Strategy) || r.ElapsedSeconds <= 0 {
			t.Errorf("run %d: %+v", i, r)
		}
		res := runs[i]
		if res == nil || res.Strategy != r.Strategy || res.ID != "lib-steady-read-heavy-"+r.Strategy ||
			res.Metrics == nil || res.Metrics.Reads.Total == 0 {
			t.Errorf("run %d (%s): run.json %+v", i, r.Strategy, res)
		}
	}
}

func TestNewPlanRepetitions(t *testing.T) {
	p, err := NewPlan(Config{
		Name: "x", Dir: t.TempDir(), Duration: time.Second, Seed: 10, Count: 3,
		Strategies: []string{"cache-aside", "write-through"},
		Scenarios:  []*scenarios.Scenario{builtin(t, "steady-read-heavy"), builtin(t, "lost-replies")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(p.cells), 3*2*2; got != want {
		t.Fatalf("%d cells, want %d", got, want)
	}
	// Round-robin: the whole matrix once per repetition, in matrix order.
	for i, c := range p.cells {
		rep := i/4 + 1
		if c.rep != rep {
			t.Errorf("cell %d: repetition %d, want %d (interleaved)", i, c.rep, rep)
		}
		if want := int64(10 + rep - 1); c.sc.Seed != want {
			t.Errorf("cell %d: seed %d, want %d", i, c.sc.Seed, want)
		}
		if want := fmt.Sprintf("ghostbench_r%d", rep); c.schema != want {
			t.Errorf("cell %d: schema %q, want %q", i, c.schema, want)
		}
		if want := fmt.Sprintf("gb:r%d:", rep); c.prefix != want {
			t.Errorf("cell %d: prefix %q, want %q", i, c.prefix, want)
		}
		if c.faults != nil && c.faults.sc != c.sc {
			t.Errorf("cell %d: the fault plan runs another repetition's scenario", i)
		}
	}
	if got := p.cells[1].strategy + "," + p.cells[2].sc.Name; got != "write-through,lost-replies" {
		t.Errorf("order: got %s, want write-through then lost-replies", got)
	}
	if _, err := NewPlan(Config{Name: "x", Dir: "d", Duration: time.Second, Count: -1,
		Strategies: []string{"cache-aside"}, Scenarios: []*scenarios.Scenario{builtin(t, "steady-read-heavy")}}); err == nil {
		t.Error("Count -1 accepted")
	}
}

// TestRunSequential runs a sequential bench (2 repetitions, then rounds
// for the undecided cells, 4 at most) of two strategies with very
// different staleness and checks what it records: the design in
// bench.json, the first rounds complete, later rounds only for the cells
// the look left undecided, and a summary that names the method.
func TestRunSequential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs about ten short runs")
	}
	dir := filepath.Join(t.TempDir(), "seq")
	pcfg := docker.ConfigFromEnv()
	pcfg.Logf = t.Logf
	var looks []RoundInfo
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, err := Run(ctx, Config{
		Name: "seq", Dir: dir, Duration: 500 * time.Millisecond, Seed: 3, Count: 4, MinCount: 2,
		Strategies: []string{"cache-aside", "write-through"}, Scenarios: []*scenarios.Scenario{builtin(t, "write-heavy-hot-key")},
		Servers: pcfg, Observer: Observer{Round: func(r RoundInfo) { looks = append(looks, r) }},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	sd := b.Sequential
	if sd == nil || sd.First != 2 || sd.Max != 4 || sd.Method != stats.SequentialMethod || sd.Level <= 0 || sd.Level > stats.Alpha || sd.Stopped == "" {
		t.Fatalf("bench.json's sequential design: %+v", sd)
	}
	if len(looks) == 0 || looks[0].Round != 2 || looks[0].Cells != 2 {
		t.Fatalf("looks %+v: want the first after round 2, of 2 cells", looks)
	}
	// Every round after the first two holds exactly the cells the look
	// before it found undecided.
	perRound := map[int][]string{}
	for _, r := range b.Runs {
		perRound[r.Rep] = append(perRound[r.Rep], r.Strategy)
		if want := int64(3 + r.Rep - 1); r.Seed != want || r.Schema != fmt.Sprintf("ghostbench_r%d", r.Rep) {
			t.Errorf("run %+v: want seed %d and its repetition's schema", r, want)
		}
	}
	if len(perRound[1]) != 2 || len(perRound[2]) != 2 {
		t.Errorf("first rounds: %v", perRound)
	}
	for _, l := range looks {
		if next := perRound[l.Round+1]; len(next) != l.Undecided && !(l.Undecided == 0 || l.Round == sd.Max) {
			t.Errorf("look after round %d found %d undecided, round %d ran %v", l.Round, l.Undecided, l.Round+1, next)
		}
	}
	if last := looks[len(looks)-1]; sd.Rounds != last.Round || sd.Undecided != last.Undecided {
		t.Errorf("design %+v disagrees with the last look %+v", sd, last)
	}
	t.Logf("design %+v; runs per round %v", sd, perRound)
	m, err := report.RenderBench(dir, report.RenderOptions{Light: true})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sum), stats.SequentialMethod) {
		t.Errorf("summary.md does not name the method %q", stats.SequentialMethod)
	}
	_ = m
}

// TestRunPGFailoverTwice: pg-failover leaves the servers without a
// standby, so the bench checks them after the run and provisions new
// ones before the next: both runs fail over.
func TestRunPGFailoverTwice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bench")
	pcfg := docker.ConfigFromEnv()
	pcfg.Logf = t.Logf
	pcfg.Topology = docker.TopologyPGReplica
	var unhealthy []string
	obs := Observer{Unhealthy: func(err error) { unhealthy = append(unhealthy, err.Error()) }}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := Run(ctx, Config{
		Name: "failover", Dir: dir, Duration: 2 * time.Second, Seed: 1,
		Strategies: []string{"cache-aside", "version-checked"}, Scenarios: []*scenarios.Scenario{builtin(t, "pg-failover")},
		Servers: pcfg, Observer: obs,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	_, runs, err := report.LoadBench(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range runs {
		if r == nil || r.Status != record.StatusOK || len(r.Faults) != 1 || r.Faults[0].InjectError != "" || r.Faults[0].HealError != "" {
			t.Fatalf("run %d: %+v", i, r)
		}
	}
	if b.Provisions != 2 || len(unhealthy) != 1 || !strings.Contains(unhealthy[0], "no standby left") {
		t.Errorf("provisions %d, unhealthy %q; want 2 and one check that found the standby promoted", b.Provisions, unhealthy)
	}
}
