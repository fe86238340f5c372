package faults_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
)

// connectAs opens a PostgreSQL session with the given application_name.
func connectAs(t *testing.T, url, app string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = app
	conn, err := pgx.ConnectConfig(tctx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func alive(conn *pgx.Conn) error {
	return within(2*time.Second, func(ctx context.Context) error {
		var one int
		return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
	})
}

func TestPostgresFaults(t *testing.T) { testPostgresFaults(t, servertest.Start(t)) }

// TestPostgresFaultsDocker runs the same faults, with the same checks, on
// servers in containers: pauses are container pauses, kills container kills.
func TestPostgresFaultsDocker(t *testing.T) { testPostgresFaults(t, servertest.StartDocker(t)) }

func testPostgresFaults(t *testing.T, srv *docker.Servers) {
	bg := context.Background()
	writer := gb.Actor{Kind: "writer", ID: 1}

	t.Run("pg-latency", func(t *testing.T) {
		r := newRig(t, srv, "cache-aside", step("pg-latency", map[string]string{"latency": "400ms"}))
		ping := func() error {
			return within(5*time.Second, func(ctx context.Context) error { return r.env.DB.Ping(ctx) })
		}
		_ = ping()
		r.inject()
		if d, err := timed(ping); err != nil || d < 400*time.Millisecond {
			t.Errorf("query during pg-latency took %v (%v), want at least 400ms", d, err)
		}
		r.heal()
		if d, err := timed(ping); err != nil || d >= 400*time.Millisecond {
			t.Errorf("query after heal took %v (%v), want under 400ms", d, err)
		}
	})

	t.Run("pg-conn-kill", func(t *testing.T) {
		r := newRig(t, srv, "cache-aside", step("pg-conn-kill", nil))
		held, err := r.env.DB.Acquire(tctx(t)) // a session of the run's own pool
		if err != nil {
			t.Fatal(err)
		}
		defer held.Release()
		// A client that merely calls itself "ghostbench" (or
		// another run's session) is not the run's, and must survive.
		namesake := connectAs(t, srv.Postgres.URL, "ghostbench")
		other := connectAs(t, srv.Postgres.URL, "someone-else")
		r.inject()
		if err := within(2*time.Second, held.Ping); err == nil {
			t.Error("a held session of the run's pool survived pg-conn-kill")
		}
		if err := alive(namesake); err != nil {
			t.Errorf("a session named ghostbench that is not the run's was killed: %v", err)
		}
		if err := alive(other); err != nil {
			t.Errorf("a session that is not the harness's was touched: %v", err)
		}
		r.heal()
		if op := r.sess.Write(bg, writer, 1, 1<<32+1, 5); op.Err != nil {
			t.Errorf("write after heal: %v", op.Err)
		}
	})

	t.Run("pg-conn-kill every", func(t *testing.T) {
		r := newRig(t, srv, "cache-aside", step("pg-conn-kill", map[string]string{"every": "50ms"}))
		namesake := connectAs(t, srv.Postgres.URL, "ghostbench")
		r.inject()
		// A connection the pool makes after the first kill is killed by a
		// later one: its pid is recorded when it is made.
		r.env.DB.Reset()
		late, err := r.env.DB.Acquire(tctx(t))
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for within(time.Second, late.Ping) == nil {
			if time.Now().After(deadline) {
				t.Fatal("a pool connection opened during pg-conn-kill every=50ms survived 2s")
			}
			time.Sleep(10 * time.Millisecond)
		}
		late.Release()
		if err := alive(namesake); err != nil {
			t.Errorf("a session named ghostbench that is not the run's was killed: %v", err)
		}
		r.heal()
		after, err := r.env.DB.Acquire(tctx(t))
		if err != nil {
			t.Fatal(err)
		}
		defer after.Release()
		time.Sleep(150 * time.Millisecond) // three intervals: the loop is gone
		if err := within(2*time.Second, after.Ping); err != nil {
			t.Errorf("a pool connection used after heal was killed: %v", err)
		}
	})

	t.Run("pg-commit-fail", func(t *testing.T) {
		r := newRig(t, srv, "write-through", step("pg-commit-fail", nil))
		r.inject()
		op := r.sess.Write(bg, writer, 2, 1<<32+2, 5)
		if op.Err == nil || !strings.Contains(op.Err.Error(), "injected failure at COMMIT") || op.Class != gb.ClassPostgres {
			t.Errorf("write during pg-commit-fail: %v (class %v), want the COMMIT failure, class postgres", op.Err, op.Class)
		}
		r.heal()
		if op := r.sess.Write(bg, writer, 2, 1<<32+3, 5); op.Err != nil {
			t.Errorf("write after heal: %v", op.Err)
		}
	})
}
