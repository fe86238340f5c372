package wire_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/internal/wire"
)

// BenchmarkForward measures what a proxy whose gate forwards everything
// adds to one command: each iteration runs the command once directly and
// once through the proxy, alternating so that both see the same load, and
// reports both latencies and their difference (overhead-ns/cmd), medians.
func BenchmarkForward(b *testing.B) {
	s := servertest.Start(b)
	forward := func(context.Context, wire.Command) wire.Action { return wire.Forward }
	ctx := context.Background()

	b.Run("redis-get", func(b *testing.B) {
		p := listen(b, wire.Redis, s.Redis.Addr, forward)
		direct, proxied := redisVia(b, s, s.Redis.Addr), redisVia(b, s, p.Addr())
		if err := direct.Set(ctx, "wire:bench", "v", 0).Err(); err != nil {
			b.Fatal(err)
		}
		measure(b, func() error { return direct.Get(ctx, "wire:bench").Err() },
			func() error { return proxied.Get(ctx, "wire:bench").Err() })
	})

	b.Run("postgres-select", func(b *testing.B) {
		p := listen(b, wire.Postgres, s.Postgres.Addr, forward)
		direct, proxied := pgVia(b, s, s.Postgres.Addr), pgVia(b, s, p.Addr())
		measure(b, func() error {
			_, err := direct.Exec(ctx, "SELECT $1::int", 1)
			return err
		}, func() error {
			_, err := proxied.Exec(ctx, "SELECT $1::int", 1)
			return err
		})
	})
}

// measure runs direct and proxied alternately b.N times each (ns/op is
// the time of one of each) and reports the median latency of each and the
// median of the paired differences (overhead-ns/cmd): medians, because on
// a shared machine a few descheduled iterations swing a mean by more than
// the overhead itself.
func measure(b *testing.B, direct, proxied func() error) {
	run := func(op func() error) time.Duration {
		t0 := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	for range 100 { // warm connections and statement caches
		run(direct)
		run(proxied)
	}
	d := make([]time.Duration, 0, b.N)
	p := make([]time.Duration, 0, b.N)
	diff := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		td, tp := run(direct), run(proxied)
		d, p, diff = append(d, td), append(p, tp), append(diff, tp-td)
	}
	b.StopTimer()
	median := func(x []time.Duration) float64 {
		slices.Sort(x)
		return float64(x[len(x)/2].Nanoseconds())
	}
	b.ReportMetric(median(p), "proxied-ns/cmd")
	b.ReportMetric(median(d), "direct-ns/cmd")
	b.ReportMetric(median(diff), "overhead-ns/cmd")
}
