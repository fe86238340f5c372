package ghostbench

import (
	"time"
)

// OpKind says what an operation did.
type OpKind uint8

// The operation kinds.
const (
	// OpRead is a strategy read of one key.
	OpRead OpKind = iota + 1
	// OpWrite is a strategy write of one key.
	OpWrite
)

// String returns "read" or "write".
func (k OpKind) String() string {
	switch k {
	case OpRead:
		return "read"
	case OpWrite:
		return "write"
	}
	return "unknown"
}

// Op is the record of one completed operation, as the runner observed it at
// the boundary around the strategy. Invoke and Complete are offsets from the
// start of the run.
type Op struct {
	Kind   OpKind
	Key    Key
	Client int // the worker that ran it
	// Instance is the application instance (0-based) whose strategy ran
	// it, when a run builds several (Scenario.Instances); 0 otherwise.
	Instance int
	// Intended is the instant the operation should have started: equal to
	// Invoke in closed-loop runs, the schedule's instant in open-loop runs
	// (latency from Intended is corrected for coordinated omission).
	Intended time.Duration
	Invoke   time.Duration
	Complete time.Duration
	// Err is the error the strategy returned, nil on success.
	Err error
	// Class classifies Err (ClassNone when Err is nil).
	Class ErrClass

	// Read results, meaningful when Kind is OpRead and Err is nil.
	Value Value
	Hit   bool // served from the cache

	// Token is the write attempt's token, when Kind is OpWrite.
	Token Token
	// Delta is the balance change the write asked for.
	Delta int64
	// Measured is false for operations that ran during warm-up: they still
	// feed the checker's knowledge of versions, but no metric counts them.
	Measured bool
}

// ErrClass is the class of a failed operation, for write availability and
// error counts.
type ErrClass uint8

// The error classes.
const (
	ClassNone ErrClass = iota
	// ClassRedis: the cache failed (connection refused, OOM, ...).
	ClassRedis
	// ClassPostgres: the database failed before COMMIT was sent, so the
	// write certainly did not commit.
	ClassPostgres
	// ClassTimeout: a deadline passed.
	ClassTimeout
	// ClassIndeterminate: the outcome of COMMIT is unknown to the client
	// (error or timeout after COMMIT was sent); the ledger decides.
	ClassIndeterminate
	// ClassOther: anything else (a bug in a strategy, a cancelled run).
	ClassOther
)

// ErrClasses returns the failure classes in report order.
func ErrClasses() []ErrClass {
	return []ErrClass{ClassRedis, ClassPostgres, ClassTimeout, ClassIndeterminate, ClassOther}
}

// String returns the class name used in reports.
func (c ErrClass) String() string {
	switch c {
	case ClassNone:
		return "none"
	case ClassRedis:
		return "redis"
	case ClassPostgres:
		return "postgres"
	case ClassTimeout:
		return "timeout"
	case ClassIndeterminate:
		return "indeterminate"
	case ClassOther:
		return "other"
	}
	return "unknown"
}
