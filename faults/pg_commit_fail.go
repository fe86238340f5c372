package faults

import (
	"context"
	"errors"
	"sync"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/fault"
)

func pgCommitFailKind() Kind {
	return Kind{
		Name:        "pg-commit-fail",
		Description: "COMMIT itself fails (a deferred constraint trigger raises) for a fraction of writes, after everything before it succeeded",
		Params: []Param{
			probabilityParam("fraction of write transactions whose COMMIT fails"),
		},
		Needs:     static(0),
		Exclusive: "the store's commit-failure switch",
		New:       newPGCommitFail,
	}
}

// pgCommitFail arms the store's deferred constraint trigger
// (store.Store.SetFailCommit) for each write with the given probability,
// drawn from the step's seeded random source. The switch is read once per
// write, so Inject and Heal take effect at once for every write that has
// not yet passed its UPDATE. Heal disarms it (a FailCommit set through
// store.Options is removed too).
type pgCommitFail struct {
	env  Env
	prob float64

	mu sync.Mutex // guards env.Rand, which is not safe for concurrent use
}

func newPGCommitFail(_ context.Context, env Env, p Params) (fault.Fault, error) {
	if env.Store == nil {
		return nil, errors.New("the run has no store")
	}
	return &pgCommitFail{env: env, prob: p.Float("probability")}, nil
}

func (f *pgCommitFail) Name() string { return "pg-commit-fail" }

func (f *pgCommitFail) Inject(context.Context) error {
	f.env.Store.SetFailCommit(func(gb.Key, gb.Token) bool {
		if f.prob >= 1 {
			return true
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.env.Rand.Float64() < f.prob
	})
	return nil
}

func (f *pgCommitFail) Heal(context.Context) error {
	f.env.Store.SetFailCommit(nil)
	return nil
}
