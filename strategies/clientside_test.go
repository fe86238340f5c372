package strategies_test

import (
	"context"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/strategytest"
)

// withParams is the strategy registered as name, renamed name-suffix with
// fixed parameters, to run the conformance suite on one configuration.
func withParams(t *testing.T, name, suffix string, p strategies.Params) strategies.Info {
	t.Helper()
	info, ok := strategies.Default().Lookup(name)
	if !ok {
		t.Fatalf("%s is not registered", name)
	}
	newFn := info.New
	info.Name = name + "-" + suffix
	info.Params = nil
	info.New = func(env strategies.Env) (gb.Strategy, error) {
		env.Params = p
		return newFn(env)
	}
	return info
}

// The default configurations run in TestConformance; these are the
// in-process cache configurations beyond them.
func TestConformanceLocalCaches(t *testing.T) {
	srv := servertest.Start(t)
	for _, info := range []strategies.Info{
		withParams(t, "go-redis-cache", "local", strategies.Params{"local": "true"}),
		withParams(t, "go-redis-cache", "guard", strategies.Params{"local": "true", "local-guard": "true", "local-ttl": "2s"}),
		withParams(t, "rueidis-csc", "ryw", strategies.Params{"ryw": "true", "local-ttl": "5s"}),
	} {
		t.Run(info.Name, func(t *testing.T) { strategytest.Run(t, info, srv) })
	}
}

// sessionK opens a scripted session with k instances.
func sessionK(t *testing.T, srv *docker.Servers, strategy string, params strategies.Params, ttl time.Duration, k int) *runner.Session {
	t.Helper()
	sc := &scenarios.Scenario{Name: "scripted", Keys: 4, Readers: 1, Duration: scenarios.Duration(time.Minute),
		TTL: scenarios.Duration(ttl), Seed: 1, Instances: k}
	sc.Defaults()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := runner.Open(ctx, runner.Config{Scenario: sc, Strategy: strategy, Params: params, Servers: srv})
	if err != nil {
		t.Fatalf("open session for %s: %v", strategy, err)
	}
	return s
}

// TestGoRedisCacheLocalAcrossInstances: go-redis/cache's local cache has
// no invalidation across processes, so a write on instance 0 leaves
// instance 1's copy stale until the local TTL, and no longer: a short
// local TTL bounds it.
func TestGoRedisCacheLocalAcrossInstances(t *testing.T) {
	srv := servertest.Start(t)
	const localTTL = 700 * time.Millisecond
	s := sessionK(t, srv, "go-redis-cache", strategies.Params{"local": "true", "local-ttl": localTTL.String()}, time.Minute, 2)
	ctx := tctx(t)
	r1 := gb.Actor{Kind: "reader", ID: 1, Instance: 1}
	w0 := gb.Actor{Kind: "writer", ID: 10, Instance: 0}
	s.Read(ctx, r1, 0) // instance 1 caches v0 locally
	if op := s.Write(ctx, w0, 0, 101, 5); op.Err != nil {
		t.Fatal(op.Err)
	}
	t0 := time.Now()
	v, ttl, ok := s.PeekLocal(1, 0)
	if !ok || v.Version != 0 || ttl <= 0 || ttl > localTTL {
		t.Fatalf("instance 1's local entry = %v ttl %v present %v; want the stale v0 with at most %v left", v, ttl, ok, localTTL)
	}
	if _, _, ok := s.PeekLocal(0, 0); ok {
		t.Error("the writer's own instance kept a local copy after its Delete")
	}
	if op := s.Read(ctx, r1, 0); op.Value.Version != 0 || !op.Hit {
		t.Fatalf("instance 1 read %v (hit %v) right after the write; want its stale local v0", op.Value, op.Hit)
	}
	// Past the local TTL the copy is gone and the next read sees v1.
	for time.Since(t0) < localTTL+50*time.Millisecond {
		time.Sleep(20 * time.Millisecond)
	}
	if _, _, ok := s.PeekLocal(1, 0); ok {
		t.Error("instance 1's local entry outlived its local TTL")
	}
	if op := s.Read(ctx, r1, 0); op.Value.Token != 101 {
		t.Errorf("instance 1 read %v after the local TTL, want token 101", op.Value)
	}
	m := closeSession(t, s)
	if m.Reads.Stale != 1 {
		t.Errorf("stale reads = %d, want 1 (instance 1's read inside the local TTL)", m.Reads.Stale)
	}
}
