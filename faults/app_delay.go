package faults

import (
	"context"
	"errors"
	"sync"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/fault"
)

func appDelayKind() Kind {
	return Kind{
		Name:        "app-delay",
		Description: "actors sleep at an interleaving point inside the strategy (with a probability, optionally one actor kind only)",
		Params: []Param{
			pointParam(),
			durationParam("delay", "", "how long each matching passage sleeps", false),
			probabilityParam("fraction of matching passages that sleep"),
			actorParam(),
		},
		Needs: static(NeedsHooks),
		New:   newAppDelay,
	}
}

// appDelay makes matching passages of the point sleep. Heal takes the
// rule out, so no passage starts a sleep after Heal returned; a passage
// already asleep finishes its sleep.
type appDelay struct {
	points *Points
	rule   *rule
}

func newAppDelay(_ context.Context, env Env, p Params) (fault.Fault, error) {
	if env.Points == nil {
		return nil, errors.New("no hook dispatcher: the kind must declare NeedsHooks")
	}
	r := &rule{match: at(gb.Point(p["point"]), p["actor"]), d: p.Duration("delay")}
	if prob := p.Float("probability"); prob < 1 {
		var mu sync.Mutex // env.Rand is not safe for concurrent use
		r.prob = func() bool {
			mu.Lock()
			defer mu.Unlock()
			return env.Rand.Float64() < prob
		}
	}
	return &appDelay{points: env.Points, rule: r}, nil
}

func (f *appDelay) Name() string { return "app-delay" }

func (f *appDelay) Inject(context.Context) error {
	f.points.remove(f.rule) // a second Inject does not double the delay
	f.points.add(f.rule)
	return nil
}

func (f *appDelay) Heal(context.Context) error {
	f.points.remove(f.rule)
	return nil
}
