package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ghostbench/ghostbench/fault"
)

func pgConnKillKind() Kind {
	return Kind{
		Name:        "pg-conn-kill",
		Description: "the run's own PostgreSQL sessions (its pool's backend pids) terminated (pg_terminate_backend), once or repeatedly through the window",
		Params: []Param{
			durationParam("every", "0", "repeat the kill at this interval until heal; 0 kills once", true),
		},
		Needs:       static(0),
		WholeServer: "postgres",
		New:         newPGConnKill,
	}
}

// killQuery terminates the sessions among the pids $1 (the run's pool's
// backends, recorded as each connection was made) that are still there,
// never the session that asks, and returns the pids it signalled. No
// session is chosen by name: another run's, or any client that calls
// itself "ghostbench", is left alone. The victims are chosen first (a
// materialized CTE) so that the planner cannot call pg_terminate_backend
// before the filter.
const killQuery = `WITH victims AS MATERIALIZED (
  SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int4[]) AND pid <> pg_backend_pid()
)
SELECT coalesce(array_agg(pid), '{}') FROM victims WHERE pg_terminate_backend(pid)`

// goneQuery counts the sessions among $1 still there.
const goneQuery = `SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)`

// pgConnKill terminates the run's own PostgreSQL sessions (the backend
// pids of its pool, Env.Backends) with
// pg_terminate_backend, from a session of its own (application_name
// "ghostbench-faults", opened when the fault is built). Inject returns once
// the first batch is gone from pg_stat_activity; with every > 0 it keeps
// killing on that interval until Heal.
//
// The run's pool meets a terminated connection only when it next uses it:
// that operation fails. Heal stops the loop, waits until it has exited,
// then pings every idle connection of the run's pool and throws away the
// dead ones, so that the failures the fault causes fall inside its window
// and what the harness reads after the run (audit, ledger) does not meet a
// connection killed long before.
type pgConnKill struct {
	sess  *pgSession
	every time.Duration
	pool  *pgxpool.Pool // the run's pool; may be nil
	pids  func() []uint32
	log   func(msg string, args ...any)

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	killed int
}

func newPGConnKill(ctx context.Context, env Env, p Params) (fault.Fault, error) {
	sess, err := openSession(ctx, env.Real.Postgres.URL, killQuery, goneQuery)
	if err != nil {
		return nil, err
	}
	if env.Backends == nil {
		sess.Close()
		return nil, errors.New("the run records no backend pids of its pool (fault.Env.Backends): pg-conn-kill kills only those")
	}
	f := &pgConnKill{sess: sess, every: p.Duration("every"), pool: env.DB, pids: env.Backends.PIDs, log: func(string, ...any) {}}
	if env.Log != nil {
		f.log = env.Log.Debug
	}
	return f, nil
}

func (f *pgConnKill) Name() string { return "pg-conn-kill" }

func (f *pgConnKill) Inject(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel != nil {
		return nil // in effect already
	}
	t0 := time.Now()
	pids, err := f.kill(ctx)
	if err != nil {
		return err
	}
	f.log("pg-conn-kill: terminated", "sessions", len(pids), "took", time.Since(t0))
	err = pollEvery(ctx, "terminated sessions are gone", pgAttempt, func(ctx context.Context) error {
		return f.sess.do(ctx, func(conn *pgx.Conn) error {
			var left int
			if err := conn.QueryRow(ctx, goneQuery, pids).Scan(&left); err != nil {
				return err
			}
			if left > 0 {
				return fmt.Errorf("%d still there", left)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	f.cancel, f.done = repeatEvery(ctx, f.every,
		func(ctx context.Context) error { _, err := f.kill(ctx); return err },
		func(err error) { f.log("pg-conn-kill: kill failed", "err", err) })
	return nil
}

// kill terminates the run's sessions and returns their pids.
func (f *pgConnKill) kill(ctx context.Context) ([]int32, error) {
	own := f.pids()
	victims := make([]int32, len(own))
	for i, p := range own {
		victims[i] = int32(p)
	}
	var pids []int32
	err := f.sess.do(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, killQuery, victims).Scan(&pids)
	})
	if err != nil {
		return nil, fmt.Errorf("pg_terminate_backend: %w", err)
	}
	f.killed += len(pids)
	return pids, nil
}

// Heal stops the kill loop, waits until it has exited, and sweeps the
// run's pool of terminated connections.
func (f *pgConnKill) Heal(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel == nil {
		return nil // not in effect
	}
	f.cancel()
	if f.done != nil {
		<-f.done
	}
	f.cancel, f.done = nil, nil
	if f.pool == nil {
		return nil
	}
	for _, c := range f.pool.AcquireAllIdle(ctx) {
		// A terminated connection fails the ping and is closed by it;
		// the pool destroys closed connections on Release.
		_ = c.Ping(ctx)
		c.Release()
	}
	return nil
}

// Close ends the fault's own session.
func (f *pgConnKill) Close() error { return f.sess.Close() }
