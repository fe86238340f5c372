package runner

import (
	"context"
	"sync"
	"time"

	gb "github.com/ghostbench/ghostbench"
)

// audit compares the cache entry of every key with its row (DESIGN.md
// section 4: stale until TTL, ghost until TTL). It runs after writers
// stopped and background work drained, and reads the rows first: a cache
// entry older than the row it was compared with is then certainly stale.
//
// Only the keys some operation touched are looked up: the run began with
// an empty key prefix, so every other key has no entry and is counted as
// audited and absent (check.Checker.AuditAbsent) without a round trip. Its
// cost follows the keys in use, not the key space.
func (r *run) audit(ctx context.Context) error {
	keys := r.touched.keys()
	rows, err := r.store.RowsOf(ctx, keys)
	if err != nil {
		return err
	}
	r.checker.AuditAbsent(r.sc.Keys - len(keys))
	if !r.fleet.inspectable() {
		for i, k := range keys {
			r.checker.AuditKey(k, gb.Value{}, 0, false, rows[i])
		}
		return nil
	}
	const workers = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				err := r.fleet.auditKey(pctx, r.checker, keys[i], rows[i])
				cancel()
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()
	return firstErr
}

// startProgress calls cfg.Progress about once a second until the returned
// stop function is called.
func (r *run) startProgress(ctx context.Context) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var lastOps int64
		last := r.clock.Now()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := r.clock.Now()
			ops := r.ops.Load()
			rate := float64(ops-lastOps) / (now - last).Seconds()
			lastOps, last = ops, now
			r.cfg.Progress(Progress{Elapsed: now, Ops: ops, OpsPerSec: rate, Errors: r.errs.Load(), Stale: r.stale.Load(), Ghost: r.ghost.Load()})
		}
	}()
	return func() { close(done); <-finished }
}
