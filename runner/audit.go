package runner

import (
	"context"
	"sync"
	"time"

	gb "github.com/ghostbench/ghostbench"
)

// audit compares every key's cache entry with its row (DESIGN.md section 4:
// stale until TTL, ghost until TTL). It runs after writers stopped and
// background work drained, and reads the rows first: a cache entry older
// than the row it was compared with is then certainly stale.
func (r *run) audit(ctx context.Context) error {
	rows, err := r.store.Rows(ctx, r.sc.Keys)
	if err != nil {
		return err
	}
	if !r.fleet.inspectable() {
		for k, row := range rows {
			r.checker.AuditKey(gb.Key(k), gb.Value{}, 0, false, row)
		}
		return nil
	}
	const workers = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	keys := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				err := r.fleet.auditKey(pctx, r.checker, gb.Key(k), rows[k])
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
	for k := range rows {
		keys <- k
	}
	close(keys)
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
