package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/fault"
)

func appBarrierKind() Kind {
	return Kind{
		Name:        "app-barrier",
		Description: "every matching actor is held at an interleaving point until heal releases them all",
		Params:      []Param{pointParam(), actorParam()},
		Needs:       static(NeedsHooks),
		New:         newAppBarrier,
	}
}

// appBarrier holds every actor (of the given kind, or any) that reaches
// the point while it is in effect. Heal releases them all and returns once
// none is held. A held actor whose context ends (the run is cancelled, its
// operation timed out) leaves with the context's error.
type appBarrier struct {
	points *Points
	point  gb.Point
	actor  string

	mu   sync.Mutex
	rule *rule // nil when not in effect
	held atomic.Int64
}

func newAppBarrier(_ context.Context, env Env, p Params) (fault.Fault, error) {
	if env.Points == nil {
		return nil, errors.New("no hook dispatcher: the kind must declare NeedsHooks")
	}
	return &appBarrier{points: env.Points, point: gb.Point(p["point"]), actor: p["actor"]}, nil
}

func (f *appBarrier) Name() string { return "app-barrier" }

func (f *appBarrier) Inject(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rule != nil {
		return nil
	}
	f.rule = &rule{match: at(f.point, f.actor), release: make(chan struct{}), held: &f.held}
	f.points.add(f.rule)
	return nil
}

func (f *appBarrier) Heal(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rule != nil {
		f.points.remove(f.rule)
		close(f.rule.release)
		f.rule = nil
	}
	return poll(ctx, "no actor is held", func(context.Context) error {
		if n := f.held.Load(); n > 0 {
			return fmt.Errorf("%d actors still held", n)
		}
		return nil
	})
}
