package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/store"
)

// TestSetupLeavesForeignSchema: Setup and Drop refuse
// a schema that ghostbench did not create, and its table keeps its rows.
func TestSetupLeavesForeignSchema(t *testing.T) {
	srv := servertest.Start(t)
	ctx := context.Background()
	db, err := srv.PostgresPool(ctx, docker.DefaultClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, `CREATE SCHEMA theirs; CREATE TABLE theirs.rows (id int); INSERT INTO theirs.rows VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	st, err := store.New(db, store.Options{Schema: "theirs", Owner: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	var no *store.NotOwnedError
	if err := st.Setup(ctx, 3); !errors.As(err, &no) || no.Schema != "theirs" {
		t.Errorf("Setup on a foreign schema: %v, want a *NotOwnedError naming it", err)
	}
	if err := st.Drop(ctx); !errors.As(err, &no) {
		t.Errorf("Drop of a foreign schema: %v, want a *NotOwnedError", err)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM theirs.rows WHERE id = 7`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the foreign table after Setup and Drop: %d rows, %v; want its row", n, err)
	}
	// A schema Setup made is its own: marked with the owner, set up again
	// and dropped.
	own, _ := store.New(db, store.Options{Schema: "mine", Owner: "run1"})
	if err := own.Setup(ctx, 3); err != nil {
		t.Fatal(err)
	}
	again, _ := store.New(db, store.Options{Schema: "mine", Owner: "run2"})
	if err := again.Setup(ctx, 3); err != nil {
		t.Fatalf("Setup of a schema an earlier run made: %v", err)
	}
	if o, ok, err := again.Owner(ctx); err != nil || !ok || o != "run2" {
		t.Errorf("Owner = %q, %v, %v; want run2", o, ok, err)
	}
	if err := again.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := again.Owner(ctx); ok || err != nil {
		t.Errorf("schema still there after Drop (%v)", err)
	}
}

// TestSetupManyKeys: seeding a million keys works
// under a session statement timeout far below what one INSERT of them all
// takes (the run's pool has the scenario's 2s; 100ms here leaves no doubt).
func TestSetupManyKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a million rows")
	}
	srv := servertest.Start(t)
	ctx := context.Background()
	db, err := srv.PostgresPool(ctx, docker.DefaultClientConfig(), docker.RuntimeParam("statement_timeout", "100"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, _ := store.New(db, store.Options{Schema: "many"})
	const keys = 1_000_000
	if err := st.Setup(ctx, keys); err != nil {
		t.Fatalf("Setup of %d keys: %v", keys, err)
	}
	var n int64
	check, err := srv.PostgresPool(ctx, docker.DefaultClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	if err := check.QueryRow(ctx, `SELECT count(*) FROM many.rows`).Scan(&n); err != nil || n != keys {
		t.Errorf("%d rows seeded (%v), want %d", n, err, keys)
	}
}
