package reproduce

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/strategies"
)

// backgroundBound bounds how long a script waits for a background worker
// to reach a point (the async lag plus slack): past it the hold is skipped
// with a note rather than failing the run.
const backgroundBound = 30 * time.Second

// Script is what a case's interleaving drives: the session's actors, its
// barriers and the case's faults, with every step recorded for the
// timeline. Operations that fail are data (the verdict explains them), not
// script errors; a script returns an error only when the harness cannot
// go on (a fault that cannot be injected or healed, a cancelled context).
type Script struct {
	sess     *runner.Session
	info     strategies.Info
	key      gb.Key
	col      *collector
	faults   map[string]fault.Fault
	injected map[string]time.Duration

	mu  sync.Mutex
	ops []scriptOp
}

// scriptOp is one operation the script ran, with its actor.
type scriptOp struct {
	actor gb.Actor
	op    gb.Op
}

func (s *Script) record(a gb.Actor, op gb.Op) gb.Op {
	s.mu.Lock()
	s.ops = append(s.ops, scriptOp{actor: a, op: op})
	s.mu.Unlock()
	return op
}

// Read reads the case's key as actor a and returns the operation.
func (s *Script) Read(ctx context.Context, a gb.Actor) gb.Op {
	return s.record(a, s.sess.Read(ctx, a, s.key))
}

// Write writes the case's key as actor a with token tok and balance change
// delta, and returns the operation.
func (s *Script) Write(ctx context.Context, a gb.Actor, tok gb.Token, delta int64) gb.Op {
	s.col.own(tok, ActorName(a))
	return s.record(a, s.sess.Write(ctx, a, s.key, tok, delta))
}

// ReadKey reads key k as actor a: for scripts over more than the case's
// key.
func (s *Script) ReadKey(ctx context.Context, a gb.Actor, k gb.Key) gb.Op {
	return s.record(a, s.sess.Read(ctx, a, k))
}

// WriteKey is Write on key k.
func (s *Script) WriteKey(ctx context.Context, a gb.Actor, k gb.Key, tok gb.Token, delta int64) gb.Op {
	s.col.own(tok, ActorName(a))
	return s.record(a, s.sess.Write(ctx, a, k, tok, delta))
}

// Session returns the session the script drives, for a script that
// installs its own hooks.
func (s *Script) Session() *runner.Session { return s.sess }

// Note adds a line to the timeline, by actor.
func (s *Script) Note(actor, text string) {
	s.col.add(Event{Kind: EventNote, Actor: actor, Effect: text})
}

// Held is an operation started with a gate armed for its actor at a point.
type Held struct {
	s     *Script
	actor gb.Actor
	point gb.Point
	gate  *runner.Gate
	done  chan gb.Op
	op    *gb.Op // set when the operation completed without reaching the gate
}

// HoldRead starts a read by a with a gate at point p, and returns once a
// is held there, or once the read completed without reaching p (the
// strategy has no such step on this path: the hold is skipped and the
// timeline says so).
func (s *Script) HoldRead(ctx context.Context, a gb.Actor, p gb.Point) *Held {
	return s.hold(ctx, a, p, func(ctx context.Context) gb.Op { return s.Read(ctx, a) })
}

// HoldWrite is HoldRead for a write of token tok with delta.
func (s *Script) HoldWrite(ctx context.Context, a gb.Actor, p gb.Point, tok gb.Token, delta int64) *Held {
	return s.hold(ctx, a, p, func(ctx context.Context) gb.Op { return s.Write(ctx, a, tok, delta) })
}

func (s *Script) hold(ctx context.Context, a gb.Actor, p gb.Point, run func(context.Context) gb.Op) *Held {
	h := &Held{s: s, actor: a, point: p, gate: s.sess.Barriers.Hold(a.Kind, a.ID, p, s.key), done: make(chan gb.Op, 1)}
	go func() { h.done <- run(ctx) }()
	select {
	case <-h.gate.Reached():
		s.col.add(Event{Kind: EventHold, Actor: ActorName(a), Effect: fmt.Sprintf("held at %s", p)})
	case op := <-h.done:
		h.op = &op
		h.gate.Open() // disarm: nobody else may be caught by it
		s.col.add(Event{Kind: EventNote, Actor: ActorName(a), Effect: fmt.Sprintf(
			"never reached %s (%s has no such step on this path): the hold is skipped", p, s.info.Name)})
	case <-ctx.Done():
		h.gate.Open()
	}
	return h
}

// Release lets the held actor go on and returns its operation once it
// completed.
func (h *Held) Release(ctx context.Context) gb.Op {
	if h.op != nil {
		return *h.op
	}
	h.s.col.add(Event{Kind: EventRelease, Actor: ActorName(h.actor), Effect: fmt.Sprintf("released from %s", h.point)})
	h.gate.Open()
	select {
	case op := <-h.done:
		h.op = &op
		return op
	case <-ctx.Done():
		return gb.Op{Err: ctx.Err()}
	}
}

// BackgroundHold is a gate for a strategy's background worker.
type BackgroundHold struct {
	s     *Script
	point gb.Point
	gate  *runner.Gate // nil: the strategy has no such point
	held  bool
}

// HoldBackground arms a gate for the strategy's background worker at p,
// when the strategy declares p (a strategy without background work has no
// worker to hold: the hold is skipped and the timeline says so).
func (s *Script) HoldBackground(p gb.Point) *BackgroundHold {
	b := &BackgroundHold{s: s, point: p}
	if !slices.Contains(s.info.Points, p) {
		s.col.add(Event{Kind: EventNote, Actor: "harness", Effect: fmt.Sprintf(
			"%s declares no %s point (no background invalidation): no worker to hold", s.info.Name, p)})
		return b
	}
	b.gate = s.sess.Barriers.Hold("", gb.AnyID, p, s.key)
	return b
}

// Wait returns true once the worker is held at the point; false when
// there is no gate, or the worker did not come within backgroundBound (the
// hold is then dropped, with a note).
func (b *BackgroundHold) Wait(ctx context.Context) bool {
	if b.gate == nil {
		return false
	}
	t := time.NewTimer(backgroundBound)
	defer t.Stop()
	select {
	case <-b.gate.Reached():
		b.held = true
		b.s.col.add(Event{Kind: EventHold, Actor: "worker", Effect: fmt.Sprintf("held at %s (its invalidation is due)", b.point)})
		return true
	case <-t.C:
		b.s.col.add(Event{Kind: EventNote, Actor: "harness", Effect: fmt.Sprintf(
			"no background worker reached %s within %v: the hold is skipped", b.point, backgroundBound)})
	case <-ctx.Done():
	}
	b.gate.Open()
	return false
}

// Release lets the held worker go on.
func (b *BackgroundHold) Release() {
	if b.gate == nil {
		return
	}
	if b.held {
		b.s.col.add(Event{Kind: EventRelease, Actor: "worker", Effect: fmt.Sprintf("released from %s", b.point)})
	}
	b.gate.Open()
}

// Inject injects the case's fault of kind name and returns once it is in
// effect.
func (s *Script) Inject(ctx context.Context, name string) error {
	f, ok := s.faults[name]
	if !ok {
		return fmt.Errorf("reproduce: the case injects %s but did not declare it", name)
	}
	s.col.add(Event{Kind: EventFault, Actor: "harness", Effect: "inject " + name})
	if err := f.Inject(ctx); err != nil {
		return fmt.Errorf("inject %s: %w", name, err)
	}
	at := s.col.now()
	s.injected[name] = at
	s.col.add(Event{AtNs: int64(at), Kind: EventFault, Actor: "harness", Effect: fmt.Sprintf("%s in effect: %s", name, faultDescription(name))})
	return nil
}

// Heal heals the fault of kind name and returns once its absence is
// confirmed.
func (s *Script) Heal(ctx context.Context, name string) error {
	f, ok := s.faults[name]
	if !ok {
		return fmt.Errorf("reproduce: the case heals %s but did not declare it", name)
	}
	s.col.add(Event{Kind: EventFault, Actor: "harness", Effect: "heal " + name})
	if err := f.Heal(ctx); err != nil {
		return fmt.Errorf("heal %s: %w", name, err)
	}
	at := s.col.now()
	if start, ok := s.injected[name]; ok {
		s.col.window(name, start, at)
		delete(s.injected, name)
	}
	s.col.add(Event{AtNs: int64(at), Kind: EventFault, Actor: "harness", Effect: name + " healed"})
	return nil
}

// healAll heals every fault still injected (after a script error), on a
// context of its own.
func (s *Script) healAll() {
	for name := range s.injected {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = s.Heal(ctx, name)
		cancel()
	}
}

// Drain waits for the strategy's background work (a no-op for strategies
// without any).
func (s *Script) Drain(ctx context.Context) error {
	if err := s.sess.Drain(ctx); err != nil {
		return fmt.Errorf("drain background work: %w", err)
	}
	s.col.add(Event{Kind: EventNote, Actor: "harness", Effect: "background work drained"})
	return nil
}

// Peek records the raw cache entry of the key, read without side effects
// through the strategy's Inspector.
func (s *Script) Peek(ctx context.Context) {
	v, ttl, ok, err := s.sess.Peek(ctx, s.key)
	var eff string
	switch {
	case err != nil:
		eff = fmt.Sprintf("cache entry of key %d could not be read: %v", s.key, err)
	case !ok:
		eff = fmt.Sprintf("cache entry of key %d: absent", s.key)
	default:
		eff = fmt.Sprintf("cache entry of key %d holds %s%s", s.key, v, ttlText(ttl))
	}
	s.col.add(Event{Kind: EventCache, Actor: "harness", Effect: eff})
}

func ttlText(ttl time.Duration) string {
	if ttl < 0 {
		return " (no TTL)"
	}
	return fmt.Sprintf(" (TTL %s left)", ttl.Round(100*time.Millisecond))
}
