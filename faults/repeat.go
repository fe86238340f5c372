package faults

import (
	"context"
	"time"
)

// repeatEvery calls do every `every` in a goroutine of its own, on a
// context that outlives ctx's cancellation (a fault's window ends at Heal,
// not when the inject call returns), until cancel is called; done is closed
// when the goroutine has exited. With every <= 0 nothing runs, cancel does
// nothing and done is nil. Errors of do while the loop is still wanted go
// to logf.
func repeatEvery(ctx context.Context, every time.Duration, do func(ctx context.Context) error, logf func(err error)) (cancel func(), done chan struct{}) {
	if every <= 0 {
		return func() {}, nil
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done = make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
			}
			if err := do(lctx); err != nil && lctx.Err() == nil {
				logf(err)
			}
		}
	}()
	return cancel, done
}
