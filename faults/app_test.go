package faults_test

import (
	"context"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/servertest"
)

func TestAppFaults(t *testing.T) {
	srv := servertest.Start(t)
	bg := context.Background()
	reader := gb.Actor{Kind: "reader", ID: 1}
	writer := gb.Actor{Kind: "writer", ID: 2}

	t.Run("app-delay", func(t *testing.T) {
		r := newRig(t, srv, "cache-aside", step("app-delay",
			map[string]string{"point": "after-db-read", "delay": "500ms", "actor": "reader"}))
		// The delay is long, so that "not delayed" (under 500ms) holds on a
		// loaded machine too.
		const delay = 500 * time.Millisecond
		r.inject()
		if op := r.sess.Read(bg, reader, 0); op.Err != nil || op.Complete-op.Invoke < delay {
			t.Errorf("a reader's miss took %v (%v), want at least the 500ms delay", op.Complete-op.Invoke, op.Err)
		}
		if op := r.sess.Read(bg, gb.Actor{Kind: "prober"}, 1); op.Err != nil || op.Complete-op.Invoke >= delay {
			t.Errorf("another actor's miss took %v (%v), want no delay", op.Complete-op.Invoke, op.Err)
		}
		r.heal()
		if op := r.sess.Read(bg, reader, 2); op.Err != nil || op.Complete-op.Invoke >= delay {
			t.Errorf("a reader's miss after heal took %v (%v), want no delay", op.Complete-op.Invoke, op.Err)
		}
	})

	t.Run("app-barrier", func(t *testing.T) {
		r := newRig(t, srv, "write-through", step("app-barrier", map[string]string{"point": "before-cache-set", "actor": "writer"}))
		r.inject()
		done := make(chan gb.Op, 2)
		go func() { done <- r.sess.Write(bg, writer, 1, 1<<32+1, 5) }()
		go func() { done <- r.sess.Write(bg, gb.Actor{Kind: "writer", ID: 3}, 2, 1<<32+2, 5) }()
		select {
		case op := <-done:
			t.Fatalf("a writer passed the barrier while it was in effect: %+v", op)
		case <-time.After(200 * time.Millisecond):
		}
		if op := r.sess.Read(bg, reader, 3); op.Err != nil {
			t.Errorf("a reader (not held) failed: %v", op.Err)
		}
		r.heal() // returns once no actor is held
		for range 2 {
			select {
			case op := <-done:
				if op.Err != nil {
					t.Errorf("a released write failed: %v", op.Err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("a held writer was not released by heal")
			}
		}
	})
}
