package ghostbench

import (
	"context"
	"errors"
	"net"
)

// ClassError marks an error with the ErrClass it belongs to. Strategies and
// the store wrap the errors of their clients with Redis, Postgres or
// Indeterminate so that Classify need not know any client library.
type ClassError struct {
	Class ErrClass
	Err   error
}

// Error returns the class and the wrapped error.
func (e *ClassError) Error() string { return e.Class.String() + ": " + e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *ClassError) Unwrap() error { return e.Err }

// Redis wraps err as a cache failure. It returns nil for a nil err.
func Redis(err error) error { return wrapClass(ClassRedis, err) }

// Postgres wraps err as a database failure before COMMIT. It returns nil for
// a nil err.
func Postgres(err error) error { return wrapClass(ClassPostgres, err) }

// Indeterminate wraps err as a write whose outcome the client could not
// learn. It returns nil for a nil err.
func Indeterminate(err error) error { return wrapClass(ClassIndeterminate, err) }

func wrapClass(c ErrClass, err error) error {
	if err == nil {
		return nil
	}
	var ce *ClassError
	if errors.As(err, &ce) && ce.Class == ClassIndeterminate {
		return err // an indeterminate commit stays indeterminate
	}
	return &ClassError{Class: c, Err: err}
}

// Classify returns the class of err. An indeterminate commit stays
// indeterminate even when it timed out; otherwise a deadline or network
// timeout anywhere in the chain is ClassTimeout; then the outermost
// ClassError decides; anything else is ClassOther.
func Classify(err error) ErrClass {
	if err == nil {
		return ClassNone
	}
	var ce *ClassError
	found := errors.As(err, &ce)
	if found && ce.Class == ClassIndeterminate {
		return ClassIndeterminate
	}
	if isTimeout(err) {
		return ClassTimeout
	}
	if found {
		return ce.Class
	}
	return ClassOther
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
