package strategies_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// extras are the strategies beyond the minimum set, with parameters that keep tests
// short.
var extras = []struct {
	name   string
	params strategies.Params
}{
	{"delayed-double-delete", strategies.Params{"delay": "20ms"}},
	{"version-checked", nil},
	{"leases", nil},
	{"leases", strategies.Params{"hot-miss": "read-through"}},
	{"cdc-invalidation", nil},
	{"notify-invalidation", nil},
	{"go-redis-cache", nil},
}

func TestExtrasRegistered(t *testing.T) {
	r := strategies.Default()
	for _, x := range extras {
		info, ok := r.Lookup(x.name)
		if !ok {
			t.Errorf("strategy %q is not registered in Default()", x.name)
			continue
		}
		if err := info.CheckParams(x.params); err != nil {
			t.Errorf("%s: %v", x.name, err)
		}
	}
	_, err := r.New("leases", strategies.Env{Params: strategies.Params{"hot-miss": "maybe"}})
	if err == nil {
		t.Error("leases with hot-miss=maybe was built")
	}
}

// TestExtrasTakingTurnsIsClean: with operations that never overlap (and
// background work drained after every write) no strategy may show any
// anomaly.
func TestExtrasTakingTurnsIsClean(t *testing.T) {
	srv := servertest.Start(t)
	for _, x := range extras {
		t.Run(x.name+"/"+x.params.String(), func(t *testing.T) {
			s := session(t, srv, x.name, x.params, time.Minute)
			ctx := tctx(t)
			rng := scenarios.NewRand(11, 0)
			tok := gb.Token(1000)
			for i := 0; i < 40; i++ {
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
			if n := anomalies(m); n != 0 {
				t.Errorf("anomalies with operations taking turns: %d (%+v %+v)", n, m.Reads, m.Audit)
			}
			if m.Reads.OK == 0 {
				t.Error("no successful read")
			}
		})
	}
}

func anomalies(m *check.Metrics) int64 {
	return m.Reads.Stale + m.Reads.Ghost + m.Reads.Early + m.Audit.StaleUntilTTL + m.Audit.GhostUntilTTL
}

// adminPool returns a pool for the test's own queries on srv (finding and
// killing the strategies' background sessions).
func adminPool(t *testing.T, srv *docker.Servers) *pgxpool.Pool {
	t.Helper()
	cc := docker.DefaultClientConfig()
	cc.DialTimeout = 10 * time.Second
	cc.PoolSize = 4
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := srv.PostgresPool(ctx, cc)
	if err != nil {
		t.Fatalf("admin pool: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// poll calls f every few milliseconds until it returns true or 10 s pass.
func poll(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 10s waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// terminate kills backend pid and waits until it is gone.
func terminate(t *testing.T, db *pgxpool.Pool, pid int32) {
	t.Helper()
	ctx := tctx(t)
	var ok bool
	if err := db.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
	}
	poll(t, "the terminated backend to exit", func() bool {
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}
