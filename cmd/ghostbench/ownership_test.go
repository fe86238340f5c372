package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/record"
)

// Servers the harness does not own. Every test here starts its
// own servers (the local provider) and hands them to ghostbench run by URL,
// as a user's servers would be: the external provider.

type external struct {
	srv *docker.Servers
	db  *pgxpool.Pool
	rdb redis.UniversalClient
}

func startExternal(t *testing.T) *external {
	t.Helper()
	srv := servertest.Start(t)
	ctx := context.Background()
	db, err := srv.PostgresPool(ctx, docker.DefaultClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	rdb := srv.RedisClient(docker.DefaultClientConfig())
	t.Cleanup(func() { rdb.Close() })
	return &external{srv: srv, db: db, rdb: rdb}
}

// urls are the flags that point ghostbench at the servers by URL.
func (e *external) urls() []string {
	return []string{"-postgres-url", e.srv.Postgres.URL, "-redis-url", e.srv.Redis.URL}
}

type runOut struct {
	code           int
	stdout, stderr string
}

// runCmd runs "ghostbench run" with args plus the URLs, a short closed
// loop and JSON output.
func (e *external) runCmd(t *testing.T, args ...string) runOut {
	t.Helper()
	base := []string{"run", "-strategy", "cache-aside", "-scenario", "steady-read-heavy", "-duration", "1500ms",
		"-warmup", "200ms", "-keys", "50", "-readers", "2", "-writers", "2", "-format", "json", "-quiet", "-out", t.TempDir()}
	var out, errb bytes.Buffer
	code := Run(context.Background(), append(append(base, e.urls()...), args...), &out, &errb)
	return runOut{code, out.String(), errb.String()}
}

func (o runOut) result(t *testing.T) *record.Run {
	t.Helper()
	var res record.Run
	if err := json.Unmarshal([]byte(o.stdout), &res); err != nil {
		t.Fatalf("run.json on stdout: %v\nstdout: %.500s\nstderr: %s", err, o.stdout, o.stderr)
	}
	return &res
}

func (e *external) schemaExists(t *testing.T, schema string) bool {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func (e *external) keys(t *testing.T, pattern string) []string {
	t.Helper()
	keys, err := docker.ScanKeys(context.Background(), e.rdb, pattern)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestRunOwnership (defect 1): a user's table ghostbench.rows and an
// unrelated gb: key survive runs against their servers; the runs refuse
// them with a line naming the flag to choose another; a run's own tables
// and keys are gone after it unless -keep.
func TestRunOwnership(t *testing.T) {
	e := startExternal(t)
	ctx := context.Background()
	if _, err := e.db.Exec(ctx, `CREATE SCHEMA ghostbench; CREATE TABLE ghostbench.rows (id int PRIMARY KEY, note text);
INSERT INTO ghostbench.rows VALUES (1, 'the user''s own row'), (2, 'another')`); err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.Set(ctx, "gb:user-key", "mine", 0).Err(); err != nil {
		t.Fatal(err)
	}
	userDataIntact := func(when string) {
		t.Helper()
		var n int
		var note string
		if err := e.db.QueryRow(ctx, `SELECT count(*), max(note) FILTER (WHERE id = 1) FROM ghostbench.rows`).Scan(&n, &note); err != nil || n != 2 || note != "the user's own row" {
			t.Errorf("%s: the user's table ghostbench.rows: %d rows, note %q, err %v; want the 2 rows it had", when, n, note, err)
		}
		if v, err := e.rdb.Get(ctx, "gb:user-key").Result(); err != nil || v != "mine" {
			t.Errorf("%s: the user's key gb:user-key = %q, %v; want \"mine\"", when, v, err)
		}
	}

	o := e.runCmd(t)
	if o.code != exitUsage || !strings.Contains(o.stderr, "schema ghostbench already exists and was not created by ghostbench") || !strings.Contains(o.stderr, "-schema") {
		t.Errorf("run on a server with the user's schema ghostbench: exit %d, want %d naming the schema and -schema\nstderr: %s", o.code, exitUsage, o.stderr)
	}
	userDataIntact("after the default run")

	o = e.runCmd(t, "-schema", "gb_test")
	if o.code != exitUsage || !strings.Contains(o.stderr, `key prefix "gb:"`) || !strings.Contains(o.stderr, "-prefix") {
		t.Errorf("run with -schema gb_test on a Redis with the user's gb:user-key: exit %d, want %d naming the prefix and -prefix\nstderr: %s", o.code, exitUsage, o.stderr)
	}
	if e.schemaExists(t, "gb_test") {
		t.Error("the refused run left its schema gb_test behind")
	}
	userDataIntact("after the -schema run")

	o = e.runCmd(t, "-schema", "gb_test", "-prefix", "gbtest:")
	if o.code != exitOK {
		t.Fatalf("run with -schema gb_test -prefix gbtest:: exit %d\nstderr: %s", o.code, o.stderr)
	}
	if res := o.result(t); res.Metrics == nil || res.Metrics.Reads.OK == 0 {
		t.Errorf("the run measured no reads: %+v", res.Metrics)
	}
	userDataIntact("after a run with its own schema and prefix")
	if e.schemaExists(t, "gb_test") || len(e.keys(t, "gbtest:*")) > 0 {
		t.Errorf("the run left its data on external servers: schema gb_test exists %v, keys %v", e.schemaExists(t, "gb_test"), e.keys(t, "gbtest:*"))
	}

	o = e.runCmd(t, "-schema", "gb_test", "-prefix", "gbtest:", "-keep")
	if o.code != exitOK {
		t.Fatalf("run with -keep: exit %d\nstderr: %s", o.code, o.stderr)
	}
	if !e.schemaExists(t, "gb_test") || len(e.keys(t, "gbtest:row:*")) == 0 {
		t.Errorf("-keep: schema gb_test exists %v, %d row keys; want both kept", e.schemaExists(t, "gb_test"), len(e.keys(t, "gbtest:row:*")))
	}
	// What a run kept is ghostbench's: the next run takes it over.
	o = e.runCmd(t, "-schema", "gb_test", "-prefix", "gbtest:")
	if o.code != exitOK {
		t.Fatalf("run after a -keep run on the same schema and prefix: exit %d\nstderr: %s", o.code, o.stderr)
	}
	if e.schemaExists(t, "gb_test") || len(e.keys(t, "gbtest:*")) > 0 {
		t.Error("the run after -keep left its data behind")
	}
	userDataIntact("at the end")
}

// lockWait waits until some run holds the schema's lock: the run's
// schema is seeded (a run that has it has passed its locks).
func (e *external) waitSeeded(t *testing.T, schema string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := e.db.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{schema, "rows"}.Sanitize()).Scan(&n); err == nil && n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no run seeded schema %s within 60s", schema)
}

// TestConcurrentRuns (defect 2): a second run against the same servers
// while the first is running either measures what it would alone (no
// harness errors, no ghost reads for cache-aside) or exits 2 naming the
// lock; the first is not disturbed.
func TestConcurrentRuns(t *testing.T) {
	e := startExternal(t)
	var a runOut
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a = e.runCmd(t, "-duration", "4s")
	}()
	e.waitSeeded(t, "ghostbench")
	b := e.runCmd(t)
	wg.Wait()
	check := func(name string, o runOut) {
		t.Helper()
		if o.code != exitOK {
			t.Errorf("run %s: exit %d\nstderr: %s", name, o.code, o.stderr)
			return
		}
		res := o.result(t)
		m := res.Metrics
		if res.Status != record.StatusOK || m.HarnessErrors != 0 || m.Reads.Ghost != 0 || m.Reads.Total == 0 {
			t.Errorf("run %s beside another: status %s (%s), harness errors %d, ghost reads %d of %d; want ok, 0, 0",
				name, res.Status, res.Error, m.HarnessErrors, m.Reads.Ghost, m.Reads.Total)
		}
		// Alone, on idle servers without faults, no call fails: errors
		// mean the other run got in the way (its setup dropped the
		// tables, its clear of the prefix deleted keys).
		var errs int64
		for _, n := range m.Reads.Errors {
			errs += n
		}
		for _, n := range m.Writes.Failed {
			errs += n
		}
		if errs != 0 {
			t.Errorf("run %s beside another: %d failed calls (reads %v, writes %v); want none, as alone", name, errs, m.Reads.Errors, m.Writes.Failed)
		}
	}
	check("A", a)
	if b.code == exitUsage {
		if !strings.Contains(b.stderr, `advisory lock "ghostbench schema ghostbench"`) {
			t.Errorf("the second run exited 2 without naming the lock: %s", b.stderr)
		}
	} else {
		check("B", b)
	}
}

// TestWholeServerFaultLock (defect 2): a run whose fault acts on the whole
// PostgreSQL server (pg-conn-kill) refuses to start while another run uses
// that server, naming the lock, unless -ignore-server-lock.
func TestWholeServerFaultLock(t *testing.T) {
	e := startExternal(t)
	var a runOut
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a = e.runCmd(t, "-duration", "5s")
	}()
	e.waitSeeded(t, "ghostbench")
	b := e.runCmd(t, "-scenario", "pg-connection-kill", "-duration", "2s", "-schema", "gb_kill", "-prefix", "gbkill:")
	if b.code != exitUsage || !strings.Contains(b.stderr, "fault pg-conn-kill acts on the whole PostgreSQL server") || !strings.Contains(b.stderr, `advisory lock "ghostbench server"`) || !strings.Contains(b.stderr, "-ignore-server-lock") {
		t.Errorf("pg-conn-kill beside another run: exit %d, want %d naming the server lock and -ignore-server-lock\nstderr: %s", b.code, exitUsage, b.stderr)
	}
	c := e.runCmd(t, "-scenario", "pg-connection-kill", "-duration", "2s", "-schema", "gb_kill", "-prefix", "gbkill:", "-ignore-server-lock")
	if c.code != exitOK {
		t.Errorf("pg-conn-kill with -ignore-server-lock: exit %d\nstderr: %s", c.code, c.stderr)
	}
	wg.Wait()
	if a.code != exitOK {
		t.Fatalf("run A: exit %d\nstderr: %s", a.code, a.stderr)
	}
	// pg-conn-kill kills only its own run's sessions: A saw no
	// PostgreSQL errors from it.
	if res := a.result(t); res.Metrics.Reads.Errors["postgres"] != 0 || res.Metrics.HarnessErrors != 0 {
		t.Errorf("run A beside a pg-conn-kill run: %d postgres read errors, %d harness errors; want 0", res.Metrics.Reads.Errors["postgres"], res.Metrics.HarnessErrors)
	}
}

// TestConnKillSparesNamesakes (defect 3): a session of another client that
// calls itself "ghostbench" survives a pg-connection-kill run.
func TestConnKillSparesNamesakes(t *testing.T) {
	e := startExternal(t)
	cfg, err := pgx.ParseConfig(e.srv.Postgres.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "ghostbench"
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	o := e.runCmd(t, "-scenario", "pg-connection-kill", "-duration", "2s")
	if o.code != exitOK {
		t.Fatalf("pg-connection-kill run: exit %d\nstderr: %s", o.code, o.stderr)
	}
	res := o.result(t)
	if len(res.Faults) != 1 || res.Faults[0].InjectError != "" {
		t.Fatalf("fault windows %+v, want one pg-conn-kill injected", res.Faults)
	}
	if res.Metrics.Reads.Errors["postgres"]+res.Metrics.Writes.Failed["postgres"] == 0 {
		t.Errorf("the run's own sessions were not killed: no postgres errors (%v, %v)", res.Metrics.Reads.Errors, res.Metrics.Writes.Failed)
	}
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Errorf("a session with application_name ghostbench that is not the run's was killed: %v", err)
	}
}

// TestWorkersBeyondMaxConnections (defect 8): more workers than the
// server takes connections are refused up front, before any server starts
// (servers the harness starts) or before anything is changed (by URL).
func TestWorkersBeyondMaxConnections(t *testing.T) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"run", "-strategy", "cache-aside", "-readers", "4096", "-writers", "4096", "-provider", "local", "-out", t.TempDir()}, &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "max_connections 200") || strings.Contains(errb.String(), "servers:") {
		t.Errorf("-readers 4096 -writers 4096: exit %d, want %d naming max_connections before servers start\nstderr: %s", code, exitUsage, errb.String())
	}
	e := startExternal(t)
	o := e.runCmd(t, "-readers", "300", "-writers", "10")
	if o.code != exitUsage || !strings.Contains(o.stderr, "allows max_connections 200") {
		t.Errorf("310 workers on a server given by URL: exit %d, want %d naming max_connections\nstderr: %s", o.code, exitUsage, o.stderr)
	}
	if e.schemaExists(t, "ghostbench") {
		t.Error("the refused run created its schema")
	}
}
