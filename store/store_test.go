package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/jackc/pgx/v5"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/store"
)

// events records what the store reports, in order.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	e.log = append(e.log, fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

func (e *events) Began(k gb.Key, t gb.Token, v int64) { e.add("began k%d t%d v%d", k, t, v) }
func (e *events) CommitSending(k gb.Key, t gb.Token, v int64, sent time.Duration) {
	e.add("sending k%d t%d v%d", k, t, v)
}
func (e *events) Committed(k gb.Key, t gb.Token, v int64, sent, ack time.Duration) {
	if ack < sent {
		e.add("ack before sent")
	}
	e.add("committed k%d t%d v%d", k, t, v)
}
func (e *events) Aborted(k gb.Key, t gb.Token, v int64, sent time.Duration) {
	e.add("aborted k%d t%d v%d sent=%v", k, t, v, sent >= 0)
}
func (e *events) Indeterminate(k gb.Key, t gb.Token, v int64, sent time.Duration) {
	e.add("indeterminate k%d t%d v%d", k, t, v)
}

func open(t *testing.T, srv *docker.Servers, rec gb.Recorder) *store.Store {
	t.Helper()
	ctx := context.Background()
	db, err := srv.PostgresPool(ctx, docker.DefaultClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	st, err := store.New(db, store.Options{Schema: "storetest", Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Setup(ctx, 3); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestWriteRecordsEveryAttempt(t *testing.T) {
	srv := servertest.Start(t)
	ev := &events{}
	st := open(t, srv, ev)
	ctx := context.Background()

	v, err := st.Write(ctx, gb.WriteRequest{Key: 1, Token: 11, Delta: 5}, nil)
	if err != nil || v != (gb.Value{Version: 1, Token: 11, Balance: 5}) {
		t.Fatalf("Write = %v, %v; want v1/t11/b5", v, err)
	}
	// A callback error rolls back before COMMIT is sent.
	_, err = st.Write(ctx, gb.WriteRequest{Key: 1, Token: 12, Delta: 1}, func(context.Context, pgx.Tx, gb.Value) error {
		return gb.Redis(fmt.Errorf("SET refused"))
	})
	if gb.Classify(err) != gb.ClassRedis {
		t.Errorf("callback error class = %v, want redis (%v)", gb.Classify(err), err)
	}
	// A failure at COMMIT is reported as aborted with a commit-sent.
	st.SetFailCommit(func(_ gb.Key, tok gb.Token) bool { return tok == 13 })
	_, err = st.Write(ctx, gb.WriteRequest{Key: 1, Token: 13, Delta: 1}, nil)
	if gb.Classify(err) != gb.ClassPostgres || !strings.Contains(err.Error(), "commit failed") {
		t.Errorf("failed COMMIT: err %v class %v, want a postgres commit failure", err, gb.Classify(err))
	}
	st.SetFailCommit(nil)
	if _, err := st.Write(ctx, gb.WriteRequest{Key: 1, Token: 14, Delta: 1}, nil); err != nil {
		t.Fatal(err)
	}

	want := []string{
		"began k1 t11 v1", "sending k1 t11 v1", "committed k1 t11 v1",
		"began k1 t12 v2", "aborted k1 t12 v2 sent=false",
		"began k1 t13 v2", "sending k1 t13 v2", "aborted k1 t13 v2 sent=true",
		"began k1 t14 v2", "sending k1 t14 v2", "committed k1 t14 v2",
	}
	if got := strings.Join(ev.log, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("recorder events:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}

	got, err := st.Committed(ctx, []gb.Token{11, 12, 13, 14, 99})
	if err != nil {
		t.Fatal(err)
	}
	if wantC := map[gb.Token]bool{11: true, 12: false, 13: false, 14: true, 99: false}; fmt.Sprint(got) != fmt.Sprint(wantC) {
		t.Errorf("ledger = %v, want %v", got, wantC)
	}
	rows, err := st.Rows(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if rows[1] != (gb.Value{Version: 2, Token: 14, Balance: 6}) || rows[0] != (gb.Value{}) {
		t.Errorf("rows = %v", rows)
	}
	some, err := st.RowsOf(ctx, []gb.Key{2, 1, 7})
	if err != nil {
		t.Fatal(err)
	}
	if want := []gb.Value{{}, {Version: 2, Token: 14, Balance: 6}, {}}; fmt.Sprint(some) != fmt.Sprint(want) {
		t.Errorf("RowsOf(2, 1, 7) = %v, want %v (in the order asked, zero for a key without a row)", some, want)
	}
}

func TestNewRefusesBadSchema(t *testing.T) {
	if _, err := store.New(nil, store.Options{Schema: "x; DROP TABLE y"}); err == nil || !strings.Contains(err.Error(), "want a lower-case identifier") {
		t.Errorf("New with a bad schema: %v", err)
	}
}
