package strategies

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
)

// setIfNewerScript writes ARGV[1] (a Value.MarshalCache encoding) to
// KEYS[1] only when the key is absent or holds an older version, with a
// TTL of ARGV[3] milliseconds (0: none). ARGV[2] is the new value's
// version. It returns 1 when it wrote and 0 when the cached version is the
// same or newer. An entry whose version prefix does not parse is
// overwritten. Versions are compared as Lua numbers (doubles): exact up to
// 2^53, far beyond any run.
var setIfNewerScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local cv = tonumber(string.match(cur, '^(%-?%d+):'))
  if cv ~= nil and cv >= tonumber(ARGV[2]) then
    return 0
  end
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`)

// versionChecked writes the cache only through setIfNewerScript: a fill
// and the write path both SET a value only if it is newer than the cached
// one, so a fill that read the row before a write committed cannot
// overwrite the value that write put in the cache (the cache-aside stale
// set), and two writers' SETs landing out of order keep the newer one.
//
// The write path SETs the new value after COMMIT instead of deleting the
// key: a DEL would erase the very version the check compares against and
// let a late fill of the old row in. The guard therefore holds only while
// the newer value stays in the cache: if the write's SET fails (it is then
// a warning: the write committed), or the entry is evicted or expires
// between the write's SET and a late fill, the old row can still land.
//
// The script runs with EVALSHA and falls back to EVAL when Redis does not
// know it (go-redis Script.Run). Entries keep the Value.MarshalCache
// encoding, so Peek is Cache.Peek.
type versionChecked struct{ fillRead }

func newVersionChecked(env Env) (gb.Strategy, error) {
	return &versionChecked{fillRead{env: env, cache: NewCache(env)}}, nil
}

// setIfNewer runs the script for v; wrote is false when the cache already
// held v's version or a newer one.
func (s *versionChecked) setIfNewer(ctx context.Context, key gb.Key, v gb.Value) (wrote bool, err error) {
	n, err := setIfNewerScript.Run(ctx, s.cache.Client(), []string{s.cache.Key(key)},
		v.MarshalCache(), v.Version, ttlMillis(s.cache.TTL())).Int()
	if err != nil {
		return false, gb.Redis(fmt.Errorf("SET-if-newer key %d: %w", key, err))
	}
	return n == 1, nil
}

func (s *versionChecked) Read(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	return readFill(ctx, &s.env, s.cache, key, func(ctx context.Context, v gb.Value) error {
		_, err := s.setIfNewer(ctx, key, v)
		return err
	})
}

func (s *versionChecked) Write(ctx context.Context, req gb.WriteRequest) error {
	v, err := s.env.Store.Write(ctx, req, nil)
	if err != nil {
		return err
	}
	if !s.afterCommit(ctx, req.Key) {
		return nil
	}
	if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheSet, req.Key); err != nil {
		s.env.warn(req.Key, err)
		return nil
	}
	if _, err := s.setIfNewer(ctx, req.Key, v); err != nil {
		s.env.warn(req.Key, err)
	}
	return nil
}
