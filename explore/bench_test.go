package explore_test

import (
	"context"
	"testing"

	"github.com/ghostbench/ghostbench/explore"
	"github.com/ghostbench/ghostbench/internal/servertest"
)

// BenchmarkExhaust exhausts cache-aside's bound-2 space (2 readers, 1
// writer, one operation each, both initial states), without faults and
// with one, and reports the size of the space, the time to exhaust it and
// the schedules per second.
func BenchmarkExhaust(b *testing.B) {
	srv := servertest.Start(b)
	for _, bc := range []struct {
		name      string
		maxFaults int
	}{{"cache-aside/bound-2/no-faults", explore.NoFaults}, {"cache-aside/bound-2/one-fault", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			var schedules int
			var secs float64
			for i := 0; i < b.N; i++ {
				res, err := explore.Run(context.Background(), explore.Options{Servers: srv, Strategy: "cache-aside", MaxFaults: bc.maxFaults})
				if err != nil {
					b.Fatal(err)
				}
				if !res.Exhausted {
					b.Fatalf("not exhausted: %s", res.Summary)
				}
				schedules += res.Schedules
				secs += res.ElapsedSeconds
			}
			b.ReportMetric(float64(schedules)/float64(b.N), "schedules")
			b.ReportMetric(secs/float64(b.N), "s/exhaust")
			b.ReportMetric(float64(schedules)/secs, "schedules/s")
		})
	}
}
