package ghostbench

import (
	"context"
	"sync/atomic"
)

// Point names a place inside a strategy where a scenario may inject a delay
// or a barrier to force an interleaving.
type Point string

// The interleaving points the built-in strategies expose. A strategy calls
// only the points that exist on its paths.
const (
	// PointAfterDBRead: on a miss, after the row was read from the
	// database and before anything is written to the cache.
	PointAfterDBRead Point = "after-db-read"
	// PointBeforeCacheSet: just before a cache SET of a value (fill or
	// write path).
	PointBeforeCacheSet Point = "before-cache-set"
	// PointBeforeCacheDel: just before a cache DEL.
	PointBeforeCacheDel Point = "before-cache-del"
	// PointAfterCacheDel: just after a cache DEL returned.
	PointAfterCacheDel Point = "after-cache-del"
	// PointBeforeDBUpdate: on the write path, before the transaction starts.
	PointBeforeDBUpdate Point = "before-db-update"
	// PointBeforeCommit: inside the transaction, after the UPDATE (and any
	// in-transaction cache work), before COMMIT is sent.
	PointBeforeCommit Point = "before-commit"
	// PointAfterCommit: after COMMIT returned, before the cache operation
	// that follows it.
	PointAfterCommit Point = "after-commit"
	// PointBeforeApply: in a background worker (queue, log consumer),
	// before an invalidation is applied.
	PointBeforeApply Point = "before-apply"
	// PointBeforeLocalSet: just before a value read from Redis (or the
	// database) is stored in a strategy's in-process cache.
	PointBeforeLocalSet Point = "before-local-set"
	// PointBeforeInvalidate: in a client library's connection reader, when
	// an invalidation message from Redis is about to be applied to the
	// in-process cache (the actor is the background, as for before-apply).
	PointBeforeInvalidate Point = "before-invalidate"
)

// AllPoints returns the points above, for validation and listings.
func AllPoints() []Point {
	return []Point{
		PointAfterDBRead, PointBeforeCacheSet, PointBeforeCacheDel,
		PointAfterCacheDel, PointBeforeDBUpdate, PointBeforeCommit,
		PointAfterCommit, PointBeforeApply, PointBeforeLocalSet, PointBeforeInvalidate,
	}
}

// Hook is called at a point. It may block (a barrier) or sleep (a delay), and
// must return promptly with ctx's error when ctx is done. A non-nil error
// fails the operation.
type Hook func(ctx context.Context, p Point, key Key) error

// Hooks dispatches interleaving points to at most one Hook. The zero value
// and a nil *Hooks are ready to use and cost one atomic load per point when
// no hook is set.
type Hooks struct {
	h atomic.Pointer[Hook]
}

// Set installs h (nil removes it). It is safe to call during a run.
func (hs *Hooks) Set(h Hook) {
	if h == nil {
		hs.h.Store(nil)
		return
	}
	hs.h.Store(&h)
}

// At runs the installed hook for point p and key, if any.
func (hs *Hooks) At(ctx context.Context, p Point, key Key) error {
	if hs == nil {
		return nil
	}
	h := hs.h.Load()
	if h == nil {
		return nil
	}
	return (*h)(ctx, p, key)
}

type actorKey struct{}

// Actor identifies who runs an operation, for barriers that must stop one
// client and not another. Kind is "reader", "writer", "worker" (background)
// or a name a reproduce case chose.
type Actor struct {
	Kind string
	ID   int
	// Instance is the application instance the actor runs on, for
	// sessions with several strategy instances (0 otherwise).
	Instance int
}

// WithActor returns a context that carries a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor carried by ctx, ok=false when none is.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
