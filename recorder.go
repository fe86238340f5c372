package ghostbench

import (
	"context"
	"time"
)

// Recorder receives the database side of every write attempt from the store,
// in the order the store sees them. The checker implements it; a strategy
// never calls it (the store does, so no strategy can forget to).
//
// For one attempt the calls are: Began (the UPDATE ran and produced the
// attempt's version), then exactly one of Aborted (certainly not committed),
// or CommitSending followed by exactly one of Committed, Aborted (COMMIT
// returned an error that proves rollback) or Indeterminate (the outcome is
// unknown until the ledger is read at the end of the run).
// Implementations must be safe for concurrent use and fast: they run on
// the write path.
type Recorder interface {
	Began(key Key, token Token, version int64)
	// CommitSending is called just before COMMIT is sent; sent is the
	// instant read from the run's clock.
	CommitSending(key Key, token Token, version int64, sent time.Duration)
	// Committed is called just after COMMIT returned success at ack.
	Committed(key Key, token Token, version int64, sent, ack time.Duration)
	// Aborted reports an attempt that did not commit. sent is the
	// commit-sent instant, or -1 when COMMIT was never sent.
	Aborted(key Key, token Token, version int64, sent time.Duration)
	// Indeterminate reports an attempt whose COMMIT outcome is unknown.
	Indeterminate(key Key, token Token, version int64, sent time.Duration)
}

// ReadRecorder is an optional interface of a Recorder: the store reports
// every row it reads from PostgreSQL for a strategy (its Read, a cache
// miss's SELECT or a read that bypasses the cache) to a Recorder that also
// implements it, so that the database load of a strategy is counted from
// what it really did. Like the Recorder it must be fast and safe for
// concurrent use.
type ReadRecorder interface {
	// DBRead reports a successful read of key that returned the row at
	// version: start is the instant just before the SELECT was sent, end
	// just after its row arrived. ctx is the context the read was made
	// with, so that the recorder can tell the operation in flight.
	DBRead(ctx context.Context, key Key, version int64, start, end time.Duration)
}

// NopRecorder discards everything.
type NopRecorder struct{}

// Began does nothing.
func (NopRecorder) Began(Key, Token, int64) {}

// CommitSending does nothing.
func (NopRecorder) CommitSending(Key, Token, int64, time.Duration) {}

// Committed does nothing.
func (NopRecorder) Committed(Key, Token, int64, time.Duration, time.Duration) {}

// Aborted does nothing.
func (NopRecorder) Aborted(Key, Token, int64, time.Duration) {}

// Indeterminate does nothing.
func (NopRecorder) Indeterminate(Key, Token, int64, time.Duration) {}

// Clock reads the run's one monotonic clock as an offset from the start of
// the run.
type Clock struct {
	start time.Time
}

// NewClock returns a clock whose zero is now.
func NewClock() *Clock { return &Clock{start: time.Now()} }

// Now returns the time elapsed since the clock's zero (monotonic).
func (c *Clock) Now() time.Duration { return time.Since(c.start) }

// Reset moves the clock's zero to now. It must not be called while anything
// else reads the clock: the runner calls it once, just before the load
// starts.
func (c *Clock) Reset() { c.start = time.Now() }

// Start returns the wall-clock instant of the clock's zero.
func (c *Clock) Start() time.Time { return c.start }
