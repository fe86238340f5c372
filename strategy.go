package ghostbench

import (
	"context"
	"time"
)

// ReadResult is what a strategy read returns.
type ReadResult struct {
	Value Value
	// Hit is true when the value came from the cache.
	Hit bool
}

// WriteRequest asks a strategy to change one row: add Delta to its balance
// in one transaction that bumps the version by one and stamps Token.
type WriteRequest struct {
	Key   Key
	Token Token
	Delta int64
}

// Strategy keeps a cache in front of the database for reads and writes of
// one key at a time. Implementations must be safe for concurrent use.
//
// Read returns the row's value as the strategy serves it to a user. Write
// commits the change through the store (which records commit instants and the
// ledger row) and maintains the cache as the strategy prescribes. Write
// returns nil only when the transaction committed; an error from a cache
// operation after a successful COMMIT is not returned (the write committed)
// but reported as a warning through the strategy's environment.
//
// Close stops background work (queues, listeners) without draining it.
type Strategy interface {
	Read(ctx context.Context, key Key) (ReadResult, error)
	Write(ctx context.Context, req WriteRequest) error
	Close() error
}

// Drainer is implemented by strategies with background work (an
// invalidation queue, a log consumer). Drain returns when every piece of
// work enqueued before the call has been applied, or with ctx's error.
type Drainer interface {
	Drain(ctx context.Context) error
}

// Inspector is implemented by strategies whose cache entries can be read
// without side effects, for the convergence prober and the end-of-run audit.
// Peek returns the raw entry of key, ok=false when absent, and the entry's
// remaining time to live (negative when it has none).
type Inspector interface {
	Peek(ctx context.Context, key Key) (v Value, ttl time.Duration, ok bool, err error)
}

// LocalInspector is implemented by strategies that keep a second cache in
// process memory (Redis client-side caching, a local LFU in front of
// Redis). PeekLocal returns the in-memory entry of key without side effects
// on what later reads return, ok=false when absent, and its remaining local
// time to live (negative when it has none). The prober and the audit look
// at it beside Redis: a key stale in one instance's memory is stale until
// its local TTL, whatever Redis holds.
type LocalInspector interface {
	PeekLocal(key Key) (v Value, ttl time.Duration, ok bool)
}
