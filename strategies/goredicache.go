package strategies

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/cache/v9"
	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
)

// goRedisCache runs github.com/go-redis/cache/v9, a widely used cache-aside
// library from the go-redis authors, without changing it: reads go through
// Cache.Once (GET; on a miss load and SET, with concurrent misses of one
// key in this process collapsed into one load by a singleflight group);
// writes commit, then Cache.Delete.
//
// The library promises no consistency beyond cache-aside: its Once has the
// cache-aside stale set (a load of a row read before a commit, SET after
// the write's Delete, stays until its TTL); the singleflight only spares
// the database duplicate loads from one process. It swallows the error of
// a failed GET (it loads from the database instead) and of a failed fill
// SET, so Redis outages cost no read errors and leave no warnings.
//
// Mapping to ghostbench: the loader returns Value.MarshalCache as a string,
// which the library stores as raw bytes (it msgpack-encodes everything but
// strings and byte slices), so the entry is our encoding and Peek is
// Cache.Peek, exact. The library's own TTL handling cannot express ours: a
// zero Item.TTL means one hour, a TTL under one second is replaced by one
// hour (with a log line), and a negative TTL skips Redis altogether. So the
// adapter hands the library a Redis shim (its documented Options.Redis
// interface) whose SETs apply Env.TTL, 0 meaning none. By default no
// local (in-process) cache is configured; local=true configures the
// library's TinyLFU (see goRedisLocal), which PeekLocal shows to the
// prober and the audit. A read that joined another reader's load reports Hit, because the
// library does not say whether the shared result came from Redis.
type goRedisCache struct {
	fillRead
	lib   *cache.Cache
	local *goRedisLocal // nil unless local=true
}

// ttlShim is the library's Redis: every SET gets the run's TTL.
type ttlShim struct {
	rdb redis.UniversalClient
	ttl time.Duration
}

func (s ttlShim) Set(ctx context.Context, key string, value any, _ time.Duration) *redis.StatusCmd {
	return s.rdb.Set(ctx, key, value, s.ttl)
}

func (s ttlShim) SetXX(ctx context.Context, key string, value any, _ time.Duration) *redis.BoolCmd {
	return s.rdb.SetXX(ctx, key, value, s.ttl)
}

func (s ttlShim) SetNX(ctx context.Context, key string, value any, _ time.Duration) *redis.BoolCmd {
	return s.rdb.SetNX(ctx, key, value, s.ttl)
}

func (s ttlShim) Get(ctx context.Context, key string) *redis.StringCmd { return s.rdb.Get(ctx, key) }

func (s ttlShim) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return s.rdb.Del(ctx, keys...)
}

func newGoRedisCache(env Env) (gb.Strategy, error) {
	c := NewCache(env)
	local, err := env.Params.Bool("local", false)
	if err != nil {
		return nil, err
	}
	localTTL, err := env.Params.Duration("local-ttl", time.Minute)
	if err != nil {
		return nil, err
	}
	guard, err := env.Params.Bool("local-guard", false)
	if err != nil {
		return nil, err
	}
	if !local && (env.Params["local-ttl"] != "" || guard) {
		return nil, fmt.Errorf("parameters local-ttl and local-guard need local=true")
	}
	if local && localTTL <= 0 {
		return nil, fmt.Errorf("parameter local-ttl = %q: want a positive duration such as 1m", env.Params["local-ttl"])
	}
	opt := &cache.Options{Redis: ttlShim{rdb: c.Client(), ttl: c.TTL()}}
	s := &goRedisCache{fillRead: fillRead{env: env, cache: c}}
	if local {
		s.local = newGoRedisLocal(c, env.Hooks, localTTL, guard)
		opt.LocalCache = s.local
	}
	s.lib = cache.New(opt)
	return s, nil
}

func (s *goRedisCache) Read(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	var raw string
	loaded := false
	err := s.lib.Once(&cache.Item{
		Ctx:   ctx,
		Key:   s.cache.Key(key),
		Value: &raw,
		TTL:   time.Hour, // any valid TTL: the shim applies Env.TTL
		Do: func(*cache.Item) (any, error) {
			loaded = true
			v, err := s.env.fillSource().Read(ctx, key)
			if err != nil {
				return nil, err
			}
			if err := s.env.Hooks.At(ctx, gb.PointAfterDBRead, key); err != nil {
				return nil, err
			}
			if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheSet, key); err != nil {
				return nil, err
			}
			return v.MarshalCache(), nil
		},
	})
	if err != nil {
		return gb.ReadResult{}, err
	}
	v, err := gb.ParseCache(raw)
	if err != nil {
		return gb.ReadResult{}, gb.Redis(fmt.Errorf("go-redis-cache key %d: %w", key, err))
	}
	return gb.ReadResult{Value: v, Hit: !loaded}, nil
}

func (s *goRedisCache) Write(ctx context.Context, req gb.WriteRequest) error {
	v, err := s.env.Store.Write(ctx, req, nil)
	if err != nil {
		return err
	}
	if s.local != nil {
		s.local.wrote(s.cache.Key(req.Key), v.Version)
	}
	if s.afterCommit(ctx, req.Key) {
		s.delWith(ctx, req.Key, func(ctx context.Context) error {
			if err := s.lib.Delete(ctx, s.cache.Key(req.Key)); err != nil {
				return gb.Redis(fmt.Errorf("go-redis-cache Delete key %d: %w", req.Key, err))
			}
			return nil
		})
	}
	return nil
}

// PeekLocal implements ghostbench.LocalInspector (absent without local=true).
func (s *goRedisCache) PeekLocal(key gb.Key) (gb.Value, time.Duration, bool) {
	if s.local == nil {
		return gb.Value{}, 0, false
	}
	return s.local.peek(key)
}
