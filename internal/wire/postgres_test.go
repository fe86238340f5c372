package wire_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/wire"
)

// pgEnv is a real PostgreSQL with a table of the test's own.
type pgEnv struct {
	s      *docker.Servers
	direct *pgx.Conn
	table  string
}

// value reads row id's v directly, not through any proxy.
func (e *pgEnv) value(t *testing.T, id int) int {
	t.Helper()
	var v int
	if err := e.direct.QueryRow(ctxT(t), "SELECT v FROM "+e.table+" WHERE id = $1", id).Scan(&v); err != nil {
		t.Fatalf("read row %d directly: %v", id, err)
	}
	return v
}

// waitValue polls row id until it holds want: a statement whose reply
// was lost may still be finishing in the server when its client gives up.
func (e *pgEnv) waitValue(t *testing.T, id, want int) {
	t.Helper()
	ctx := ctxT(t)
	for {
		var v int
		err := e.direct.QueryRow(ctx, "SELECT v FROM "+e.table+" WHERE id = $1", id).Scan(&v)
		if err == nil && v == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("row %d = %d, %v; want %d", id, v, err, want)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// reset sets row id's v directly.
func (e *pgEnv) reset(t *testing.T, id, v int) {
	t.Helper()
	if _, err := e.direct.Exec(ctxT(t), "UPDATE "+e.table+" SET v = $2 WHERE id = $1", id, v); err != nil {
		t.Fatal(err)
	}
}

// testPostgres runs pgx through a PostgreSQL proxy in front of a real
// PostgreSQL, for the simple and the extended protocol and every action.
func testPostgres(t *testing.T, s *docker.Servers) {
	e := &pgEnv{s: s, direct: pgVia(t, s, s.Postgres.Addr), table: fmt.Sprintf("wire_rows_%d", time.Now().UnixNano()%1e9)}
	ctx := ctxT(t)
	if _, err := e.direct.Exec(ctx, "CREATE TABLE "+e.table+" (id int PRIMARY KEY, v int NOT NULL); "+
		"INSERT INTO "+e.table+" SELECT g, 0 FROM generate_series(1, 10) g; "+
		"CREATE TABLE "+e.table+"_log (seq bigserial PRIMARY KEY, client int NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = e.direct.Exec(context.Background(), "DROP TABLE "+e.table+", "+e.table+"_log")
	})
	tests := []struct {
		name string
		run  func(t *testing.T, e *pgEnv)
	}{
		{"forward", pgForward},
		{"prepared statements", pgPrepared},
		{"batch", pgBatch},
		{"refuse commit", pgRefuseCommit},
		{"refuse commit extended", pgRefuseCommitExtended},
		{"refuse statement", pgRefuseStatement},
		{"lose reply", pgLoseReply},
		{"stall limit", pgStallLimit},
		{"unreachable", pgUnreachable},
		{"gate order is server order", pgOrder},
		{"blocked statement found by its backend", pgBlocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, e) })
	}
}

func pgForward(t *testing.T, e *pgEnv) {
	rec := &recorder{}
	p := listen(t, wire.Postgres, e.s.Postgres.Addr, rec.gate)
	c := pgVia(t, e.s, p.Addr())
	ctx := ctxT(t)
	var one int
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	if _, err := c.Exec(ctx, "UPDATE "+e.table+" SET v = v + 1 WHERE id = $1", 1); err != nil {
		t.Fatal(err)
	}
	cmds := rec.take()
	if got, want := names(cmds), []string{"SELECT", "UPDATE"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("gated %v; want %v", got, want)
	}
	upd := cmds[1]
	if want := "UPDATE " + e.table + " ..."; upd.Text != want || upd.Server != wire.Postgres || upd.Conn != 1 {
		t.Errorf("UPDATE gated as %+v; want text %q on connection 1", upd, want)
	}
	if pid := int(c.PgConn().PID()); upd.Backend != pid || pid == 0 {
		t.Errorf("UPDATE gated with backend %d; the connection's backend is %d", upd.Backend, pid)
	}
	if got := e.value(t, 1); got != 1 {
		t.Errorf("row 1 = %d after one increment; want 1", got)
	}
}

func pgPrepared(t *testing.T, e *pgEnv) {
	rec := &recorder{}
	p := listen(t, wire.Postgres, e.s.Postgres.Addr, rec.gate)
	c := pgVia(t, e.s, p.Addr())
	ctx := ctxT(t)
	e.reset(t, 2, 0)
	// pgx caches the statement: the second and third executions are a
	// Bind and an Execute of a named statement, no Parse.
	for range 3 {
		if _, err := c.Exec(ctx, "UPDATE "+e.table+" SET v = v + 1 WHERE id = $1", 2); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Prepare(ctx, "sel", "SELECT v FROM "+e.table+" WHERE id = $1"); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := c.QueryRow(ctx, "sel", 2).Scan(&v); err != nil || v != 3 {
		t.Fatalf("prepared SELECT = %d, %v; want 3", v, err)
	}
	cmds := rec.take()
	if got, want := names(cmds), []string{"UPDATE", "UPDATE", "UPDATE", "SELECT"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("gated %v; want %v (a Prepare alone runs nothing)", got, want)
	}
	if want := "SELECT ... FROM " + e.table + " ..."; cmds[3].Text != want {
		t.Errorf("prepared SELECT text %q; want %q", cmds[3].Text, want)
	}
}

func pgBatch(t *testing.T, e *pgEnv) {
	rec := &recorder{}
	p := listen(t, wire.Postgres, e.s.Postgres.Addr, rec.gate)
	c := pgVia(t, e.s, p.Addr())
	ctx := ctxT(t)
	e.reset(t, 3, 0)
	b := &pgx.Batch{}
	b.Queue("UPDATE "+e.table+" SET v = 10 WHERE id = $1", 3)
	b.Queue("SELECT v FROM "+e.table+" WHERE id = $1", 3)
	b.Queue("DELETE FROM "+e.table+" WHERE id = $1 AND v = $2", 3, -1)
	br := c.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := br.QueryRow().Scan(&v); err != nil || v != 10 {
		t.Fatalf("batched SELECT = %d, %v; want 10", v, err)
	}
	if _, err := br.Exec(); err != nil {
		t.Fatal(err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := names(rec.take()), []string{"UPDATE", "SELECT", "DELETE"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("gated %v; want %v", got, want)
	}
}

// wantSQLState checks that err is a PostgreSQL error with the given code.
func wantSQLState(t *testing.T, what string, err error, code string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("%s = %v; want a server error with SQLSTATE %s", what, err, code)
	}
}

func pgRefuseCommit(t *testing.T, e *pgEnv) {
	rec := &recorder{decide: on("COMMIT", "", wire.Refuse)}
	p := listen(t, wire.Postgres, e.s.Postgres.Addr, rec.gate)
	c := pgVia(t, e.s, p.Addr())
	ctx := ctxT(t)
	e.reset(t, 4, 0)
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE "+e.table+" SET v = 100 WHERE id = $1", 4); err != nil {
		t.Fatal(err)
	}
	wantSQLState(t, "refused COMMIT", tx.Commit(ctx), "23505")
	if got := e.value(t, 4); got != 0 {
		t.Fatalf("row 4 = %d after a refused COMMIT; want 0 (rolled back)", got)
	}
	if got, want := names(rec.take()), []string{"BEGIN", "UPDATE", "COMMIT"}; !reflect.DeepEqual(got, want) {
		t.Errorf("gated %v; want %v", got, want)
	}
	// The connection is idle and usable, with no transaction left open.
	if st := c.PgConn().TxStatus(); st != 'I' {
		t.Errorf("transaction status after the refused COMMIT = %q; want 'I'", st)
	}
	rec.set(nil)
	if _, err := c.Exec(ctx, "UPDATE "+e.table+" SET v = 5 WHERE id = $1", 4); err != nil {
		t.Fatal(err)
	}
	if got := e.value(t, 4); got != 5 {
		t.Fatalf("row 4 = %d after an UPDATE on the same connection; want 5", got)
	}
	// A COMMIT with no transaction open fails too.
	rec.set(on("COMMIT", "", wire.Refuse))
	_, err = c.Exec(ctx, "COMMIT")
	wantSQLState(t, "refused COMMIT outside a transaction", err, "23505")
}

func pgRefuseCommitExtended(t *testing.T, e *pgEnv) {
	rec := &recorder{decide: on("COMMIT", "", wire.Refuse)}
	p := listen(t, wire.Postgres, e.s.Postgres.Addr, rec.gate)
	c := pgVia(t, e.s, p.Addr())
	ctx := ctxT(t)
	e.reset(t, 5, 0)
	pc := c.PgConn()
	for _, sql := range []string{"BEGIN", "UPDATE " + e.table + " SET v = 100 WHERE id = 5", "COMMIT"} {
		// ExecParams: Parse, Bind, Describe, Execute, Sync.
		_, err := pc.ExecParams(ctx, sql, nil, nil, nil, nil).Close()
		if sql == "COMMIT" {
			wantSQLState(t, "refused COMMIT (extended protocol)", err, "23505")
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if got := e.value(t, 5); got != 0 {
		t.Fatalf("row 5 = %d after a refused COMMIT; want 0", got)
	}
	if st := pc.TxStatus(); st != 'I' {
		t.Errorf("transaction status = %q; want 'I'", st)
	}
}

func pgRefuseStatement(t *testing.T, e *pgEnv) {
	rec := &recorder{decide: on("UPDATE", "", wire.Refuse)}
	p := listen(t, wire.Postgres, e.s.Postgres.Addr, rec.gate)
	c := pgVia(t, e.s, p.Addr())
	ctx := ctxT(t)
	e.reset(t, 6, 0)
	// Extended protocol, autocommit.
	_, err := c.Exec(ctx, "UPDATE "+e.table+" SET v = 7 WHERE id = $1", 6)
	wantSQLState(t, "refused UPDATE", err, "22P02")
	if !strings.Contains(err.Error(), "ghostbench: statement refused") {
		t.Errorf("refused UPDATE error %q does not say who refused it", err)
	}
	// Simple protocol inside a transaction: the transaction is aborted.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "UPDATE "+e.table+" SET v = 8 WHERE id = 6")
	wantSQLState(t, "refused UPDATE in a transaction", err, "22P02")
	_, err = tx.Exec(ctx, "SELECT 1")
	wantSQLState(t, "SELECT after a refused statement", err, "25P02")
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.value(t, 6); got != 0 {
		t.Fatalf("row 6 = %d after refused UPDATEs; want 0", got)
	}
	rec.set(nil)
	if _, err := c.Exec(ctx, "UPDATE "+e.table+" SET v = 9 WHERE id = $1", 6); err != nil {
		t.Fatalf("UPDATE after the refusals: %v", err)
	}
}

func pgLoseReply(t *testing.T, e *pgEnv) {
	rec := &recorder{decide: on("UPDATE", "", wire.LoseReply)}
	p := listen(t, wire.Postgres, e.s.Postgres.Addr, rec.gate)
	c := pgVia(t, e.s, p.Addr())
	e.reset(t, 7, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := c.Exec(ctx, "UPDATE "+e.table+" SET v = 11 WHERE id = $1", 7); err == nil {
		t.Fatal("UPDATE with its reply lost succeeded")
	}
	// The statement took effect: its implicit transaction committed.
	e.waitValue(t, 7, 11)
	rec.set(nil)
	c2 := pgVia(t, e.s, p.Addr())
	if _, err := c2.Exec(ctxT(t), "UPDATE "+e.table+" SET v = 12 WHERE id = $1", 7); err != nil {
		t.Fatalf("UPDATE on another connection: %v", err)
	}
}

func pgUnreachable(t *testing.T, e *pgEnv) {
	rec := &recorder{}
	p := listen(t, wire.Postgres, e.s.Postgres.Addr, rec.gate)
	c := pgVia(t, e.s, p.Addr())
	ctx := ctxT(t)
	e.reset(t, 8, 0)
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE "+e.table+" SET v = 13 WHERE id = $1", 8); err != nil {
		t.Fatal(err)
	}
	rec.set(on("COMMIT", "", wire.Unreachable))
	if err := tx.Commit(ctx); err == nil {
		t.Fatal("COMMIT on an unreachable server succeeded")
	}
	if got := e.value(t, 8); got != 0 {
		t.Fatalf("row 8 = %d; want 0: the COMMIT never reached the server", got)
	}
}

func pgOrder(t *testing.T, e *pgEnv) {
	// Each of 4 clients inserts 8 rows; the sequence numbers PostgreSQL
	// hands out must follow the order in which the gate let them go.
	g := &gateOrder{ch: make(chan wire.Command), name: "INSERT", label: func(c wire.Command) string { return strconv.Itoa(c.Conn) }}
	p := listen(t, wire.Postgres, e.s.Postgres.Addr, g.gate)
	const clients, each = 4, 8
	conns := make([]*pgx.Conn, clients)
	for i := range conns {
		conns[i] = pgVia(t, e.s, p.Addr()) // connection i+1 of the proxy
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan int, clients)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { done <- i }()
			for range each {
				if _, err := c.Exec(ctx, "INSERT INTO "+e.table+"_log (client) VALUES ($1)", i+1); err != nil {
					t.Errorf("INSERT: %v", err)
					return
				}
			}
		}()
	}
	gated := g.run(t, clients, done, 11)
	wg.Wait()
	rows, err := e.direct.Query(ctxT(t), "SELECT client FROM "+e.table+"_log ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for rows.Next() {
		var c int
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, strconv.Itoa(c))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(gated) != clients*each || !reflect.DeepEqual(seen, gated) {
		t.Fatalf("PostgreSQL ran the INSERTs in order\n%v\nthe gate let them go in order\n%v", seen, gated)
	}
}

func pgStallLimit(t *testing.T, e *pgEnv) {
	// A client with no timeout of its own (no deadline here) learns of the
	// lost reply when the proxy closes the connection.
	rec := &recorder{decide: on("UPDATE", "", wire.LoseReply)}
	p := listen(t, wire.Postgres, e.s.Postgres.Addr, rec.gate, wire.StallLimit(20*time.Millisecond))
	c := pgVia(t, e.s, p.Addr())
	e.reset(t, 9, 0)
	if _, err := c.Exec(context.Background(), "UPDATE "+e.table+" SET v = 14 WHERE id = $1", 9); err == nil {
		t.Fatal("UPDATE with its reply lost succeeded")
	}
	e.waitValue(t, 9, 14)
}

func pgBlocked(t *testing.T, e *pgEnv) {
	// A holds row 10's lock; B's UPDATE of row 10, let go by the gate,
	// waits for it. The Backend of B's command finds B's session in
	// pg_stat_activity, waiting for a lock: what a scheduler needs to
	// tell a blocked actor from a slow one without a timer.
	var mu sync.Mutex
	var blocked wire.Command
	rec := &recorder{decide: func(c wire.Command) wire.Action {
		if c.Name == "UPDATE" && c.Conn == 2 {
			mu.Lock()
			blocked = c
			mu.Unlock()
		}
		return wire.Forward
	}}
	p := listen(t, wire.Postgres, e.s.Postgres.Addr, rec.gate)
	a, b := pgVia(t, e.s, p.Addr()), pgVia(t, e.s, p.Addr())
	ctx := ctxT(t)
	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "UPDATE "+e.table+" SET v = 15 WHERE id = 10"); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := b.Exec(ctx, "UPDATE "+e.table+" SET v = 16 WHERE id = 10")
		errc <- err
	}()
	for {
		mu.Lock()
		pid := blocked.Backend
		mu.Unlock()
		var wait string
		if pid != 0 {
			err := e.direct.QueryRow(ctx, "SELECT coalesce(wait_event_type, '') FROM pg_stat_activity WHERE pid = $1", pid).Scan(&wait)
			if err != nil {
				t.Fatal(err)
			}
		}
		if wait == "Lock" {
			break
		}
		select {
		case err := <-errc:
			t.Fatalf("B's UPDATE ended (%v) while A held the row", err)
		case <-ctx.Done():
			t.Fatal("B's session never showed as waiting for a lock")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("B's UPDATE after A committed: %v", err)
	}
	if got := e.value(t, 10); got != 16 {
		t.Fatalf("row 10 = %d; want 16", got)
	}
}
