package strategies

import (
	"context"
	"sync"
	"time"

	"github.com/go-redis/cache/v9"

	gb "github.com/ghostbench/ghostbench"
)

// goRedisLocalSize is the capacity of go-redis-cache's TinyLFU: above the
// key counts of the built-in scenarios, so that the audit sees every
// entry the library kept.
const goRedisLocalSize = 100_000

// goRedisLocal is go-redis-cache's local cache with local=true: the
// library's own TinyLFU (cache.NewTinyLFU, with its randomized TTL offset
// off so that the local TTL is the one configured), behind its documented
// LocalCache interface, through a thin layer of ours that
//
//   - passes every local fill through the before-local-set interleaving
//     point (the library stores what it read from Redis or loaded after
//     its call returned: the window of the fill-versus-invalidation race);
//   - remembers when each entry expires, for PeekLocal;
//   - with local-guard=true, drops a fill older than this instance's own
//     last committed write of the key (the fix of lettuce issue 3481,
//     applied to versions): the local copy can then never go back behind
//     what this instance wrote.
//
// The library does nothing across instances: a write on one instance
// deletes its own local copy and Redis's, and every other instance keeps
// serving its copy until the local TTL.
type goRedisLocal struct {
	lfu   *cache.TinyLFU
	ttl   time.Duration
	cache *Cache
	hooks *gb.Hooks
	guard bool

	mu    sync.Mutex
	exp   map[string]time.Time
	floor map[string]int64 // local-guard: the lowest version a fill may hold
}

func newGoRedisLocal(c *Cache, hooks *gb.Hooks, ttl time.Duration, guard bool) *goRedisLocal {
	lfu := cache.NewTinyLFU(goRedisLocalSize, ttl)
	lfu.UseRandomizedTTL(0)
	return &goRedisLocal{lfu: lfu, ttl: ttl, cache: c, hooks: hooks, guard: guard,
		exp: map[string]time.Time{}, floor: map[string]int64{}}
}

// Set implements cache.LocalCache.
func (l *goRedisLocal) Set(key string, b []byte) {
	k, known := (&localMap{cache: l.cache}).gbKey(key)
	if known {
		// The library gives the local cache no context: the barrier is
		// released by the session at the latest.
		_ = l.hooks.At(context.Background(), gb.PointBeforeLocalSet, k)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.guard {
		if v, err := gb.ParseCache(string(b)); err == nil && v.Version < l.floor[key] {
			return // older than our own write: the fill lost the race
		}
	}
	l.lfu.Set(key, b)
	l.exp[key] = time.Now().Add(l.ttl)
}

// Get implements cache.LocalCache.
func (l *goRedisLocal) Get(key string) ([]byte, bool) { return l.lfu.Get(key) }

// Del implements cache.LocalCache.
func (l *goRedisLocal) Del(key string) {
	l.mu.Lock()
	delete(l.exp, key)
	l.mu.Unlock()
	l.lfu.Del(key)
}

// wrote raises the guard's floor of key to version (own committed write).
func (l *goRedisLocal) wrote(key string, version int64) {
	if !l.guard {
		return
	}
	l.mu.Lock()
	if version > l.floor[key] {
		l.floor[key] = version
	}
	l.mu.Unlock()
}

// peek returns the local entry of key and its remaining local TTL.
func (l *goRedisLocal) peek(key gb.Key) (gb.Value, time.Duration, bool) {
	rk := l.cache.Key(key)
	l.mu.Lock()
	exp, ok := l.exp[rk]
	l.mu.Unlock()
	if !ok {
		return gb.Value{}, 0, false
	}
	ttl := time.Until(exp)
	if ttl <= 0 {
		return gb.Value{}, 0, false
	}
	b, ok := l.lfu.Get(rk)
	if !ok {
		return gb.Value{}, 0, false
	}
	v, err := gb.ParseCache(string(b))
	if err != nil {
		return gb.Value{}, 0, false
	}
	return v, ttl, true
}
