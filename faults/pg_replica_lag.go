package faults

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
)

func enumParam(name, def, help string, values ...string) Param {
	return Param{Name: name, Default: def, Help: help, Allowed: "one of " + fmt.Sprint(values),
		Check: func(v string) error {
			if !contains(values, v) {
				return fmt.Errorf("not allowed")
			}
			return nil
		}}
}

func pgReplicaLagKind() Kind {
	return Kind{
		Name:        "pg-replica-lag",
		Description: "the PostgreSQL read replica falls behind: its replication link delayed by latency (mode latency), or its replay paused (mode pause)",
		Params: []Param{
			enumParam("mode", "latency", "latency: delay the replication connection at the relay; pause: pg_wal_replay_pause() on the replica", "latency", "pause"),
			durationParam("latency", "100ms", "mode latency: how long every byte of the replication link is held", false),
		},
		Needs:     static(0),
		Topology:  docker.TopologyPGReplica,
		Exclusive: "the PostgreSQL replica",
		New:       newPGReplicaLag,
	}
}

// pgReplicaLag makes the standby lag. In mode latency the relay that
// carries the standby's replication connection holds every byte for the
// latency, both ways, so the standby replays each commit that much later
// (the primary does not wait for it: synchronous_commit without
// synchronous standbys). In mode pause it pauses WAL replay on the
// standby, which then serves the state of the moment it paused. Heal
// removes the delay or resumes replay, and returns once the standby has
// replayed everything the primary had written at that moment.
type pgReplicaLag struct {
	env     Env
	pause   bool
	latency time.Duration
	link    *docker.Relay
	replica *pgx.Conn
	primary *pgx.Conn
}

func newPGReplicaLag(ctx context.Context, env Env, p Params) (fault.Fault, error) {
	rep := env.Real.Topology.PostgresReplica
	if rep == nil {
		return nil, fmt.Errorf("the servers have no PostgreSQL replica")
	}
	f := &pgReplicaLag{env: env, pause: p["mode"] == "pause", latency: p.Duration("latency"), link: env.Real.Topology.PostgresLink}
	if !f.pause && f.link == nil {
		return nil, fmt.Errorf("mode latency needs the replication relay of the local provider; use mode pause on these servers")
	}
	var err error
	// Sessions of the fault's own, opened before the load.
	if f.replica, err = pgx.Connect(ctx, rep.URL); err != nil {
		return nil, fmt.Errorf("connect to the replica %s: %w", rep.Redacted(), err)
	}
	if f.primary, err = pgx.Connect(ctx, env.Real.Postgres.URL); err != nil {
		f.replica.Close(ctx)
		return nil, fmt.Errorf("connect to the primary %s: %w", env.Real.Postgres.Redacted(), err)
	}
	return f, nil
}

func (f *pgReplicaLag) Name() string { return "pg-replica-lag" }

func (f *pgReplicaLag) Inject(ctx context.Context) error {
	if !f.pause {
		f.link.SetDelay(f.latency)
		return nil
	}
	if _, err := f.replica.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		return fmt.Errorf("pg_wal_replay_pause: %w", err)
	}
	return pollUntil(ctx, 10*time.Second, "replay paused", func(ctx context.Context) (bool, error) {
		var st string
		err := f.replica.QueryRow(ctx, "SELECT pg_get_wal_replay_pause_state()").Scan(&st)
		return err == nil && st == "paused", err
	})
}

func (f *pgReplicaLag) Heal(ctx context.Context) error {
	if f.link != nil {
		f.link.SetDelay(0)
	}
	if _, err := f.replica.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		return fmt.Errorf("pg_wal_replay_resume: %w", err)
	}
	var lsn string
	if err := f.primary.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		return fmt.Errorf("primary WAL position: %w", err)
	}
	return pollUntil(ctx, 20*time.Second, "replica caught up with "+lsn, func(ctx context.Context) (bool, error) {
		var ok bool
		err := f.replica.QueryRow(ctx, "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", lsn).Scan(&ok)
		return ok, err
	})
}

// Close closes the fault's sessions.
func (f *pgReplicaLag) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f.replica.Close(ctx)
	f.primary.Close(ctx)
	return nil
}
