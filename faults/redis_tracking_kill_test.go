package faults_test

import (
	"context"
	"strings"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/internal/servertest"
)

// trackingConns counts the harness's tracking connections in CLIENT LIST.
func trackingConns(t *testing.T, r *rig) int {
	t.Helper()
	list, err := r.direct.ClientList(tctx(t)).Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, " name="+faults.TrackingClientName+" ") && strings.Contains(line, "flags=t") {
			n++
		}
	}
	return n
}

// TestRedisTrackingKill kills rueidis-csc's tracking connection and checks
// what rueidis promises: the local cache is flushed with the connection
// (nothing is left to go stale), reads keep answering, and a write during
// the window is seen by the next read.
func TestRedisTrackingKill(t *testing.T) {
	srv := servertest.Start(t)
	r := newRig(t, srv, "rueidis-csc", step("redis-tracking-kill", map[string]string{"every": "20ms"}))
	ctx := tctx(t)
	reader := gb.Actor{Kind: "reader", ID: 1}
	writer := gb.Actor{Kind: "writer", ID: 2}
	r.sess.Read(ctx, reader, 1) // miss: fills Redis
	if err := r.sess.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	r.sess.Read(ctx, reader, 1) // fills the local cache
	if _, _, ok := r.sess.PeekLocal(0, 1); !ok {
		t.Fatal("no local entry after two reads")
	}
	if n := trackingConns(t, r); n != 1 {
		t.Fatalf("%d tracking connections named %s, want 1", n, faults.TrackingClientName)
	}
	r.inject()
	err := within(5*time.Second, func(ctx context.Context) error {
		for {
			if _, _, ok := r.sess.PeekLocal(0, 1); !ok {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(time.Millisecond)
		}
	})
	if err != nil {
		t.Fatalf("the local entry survived the tracking connection's kill: %v", err)
	}
	if op := r.sess.Write(ctx, writer, 1, 501, 3); op.Err != nil {
		t.Fatalf("write during the kill window: %v", op.Err)
	}
	// Reads may fail while a kill lands; the first that succeeds must see
	// the write (its connection, if any, tracks anew).
	var got gb.Op
	for i := 0; i < 50; i++ {
		if got = r.sess.Read(ctx, reader, 1); got.Err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got.Err != nil || got.Value.Token != 501 {
		t.Fatalf("read after the write during the kill window = %v (err %v), want token 501", got.Value, got.Err)
	}
	r.heal()
	err = within(5*time.Second, func(ctx context.Context) error {
		for trackingConns(t, r) != 1 {
			r.sess.Read(ctx, reader, 2)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(10 * time.Millisecond)
		}
		return nil
	})
	if err != nil {
		t.Errorf("no tracking connection after heal: %v", err)
	}
}
