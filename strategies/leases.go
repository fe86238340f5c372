package strategies

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/wait"
)

// leaseScript is a miss's second look: KEYS[1] is the value, KEYS[2] the
// lease. It returns {1, value} when the value is there after all, {2} when
// it granted the lease ARGV[1] for ARGV[2] milliseconds, {3} when another
// client holds the lease.
var leaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
  return {1, v}
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {2}
end
return {3}
`)

// leaseFillScript sets KEYS[1] to ARGV[2] with a TTL of ARGV[3]
// milliseconds (0: none) only while KEYS[2] still holds the lease token
// ARGV[1], and releases the lease. It returns 1 when it filled, 0 when the
// lease was voided (by a write's DEL, or by expiry) and the fill dropped.
var leaseFillScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[2])
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
`)

// leaseReleaseScript deletes the lease KEYS[1] if it still holds the token
// ARGV[1], for a holder that gives up without filling.
var leaseReleaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 0
`)

// leases follows the leases of Facebook's memcache ("Scaling Memcache at
// Facebook", NSDI 2013, section 3.2.1), built from Redis primitives:
//
//   - A miss asks for a lease: a token stored beside the key (SET NX PX,
//     inside a script that first looks at the value again). The holder reads
//     the row and fills the key only if its token is still the lease (a
//     check-and-set script), releasing the lease as it fills.
//   - A write commits, then DELs the key and its lease in one command: the
//     DEL voids every outstanding lease, so a fill of a row read before the
//     commit is dropped instead of landing after the invalidation (the
//     cache-aside stale set).
//   - A miss that finds the lease held by another client is a hot miss.
//     With hot-miss=wait (the default, as memcache clients do) it polls for
//     the holder's fill for at most the wait parameter, taking the lease
//     itself if the holder's lease was voided or expired, and then reads
//     the row without filling; with hot-miss=read-through it reads the row
//     at once and never fills. Either way only the lease holder fills, which
//     also curbs thundering herds.
//
// The lease key is the value key's name in a hash tag under the prefix
// ("gb:{gb:row:5}:lease"), so both live in the same cluster slot and the
// scripts work on a Redis Cluster. A lease lives for the lease parameter
// whatever the TTL setting (it is not a cache entry; fills and writes
// delete it). What leases cannot fix is a write whose DEL fails after its
// COMMIT: the old value then stays until its TTL, as with cache-aside.
type leases struct {
	fillRead
	readThrough bool
	wait, lease time.Duration

	tokenBase string
	tokens    atomic.Uint64
}

func newLeases(env Env) (gb.Strategy, error) {
	s := &leases{fillRead: fillRead{env: env, cache: NewCache(env)}}
	switch m := env.Params["hot-miss"]; m {
	case "", "wait":
	case "read-through":
		s.readThrough = true
	default:
		return nil, fmt.Errorf("parameter hot-miss = %q: want wait or read-through", m)
	}
	var err error
	if s.wait, err = env.Params.Duration("wait", 100*time.Millisecond); err != nil {
		return nil, err
	}
	if s.lease, err = env.Params.Duration("lease", 3*time.Second); err != nil {
		return nil, err
	}
	if s.lease < time.Millisecond {
		return nil, fmt.Errorf("parameter lease = %v: want at least 1ms", s.lease)
	}
	s.tokenBase = strconv.FormatUint(rand.Uint64(), 36) + "."
	return s, nil
}

func (s *leases) leaseKey(k gb.Key) string {
	return s.cache.prefix + "{" + s.cache.Key(k) + "}:lease"
}

func (s *leases) Read(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	v, ok, err := s.cache.Get(ctx, key)
	if err == nil && ok {
		return gb.ReadResult{Value: v, Hit: true}, nil
	}
	if err != nil {
		s.env.warnFill(key, err)
		return s.readDB(ctx, key)
	}
	token := s.tokenBase + strconv.FormatUint(s.tokens.Add(1), 36)
	keys := []string{s.cache.Key(key), s.leaseKey(key)}
	var deadline time.Time
	poll := time.Millisecond
	for {
		res, err := leaseScript.Run(ctx, s.cache.Client(), keys, token, s.lease.Milliseconds()).Slice()
		if err != nil {
			s.env.warnFill(key, gb.Redis(fmt.Errorf("lease key %d: %w", key, err)))
			return s.readDB(ctx, key)
		}
		switch code, _ := res[0].(int64); code {
		case 1:
			str, _ := res[1].(string)
			v, err := gb.ParseCache(str)
			if err != nil {
				s.env.warnFill(key, gb.Redis(fmt.Errorf("lease key %d: %w", key, err)))
				return s.readDB(ctx, key)
			}
			return gb.ReadResult{Value: v, Hit: true}, nil
		case 2:
			return s.fill(ctx, key, token, keys)
		}
		// A hot miss: someone else holds the lease.
		if s.readThrough {
			return s.readDB(ctx, key)
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(s.wait)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return s.readDB(ctx, key)
		}
		if !wait.Sleep(ctx, min(poll, left)) {
			return gb.ReadResult{}, ctx.Err()
		}
		poll = min(2*poll, 10*time.Millisecond)
	}
}

// fill reads the row as the lease holder and fills the key if the lease
// is still ours.
func (s *leases) fill(ctx context.Context, key gb.Key, token string, keys []string) (gb.ReadResult, error) {
	v, err := s.env.fillSource().Read(ctx, key)
	if err == nil {
		err = s.env.Hooks.At(ctx, gb.PointAfterDBRead, key)
	}
	if err == nil {
		err = s.env.Hooks.At(ctx, gb.PointBeforeCacheSet, key)
	}
	if err != nil {
		s.release(ctx, keys[1], token)
		return gb.ReadResult{}, err
	}
	if err := leaseFillScript.Run(ctx, s.cache.Client(), keys, token, v.MarshalCache(), ttlMillis(s.cache.TTL())).Err(); err != nil {
		s.env.warnFill(key, gb.Redis(fmt.Errorf("lease fill key %d: %w", key, err)))
	}
	return gb.ReadResult{Value: v}, nil
}

// release gives the lease up, so that other missers need not wait for it
// to expire. It runs even when ctx is done (that may be why we give up).
func (s *leases) release(ctx context.Context, leaseKey, token string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_ = leaseReleaseScript.Run(ctx, s.cache.Client(), []string{leaseKey}, token).Err() // expires anyway
}

// readDB reads the row without touching the cache.
func (s *leases) readDB(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	v, err := s.env.fillSource().Read(ctx, key)
	if err != nil {
		return gb.ReadResult{}, err
	}
	return gb.ReadResult{Value: v}, nil
}

func (s *leases) Write(ctx context.Context, req gb.WriteRequest) error {
	if _, err := s.env.Store.Write(ctx, req, nil); err != nil {
		return err
	}
	if s.afterCommit(ctx, req.Key) {
		s.delWith(ctx, req.Key, func(ctx context.Context) error {
			if err := s.cache.Client().Del(ctx, s.cache.Key(req.Key), s.leaseKey(req.Key)).Err(); err != nil {
				return gb.Redis(fmt.Errorf("DEL key %d and its lease: %w", req.Key, err))
			}
			return nil
		})
	}
	return nil
}
