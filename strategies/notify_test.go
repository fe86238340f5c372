package strategies_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/servertest"
)

// TestNotifyInvalidationLosesWhileDisconnected shows what LISTEN/NOTIFY
// loses: the listener is held while it applies key 0's invalidation, its
// connection is killed, key 1 is written while nobody listens, then the
// listener goes on and reconnects. Key 1's notification is gone: its old
// value stays cached (stale until TTL). A write after the reconnection is
// invalidated again.
func TestNotifyInvalidationLosesWhileDisconnected(t *testing.T) {
	srv := servertest.Start(t)
	db := adminPool(t, srv)
	s := session(t, srv, "notify-invalidation", nil, time.Minute)
	ctx := tctx(t)
	for k := gb.Key(0); k < 3; k++ {
		if op := s.Read(ctx, reader1, k); op.Err != nil {
			t.Fatal(op.Err)
		}
	}
	pid := listenerPID(t, db, 0)
	g := s.Barriers.Hold("worker", -1, gb.PointBeforeApply, 0)
	if op := s.Write(ctx, writer1, 0, 401, 1); op.Err != nil {
		t.Fatal(op.Err)
	}
	if err := g.Wait(ctx); err != nil {
		t.Fatalf("the listener never got key 0's notification: %v", err)
	}
	terminate(t, db, pid)
	if op := s.Write(ctx, writer1, 1, 402, 1); op.Err != nil { // nobody listens
		t.Fatal(op.Err)
	}
	g.Open()
	drain(t, s)
	if again := listenerPID(t, db, pid); again == pid {
		t.Fatalf("the listener did not reconnect (pid %d)", pid)
	}
	if op := s.Write(ctx, writer1, 2, 403, 1); op.Err != nil {
		t.Fatal(op.Err)
	}
	drain(t, s)
	r0, r1, r2 := s.Read(ctx, reader1, 0), s.Read(ctx, reader1, 1), s.Read(ctx, reader1, 2)
	if r0.Value.Version != 1 || r2.Value.Version != 1 {
		t.Errorf("keys 0 and 2 read %v and %v, want v1 for both (invalidated)", r0.Value, r2.Value)
	}
	if !r1.Hit || r1.Value.Version != 0 {
		t.Errorf("key 1 read %v hit=%v, want the stale v0 from the cache (its notification was lost)", r1.Value, r1.Hit)
	}
	m := closeSession(t, s)
	if m.Audit.StaleUntilTTL != 1 {
		t.Errorf("stale-until-TTL keys = %d, want 1 (key 1)", m.Audit.StaleUntilTTL)
	}
	if m.Reads.Stale != 1 {
		t.Errorf("stale reads = %d, want 1 (key 1)", m.Reads.Stale)
	}
}

// listenerPID waits until exactly one notify-invalidation listener other
// than not is connected and returns its backend pid.
func listenerPID(t *testing.T, db *pgxpool.Pool, not int32) int32 {
	t.Helper()
	var pid int32
	poll(t, "a notify-invalidation listener", func() bool {
		pids, err := pids(db, `SELECT pid FROM pg_stat_activity
WHERE query LIKE 'LISTEN "gbnotify\_%' AND pid <> pg_backend_pid() AND pid <> $1`, not)
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) > 1 {
			t.Fatalf("%d listeners connected (%v), want 1", len(pids), pids)
		}
		if len(pids) == 1 {
			pid = pids[0]
		}
		return len(pids) == 1
	})
	return pid
}

func pids(db *pgxpool.Pool, q string, args ...any) ([]int32, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return out, err
}
