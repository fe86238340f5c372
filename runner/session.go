package runner

import (
	"context"
	"errors"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/record"
)

// Session runs operations one by one, on the caller's goroutines, against a
// strategy prepared exactly as Run prepares it: the same store, checker and
// timing at the boundary. It is how scripted interleavings (reproduce cases,
// strategy tests) drive a strategy: each actor calls Read or Write from its
// own goroutine, and Barriers on the session's Hooks decide who goes first.
//
// The scenario's load fields (readers, writers, rate, duration, faults) are
// ignored; keys, TTL, timeouts and probe offsets are used.
type Session struct {
	r        *run
	Barriers *Barriers
}

// Open prepares a session. cfg.Hooks gets a Barriers hook installed (a new
// Hooks is made when nil). FullHistory is forced on: a scripted history is
// small and its verdict is explained operation by operation.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.Scenario == nil {
		return nil, errors.New("runner: no scenario")
	}
	sc := *cfg.Scenario
	sc.Faults = nil
	if sc.Readers+sc.Writers == 0 && !sc.OpenLoop() {
		sc.Readers = 1
	}
	if sc.Duration == 0 {
		sc.Duration = 1
	}
	cfg.Scenario = &sc
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	cfg.FullHistory = true
	b := NewBarriers()
	cfg.Hooks.Set(b.Hook)
	r := &run{cfg: cfg, sc: &sc}
	if err := r.prepare(ctx, 16); err != nil {
		return nil, err
	}
	r.warmupEnd = 0
	r.end = 1<<63 - 1
	r.dbload.SetWindow(r.warmupEnd, r.end)
	r.clock.Reset()
	r.out.Started = r.clock.Start()
	return &Session{r: r, Barriers: b}, nil
}

// Read reads key as actor and returns the recorded operation.
func (s *Session) Read(ctx context.Context, actor gb.Actor, key gb.Key) gb.Op {
	op := gb.Op{Kind: gb.OpRead, Key: key, Client: actor.ID, Instance: actor.Instance}
	s.r.do(withOpSlot(gb.WithActor(ctx, actor)), &op, -1)
	return op
}

// Write writes key as actor with token and delta and returns the recorded
// operation.
func (s *Session) Write(ctx context.Context, actor gb.Actor, key gb.Key, token gb.Token, delta int64) gb.Op {
	op := gb.Op{Kind: gb.OpWrite, Key: key, Client: actor.ID, Token: token, Delta: delta, Instance: actor.Instance}
	s.r.do(withOpSlot(gb.WithActor(ctx, actor)), &op, -1)
	return op
}

// Now returns the session clock's reading.
func (s *Session) Now() time.Duration { return s.r.clock.Now() }

// Hooks returns the hooks the strategy calls.
func (s *Session) Hooks() *gb.Hooks { return s.r.cfg.Hooks }

// FaultEnv returns what fault injectors need, for cases that inject faults.
func (s *Session) FaultEnv() fault.Env { return s.r.faultEnv() }

// Peek reads key's raw cache entry (ok=false when absent or when the
// strategy keeps no cache).
func (s *Session) Peek(ctx context.Context, key gb.Key) (gb.Value, time.Duration, bool, error) {
	insp, ok := s.r.strat.(gb.Inspector)
	if !ok {
		return gb.Value{}, 0, false, nil
	}
	return insp.Peek(ctx, key)
}

// Close releases the barriers, drains background work, audits every key,
// resolves indeterminate commits and returns the run record with the full
// history. It closes the strategy and the clients.
func (s *Session) Close(ctx context.Context) *record.Run {
	s.Barriers.ReleaseAll()
	s.r.out.MeasuredSeconds = s.r.clock.Now().Seconds()
	return s.r.finish(ctx, nil, ctx.Err() != nil)
}

// Drain waits for the strategy's background work (a no-op for strategies
// without any).
func (s *Session) Drain(ctx context.Context) error {
	for _, d := range s.r.fleet.drainers() {
		if err := d.Drain(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Background reports whether the strategy has background work that Drain
// waits for (it implements ghostbench.Drainer).
func (s *Session) Background() bool { return len(s.r.fleet.drainers()) > 0 }

// Keys returns the number of keys the session's schema holds.
func (s *Session) Keys() int { return s.r.sc.Keys }

// Strategy returns the strategy of application instance i (0 for a
// session of one instance), for a caller that acts on it (a fault that
// crashes a strategy process).
func (s *Session) Strategy(i int) gb.Strategy { return s.r.fleet.at(i) }
