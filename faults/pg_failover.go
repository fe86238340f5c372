package faults

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/record"
)

func pgFailoverKind() Kind {
	return Kind{
		Name: "pg-failover",
		Description: "the PostgreSQL primary is killed and its streaming standby promoted; the clients' relay is pointed at the new primary. " +
			"Logical replication slots stay behind (PostgreSQL 15 keeps them on the primary only)",
		Needs:     static(0),
		Topology:  docker.TopologyPGReplica,
		Exclusive: "the PostgreSQL primary",
		New:       newPGFailover,
	}
}

// pgFailover is a PostgreSQL failover as an operator (or Patroni) does
// it: the primary dies (SIGKILL, its connections end at once), the
// standby is promoted (pg_promote), and the address clients use (the
// front relay, a stand-in for a virtual IP or a proxy) is pointed at it;
// clients that reconnect then write to the new primary. Writes fail only
// between the kill and the first successful reconnect. The standby has
// every commit it had replayed when the primary died: with asynchronous
// replication a commit acknowledged in the last instants may be lost.
// What the new primary does not have is what lived on the primary only:
// logical replication slots. Heal returns once the clients' address
// reaches a primary that accepts writes; the old primary stays down, so
// the servers have no standby afterwards (a bench provisions new ones
// before the next run).
type pgFailover struct {
	env      Env
	front    *docker.Relay
	primary  *docker.Server
	replica  *docker.Server
	log      *eventLog
	killed   bool
	promoted bool
}

func newPGFailover(_ context.Context, env Env, _ Params) (fault.Fault, error) {
	t := env.Real.Topology
	if t.PostgresReplica == nil {
		return nil, errors.New("the servers have no PostgreSQL standby")
	}
	if t.PostgresFront == nil {
		return nil, errors.New("the clients reach PostgreSQL without a relay to point at the new primary (only the local provider has one)")
	}
	if env.Real.Postgres.Control == nil {
		return nil, errors.New("the PostgreSQL primary has no Control (not started by the harness)")
	}
	return &pgFailover{env: env, front: t.PostgresFront, primary: env.Real.Postgres, replica: t.PostgresReplica, log: newEventLog(env)}, nil
}

func (f *pgFailover) Name() string { return "pg-failover" }

// Events implements the optional interface the runner records.
func (f *pgFailover) Events() []record.FaultEvent { return f.log.Events() }

// Inject kills the primary and promotes the standby. Once the primary is
// dead the promotion is carried through even when ctx ends (a failover
// left half done leaves no primary at all), within failoverBound.
func (f *pgFailover) Inject(ctx context.Context) error {
	if f.killed {
		return errors.New("pg-failover: the servers have no standby left (one failover per set of servers)")
	}
	var ok bool
	if err := queryReplica(ctx, f.replica.URL, "SELECT pg_is_in_recovery()", &ok); err != nil || !ok {
		return fmt.Errorf("pg-failover: the standby %s is not a standby (in recovery %v): %v", f.replica.Addr, ok, err)
	}
	if err := f.primary.Control.Kill(ctx); err != nil {
		return fmt.Errorf("pg-failover: kill the primary: %w", err)
	}
	f.front.Cut() // what a dead host's connections do, at once
	f.killed = true
	f.log.add("primary killed")
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), failoverBound)
	defer cancel()
	return f.promote(pctx)
}

// promote promotes the standby and points the clients' relay at it.
func (f *pgFailover) promote(ctx context.Context) error {
	var ok bool
	if err := queryReplica(ctx, f.replica.URL, "SELECT pg_promote(true, 30)", &ok); err != nil || !ok {
		return fmt.Errorf("pg-failover: promote the standby %s: promoted %v: %v", f.replica.Addr, ok, err)
	}
	f.log.add("standby promoted")
	f.front.SetUpstream(f.replica.Addr)
	f.promoted = true
	f.log.add("clients' address points at the new primary")
	return nil
}

// Heal finishes a promotion that Inject could not (and fails if that
// fails again), then returns once the clients' address reaches a primary
// that accepts writes.
func (f *pgFailover) Heal(ctx context.Context) error {
	if !f.killed {
		return nil
	}
	if !f.promoted {
		if err := f.promote(ctx); err != nil {
			return err
		}
	}
	return pollUntil(ctx, failoverBound, "a writable primary behind the clients' address", func(ctx context.Context) (bool, error) {
		var inRecovery bool
		err := queryReplica(ctx, f.primary.URL, "SELECT pg_is_in_recovery()", &inRecovery)
		return err == nil && !inRecovery, err
	})
}

// queryReplica runs query on a connection of its own to url and scans
// its one value into dst.
func queryReplica(ctx context.Context, url, query string, dst any) error {
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.QueryRow(ctx, query).Scan(dst)
}
