package ghostbench

import "errors"

// fillError marks a cache error on the read path that did not fail the
// read.
type fillError struct{ err error }

func (e *fillError) Error() string { return "read path: " + e.err.Error() }
func (e *fillError) Unwrap() error { return e.err }

// Fill marks err as a cache error on the read path that did not fail the
// read (a GET that fell back to the database, a fill that was refused),
// for a strategy's warning callback: the checker counts these apart from
// the errors after COMMIT. It returns nil for a nil err.
func Fill(err error) error {
	if err == nil {
		return nil
	}
	return &fillError{err: err}
}

// IsFill reports whether err was marked by Fill.
func IsFill(err error) bool {
	var f *fillError
	return errors.As(err, &f)
}
