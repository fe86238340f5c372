package runner

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/internal/wait"
	"github.com/ghostbench/ghostbench/record"
)

// healBound bounds one Heal call.
const healBound = 30 * time.Second

// runFaults injects and heals steps on schedule, recording each real window
// into windows (same order as steps). Every step that was injected is
// healed before runFaults returns, also when ctx ends early (Heal then runs
// on a context of its own). A panic in a fault is re-raised only after all
// heals ran.
func (r *run) runFaults(ctx context.Context, steps []fault.Step, windows []record.FaultWindow) {
	type event struct {
		at    time.Duration
		i     int
		start bool
	}
	var evs []event
	for i, st := range steps {
		windows[i] = record.FaultWindow{
			Fault: st.Fault.Name(), Params: st.Params,
			ScheduledStart: st.At.Seconds(), ScheduledEnd: (st.At + st.For).Seconds(),
		}
		evs = append(evs, event{st.At, i, true}, event{st.At + st.For, i, false})
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].at < evs[b].at })
	injected := make([]bool, len(steps))
	healed := make([]bool, len(steps))
	heal := func(i int) {
		if healed[i] {
			return
		}
		healed[i] = true
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healBound)
		defer cancel()
		err := steps[i].Fault.Heal(hctx)
		if e, ok := steps[i].Fault.(interface{ Events() []record.FaultEvent }); ok {
			windows[i].Events = e.Events()
		}
		if err != nil {
			windows[i].HealError = err.Error()
			return
		}
		if injected[i] && windows[i].InjectError == "" {
			windows[i].End = r.clock.Now().Seconds()
		}
	}
	defer func() {
		// Heal always runs: on schedule, on cancel, and on a panic.
		p := recover()
		for i := range steps {
			heal(i)
		}
		if p != nil {
			panic(p)
		}
	}()
	for _, ev := range evs {
		if d := ev.at - r.clock.Now(); d > 0 {
			if !wait.Sleep(ctx, d) {
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		if !ev.start {
			heal(ev.i)
			continue
		}
		injected[ev.i] = true
		if err := steps[ev.i].Fault.Inject(ctx); err != nil {
			windows[ev.i].InjectError = fmt.Sprintf("%v", err)
			continue
		}
		windows[ev.i].Start = r.clock.Now().Seconds()
	}
}
