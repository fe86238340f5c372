package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/store"
)

// ledgerRows returns the ledger as "token:id:version" lines in token order.
func ledgerRows(t *testing.T, ctx context.Context, srv *docker.Servers, schema string) string {
	t.Helper()
	db, err := srv.PostgresPool(ctx, docker.DefaultClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(ctx, fmt.Sprintf(`SELECT token, id, version FROM %s.ledger ORDER BY token`, schema))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var tok, id, v int64
		if err := rows.Scan(&tok, &id, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d:%d:%d", tok, id, v))
	}
	return strings.Join(out, " ")
}

// TestPlainSQLMatchesStore writes the same sequence once through
// Store.Write and once as the plain UPDATE a foreign process runs
// (docs/protocol.md), each on a fresh schema: rows and ledger must be the
// same, and the plain path must record version and ledger by itself.
func TestPlainSQLMatchesStore(t *testing.T) {
	srv := servertest.Start(t)
	ctx := context.Background()
	db, err := srv.PostgresPool(ctx, docker.DefaultClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	writes := []gb.WriteRequest{{Key: 1, Token: 11, Delta: 5}, {Key: 1, Token: 12, Delta: -3}, {Key: 2, Token: 21, Delta: 7}, {Key: 1, Token: 13, Delta: 1}}

	goStore, err := store.New(db, store.Options{Schema: "plain_go"})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := store.New(db, store.Options{Schema: "plain_sql"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*store.Store{goStore, plain} {
		if err := st.Setup(ctx, 3); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Drop(context.Background()) })
	}
	for _, w := range writes {
		if _, err := goStore.Write(ctx, w, nil); err != nil {
			t.Fatal(err)
		}
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var v int64
		if err := tx.QueryRow(ctx, `UPDATE plain_sql.rows SET balance = balance + $1, token = $2 WHERE id = $3 RETURNING version`, w.Delta, int64(w.Token), int64(w.Key)).Scan(&v); err != nil {
			t.Fatalf("plain UPDATE %v: %v", w, err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A rolled-back plain write leaves neither a version nor a ledger row.
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE plain_sql.rows SET balance = balance + 1, token = 99 WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(ctx)

	gr, err := goStore.Rows(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := plain.Rows(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(gr) != fmt.Sprint(pr) {
		t.Errorf("rows: store %v, plain SQL %v", gr, pr)
	}
	if want := "[v0/t0/b0 v3/t13/b3 v1/t21/b7]"; fmt.Sprint(pr) != want {
		t.Errorf("plain SQL rows = %v, want %s", pr, want)
	}
	gl, pl := ledgerRows(t, ctx, srv, "plain_go"), ledgerRows(t, ctx, srv, "plain_sql")
	if gl != pl || pl != "11:1:1 12:1:2 13:1:3 21:2:1" {
		t.Errorf("ledger: store %q, plain SQL %q, want both 11:1:1 12:1:2 13:1:3 21:2:1", gl, pl)
	}

	// A write that keeps the token is refused with a message that says so.
	_, err = db.Exec(ctx, `UPDATE plain_sql.rows SET balance = balance + 1 WHERE id = 1`)
	if err == nil || !strings.Contains(err.Error(), "must set a fresh token") {
		t.Errorf("UPDATE without a fresh token: %v, want a refusal naming the token", err)
	}
	// Setting the version by hand does not double-bump it.
	var v int64
	if err := db.QueryRow(ctx, `UPDATE plain_sql.rows SET version = version + 1, balance = balance + 1, token = 14 WHERE id = 1 RETURNING version`).Scan(&v); err != nil || v != 4 {
		t.Errorf("UPDATE that also sets version: version %d, %v; want 4", v, err)
	}
	if k, lv, ok, err := plain.LedgerVersion(ctx, 14); err != nil || !ok || k != 1 || lv != 4 {
		t.Errorf("LedgerVersion(14) = %d, %d, %v, %v; want key 1, version 4", k, lv, ok, err)
	}
	if _, _, ok, err := plain.LedgerVersion(ctx, 99); err != nil || ok {
		t.Errorf("LedgerVersion(99) of a rolled-back write = %v, %v; want absent", ok, err)
	}
}
