package strategies_test

import (
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/internal/servertest"
)

func TestGoRedisCache(t *testing.T) {
	srv := servertest.Start(t)

	// github.com/go-redis/cache/v9 has the cache-aside stale set: its
	// singleflight collapses concurrent loads in one process but does not
	// order a late load after a write's Delete.
	t.Run("StaleSet", func(t *testing.T) {
		s := session(t, srv, "go-redis-cache", nil, time.Minute)
		staleSet(t, s)
		if v, ttl, ok, err := s.Peek(tctx(t), 0); err != nil || !ok || v.Version != 0 || ttl <= 0 || ttl > time.Minute {
			t.Errorf("cache entry = %v ttl=%v present=%v err=%v; want the stale v0 with the run's TTL", v, ttl, ok, err)
		}
		m := closeSession(t, s)
		if m.Audit.StaleUntilTTL < 1 {
			t.Errorf("stale-until-TTL keys = %d, want at least 1", m.Audit.StaleUntilTTL)
		}
		if m.Reads.Stale != 1 || m.Reads.Ghost != 0 {
			t.Errorf("stale reads %d, ghost reads %d; want 1 and 0", m.Reads.Stale, m.Reads.Ghost)
		}
	})

	// The library alone turns a TTL under one second into one hour; the
	// adapter's shim must put the run's TTL on.
	t.Run("SubSecondTTL", func(t *testing.T) {
		const ttl = 800 * time.Millisecond
		s := session(t, srv, "go-redis-cache", nil, ttl)
		ctx := tctx(t)
		if op := s.Read(ctx, reader1, 1); op.Err != nil || op.Hit {
			t.Fatalf("cold read = hit %v, err %v; want a miss", op.Hit, op.Err)
		}
		if _, got, ok, err := s.Peek(ctx, 1); err != nil || !ok || got <= 0 || got > ttl {
			t.Errorf("entry TTL = %v present=%v err=%v; want in (0, %v]", got, ok, err, ttl)
		}
		closeSession(t, s)
	})
}
