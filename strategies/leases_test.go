package strategies_test

import (
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/strategies"
)

func TestLeases(t *testing.T) {
	srv := servertest.Start(t)
	for _, mode := range []string{"wait", "read-through"} {
		params := strategies.Params{"hot-miss": mode, "wait": "50ms"}

		// The write's DEL voids reader 1's lease: its late fill of v0
		// is dropped, reader 2 misses and fills v1.
		t.Run("StaleSet/"+mode, func(t *testing.T) {
			s := session(t, srv, "leases", params, time.Minute)
			staleSet(t, s)
			m := closeSession(t, s)
			if m.Audit.StaleUntilTTL != 0 || m.Reads.Stale != 0 || m.Reads.Ghost != 0 {
				t.Errorf("stale-until-TTL %d, stale reads %d, ghost reads %d; want 0, 0, 0",
					m.Audit.StaleUntilTTL, m.Reads.Stale, m.Reads.Ghost)
			}
		})

		// A hot miss: reader 1 holds the lease (held before its fill);
		// reader 2 misses too. It must not fill; with hot-miss=wait it
		// waits (at least the wait parameter) before reading through.
		t.Run("HotMiss/"+mode, func(t *testing.T) {
			s := session(t, srv, "leases", params, time.Minute)
			ctx := tctx(t)
			g := s.Barriers.Hold("reader", 1, gb.PointBeforeCacheSet, 0)
			done := make(chan gb.Op, 1)
			go func() { done <- s.Read(ctx, reader1, 0) }()
			if err := g.Wait(ctx); err != nil {
				t.Fatalf("reader 1 never reached %s: %v", gb.PointBeforeCacheSet, err)
			}
			op := s.Read(ctx, reader2, 0)
			if op.Err != nil || op.Hit || op.Value.Version != 0 {
				t.Fatalf("reader 2 = %v hit=%v err=%v; want v0 read through", op.Value, op.Hit, op.Err)
			}
			took := op.Complete - op.Invoke
			if mode == "wait" && took < 50*time.Millisecond {
				t.Errorf("reader 2 took %v, want at least the 50ms wait", took)
			}
			if _, _, ok, err := s.Peek(ctx, 0); err != nil || ok {
				t.Errorf("reader 2 filled the key (present=%v, err=%v) without holding the lease", ok, err)
			}
			g.Open()
			if op := <-done; op.Err != nil {
				t.Fatalf("reader 1: %v", op.Err)
			}
			if v, _, ok, err := s.Peek(ctx, 0); err != nil || !ok || v.Version != 0 {
				t.Errorf("after the lease holder's fill: entry %v present=%v err=%v, want v0", v, ok, err)
			}
			m := closeSession(t, s)
			if n := anomalies(m); n != 0 {
				t.Errorf("anomalies = %d, want 0", n)
			}
		})
	}
}
