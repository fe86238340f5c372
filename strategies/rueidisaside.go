package strategies

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"github.com/redis/rueidis/rueidisaside"

	gb "github.com/ghostbench/ghostbench"
)

// rueidisAside runs github.com/redis/rueidis/rueidisaside without changing
// it: cache-aside with client-side caching and a lock. Get does DoCache(GET)
// (served from process memory when it can); on a miss it takes a lock by
// SET NX of a placeholder ("rueidisid:" + the client's id) with PX ttl,
// loads the row, and stores it with a script that SETs it only if the
// placeholder is still its own. Other readers that find the placeholder
// wait for its invalidation (or for the holder's client marker to expire)
// and retry. Writes commit, then Client.Del.
//
// The library's ttl is both the Redis TTL and the local one, and its
// store script always uses PX: ttl none cannot be expressed (NeedsTTL). It
// also keeps a client marker key "rueidisid:<random>" (10 s TTL, refreshed)
// outside the harness's prefix: the one place a strategy writes a key the
// harness does not own. A placeholder in Redis is a lock, not a value: Peek
// and PeekLocal report it absent.
type rueidisAside struct {
	fillRead
	lib   rueidisaside.CacheAsideClient
	local *localMap
}

func newRueidisAside(env Env) (gb.Strategy, error) {
	opt, err := rueidisOptions(&env)
	if err != nil {
		return nil, err
	}
	c := NewCache(env)
	s := &rueidisAside{fillRead: fillRead{env: env, cache: c}, local: newLocalMap(c)}
	opt.ClientName = ""
	s.lib, err = rueidisaside.NewClient(rueidisaside.ClientOption{
		ClientOption: opt,
		// The library's documented hook to build its client: ours adds
		// the inspectable local store, nothing else.
		ClientBuilder: func(o rueidis.ClientOption) (rueidis.Client, error) {
			o.NewCacheStoreFn = func(rueidis.CacheStoreOption) rueidis.CacheStore {
				return &hookedStore{CacheStore: rueidis.NewSimpleCacheAdapter(s.local.newStore()), local: s.local, hooks: env.Hooks}
			}
			return rueidis.NewClient(o)
		},
	})
	if err != nil {
		return nil, gb.Redis(fmt.Errorf("rueidisaside client: %w", err))
	}
	return s, nil
}

func (s *rueidisAside) Read(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	loaded := false
	str, err := s.lib.Get(ctx, s.cache.TTL(), s.cache.Key(key), func(ctx context.Context, _ string) (string, error) {
		loaded = true
		v, err := s.env.Store.Read(ctx, key)
		if err != nil {
			return "", err
		}
		if err := s.env.Hooks.At(ctx, gb.PointAfterDBRead, key); err != nil {
			return "", err
		}
		if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheSet, key); err != nil {
			return "", err
		}
		return v.MarshalCache(), nil
	})
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return gb.ReadResult{}, err
	case loaded && str != "":
		// The row was loaded; storing it failed: serve it, warn.
		s.env.warn(key, gb.Redis(fmt.Errorf("rueidisaside fill key %d: %w", key, err)))
	case loaded:
		return gb.ReadResult{}, err // the load itself failed
	default:
		// The cache failed before any load: read through, as the other
		// strategies do in an outage.
		s.env.warn(key, gb.Redis(fmt.Errorf("rueidisaside Get key %d: %w", key, err)))
		v, err := s.env.Store.Read(ctx, key)
		return gb.ReadResult{Value: v}, err
	}
	v, err := gb.ParseCache(str)
	if err != nil {
		return gb.ReadResult{}, gb.Redis(fmt.Errorf("rueidisaside key %d: %w", key, err))
	}
	return gb.ReadResult{Value: v, Hit: !loaded}, nil
}

func (s *rueidisAside) Write(ctx context.Context, req gb.WriteRequest) error {
	if _, err := s.env.Store.Write(ctx, req, nil); err != nil {
		return err
	}
	if s.afterCommit(ctx, req.Key) {
		s.delWith(ctx, req.Key, func(ctx context.Context) error {
			if err := s.lib.Del(ctx, s.cache.Key(req.Key)); err != nil {
				return gb.Redis(fmt.Errorf("rueidisaside Del key %d: %w", req.Key, err))
			}
			return nil
		})
	}
	return nil
}

// Peek implements ghostbench.Inspector; a lock placeholder is absent.
func (s *rueidisAside) Peek(ctx context.Context, key gb.Key) (gb.Value, time.Duration, bool, error) {
	rk := s.cache.Key(key)
	str, err := s.cache.Client().Get(ctx, rk).Result()
	if errors.Is(err, redis.Nil) || (err == nil && strings.HasPrefix(str, rueidisaside.PlaceholderPrefix)) {
		return gb.Value{}, 0, false, nil
	}
	if err != nil {
		return gb.Value{}, 0, false, gb.Redis(fmt.Errorf("peek key %d: %w", key, err))
	}
	return s.cache.Peek(ctx, key)
}

// PeekLocal implements ghostbench.LocalInspector; a cached placeholder is
// absent.
func (s *rueidisAside) PeekLocal(key gb.Key) (gb.Value, time.Duration, bool) {
	return s.local.peek(key)
}

// Drain makes a round trip on the library's connection to every server
// (see rueidisCSC).
func (s *rueidisAside) Drain(ctx context.Context) error {
	return pingAll(ctx, s.lib.Client())
}

func (s *rueidisAside) Close() error {
	s.lib.Close()
	return nil
}
