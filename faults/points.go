package faults

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	gb "github.com/ghostbench/ghostbench"
)

// Points is the one ghostbench.Hook through which application faults act
// at interleaving points. Every active rule that matches a passage applies
// to it: delays first (they add up), then barriers. With no active rule a
// passage costs one atomic load.
type Points struct {
	mu    sync.Mutex
	rules atomic.Pointer[[]*rule] // copy-on-write
}

// rule is one application fault in effect.
type rule struct {
	// match selects the passages it applies to: one point, an actor kind
	// or any, every actor id and key.
	match gb.Match

	// delay: sleep d when prob (nil: always) says so.
	d    time.Duration
	prob func() bool

	// barrier: wait until release is closed.
	release chan struct{}
	held    *atomic.Int64
}

// at returns the match of every id and key of actor kind (""=any) at p.
func at(p gb.Point, actor string) gb.Match {
	return gb.Match{Actor: actor, ID: gb.AnyID, Point: p, Key: gb.AnyKey}
}

// add puts r in effect.
func (ps *Points) add(r *rule) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var rs []*rule
	if cur := ps.rules.Load(); cur != nil {
		rs = slices.Clone(*cur)
	}
	rs = append(rs, r)
	ps.rules.Store(&rs)
}

// remove takes r out of effect; removing a rule not in effect does nothing.
func (ps *Points) remove(r *rule) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	cur := ps.rules.Load()
	if cur == nil {
		return
	}
	rs := slices.DeleteFunc(slices.Clone(*cur), func(x *rule) bool { return x == r })
	ps.rules.Store(&rs)
}

// Hook implements ghostbench.Hook. It returns ctx's error when ctx ends
// during a delay or at a barrier (the operation then fails, as a timeout
// or a cancelled run would fail it).
func (ps *Points) Hook(ctx context.Context, p gb.Point, k gb.Key) error {
	cur := ps.rules.Load()
	if cur == nil || len(*cur) == 0 {
		return nil
	}
	a, _ := gb.ActorFrom(ctx)
	var sleep time.Duration
	var barriers []*rule
	for _, r := range *cur {
		if !r.match.Matches(a, p, k) {
			continue
		}
		if r.release != nil {
			barriers = append(barriers, r)
		} else if r.prob == nil || r.prob() {
			sleep += r.d
		}
	}
	if sleep > 0 {
		t := time.NewTimer(sleep)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	for _, r := range barriers {
		if err := r.wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// wait holds the caller at the barrier until it is released or ctx ends.
func (r *rule) wait(ctx context.Context) error {
	r.held.Add(1)
	defer r.held.Add(-1)
	select {
	case <-r.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
