package runner_test

import (
	"context"
	"sync"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/runner"
)

// TestStampedeWidthFromStrategy drives a known stampede through a real
// strategy on real servers: five cache-aside readers miss the same key and
// each reads its row from PostgreSQL, held between the SELECT and the SET
// until all five have read it. The width is counted from the reads the
// store recorded, so it must be exactly 5; a sixth read after the fills
// landed hits the cache and adds no database read.
func TestStampedeWidthFromStrategy(t *testing.T) {
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := runner.Open(ctx, runner.Config{Scenario: scenario(time.Second), Strategy: "cache-aside", Servers: srv})
	if err != nil {
		t.Fatal(err)
	}
	const key, width = gb.Key(3), 5
	gates := make([]*runner.Gate, width)
	for i := range gates {
		gates[i] = s.Barriers.Hold("reader", i, gb.PointAfterDBRead, key)
	}
	var wg sync.WaitGroup
	for i := 0; i < width; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if op := s.Read(ctx, gb.Actor{Kind: "reader", ID: i}, key); op.Err != nil || op.Hit {
				t.Errorf("reader %d: hit %v, error %v; want a miss", i, op.Hit, op.Err)
			}
		}()
	}
	for i, g := range gates {
		select {
		case <-g.Reached():
		case <-ctx.Done():
			t.Fatalf("reader %d never reached %s", i, gb.PointAfterDBRead)
		}
	}
	for _, g := range gates {
		g.Open()
	}
	wg.Wait()
	if op := s.Read(ctx, gb.Actor{Kind: "reader", ID: width}, key); !op.Hit {
		t.Errorf("the read after the fills missed (error %v)", op.Err)
	}
	res := s.Close(ctx)
	d := res.DBLoad
	if d == nil || !d.Recorded {
		t.Fatalf("db load = %+v, want recorded", d)
	}
	if d.Reads != width || d.Fills != 1 || d.Storms != 1 || d.WidthMax != width {
		t.Errorf("reads %d, fills %d, storms %d, max width %d; want %d, 1, 1, %d", d.Reads, d.Fills, d.Storms, d.WidthMax, width, width)
	}
	if d.Widest == nil || d.Widest.Key != key || d.Widest.Version != 0 {
		t.Errorf("widest fill = %+v, want key %d at version 0", d.Widest, key)
	}
}
