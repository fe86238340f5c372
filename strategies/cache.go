package strategies

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
)

// Cache is the Redis side every built-in strategy shares: one entry per key
// under Env.Prefix, holding Value.MarshalCache, with Env.TTL on every write.
// Every error it returns is classed as a redis error. User strategies may
// use it too.
type Cache struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration

	waitN       int           // the wait parameter (topology.go)
	waitTimeout time.Duration // wait-timeout
}

// NewCache returns the cache of env.
func NewCache(env Env) *Cache {
	p := env.Prefix
	if p == "" {
		p = "gb:"
	}
	c := &Cache{rdb: env.Redis, prefix: p, ttl: env.TTL}
	c.waitSettings(env.Params)
	return c
}

// Key returns the Redis key of k.
func (c *Cache) Key(k gb.Key) string {
	b := make([]byte, 0, len(c.prefix)+8)
	b = append(b, c.prefix...)
	b = append(b, "row:"...)
	b = strconv.AppendInt(b, int64(k), 10)
	return string(b)
}

// TTL returns the time to live put on every entry (0: none).
func (c *Cache) TTL() time.Duration { return c.ttl }

// Client returns the Redis client.
func (c *Cache) Client() redis.UniversalClient { return c.rdb }

// Get returns the entry of k; ok is false on a miss.
func (c *Cache) Get(ctx context.Context, k gb.Key) (v gb.Value, ok bool, err error) {
	s, err := c.rdb.Get(ctx, c.Key(k)).Result()
	if errors.Is(err, redis.Nil) {
		return gb.Value{}, false, nil
	}
	if err != nil {
		return gb.Value{}, false, gb.Redis(fmt.Errorf("GET key %d: %w", k, err))
	}
	v, err = gb.ParseCache(s)
	if err != nil {
		return gb.Value{}, false, gb.Redis(fmt.Errorf("GET key %d: %w", k, err))
	}
	return v, true, nil
}

// Set writes v as the entry of k with the TTL, followed by WAIT when the
// strategy's wait parameter is set.
func (c *Cache) Set(ctx context.Context, k gb.Key, v gb.Value) error {
	key := c.Key(k)
	if err := c.withWait(ctx, key, func(p redis.Cmdable) redis.Cmder { return p.Set(ctx, key, v.MarshalCache(), c.ttl) }); err != nil {
		return gb.Redis(fmt.Errorf("SET key %d: %w", k, err))
	}
	return nil
}

// Del removes the entry of k, followed by WAIT when the strategy's wait
// parameter is set.
func (c *Cache) Del(ctx context.Context, k gb.Key) error {
	key := c.Key(k)
	if err := c.withWait(ctx, key, func(p redis.Cmdable) redis.Cmder { return p.Del(ctx, key) }); err != nil {
		return gb.Redis(fmt.Errorf("DEL key %d: %w", k, err))
	}
	return nil
}

// Peek returns the entry of k and its remaining TTL (negative when it has
// none) without changing anything; it implements ghostbench.Inspector for
// the strategies that embed a Cache.
func (c *Cache) Peek(ctx context.Context, k gb.Key) (gb.Value, time.Duration, bool, error) {
	key := c.Key(k)
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		pttl = p.PTTL(ctx, key)
		return nil
	})
	if errors.Is(get.Err(), redis.Nil) {
		return gb.Value{}, 0, false, nil
	}
	if err != nil {
		return gb.Value{}, 0, false, gb.Redis(fmt.Errorf("peek key %d: %w", k, err))
	}
	v, err := gb.ParseCache(get.Val())
	if err != nil {
		return gb.Value{}, 0, false, gb.Redis(fmt.Errorf("peek key %d: %w", k, err))
	}
	ttl := pttl.Val()
	if ttl < 0 {
		ttl = -1
	}
	return v, ttl, true, nil
}
