package check

import (
	"context"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench"
)

// warmupStaleRun feeds c a run in which key 0 is written once during the
// warm-up and the cache keeps serving the seed row to measured reads: every
// measured read is stale, and only the warm-up write's window explains it.
func warmupStaleRun(t *testing.T, c *Checker) *Metrics {
	t.Helper()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	c.Began(0, 1, 1)
	c.CommitSending(0, 1, 1, ms(10))
	c.Committed(0, 1, 1, ms(10), ms(20))
	c.Observe(&ghostbench.Op{Kind: ghostbench.OpWrite, Key: 0, Token: 1, Invoke: ms(5), Complete: ms(25)})
	for i := range 50 {
		at := ms(100 + 10*i)
		c.Observe(&ghostbench.Op{Kind: ghostbench.OpRead, Key: 0, Client: i, Intended: at, Invoke: at, Complete: at + ms(1), Measured: true, Hit: true})
	}
	m, err := c.Finish(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInvariantsHoldWithWarmupWindows(t *testing.T) {
	c, err := NewChecker(CheckerConfig{Keys: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := warmupStaleRun(t, c)
	if m.Reads.Stale != 50 {
		t.Fatalf("stale reads: got %d, want 50", m.Reads.Stale)
	}
	if len(m.Violations) > 0 {
		t.Errorf("invariants broken: %v", m.Violations)
	}
	// The warm-up write's window runs from its ack (20 ms) to the last
	// measured read that still saw v0 (590 ms).
	if got, want := m.StaleWindow.MaxUs, int64(570_000); got != want {
		t.Errorf("max stale window: got %d us, want %d", got, want)
	}
	if m.StaleWindow.Writes != 1 || m.StaleWindow.WithWindow != 1 {
		t.Errorf("window writes %d, with window %d: want 1 and 1", m.StaleWindow.Writes, m.StaleWindow.WithWindow)
	}
}

// TestInvariantsCatchDroppedWarmupWindows is the mutant: a checker that
// drops the windows of warm-up writes (the old behaviour) must be caught.
func TestInvariantsCatchDroppedWarmupWindows(t *testing.T) {
	c, err := NewChecker(CheckerConfig{Keys: 1})
	if err != nil {
		t.Fatal(err)
	}
	c.dropWarmupWindows = true
	m := warmupStaleRun(t, c)
	if len(m.Violations) == 0 {
		t.Fatalf("a checker that drops warm-up windows passed the invariants: stale %d, windows %+v", m.Reads.Stale, m.StaleWindow)
	}
	t.Logf("caught: %v", m.Violations)
}

// TestMutantFailsRandomHistories runs the generated histories through the
// mutant: some of them must break the invariants (their warm-up writes make
// measured reads stale), so the fuzz test would catch the bug too.
func TestMutantFailsRandomHistories(t *testing.T) {
	caught := 0
	for i := range 200 {
		h := ckGenHistory(uint64(i)*2654435761, uint8(i%3), uint8(i*7))
		c, err := NewChecker(CheckerConfig{Keys: h.keys, FullHistory: true})
		if err != nil {
			t.Fatal(err)
		}
		c.dropWarmupWindows = true
		for _, e := range h.events {
			e.fn(c)
		}
		m, _ := c.Finish(context.Background(), func(_ context.Context, tokens []ghostbench.Token) (map[ghostbench.Token]bool, error) {
			out := map[ghostbench.Token]bool{}
			for _, tk := range tokens {
				out[tk] = h.ledger[tk]
			}
			return out, nil
		})
		if len(m.Violations) > 0 {
			caught++
		}
	}
	if caught == 0 {
		t.Fatal("no generated history catches a checker that drops warm-up windows")
	}
	t.Logf("%d of 200 generated histories catch the mutant", caught)
}
