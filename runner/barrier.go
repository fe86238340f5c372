package runner

import (
	"context"
	"sync"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/wait"
)

// Barriers is a Hook that stops chosen actors at chosen interleaving points
// (gates) or delays them there. A scripted interleaving arms a gate, starts
// the actor, waits until the actor has reached the gate, lets another actor
// act, then opens the gate. Actors and points not armed pass through.
type Barriers struct {
	mu     sync.Mutex
	gates  []*Gate
	delays []delay
}

type delay struct {
	match gb.Match
	d     time.Duration
	prob  func() bool
}

// Gate stops the first actor that reaches its point until Open.
type Gate struct {
	m       gb.Match
	reached chan struct{}
	open    chan struct{}
	once    sync.Once
	used    bool
}

// NewBarriers returns an empty set of barriers.
func NewBarriers() *Barriers { return &Barriers{} }

// Hold arms a gate for the next time an actor of kind (""=any) and id
// (gb.AnyID = any) reaches point p on key k (gb.AnyKey = any), as gb.Match
// selects passages. The gate catches one passage.
func (b *Barriers) Hold(kind string, id int, p gb.Point, k gb.Key) *Gate {
	g := &Gate{m: gb.Match{Actor: kind, ID: id, Point: p, Key: k}, reached: make(chan struct{}), open: make(chan struct{})}
	b.mu.Lock()
	b.gates = append(b.gates, g)
	b.mu.Unlock()
	return g
}

// Delay makes every passage of a matching actor at p sleep d (when prob is
// nil or returns true); kind, id and k match as in Hold.
func (b *Barriers) Delay(kind string, id int, p gb.Point, k gb.Key, d time.Duration, prob func() bool) {
	b.mu.Lock()
	b.delays = append(b.delays, delay{gb.Match{Actor: kind, ID: id, Point: p, Key: k}, d, prob})
	b.mu.Unlock()
}

// Reached is closed when an actor has arrived at the gate.
func (g *Gate) Reached() <-chan struct{} { return g.reached }

// Wait blocks until an actor has reached the gate or ctx ends.
func (g *Gate) Wait(ctx context.Context) error {
	select {
	case <-g.reached:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Open lets the held actor go on (and any later one: an open gate stays
// open). It is idempotent.
func (g *Gate) Open() { g.once.Do(func() { close(g.open) }) }

// ReleaseAll opens every gate and removes every delay.
func (b *Barriers) ReleaseAll() {
	b.mu.Lock()
	gates := b.gates
	b.gates, b.delays = nil, nil
	b.mu.Unlock()
	for _, g := range gates {
		g.Open()
	}
}

// Hook is the ghostbench.Hook to install on the strategy's Hooks.
func (b *Barriers) Hook(ctx context.Context, p gb.Point, k gb.Key) error {
	a, _ := gb.ActorFrom(ctx)
	b.mu.Lock()
	var gate *Gate
	for _, g := range b.gates {
		if !g.used && g.m.Matches(a, p, k) {
			g.used = true
			gate = g
			break
		}
	}
	var sleep time.Duration
	for _, d := range b.delays {
		if d.match.Matches(a, p, k) && (d.prob == nil || d.prob()) {
			sleep += d.d
		}
	}
	b.mu.Unlock()
	if sleep > 0 {
		if !wait.Sleep(ctx, sleep) {
			return ctx.Err()
		}
	}
	if gate == nil {
		return nil
	}
	close(gate.reached)
	select {
	case <-gate.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
