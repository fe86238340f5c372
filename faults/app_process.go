package faults

import (
	"context"
	"fmt"
	"strings"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/strategies/process"
)

// The application-process faults act on a foreign strategy's process
// (ghostbench run -exec, docs/protocol.md): app-crash kills it and restarts
// it at heal, app-freeze stops and continues it. In-flight writes become
// indefinite to the client; the harness settles them from the ledger.

func appCrashKind() Kind {
	return Kind{
		Name:        "app-crash",
		Description: "the -exec application process is killed (SIGKILL to its group), anywhere or while it waits at a point (after-commit: between COMMIT and DEL); heal restarts it",
		Params: []Param{{Name: "point", Default: "", Help: "crash the first time the process waits at this point; empty crashes at once",
			Allowed: "an interleaving point such as after-commit, or empty",
			Check: func(v string) error {
				if strings.ContainsAny(v, " \t\n") {
					return fmt.Errorf("spaces")
				}
				return nil
			}}},
		Needs:     static(0),
		Exclusive: "app-process",
		New: func(_ context.Context, env Env, p Params) (fault.Fault, error) {
			ps, err := appProcess(env, "app-crash")
			if err != nil {
				return nil, err
			}
			return &appCrash{ps: ps, point: gb.Point(p["point"])}, nil
		},
	}
}

func appFreezeKind() Kind {
	return Kind{
		Name:        "app-freeze",
		Description: "the -exec application process is frozen (SIGSTOP to its group) and continued (SIGCONT) at heal; keep For below -exec-timeout",
		Needs:       static(0),
		Exclusive:   "app-process",
		New: func(_ context.Context, env Env, _ Params) (fault.Fault, error) {
			ps, err := appProcess(env, "app-freeze")
			if err != nil {
				return nil, err
			}
			return &appFreeze{ps: ps}, nil
		},
	}
}

func appProcess(env Env, kind string) (*process.Strategy, error) {
	ps := process.Process(env.Strategy)
	if ps == nil {
		return nil, fmt.Errorf("fault %s: the run's strategy is not a foreign process; use ghostbench run -exec CMD", kind)
	}
	return ps, nil
}

type appCrash struct {
	ps    *process.Strategy
	point gb.Point
}

func (f *appCrash) Name() string { return "app-crash" }

// Inject kills the process now, or arms the kill at the point.
func (f *appCrash) Inject(context.Context) error {
	if f.point != "" {
		f.ps.CrashAt(f.point)
		return nil
	}
	return f.ps.Crash("app-crash")
}

// Heal disarms the kill and starts the process again (a no-op when it
// never died).
func (f *appCrash) Heal(ctx context.Context) error {
	f.ps.CrashAt("")
	return f.ps.Restart(ctx)
}

type appFreeze struct{ ps *process.Strategy }

func (f *appFreeze) Name() string { return "app-freeze" }

func (f *appFreeze) Inject(context.Context) error { return f.ps.Freeze() }

func (f *appFreeze) Heal(context.Context) error { return f.ps.Thaw() }
