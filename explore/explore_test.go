package explore_test

import (
	"context"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/explore"
	"github.com/ghostbench/ghostbench/internal/servertest"
)

func TestQuickCacheAside(t *testing.T) {
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := explore.Run(ctx, explore.Options{Servers: srv, Strategy: "cache-aside", MaxFaults: explore.NoFaults, Bound: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d schedules in %.1fs (%.0f/s), ends %v, classes %v", res.Summary, res.Schedules, res.ElapsedSeconds, res.PerSecond, res.Ends, res.Classes)
	for _, a := range res.Anomalies {
		t.Logf("%s x%d: %s (%d pre) %v", a.Shape, a.Count, a.Schedule.Text(), a.Schedule.Preemptions, a.Evidence)
	}
}
