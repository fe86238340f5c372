package strategies_test

import (
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/strategies"
)

// TestDelayedDoubleDelete forces the cache-aside stale set (reader 1 reads
// v0 from the database, the write commits v1, reader 1's SET of v0 lands)
// and moves the stale SET before or after the second DEL.
func TestDelayedDoubleDelete(t *testing.T) {
	srv := servertest.Start(t)

	t.Run("FillInsideDelayIsRemoved", func(t *testing.T) {
		s := session(t, srv, "delayed-double-delete", strategies.Params{"delay": "50ms"}, time.Minute)
		ctx := tctx(t)
		// The second DEL waits at its gate, so that the stale SET lands
		// inside the delay however slow this machine is.
		second := s.Barriers.Hold("worker", -1, gb.PointBeforeApply, 0)
		done := holdFillDuringWrite(t, s)
		if op := <-done; op.Err != nil || op.Value.Version != 0 {
			t.Fatalf("reader 1 = %v, %v; want v0", op.Value, op.Err)
		}
		if err := second.Wait(ctx); err != nil {
			t.Fatalf("the second DEL never came: %v", err)
		}
		if op := s.Read(ctx, reader2, 0); !op.Hit || op.Value.Version != 0 {
			t.Fatalf("read inside the delay = %v hit=%v, want the stale v0 from the cache", op.Value, op.Hit)
		}
		second.Open()
		drain(t, s)
		if op := s.Read(ctx, reader2, 0); op.Err != nil || op.Hit || op.Value.Version != 1 {
			t.Fatalf("read after the second DEL = %v hit=%v err=%v, want a miss returning v1", op.Value, op.Hit, op.Err)
		}
		m := closeSession(t, s)
		if m.Audit.StaleUntilTTL != 0 {
			t.Errorf("stale-until-TTL keys = %d, want 0: the second DEL removes a fill that lands inside the delay", m.Audit.StaleUntilTTL)
		}
		if m.Reads.Stale != 1 {
			t.Errorf("stale reads = %d, want 1 (the read inside the delay)", m.Reads.Stale)
		}
	})

	t.Run("FillAfterDelayStays", func(t *testing.T) {
		s := session(t, srv, "delayed-double-delete", strategies.Params{"delay": "50ms"}, time.Minute)
		ctx := tctx(t)
		g := s.Barriers.Hold("reader", 1, gb.PointBeforeCacheSet, 0)
		done := make(chan gb.Op, 1)
		go func() { done <- s.Read(ctx, reader1, 0) }()
		if err := g.Wait(ctx); err != nil {
			t.Fatalf("reader 1 never reached %s: %v", gb.PointBeforeCacheSet, err)
		}
		if op := s.Write(ctx, writer1, 0, 101, 5); op.Err != nil {
			t.Fatalf("write: %v", op.Err)
		}
		drain(t, s) // the second DEL has run
		g.Open()
		if op := <-done; op.Err != nil || op.Value.Version != 0 {
			t.Fatalf("reader 1 = %v, %v; want v0", op.Value, op.Err)
		}
		if op := s.Read(ctx, reader2, 0); !op.Hit || op.Value.Version != 0 {
			t.Fatalf("read = %v hit=%v, want the stale v0 from the cache", op.Value, op.Hit)
		}
		m := closeSession(t, s)
		if m.Audit.StaleUntilTTL < 1 {
			t.Errorf("stale-until-TTL keys = %d, want at least 1: nothing removes a fill slower than the delay", m.Audit.StaleUntilTTL)
		}
		if m.Reads.Stale != 1 {
			t.Errorf("stale reads = %d, want 1", m.Reads.Stale)
		}
	})
}

// holdFillDuringWrite holds reader 1 before its SET of v0 on key 0 while
// writer 1 commits v1 (token 101), then lets the SET go; the channel gets
// reader 1's operation.
func holdFillDuringWrite(t *testing.T, s *runner.Session) <-chan gb.Op {
	t.Helper()
	ctx := tctx(t)
	g := s.Barriers.Hold("reader", 1, gb.PointBeforeCacheSet, 0)
	done := make(chan gb.Op, 1)
	go func() { done <- s.Read(ctx, reader1, 0) }()
	if err := g.Wait(ctx); err != nil {
		t.Fatalf("reader 1 never reached %s: %v", gb.PointBeforeCacheSet, err)
	}
	if op := s.Write(ctx, writer1, 0, 101, 5); op.Err != nil {
		t.Fatalf("write: %v", op.Err)
	}
	g.Open()
	return done
}
