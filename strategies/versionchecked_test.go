package strategies_test

import (
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/servertest"
)

var writer2 = gb.Actor{Kind: "writer", ID: 11}

func TestVersionChecked(t *testing.T) {
	srv := servertest.Start(t)

	// The cache-aside stale set: reader 1's late SET of v0 is refused
	// because the write's SET put v1 there first.
	t.Run("StaleSet", func(t *testing.T) {
		s := session(t, srv, "version-checked", nil, time.Minute)
		staleSet(t, s)
		if v, _, ok, err := s.Peek(tctx(t), 0); err != nil || !ok || v.Version != 1 {
			t.Errorf("cache entry after the stale set = %v present=%v err=%v, want v1", v, ok, err)
		}
		m := closeSession(t, s)
		if m.Audit.StaleUntilTTL != 0 || m.Reads.Stale != 0 || m.Reads.Ghost != 0 {
			t.Errorf("stale-until-TTL %d, stale reads %d, ghost reads %d; want 0, 0, 0",
				m.Audit.StaleUntilTTL, m.Reads.Stale, m.Reads.Ghost)
		}
	})

	// Two writers whose SETs after COMMIT land out of order: writer 1
	// commits v1 and is held before its SET; writer 2 commits v2 and
	// SETs it; then writer 1's SET of v1 arrives. update-after-commit
	// (a plain SET) is the control that shows the test can fail.
	for _, tc := range []struct {
		strategy  string
		wantStale bool
	}{
		{"version-checked", false},
		{"update-after-commit", true},
	} {
		t.Run("OutOfOrderSets/"+tc.strategy, func(t *testing.T) {
			s := session(t, srv, tc.strategy, nil, time.Minute)
			ctx := tctx(t)
			g := s.Barriers.Hold("writer", writer1.ID, gb.PointBeforeCacheSet, 0)
			done := make(chan gb.Op, 1)
			go func() { done <- s.Write(ctx, writer1, 0, 201, 1) }()
			if err := g.Wait(ctx); err != nil {
				t.Fatalf("writer 1 never reached %s: %v", gb.PointBeforeCacheSet, err)
			}
			if op := s.Write(ctx, writer2, 0, 202, 1); op.Err != nil {
				t.Fatalf("writer 2: %v", op.Err)
			}
			g.Open()
			if op := <-done; op.Err != nil {
				t.Fatalf("writer 1: %v", op.Err)
			}
			r := s.Read(ctx, reader1, 0)
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			m := closeSession(t, s)
			stale := m.Audit.StaleUntilTTL > 0 && m.Reads.Stale == 1
			clean := m.Audit.StaleUntilTTL == 0 && m.Reads.Stale == 0
			if tc.wantStale && !stale {
				t.Errorf("stale-until-TTL %d, stale reads %d; want 1 and 1 (the older SET wins)", m.Audit.StaleUntilTTL, m.Reads.Stale)
			}
			if !tc.wantStale && !clean {
				t.Errorf("stale-until-TTL %d, stale reads %d; want 0 and 0 (the older SET is refused)", m.Audit.StaleUntilTTL, m.Reads.Stale)
			}
		})
	}
}
