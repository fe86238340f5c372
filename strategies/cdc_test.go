package strategies_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/store"
	"github.com/ghostbench/ghostbench/strategies"
)

func TestCDCInvalidation(t *testing.T) {
	srv := servertest.Start(t)
	db := adminPool(t, srv)

	// A slot left behind by an instance that died before Close (on the
	// same schema) retains WAL without bound: the next instance drops it.
	t.Run("ReapsLeftOverSlot", func(t *testing.T) {
		const dead = "gbcdc_ghostbench_deadbeef"
		ctx := tctx(t)
		if _, err := db.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, dead); err != nil {
			t.Fatal(err)
		}
		s := session(t, srv, "cdc-invalidation", nil, time.Minute)
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, dead).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("the left-over slot %s is still there", dead)
		}
		closeSession(t, s)
	})

	// The publication carries only the columns the consumer reads, so the
	// walsender formats two columns per changed row, not the whole row
	// (PostgreSQL 15 and later; older servers publish the row).
	t.Run("PublishesIDAndToken", func(t *testing.T) {
		ctx := tctx(t)
		var version int
		if err := db.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
			t.Fatal(err)
		}
		if version < 150000 {
			t.Skipf("server version %d has no publication column lists", version)
		}
		s := session(t, srv, "cdc-invalidation", nil, time.Minute)
		defer closeSession(t, s)
		slot, _ := walsender(t, db, 0)
		var cols []string
		if err := db.QueryRow(ctx, `SELECT attnames::text[] FROM pg_publication_tables WHERE pubname = $1`, slot).Scan(&cols); err != nil {
			t.Fatal(err)
		}
		slices.Sort(cols)
		if !slices.Equal(cols, []string{"id", "token"}) {
			t.Errorf("publication %s publishes columns %v, want [id token]", slot, cols)
		}
	})

	// The consumer is held while it applies key 0's invalidation; its
	// walsender is killed; key 1 is written while no stream runs. After
	// the consumer reconnects and resumes from its slot, both keys are
	// invalidated: nothing is lost (a temporary slot, or confirming a
	// position before applying it, would lose key 1).
	t.Run("KillWhileApplying", func(t *testing.T) {
		s := session(t, srv, "cdc-invalidation", nil, time.Minute)
		ctx := tctx(t)
		for k := gb.Key(0); k < 2; k++ {
			if op := s.Read(ctx, reader1, k); op.Err != nil {
				t.Fatal(op.Err)
			}
		}
		slot, pid := walsender(t, db, 0)
		g := s.Barriers.Hold("worker", -1, gb.PointBeforeApply, 0)
		if op := s.Write(ctx, writer1, 0, 501, 1); op.Err != nil {
			t.Fatal(op.Err)
		}
		if err := g.Wait(ctx); err != nil {
			t.Fatalf("the consumer never got key 0's change: %v", err)
		}
		terminate(t, db, pid)
		if op := s.Write(ctx, writer1, 1, 502, 1); op.Err != nil {
			t.Fatal(op.Err)
		}
		g.Open()
		drain(t, s)
		if again, pid2 := walsender(t, db, pid); again != slot || pid2 == pid {
			t.Errorf("after the kill: slot %s pid %d, want slot %s streaming from a new walsender", again, pid2, slot)
		}
		for k := gb.Key(0); k < 2; k++ {
			if op := s.Read(ctx, reader1, k); op.Err != nil || op.Hit || op.Value.Version != 1 {
				t.Errorf("key %d after drain = %v hit=%v err=%v, want a miss returning v1", k, op.Value, op.Hit, op.Err)
			}
		}
		m := closeSession(t, s)
		if m.Audit.StaleUntilTTL != 0 || m.Reads.Stale != 0 {
			t.Errorf("stale-until-TTL %d, stale reads %d; want 0 and 0", m.Audit.StaleUntilTTL, m.Reads.Stale)
		}
		assertSlotDropped(t, db, slot)
	})

	// Two writers (each owning two keys, filling before every write, so
	// no fill can be stale) run while the walsender is killed midway.
	// After drain no key may be stale.
	t.Run("KillUnderLoad", func(t *testing.T) {
		s := session(t, srv, "cdc-invalidation", nil, time.Minute)
		ctx := tctx(t)
		_, pid := walsender(t, db, 0)
		const rounds = 40
		killAt := make(chan struct{})
		var killOnce sync.Once
		kill := func() { killOnce.Do(func() { close(killAt) }) }
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer kill() // also when this writer fails early
				reader := gb.Actor{Kind: "reader", ID: 20 + w}
				writer := gb.Actor{Kind: "writer", ID: 30 + w}
				for i := 0; i < rounds; i++ {
					if w == 0 && i == rounds/3 {
						kill()
					}
					k := gb.Key(w + 2*(i%2))
					if op := s.Read(ctx, reader, k); op.Err != nil {
						errs <- op.Err
						return
					}
					if op := s.Write(ctx, writer, k, gb.Token(10000*(w+1)+i), 1); op.Err != nil {
						errs <- op.Err
						return
					}
				}
			}()
		}
		<-killAt
		terminate(t, db, pid)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		drain(t, s)
		if _, pid2 := walsender(t, db, pid); pid2 == pid {
			t.Error("the consumer did not reconnect")
		}
		m := closeSession(t, s)
		if m.Audit.StaleUntilTTL != 0 || m.Audit.GhostUntilTTL != 0 {
			t.Errorf("after drain: stale-until-TTL %d, ghost-until-TTL %d; want 0 and 0", m.Audit.StaleUntilTTL, m.Audit.GhostUntilTTL)
		}
		t.Logf("%d writes committed, %d reads, %d stale (within the invalidation lag)", m.Writes.Committed, m.Reads.OK, m.Reads.Stale)
	})
}

// TestCDCInvalidationLag measures the invalidation lag (commit-ack to DEL)
// with synchronous_commit on and off: a walsender streams only WAL that
// is flushed, and with off the WAL writer flushes on its own schedule
// (wal_writer_delay, 200ms by default).
func TestCDCInvalidationLag(t *testing.T) {
	srv := servertest.Start(t)
	medians := map[string]time.Duration{}
	for _, sc := range []string{"on", "off"} {
		lags := measureLag(t, srv, sc, 20)
		slices.Sort(lags)
		med := lags[len(lags)/2]
		medians[sc] = med
		t.Logf("synchronous_commit=%s: %d invalidations, lag min %v median %v p90 %v max %v",
			sc, len(lags), lags[0], med, lags[len(lags)*9/10], lags[len(lags)-1])
	}
	if medians["off"] <= medians["on"] {
		t.Errorf("median lag with synchronous_commit=off (%v) is not above on (%v): the WAL writer's flush delay should show", medians["off"], medians["on"])
	}
}

// measureLag builds cdc-invalidation on its own pool (synchronous_commit
// sc), makes n writes 10ms apart, drains and returns the lags.
func measureLag(t *testing.T, srv *docker.Servers, sc string, n int) []time.Duration {
	t.Helper()
	ctx := tctx(t)
	pc, err := pgxpool.ParseConfig(srv.Postgres.URL)
	if err != nil {
		t.Fatal(err)
	}
	pc.ConnConfig.RuntimeParams["synchronous_commit"] = sc
	pc.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rdb := srv.RedisClient(docker.DefaultClientConfig())
	defer rdb.Close()
	st, err := store.New(pool, store.Options{Schema: "gblag_" + sc})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Setup(ctx, 4); err != nil {
		t.Fatal(err)
	}
	defer st.Drop(context.Background())
	s, err := strategies.Default().New("cdc-invalidation", strategies.Env{DB: pool, Redis: rdb, Store: st, TTL: time.Minute, Prefix: "gblag:" + sc + ":"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	for i := 0; i < n; i++ {
		if err := s.Write(ctx, gb.WriteRequest{Key: gb.Key(i % 4), Token: gb.Token(i + 1), Delta: 1}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // pacing, to spread writes over the WAL writer's cycle
	}
	if err := s.(gb.Drainer).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	lags := s.(strategies.LagReporter).InvalidationLag()
	if len(lags) != n {
		t.Fatalf("synchronous_commit=%s: %d lags measured, want %d (one per write)", sc, len(lags), n)
	}
	return lags
}

// walsender waits until exactly one cdc-invalidation slot exists with an
// active walsender other than not, and returns the slot and its pid.
func walsender(t *testing.T, db *pgxpool.Pool, not int32) (slot string, pid int32) {
	t.Helper()
	poll(t, "a cdc-invalidation slot with an active walsender", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rows, err := db.Query(ctx, `SELECT slot_name, coalesce(active_pid, 0) FROM pg_replication_slots WHERE slot_name LIKE 'gbcdc\_%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
			if err := rows.Scan(&slot, &pid); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			t.Fatalf("%d cdc-invalidation slots exist, want 1", n)
		}
		return n == 1 && pid != 0 && pid != not
	})
	return slot, pid
}

func assertSlotDropped(t *testing.T, db *pgxpool.Pool, slot string) {
	t.Helper()
	var n int
	if err := db.QueryRow(tctx(t), `SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1) + (SELECT count(*) FROM pg_publication WHERE pubname = $1)`, slot).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("slot or publication %s still exists after Close", slot)
	}
}
