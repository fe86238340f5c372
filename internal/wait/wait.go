// Package wait holds the one context-aware sleep the harness uses in its
// loops (pacing, backoff, fault schedules).
package wait

import (
	"context"
	"time"
)

// Sleep sleeps for d and reports true, or returns false as soon as ctx is
// done.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
