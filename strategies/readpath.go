package strategies

import (
	"time"

	"context"

	gb "github.com/ghostbench/ghostbench"
)

// fillRead is the cache-aside read path most strategies share: GET; on a hit
// return it; on a miss SELECT the row, then SET it with the TTL. A cache
// error on GET falls back to the database without filling (a cache outage
// must not fail reads); a failed fill is a warning.
type fillRead struct {
	env   Env
	cache *Cache
}

func (f *fillRead) Read(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	return readFill(ctx, &f.env, f.cache, key, func(ctx context.Context, v gb.Value) error {
		return f.cache.fill(ctx, key, v) // no WAIT for a miss's fill
	})
}

// readFill is the cache-aside read path with the strategy's own fill: GET;
// on a hit return it; on a miss SELECT the row, pass the after-db-read and
// before-cache-set points, then fill it. A cache error on GET falls back to
// the database without filling; a failed fill is a warning.
func readFill(ctx context.Context, env *Env, cache *Cache, key gb.Key, fill func(ctx context.Context, v gb.Value) error) (gb.ReadResult, error) {
	v, ok, err := cache.Get(ctx, key)
	if err == nil && ok {
		return gb.ReadResult{Value: v, Hit: true}, nil
	}
	if err != nil {
		env.warnFill(key, err)
		v, err := env.Store.Read(ctx, key)
		if err != nil {
			return gb.ReadResult{}, err
		}
		return gb.ReadResult{Value: v}, nil
	}
	v, err = env.fillSource().Read(ctx, key)
	if err != nil {
		return gb.ReadResult{}, err
	}
	if err := env.Hooks.At(ctx, gb.PointAfterDBRead, key); err != nil {
		return gb.ReadResult{}, err
	}
	if err := env.Hooks.At(ctx, gb.PointBeforeCacheSet, key); err != nil {
		return gb.ReadResult{}, err
	}
	if err := fill(ctx, v); err != nil {
		env.warnFill(key, err)
	}
	return gb.ReadResult{Value: v}, nil
}

// Peek implements ghostbench.Inspector.
func (f *fillRead) Peek(ctx context.Context, key gb.Key) (gb.Value, time.Duration, bool, error) {
	return f.cache.Peek(ctx, key)
}

// del runs a best-effort DEL after COMMIT with its interleaving points. The
// write has committed, so nothing here fails it: a cache error, or a hook
// that gave up because the run was cancelled, is a warning.
func (f *fillRead) del(ctx context.Context, key gb.Key) {
	f.delWith(ctx, key, func(ctx context.Context) error { return f.cache.Del(ctx, key) })
}

// delWith is del with the strategy's own invalidation (a library's
// delete, a DEL of the key and its lease) in place of the plain DEL.
func (f *fillRead) delWith(ctx context.Context, key gb.Key, del func(context.Context) error) {
	if err := f.env.Hooks.At(ctx, gb.PointBeforeCacheDel, key); err != nil {
		f.env.warn(key, err)
		return
	}
	if err := del(ctx); err != nil {
		f.env.warn(key, err)
	}
	if err := f.env.Hooks.At(ctx, gb.PointAfterCacheDel, key); err != nil {
		f.env.warn(key, err)
	}
}

// afterCommit runs PointAfterCommit; false means the hook gave up (warned)
// and the cache operation that follows must be skipped.
func (f *fillRead) afterCommit(ctx context.Context, key gb.Key) bool {
	if err := f.env.Hooks.At(ctx, gb.PointAfterCommit, key); err != nil {
		f.env.warn(key, err)
		return false
	}
	return true
}

func (f *fillRead) Close() error { return nil }
