package runner_test

import (
	"context"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/strategies"
)

// TestInstances checks that instances: K builds K strategy objects with a
// Redis client each, deals reader j and writer j to instance j mod K, and
// records the assignment; and that the frozen cache's reads of its own
// instance's writes are read-your-writes violations, on instances with a
// writer only.
func TestInstances(t *testing.T) {
	srv := servertest.Start(t)
	reg, made := frozenRegistry()
	sc := scenario(2 * time.Second)
	sc.Readers, sc.Writers, sc.Instances = 3, 1, 3
	res := run(t, srv, runner.Config{Scenario: sc, Strategy: "frozen", Registry: reg})
	if res.Status != record.StatusOK {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	if len(*made) != 3 {
		t.Fatalf("%d strategy instances built, want 3", len(*made))
	}
	clients := map[any]bool{}
	for _, f := range *made {
		clients[f.env.Redis] = true
	}
	if len(clients) != 3 {
		t.Errorf("%d distinct Redis clients for 3 instances, want 3", len(clients))
	}
	// Workers 0..2 are readers 0..2, worker 3 is writer 0.
	want := []int{0, 1, 2, 0}
	if res.Instances == nil || res.Instances.Count != 3 || len(res.Instances.Assignment) != len(want) {
		t.Fatalf("instances record = %+v, want count 3 and assignment %v", res.Instances, want)
	}
	for w, inst := range want {
		if got := res.Instances.Assignment[w]; got != inst {
			t.Errorf("worker %d on instance %d, want %d", w, got, inst)
		}
		kind := "reader"
		if w >= sc.Readers {
			kind = "writer"
		}
		for i, f := range *made {
			n := len(f.seqs[gb.Actor{Kind: kind, ID: w}])
			if (i == inst) != (n > 0) {
				t.Errorf("instance %d ran %d operations of %s %d (assigned to instance %d)", i, n, kind, w, inst)
			}
		}
	}
	m := res.Metrics
	y := res.RYW
	if y == nil || y.Reads != m.Reads.OK {
		t.Fatalf("read-your-writes = %+v, want it to check the %d successful reads", y, m.Reads.OK)
	}
	if y.Violations == 0 || y.Violations > m.Reads.Stale {
		t.Errorf("read-your-writes violations = %d, want > 0 and at most the %d stale reads", y.Violations, m.Reads.Stale)
	}
	for _, e := range y.Examples {
		if e.Instance != 0 {
			t.Errorf("violation on instance %d, which has no writer: %+v", e.Instance, e)
		}
		if e.AgeNs <= 0 || e.Own <= e.Read {
			t.Errorf("violation %+v: want a positive age and an own version above the one read", e)
		}
	}
}

// planted is a fake at our own plug-in point: it reads and writes the
// database only (every read fresh), has no Redis entries, and on the
// instance it is told shows a local cache that holds v0 of every key.
type planted struct {
	env   strategies.Env
	plant bool
}

func (p *planted) Read(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	v, err := p.env.Store.Read(ctx, key)
	return gb.ReadResult{Value: v}, err
}

func (p *planted) Write(ctx context.Context, req gb.WriteRequest) error {
	_, err := p.env.Store.Write(ctx, req, nil)
	return err
}

func (p *planted) Close() error { return nil }

func (p *planted) Peek(context.Context, gb.Key) (gb.Value, time.Duration, bool, error) {
	return gb.Value{}, 0, false, nil
}

func (p *planted) PeekLocal(gb.Key) (gb.Value, time.Duration, bool) {
	return gb.Value{}, 30 * time.Second, p.plant
}

// TestAuditCountsStaleLocalEntry plants a stale entry in the second
// instance's local cache (Redis holds nothing) and checks that the audit
// counts the key stale until TTL and the local entry as stale.
func TestAuditCountsStaleLocalEntry(t *testing.T) {
	srv := servertest.Start(t)
	reg := &strategies.Registry{}
	n := 0
	reg.Register(strategies.Info{Name: "planted", Description: "test fake", New: func(env strategies.Env) (gb.Strategy, error) {
		n++
		return &planted{env: env, plant: n == 2}, nil
	}})
	sc := scenario(time.Second)
	sc.Keys, sc.Instances = 4, 2
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := runner.Open(ctx, runner.Config{Scenario: sc, Strategy: "planted", Registry: reg, Servers: srv})
	if err != nil {
		t.Fatal(err)
	}
	w := gb.Actor{Kind: "writer", ID: 10}
	if op := s.Write(ctx, w, 2, 1001, 5); op.Err != nil {
		t.Fatal(op.Err)
	}
	res := s.Close(ctx)
	if res.Status != record.StatusOK {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	a := res.Metrics.Audit
	// Key 2 is at v1 with v0 in instance 1's memory. The audit looks only
	// at the keys operations touched (caches start empty, so the others
	// hold nothing in a real run): the fake's entries for keys 0, 1 and 3
	// are not looked at, and those keys count as checked and absent.
	if a.StaleUntilTTL != 1 || a.GhostUntilTTL != 0 || a.Present != 1 || a.Checked != 4 {
		t.Errorf("audit: %d stale until TTL, %d ghost, %d present, %d checked; want 1, 0, 1, 4", a.StaleUntilTTL, a.GhostUntilTTL, a.Present, a.Checked)
	}
	in := res.Instances
	if in == nil || in.LocalEntries != 1 || in.LocalStale != 1 || in.LocalStaleMaxTTLSeconds <= 0 {
		t.Errorf("instances record = %+v, want 1 local entry, stale with a TTL left", in)
	}
}
