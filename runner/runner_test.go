package runner_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// frozen is a fake strategy (a fake is fine at our own plug-in point): it
// writes through the store, but its reads always return the seed row, as a
// cache that is never invalidated would. It records what each actor asked.
type frozen struct {
	env  strategies.Env
	mu   sync.Mutex
	seqs map[gb.Actor][]string
}

func (f *frozen) note(ctx context.Context, s string) {
	a, _ := gb.ActorFrom(ctx)
	f.mu.Lock()
	f.seqs[a] = append(f.seqs[a], s)
	f.mu.Unlock()
}

func (f *frozen) Read(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	f.note(ctx, "r"+strconv.Itoa(int(key)))
	return gb.ReadResult{Hit: true}, nil
}

func (f *frozen) Write(ctx context.Context, req gb.WriteRequest) error {
	f.note(ctx, "w"+strconv.Itoa(int(req.Key))+"/"+strconv.FormatInt(int64(req.Token), 16)+"/"+strconv.FormatInt(req.Delta, 10))
	_, err := f.env.Store.Write(ctx, req, nil)
	return err
}

func (f *frozen) Close() error { return nil }

func frozenRegistry() (*strategies.Registry, *[]*frozen) {
	var made []*frozen
	r := &strategies.Registry{}
	r.Register(strategies.Info{Name: "frozen", Description: "test fake", New: func(env strategies.Env) (gb.Strategy, error) {
		f := &frozen{env: env, seqs: map[gb.Actor][]string{}}
		made = append(made, f)
		return f, nil
	}})
	return r, &made
}

func scenario(d time.Duration) *scenarios.Scenario {
	sc := &scenarios.Scenario{
		Name: "test", Keys: 20, Readers: 2, Writers: 2, WriteInterval: scenarios.Duration(time.Millisecond),
		Duration: scenarios.Duration(d), Warmup: scenarios.Duration(d / 10), TTL: scenarios.Duration(time.Minute), Seed: 5,
	}
	sc.Defaults()
	return sc
}

func run(t *testing.T, srv *docker.Servers, cfg runner.Config) *record.Run {
	t.Helper()
	cfg.Servers = srv
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := runner.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	checkInvariants(t, res)
	return res
}

// checkInvariants fails t when the run's metrics contradict themselves
// (check.Invariants, computed by the checker's Finish).
func checkInvariants(t *testing.T, res *record.Run) {
	t.Helper()
	if res != nil && res.Metrics != nil && len(res.Metrics.Violations) > 0 {
		t.Errorf("checker invariants broken: %v", res.Metrics.Violations)
	}
}

func TestFrozenCacheIsStale(t *testing.T) {
	srv := servertest.Start(t)
	reg, _ := frozenRegistry()
	res := run(t, srv, runner.Config{Scenario: scenario(2 * time.Second), Strategy: "frozen", Registry: reg})
	if res.Status != record.StatusOK {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	m := res.Metrics
	if m.Writes.Committed == 0 || m.Reads.OK == 0 {
		t.Fatalf("committed writes %d, successful reads %d: want both > 0", m.Writes.Committed, m.Reads.OK)
	}
	if m.Reads.Stale == 0 {
		t.Error("a cache that never changes served no stale read")
	}
	if m.Reads.Ghost != 0 {
		t.Errorf("ghost reads = %d, want 0 (only the committed seed row is served)", m.Reads.Ghost)
	}
	if a := m.Writes.Availability; a == nil || *a != 1 {
		t.Errorf("write availability = %v, want 1", a)
	}
	if res.Env.PostgresVersion == "" || res.Env.RedisVersion == "" || res.Env.GoVersion == "" {
		t.Errorf("environment not recorded: %+v", res.Env)
	}
}

// TestSameSeedSameSequence checks that a seed reproduces every worker's
// sequence of keys, operations, tokens and deltas (the number of operations
// depends on timing, so the common prefix is compared).
func TestSameSeedSameSequence(t *testing.T) {
	srv := servertest.Start(t)
	var seqs [2]map[gb.Actor][]string
	for i := range seqs {
		reg, made := frozenRegistry()
		res := run(t, srv, runner.Config{Scenario: scenario(2 * time.Second), Strategy: "frozen", Registry: reg})
		if res.Status != record.StatusOK {
			t.Fatalf("status %s: %s", res.Status, res.Error)
		}
		seqs[i] = (*made)[0].seqs
	}
	if len(seqs[0]) != 4 {
		t.Fatalf("%d actors recorded, want 4", len(seqs[0]))
	}
	for a, s0 := range seqs[0] {
		s1 := seqs[1][a]
		n := min(len(s0), len(s1))
		// How many operations run depends on the machine's load; a few
		// are enough to compare keys, kinds, tokens and deltas.
		if n < 5 {
			t.Fatalf("actor %v ran only %d operations", a, n)
		}
		if strings.Join(s0[:n], " ") != strings.Join(s1[:n], " ") {
			t.Errorf("actor %v: sequences differ with the same seed:\n%v\n%v", a, s0[:n], s1[:n])
		}
	}
}

func TestOpenLoop(t *testing.T) {
	srv := servertest.Start(t)
	sc := scenario(2 * time.Second)
	sc.Readers, sc.Writers, sc.Rate, sc.ReadRatio, sc.Concurrency = 0, 0, 500, 0.8, 8
	res := run(t, srv, runner.Config{Scenario: sc, Strategy: "cache-aside"})
	if res.Status != record.StatusOK {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	m := res.Metrics
	ops := m.Reads.Total + m.Writes.Attempted
	// 500/s for the 1.8 s measured: the schedule is exact, so every
	// scheduled operation runs (the bound leaves room for the edges).
	if ops < 850 || ops > 905 {
		t.Errorf("measured operations = %d, want about 900 (500/s over 1.8 s)", ops)
	}
	for _, name := range []string{"read-hit-uncorrected", "write-uncorrected"} {
		if h := m.Latency[name]; h == nil || h.Count == 0 {
			t.Errorf("open loop: histogram %s missing or empty", name)
		}
	}
}

func TestInterruptedRunKeepsResults(t *testing.T) {
	srv := servertest.Start(t)
	reg, _ := frozenRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := runner.Config{Scenario: scenario(time.Minute), Strategy: "frozen", Registry: reg, Servers: srv}
	cfg.Progress = func(p runner.Progress) {
		if p.Ops > 0 {
			cancel()
		}
	}
	cfg.Scenario.Warmup = 0
	res, err := runner.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("interrupted run returned an error instead of partial results: %v", err)
	}
	if res.Status != record.StatusInterrupted {
		t.Errorf("status = %q, want interrupted", res.Status)
	}
	if res.Metrics == nil || res.Metrics.Reads.Total == 0 {
		t.Errorf("interrupted run kept no metrics")
	}
}

func TestBadConfig(t *testing.T) {
	srv := servertest.Start(t)
	for _, tc := range []struct {
		name string
		cfg  runner.Config
		want string
	}{
		{"unknown strategy", runner.Config{Scenario: scenario(time.Second), Strategy: "nope"}, `strategy "nope": unknown; allowed:`},
		{"bad param", runner.Config{Scenario: scenario(time.Second), Strategy: "async-invalidation", Params: strategies.Params{"x": "1"}}, `unknown parameter "x"`},
		{"no faults builder", runner.Config{Scenario: func() *scenarios.Scenario {
			s, _ := scenarios.Builtin("redis-outage")
			return s
		}(), Strategy: "cache-aside"}, "no fault builder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Servers = srv
			_, err := runner.Run(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
