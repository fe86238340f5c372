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
	match match
	d     time.Duration
	prob  func() bool
}

type match struct {
	actor string // actor kind; "" matches any
	id    int    // actor id; -1 matches any
	point gb.Point
	key   gb.Key // -1 matches any
}

func (m match) ok(a gb.Actor, p gb.Point, k gb.Key) bool {
	return m.point == p && (m.actor == "" || m.actor == a.Kind) && (m.id < 0 || m.id == a.ID) && (m.key < 0 || m.key == k)
}

// Gate stops the first actor that reaches its point until Open.
type Gate struct {
	m       match
	reached chan struct{}
	open    chan struct{}
	once    sync.Once
	used    bool
}

// NewBarriers returns an empty set of barriers.
func NewBarriers() *Barriers { return &Barriers{} }

// Hold arms a gate for the next time an actor of kind (""=any) and id (-1 =
// any) reaches point p on key k (-1 = any). The gate catches one passage.
func (b *Barriers) Hold(kind string, id int, p gb.Point, k gb.Key) *Gate {
	g := &Gate{m: match{kind, id, p, k}, reached: make(chan struct{}), open: make(chan struct{})}
	b.mu.Lock()
	b.gates = append(b.gates, g)
	b.mu.Unlock()
	return g
}

// Delay makes every passage of a matching actor at p sleep d (when prob is
// nil or returns true).
func (b *Barriers) Delay(kind string, id int, p gb.Point, k gb.Key, d time.Duration, prob func() bool) {
	b.mu.Lock()
	b.delays = append(b.delays, delay{match{kind, id, p, k}, d, prob})
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
		if !g.used && g.m.ok(a, p, k) {
			g.used = true
			gate = g
			break
		}
	}
	var sleep time.Duration
	for _, d := range b.delays {
		if d.match.ok(a, p, k) && (d.prob == nil || d.prob()) {
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
