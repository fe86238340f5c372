package strategies_test

import (
	"context"
	"strings"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/strategytest"
)

func TestConformance(t *testing.T) {
	srv := servertest.Start(t)
	for _, info := range strategies.Default().All() {
		t.Run(info.Name, func(t *testing.T) { strategytest.Run(t, info, srv) })
	}
}

func TestRegistry(t *testing.T) {
	r := strategies.Default()
	for _, name := range []string{"db-only", "cache-aside", "async-invalidation", "write-through", "soft-write-through", "update-after-commit", "delete-before-update"} {
		if _, ok := r.Lookup(name); !ok {
			t.Errorf("built-in strategy %q is not registered", name)
		}
	}
	if _, err := r.New("cache-asid", strategies.Env{}); err == nil {
		t.Error("New with an unknown name succeeded")
	}
	_, err := r.New("async-invalidation", strategies.Env{Params: strategies.Params{"lagg": "1s"}})
	if err == nil || !strings.Contains(err.Error(), `"lagg"`) || !strings.Contains(err.Error(), "allowed: lag") {
		t.Errorf("unknown parameter error = %v, want it to name the parameter and the allowed ones", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a duplicate name did not panic")
		}
	}()
	r.Register(strategies.Info{Name: "cache-aside", New: func(strategies.Env) (gb.Strategy, error) { return nil, nil }})
}

// session opens a scripted session on srv for strategy.
func session(t *testing.T, srv *docker.Servers, strategy string, params strategies.Params, ttl time.Duration) *runner.Session {
	t.Helper()
	sc := &scenarios.Scenario{Name: "scripted", Keys: 4, Readers: 1, Duration: scenarios.Duration(time.Minute), TTL: scenarios.Duration(ttl), Seed: 1}
	sc.Defaults()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := runner.Open(ctx, runner.Config{Scenario: sc, Strategy: strategy, Params: params, Servers: srv})
	if err != nil {
		t.Fatalf("open session for %s: %v", strategy, err)
	}
	return s
}

func closeSession(t *testing.T, s *runner.Session) *check.Metrics {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := s.Close(ctx)
	if res.Status != record.StatusOK {
		t.Fatalf("session ended with status %s: %s", res.Status, res.Error)
	}
	return res.Metrics
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var (
	reader1 = gb.Actor{Kind: "reader", ID: 1}
	reader2 = gb.Actor{Kind: "reader", ID: 2}
	writer1 = gb.Actor{Kind: "writer", ID: 10}
)

// staleSet forces the cache-aside stale set: reader 1 misses and reads v0
// from the database, is held before its SET; the writer commits v1 and
// deletes the key; then reader 1's SET of v0 lands; reader 2 reads.
func staleSet(t *testing.T, s *runner.Session) {
	t.Helper()
	ctx := tctx(t)
	g := s.Barriers.Hold("reader", 1, gb.PointBeforeCacheSet, 0)
	done := make(chan gb.Op, 1)
	go func() { done <- s.Read(ctx, reader1, 0) }()
	if err := g.Wait(ctx); err != nil {
		t.Fatalf("reader 1 never reached %s: %v", gb.PointBeforeCacheSet, err)
	}
	if op := s.Write(ctx, writer1, 0, 101, 5); op.Err != nil {
		t.Fatalf("write: %v", op.Err)
	}
	g.Open()
	if op := <-done; op.Err != nil || op.Value.Version != 0 {
		t.Fatalf("reader 1 = %v, %v; want v0 and no error", op.Value, op.Err)
	}
	s.Read(ctx, reader2, 0)
}

func TestCacheAsideStaleSet(t *testing.T) {
	srv := servertest.Start(t)
	s := session(t, srv, "cache-aside", nil, time.Minute)
	staleSet(t, s)
	m := closeSession(t, s)
	if m.Audit.StaleUntilTTL < 1 {
		t.Errorf("stale-until-TTL keys = %d, want at least 1", m.Audit.StaleUntilTTL)
	}
	if m.Reads.Stale != 1 {
		t.Errorf("stale reads = %d, want 1 (reader 2's hit on v0)", m.Reads.Stale)
	}
	if m.Reads.Ghost != 0 {
		t.Errorf("ghost reads = %d, want 0", m.Reads.Ghost)
	}
}

func TestAsyncInvalidationLag(t *testing.T) {
	const lag = 280 * time.Millisecond
	srv := servertest.Start(t)
	s := session(t, srv, "async-invalidation", strategies.Params{"lag": lag.String()}, time.Minute)
	ctx := tctx(t)
	s.Read(ctx, reader1, 0) // fill v0
	w := s.Write(ctx, writer1, 0, 201, 7)
	if w.Err != nil {
		t.Fatal(w.Err)
	}
	// Poll until the read is fresh, then a little longer.
	deadline := time.Now().Add(lag + 2*time.Second)
	fresh := 0
	for time.Now().Before(deadline) && fresh < 5 {
		if op := s.Read(ctx, reader2, 0); op.Err == nil && op.Value.Version == 1 {
			fresh++
		}
		time.Sleep(10 * time.Millisecond)
	}
	m := closeSession(t, s)
	if m.Reads.Stale == 0 {
		t.Fatal("no stale read during the invalidation lag")
	}
	maxAge := time.Duration(m.Reads.StalenessAge.Max) * time.Microsecond
	if maxAge < lag/2 || maxAge > lag+250*time.Millisecond {
		t.Errorf("max staleness age = %v, want about the lag %v", maxAge, lag)
	}
	if m.Audit.StaleUntilTTL != 0 || m.Audit.GhostUntilTTL != 0 {
		t.Errorf("after drain: stale-until-TTL %d, ghost-until-TTL %d; want 0 and 0", m.Audit.StaleUntilTTL, m.Audit.GhostUntilTTL)
	}
}

func TestWriteThroughCommitFailsIsGhost(t *testing.T) {
	srv := servertest.Start(t)
	s := session(t, srv, "write-through", nil, time.Minute)
	ctx := tctx(t)
	const bad = gb.Token(301)
	s.FaultEnv().Store.SetFailCommit(func(_ gb.Key, tok gb.Token) bool { return tok == bad })
	w := s.Write(ctx, writer1, 0, bad, 9)
	if w.Err == nil {
		t.Fatal("the write whose COMMIT was made to fail succeeded")
	}
	r := s.Read(ctx, reader1, 0)
	if r.Err != nil || r.Value.Token != bad || !r.Hit {
		t.Fatalf("read = %v hit=%v err=%v; want the rolled-back value from the cache", r.Value, r.Hit, r.Err)
	}
	m := closeSession(t, s)
	if m.Reads.Ghost != 1 {
		t.Errorf("ghost reads = %d, want 1", m.Reads.Ghost)
	}
	if m.Audit.GhostUntilTTL != 1 {
		t.Errorf("ghost-until-TTL keys = %d, want 1", m.Audit.GhostUntilTTL)
	}
	if m.Writes.Committed != 0 || m.Writes.Attempted != 1 {
		t.Errorf("writes committed/attempted = %d/%d, want 0/1", m.Writes.Committed, m.Writes.Attempted)
	}
}

// TestTakingTurnsIsClean runs each strategy with operations that never
// overlap (background work drained after every write, as part of its
// turn): every anomaly class must be zero.
func TestTakingTurnsIsClean(t *testing.T) {
	srv := servertest.Start(t)
	for _, name := range []string{"cache-aside", "async-invalidation", "write-through", "soft-write-through", "update-after-commit", "delete-before-update", "db-only"} {
		t.Run(name, func(t *testing.T) {
			var p strategies.Params
			if name == "async-invalidation" {
				p = strategies.Params{"lag": "20ms"}
			}
			s := session(t, srv, name, p, time.Minute)
			ctx := tctx(t)
			rng := scenarios.NewRand(7, 0)
			tok := gb.Token(1000)
			for i := 0; i < 60; i++ {
				k := gb.Key(rng.IntN(4))
				if rng.IntN(3) == 0 {
					tok++
					if op := s.Write(ctx, writer1, k, tok, 1); op.Err != nil {
						t.Fatalf("write: %v", op.Err)
					}
					drain(t, s)
				} else if op := s.Read(ctx, reader1, k); op.Err != nil {
					t.Fatalf("read: %v", op.Err)
				}
			}
			m := closeSession(t, s)
			if m.Reads.Stale+m.Reads.Ghost+m.Reads.Early+m.Audit.StaleUntilTTL+m.Audit.GhostUntilTTL != 0 {
				t.Errorf("anomalies with operations taking turns: stale %d ghost %d early %d stale-until-TTL %d ghost-until-TTL %d",
					m.Reads.Stale, m.Reads.Ghost, m.Reads.Early, m.Audit.StaleUntilTTL, m.Audit.GhostUntilTTL)
			}
		})
	}
}

func drain(t *testing.T, s *runner.Session) {
	t.Helper()
	if err := s.Drain(tctx(t)); err != nil {
		t.Fatalf("drain: %v", err)
	}
}
