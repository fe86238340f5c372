package runner

import (
	"context"
	"fmt"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"

	"github.com/ghostbench/ghostbench/store"
)

// openReplica opens a pool on the PostgreSQL read replica when the
// servers have one, and returns a store that reads through it (for
// fill-from=replica), after waiting until the replica has replayed the
// schema the run just seeded. It returns nil without a replica.
func (r *run) openReplica(ctx context.Context, workers int) (*store.Store, error) {
	rep := r.cfg.Servers.Topology.PostgresReplica
	if rep == nil {
		return nil, nil
	}
	db, err := r.openDB(ctx, workers+8, docker.OnServer(rep))
	if err != nil {
		return nil, fmt.Errorf("read replica: %w", err)
	}
	r.replicaDB = db
	// Its reads are the fills' database reads: recorded like the
	// primary's, on the run's clock.
	st, err := store.New(db, store.Options{Schema: r.cfg.Schema, Clock: r.clock,
		Recorder: dbReadRecorder{Recorder: gb.NopRecorder{}, load: r.dbload}})
	if err != nil {
		return nil, err
	}
	// The seed was committed on the primary; the first fills must find
	// it, not a previous run's rows: wait until the replica has replayed
	// the primary's WAL up to now.
	var lsn string
	if err := r.db.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		return nil, fmt.Errorf("primary WAL position: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		var caught bool
		err := db.QueryRow(wctx, "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", lsn).Scan(&caught)
		if err == nil && caught {
			return st, nil
		}
		if wctx.Err() != nil {
			return nil, fmt.Errorf("read replica %s has not replayed the seeded rows (up to %s) within 30s: %v", rep.Redacted(), lsn, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
