// Command customstrategy shows how to put your own caching strategy
// through ghostbench using only its public API: the strategy below is
// written against the root package (Strategy, Hooks, points) and
// strategies.Env (store, cache, TTL), registered in a Registry beside the
// built-in ones, and run through a scenario with runner.Run on servers
// provisioned by package docker.
//
// The strategy, refresh-on-write, is one people write by hand: commit,
// delete the key, then read the row back and put it in the cache so the
// next read hits. The refill has its own race: a writer's refill of a row
// it read before another writer's commit can land after that writer's
// DEL, and the old value then stays until its TTL. The scenario (hot
// keys, unpaced writers) is chosen to make that visible.
//
// Usage:
//
//	go run ./examples/customstrategy [-scenario write-heavy-hot-key] [-duration 3s]
//
// Servers come from GHOSTBENCH_PROVIDER, GHOSTBENCH_POSTGRES_URL and
// GHOSTBENCH_REDIS_URL, as for ghostbench itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// Info describes refresh-on-write for a strategies.Registry.
func Info() strategies.Info {
	return strategies.Info{
		Name:        "refresh-on-write",
		Description: "example: UPDATE+COMMIT, DEL, then SELECT the row and SET it (warm the cache); reads as cache-aside",
		Points: []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointAfterCommit,
			gb.PointBeforeCacheDel, gb.PointAfterCacheDel},
		New: newRefreshOnWrite,
	}
}

// refreshOnWrite is the example strategy. It keeps its entries in the
// shared strategies.Cache layout, so the harness can inspect them (Peek)
// for the convergence prober and the end-of-run audit.
type refreshOnWrite struct {
	env   strategies.Env
	cache *strategies.Cache
}

func newRefreshOnWrite(env strategies.Env) (gb.Strategy, error) {
	return &refreshOnWrite{env: env, cache: strategies.NewCache(env)}, nil
}

// warn reports an error that does not fail the operation.
func (s *refreshOnWrite) warn(key gb.Key, err error) {
	if s.env.Warn != nil && err != nil {
		s.env.Warn(key, err)
	}
}

// Read is cache-aside's: GET; on a miss SELECT, then SET with the TTL. The
// interleaving points let a scenario or a test stop the read where races
// happen.
func (s *refreshOnWrite) Read(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	v, ok, err := s.cache.Get(ctx, key)
	if err == nil && ok {
		return gb.ReadResult{Value: v, Hit: true}, nil
	}
	if err != nil {
		s.warn(key, err) // a cache outage must not fail reads
	}
	v, err = s.env.Store.Read(ctx, key)
	if err != nil {
		return gb.ReadResult{}, err
	}
	if err := s.env.Hooks.At(ctx, gb.PointAfterDBRead, key); err != nil {
		return gb.ReadResult{}, err
	}
	s.set(ctx, key, v)
	return gb.ReadResult{Value: v}, nil
}

// Write commits through the store (the only way to write a row: it records
// the commit instants the checker needs), deletes the key, and refills it
// from a fresh SELECT.
func (s *refreshOnWrite) Write(ctx context.Context, req gb.WriteRequest) error {
	if _, err := s.env.Store.Write(ctx, req, nil); err != nil {
		return err
	}
	// From here on the write has committed: cache errors are warnings.
	if err := s.env.Hooks.At(ctx, gb.PointAfterCommit, req.Key); err != nil {
		s.warn(req.Key, err)
		return nil
	}
	if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheDel, req.Key); err != nil {
		s.warn(req.Key, err)
		return nil
	}
	if err := s.cache.Del(ctx, req.Key); err != nil {
		s.warn(req.Key, err)
		return nil
	}
	if err := s.env.Hooks.At(ctx, gb.PointAfterCacheDel, req.Key); err != nil {
		s.warn(req.Key, err)
		return nil
	}
	v, err := s.env.Store.Read(ctx, req.Key)
	if err != nil {
		s.warn(req.Key, err)
		return nil
	}
	s.set(ctx, req.Key, v)
	return nil
}

func (s *refreshOnWrite) set(ctx context.Context, key gb.Key, v gb.Value) {
	if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheSet, key); err != nil {
		s.warn(key, err)
		return
	}
	if err := s.cache.Set(ctx, key, v); err != nil {
		s.warn(key, err)
	}
}

// Peek implements ghostbench.Inspector, so the audit sees the cache.
func (s *refreshOnWrite) Peek(ctx context.Context, key gb.Key) (gb.Value, time.Duration, bool, error) {
	return s.cache.Peek(ctx, key)
}

// Close has no background work to stop.
func (s *refreshOnWrite) Close() error { return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "customstrategy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("customstrategy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("scenario", "write-heavy-hot-key", "built-in scenario to run")
	dur := fs.Duration("duration", 3*time.Second, "run duration (the scenario's own is replaced)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sc, ok := scenarios.Builtin(*name)
	if !ok {
		return fmt.Errorf("unknown scenario %q; built-in: %v", *name, scenarios.Names())
	}
	sc.Duration = scenarios.Duration(*dur)
	sc.Warmup = scenarios.Duration(*dur / 5)
	sc.Faults = nil // no fault builder here

	reg := strategies.Default() // the built-in strategies, plus ours
	reg.Register(Info())

	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	srv, err := docker.Provision(pctx, docker.ConfigFromEnv())
	cancel()
	if err != nil {
		return err
	}
	defer srv.Close()

	res, err := runner.Run(ctx, runner.Config{Scenario: sc, Strategy: Info().Name, Registry: reg, Servers: srv})
	if err != nil {
		return err
	}
	if res.Metrics == nil {
		return errors.New("the run measured nothing: " + res.Error)
	}
	m := res.Metrics
	fmt.Fprintf(stdout, "strategy %s, scenario %s (%v), status %s\n", res.Strategy, res.Scenario, *dur, res.Status)
	fmt.Fprintf(stdout, "reads:  %d ok, %d hits, %d stale, %d ghost\n", m.Reads.OK, m.Reads.Hits, m.Reads.Stale, m.Reads.Ghost)
	fmt.Fprintf(stdout, "writes: %d committed of %d attempted\n", m.Writes.Committed, m.Writes.Attempted)
	fmt.Fprintf(stdout, "audit:  %d keys stale until TTL, %d ghost until TTL\n", m.Audit.StaleUntilTTL, m.Audit.GhostUntilTTL)
	if res.Status != record.StatusOK {
		return fmt.Errorf("run ended with status %s: %s", res.Status, res.Error)
	}
	return nil
}
