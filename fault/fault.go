// Package fault is the contract between the runner and the fault
// injectors: what a fault is (Fault), when it runs (Step), what it is built
// from (Env) and how a prepared schedule hands its steps to a run
// (Schedule). Both sides import it and neither imports the other: package
// runner schedules Steps and records their windows, package faults
// implements the built-in kinds, and a library user may bring their own.
package fault

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/store"
)

// HarnessAppName starts the application_name of the runner's PostgreSQL
// sessions (the run's owner id follows it), so that people reading
// pg_stat_activity can tell them. No fault chooses sessions by it:
// pg-conn-kill goes by the backend pids in Env.Backends.
const HarnessAppName = "ghostbench"

// Env is what fault injectors get to work with: the run's servers and
// clients, once they exist.
type Env struct {
	Servers *docker.Servers
	Store   *store.Store
	DB      *pgxpool.Pool
	Redis   redis.UniversalClient
	Hooks   *gb.Hooks
	Clock   *gb.Clock
	Prefix  string
	Keys    int
	Log     *slog.Logger
	// Strategy is the run's strategy, for faults that act on it (the
	// application process of a foreign strategy).
	Strategy gb.Strategy
	// Backends are the backend pids of the run's PostgreSQL pool (DB),
	// recorded as each connection is made: the sessions a fault that
	// kills the run's sessions (pg-conn-kill) may kill, and no other.
	Backends *docker.Backends
}

// Fault is one injectable fault. Inject returns once the fault is in effect;
// Heal returns once its absence is confirmed (e.g. Redis answers again). Heal
// must be idempotent and safe to call when Inject failed or never ran.
type Fault interface {
	Name() string
	Inject(ctx context.Context) error
	Heal(ctx context.Context) error
}

// Step schedules a fault: injected At after the load starts, healed For
// later. Params are the effective parameters, for the run record.
type Step struct {
	At, For time.Duration
	Fault   Fault
	Params  map[string]string
}

// Schedule is a fault schedule prepared for runs (faults.Setup is one).
// BuildFaults builds its steps for one run against that run's clients,
// once they exist and before the load starts; it returns them in schedule
// order. An error aborts the run before anything was measured.
type Schedule interface {
	BuildFaults(ctx context.Context, env Env) ([]Step, error)
}
