package explore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/reproduce"
	"github.com/ghostbench/ghostbench/strategies"
)

// ReplayOptions configures Replay.
type ReplayOptions struct {
	// Servers are the real servers; required.
	Servers *docker.Servers
	// Registry finds the schedule's strategy; default strategies.Default().
	Registry *strategies.Registry
	// StepBound bounds one step, as in Options.
	StepBound time.Duration
	// Schema and Prefix isolate the replay's data; defaults those of
	// reproduce.
	Schema, Prefix string
}

// Replay is one replay of a schedule: reproduce's result (timeline,
// verdict, porcupine) and whether it showed the schedule's anomaly again.
type Replay struct {
	Result *reproduce.Result
	// End is how the schedule ended (EndDone when every choice was taken).
	End string
	// Replayed is set when every choice was taken as written and the
	// verdict shows every class the schedule was found with.
	Replayed bool
	// Why says what differed when Replayed is false.
	Why string
}

// verdictClass maps an explore class to reproduce's finding.
func verdictClass(c string) string {
	if c == ClassWriteFailed {
		return reproduce.FindingWriteUnavailable
	}
	return c
}

// ReplaySchedule runs s once against fresh data on o.Servers, as a
// reproduce case: every choice taken in order, the same faults, then the
// final read and the audit. It returns an error only when the harness
// could not run; a schedule that no longer shows its anomaly is a
// Replay with Replayed false.
func ReplaySchedule(ctx context.Context, s *Schedule, o ReplayOptions) (*Replay, error) {
	if err := s.validate(); err != nil {
		return nil, &UsageError{err}
	}
	if o.Registry == nil {
		o.Registry = strategies.Default()
	}
	opts := Options{
		Servers: o.Servers, Strategy: s.Strategy, Params: s.Params, Registry: o.Registry, Exec: s.Exec,
		Workload: s.Workload, Starts: []string{s.Start}, NoWire: !s.Wire, MaxFaults: len(s.Choices), StepBound: o.StepBound,
	}
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	x, stop, err := start(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer stop()

	redisFault := slices.ContainsFunc(s.Choices, func(c Choice) bool {
		return c.Fault == FaultLostReply || c.Fault == FaultRefused || c.Fault == FaultUnreachable
	})
	rep := &Replay{}
	c := reproduce.Scripted(reproduce.Case{
		Name:     "schedule",
		Summary:  fmt.Sprintf("%s: a schedule found by explore (%d preemption(s), %d fault(s)), replayed", x.info.Name, s.Preemptions, s.Faults),
		Strategy: x.info.Name, Params: x.params, Instances: s.Workload.Instances, Keys: s.Workload.Keys,
		Availability: redisFault,
		Description:  "The scheduler runs one actor at a time and lets each go on from the point it is parked at, in the order below: " + s.Text(),
	}, func(ctx context.Context, sc *reproduce.Script) error {
		sess := sc.Session()
		x.attach(sess)
		t := x.newTrial(sess, 0, s.Start, s.Choices, stopPolicy{})
		t.note = sc.Note
		t.read = func(ctx context.Context, a gb.Actor, k gb.Key) { sc.ReadKey(ctx, a, k) }
		t.write = func(ctx context.Context, a gb.Actor, k gb.Key, tok gb.Token, d int64) { sc.WriteKey(ctx, a, k, tok, d) }
		if err := t.prepare(ctx); err != nil {
			return err
		}
		if err := t.run(ctx); err != nil {
			return err
		}
		rep.End = t.end
		if t.end != EndDone || len(t.decisions) != len(s.Choices) {
			rep.Why = fmt.Sprintf("the schedule ended %s after %d of %d choices", t.end, len(t.decisions), len(s.Choices))
			if t.endWhy != "" {
				rep.Why += ": " + t.endWhy
			}
		}
		t.conclude(ctx)
		return nil
	})
	res, err := reproduce.Run(ctx, c, reproduce.Options{
		Servers: o.Servers, Registry: x.reg, Tracer: x.tracer(), TTL: x.opts.TTL, Schema: o.Schema, Prefix: o.Prefix,
	})
	if err != nil {
		return nil, err
	}
	rep.Result = res
	if rep.Why == "" {
		var missing []string
		for _, cl := range s.Classes {
			if res.Verdict.Counts[verdictClass(cl)] == 0 {
				missing = append(missing, cl)
			}
		}
		if len(missing) > 0 {
			rep.Why = "the replay's verdict lacks " + strings.Join(missing, ", ") + ": " + res.Verdict.Normalized()
		}
	}
	rep.Replayed = rep.Why == ""
	return rep, nil
}

// stopPolicy ends a replay where its choices end: a schedule file holds
// every choice, so a decision past them means the run went elsewhere.
type stopPolicy struct{}

func (stopPolicy) choose(t *trial, d *decision, en []*actor) Choice {
	return defaultPolicy{}.choose(t, d, en)
}
