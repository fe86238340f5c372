package wire_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/wire"
)

// python is the interpreter that make deps gives python3-redis and
// python3-psycopg.
const python = "/usr/bin/python3"

// testPython runs redis-py and psycopg 3 through both proxies: what the
// process sends is gated, refusals and lost replies reach it as the
// libraries' own errors, and a refused COMMIT leaves the row unchanged.
func testPython(t *testing.T, s *docker.Servers) {
	if err := exec.Command(python, "-c", "import redis, psycopg").Run(); err != nil {
		t.Fatalf("%s cannot import redis and psycopg (%v): run make deps", python, err)
	}
	ctx := ctxT(t)
	direct := pgVia(t, s, s.Postgres.Addr)
	table := fmt.Sprintf("wire_py_%d", time.Now().UnixNano()%1e9)
	if _, err := direct.Exec(ctx, "CREATE TABLE "+table+" (id int PRIMARY KEY, v int NOT NULL); "+
		"INSERT INTO "+table+" VALUES (1, 1), (2, 2)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = direct.Exec(context.Background(), "DROP TABLE "+table) })

	var mu sync.Mutex
	commits := 0
	rrec := &recorder{decide: func(c wire.Command) wire.Action {
		switch {
		case c.Name == "SET" && c.Keys[0] == "wire:py:refused":
			return wire.Refuse
		case c.Name == "SET" && c.Keys[0] == "wire:py:lost":
			return wire.LoseReply
		}
		return wire.Forward
	}}
	prec := &recorder{decide: func(c wire.Command) wire.Action {
		mu.Lock()
		defer mu.Unlock()
		if c.Name == "COMMIT" {
			if commits++; commits == 2 {
				return wire.Refuse
			}
		}
		return wire.Forward
	}}
	rp := listen(t, wire.Redis, s.Redis.Addr, rrec.gate)
	pp := listen(t, wire.Postgres, s.Postgres.Addr, prec.gate)

	redisURL, err := rp.URL(s.Redis.URL)
	if err != nil {
		t.Fatal(err)
	}
	pgURL, err := pp.URL(strings.Replace(s.Postgres.URL, "sslmode=disable", "sslmode=prefer", 1)) // the SSLRequest is answered 'N'
	if err != nil {
		t.Fatal(err)
	}

	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, python, "testdata/client.py", redisURL, pgURL, table)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("client.py: %v\n%s%s", err, out, stderr)
	}
	var got struct {
		Get        string   `json:"get"`
		Pipeline   []string `json:"pipeline"`
		Refused    string   `json:"refused"`
		Lost       string   `json:"lost"`
		AfterLost  string   `json:"after_lost"`
		Select     int      `json:"select"`
		Prepared   int      `json:"prepared"`
		Commit     string   `json:"commit"`
		StatusNext string   `json:"status_after_commit"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client.py printed %q: %v", out, err)
	}
	want := []struct {
		what      string
		got, want any
	}{
		{"GET", got.Get, strings.Repeat("x", 52)},
		{"pipeline", got.Pipeline, []string{"True", "2", "b'2'"}},
		{"refused SET", got.Refused, "OOM command not allowed when used memory > 'maxmemory'."},
		{"SET with its reply lost", got.Lost, "timeout"},
		{"GET on a new connection after the lost reply", got.AfterLost, strings.Repeat("x", 52)},
		{"SELECT", got.Select, 1},
		{"statements psycopg prepared", got.Prepared, 1},
		{"refused COMMIT", got.Commit, "23505 UniqueViolation"},
		{"transaction status after the refused COMMIT", got.StatusNext, "IDLE"},
	}
	for _, w := range want {
		if !reflect.DeepEqual(w.got, w.want) {
			t.Errorf("%s: got %v; want %v", w.what, w.got, w.want)
		}
	}
	if v, err := redisVia(t, s, s.Redis.Addr).Get(ctx, "wire:py:lost").Result(); err != nil || v != "applied" {
		t.Errorf("SET with its reply lost: Redis holds %q, %v; want it applied", v, err)
	}
	var v1, v2 int
	if err := direct.QueryRow(ctx, "SELECT (SELECT v FROM "+table+" WHERE id = 1), (SELECT v FROM "+table+" WHERE id = 2)").Scan(&v1, &v2); err != nil {
		t.Fatal(err)
	}
	if v1 != 1 || v2 != 200 {
		t.Errorf("rows after the run: 1 -> %d, 2 -> %d; want 1 (its COMMIT refused) and 200", v1, v2)
	}

	rnames := names(rrec.take())
	if want := []string{"SET", "GET", "SET", "INCRBY", "GET", "SET", "SET", "GET"}; !reflect.DeepEqual(rnames, want) {
		t.Errorf("Redis commands gated %v; want %v", rnames, want)
	}
	pnames := names(prec.take())
	// The 6th and 7th SELECT are a Bind and an Execute of the statement
	// psycopg prepared: still named by its SQL.
	want2 := []string{"BEGIN"}
	for range 8 {
		want2 = append(want2, "SELECT")
	}
	want2 = append(want2, "COMMIT", "BEGIN", "UPDATE", "COMMIT", "BEGIN", "UPDATE", "COMMIT")
	if !reflect.DeepEqual(pnames, want2) {
		t.Errorf("PostgreSQL statements gated %v; want %v", pnames, want2)
	}
}
