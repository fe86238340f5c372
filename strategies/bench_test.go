package strategies_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/store"
	"github.com/ghostbench/ghostbench/strategies"
)

// BenchmarkWarmReads compares cache-aside reads on a warm cache with a raw
// go-redis GET loop on the same keys, at the same concurrency (64
// goroutines), side by side in one run: the strategy's own cost is what
// separates them (key formatting, value decoding). Target: cache-aside at
// least 90% of raw GET. The two loops alternate to spread machine noise.
func BenchmarkWarmReads(b *testing.B) {
	const (
		goroutines = 64
		keys       = 1000
		slice      = time.Second
	)
	srv := servertest.Start(b)
	ctx := context.Background()
	cc := docker.DefaultClientConfig()
	cc.PoolSize = goroutines + 8
	rdb := srv.RedisClient(cc)
	defer rdb.Close()
	db, err := srv.PostgresPool(ctx, cc)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st, err := store.New(db, store.Options{Schema: "gbbench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Setup(ctx, keys); err != nil {
		b.Fatal(err)
	}
	defer st.Drop(ctx)
	s, err := strategies.Default().New("cache-aside", strategies.Env{DB: db, Redis: rdb, Store: st, TTL: time.Hour, Prefix: "gbbench:"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cache := strategies.NewCache(strategies.Env{Redis: rdb, Prefix: "gbbench:"})
	rawKeys := make([]string, keys)
	for k := 0; k < keys; k++ {
		if _, err := s.Read(ctx, gb.Key(k)); err != nil { // warm the cache
			b.Fatal(err)
		}
		rawKeys[k] = cache.Key(gb.Key(k))
	}
	loop := func(op func(i int) error) float64 {
		var n atomic.Int64
		var wg sync.WaitGroup
		deadline := time.Now().Add(slice)
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var c int64
				for i := g; time.Now().Before(deadline); i += goroutines {
					if err := op(i % keys); err != nil {
						b.Error(err)
						return
					}
					c++
				}
				n.Add(c)
			}()
		}
		wg.Wait()
		return float64(n.Load()) / slice.Seconds()
	}
	raw := func(i int) error { return rdb.Get(ctx, rawKeys[i]).Err() }
	aside := func(i int) error {
		r, err := s.Read(ctx, gb.Key(i))
		if err == nil && !r.Hit {
			b.Errorf("key %d missed a warm cache", i)
		}
		return err
	}
	b.ResetTimer()
	var rawRate, asideRate float64
	for i := 0; i < b.N; i++ {
		rawRate += loop(raw)
		asideRate += loop(aside)
	}
	b.ReportMetric(rawRate/float64(b.N), "raw-GET-ops/s")
	b.ReportMetric(asideRate/float64(b.N), "cache-aside-ops/s")
	b.ReportMetric(asideRate/rawRate, "ratio")
}
