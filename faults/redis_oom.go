package faults

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/fault"
)

func redisOOMKind() Kind {
	return Kind{
		Name:        "redis-oom",
		Description: "Redis out of memory: maxmemory below used memory with noeviction; writes get the OOM error, reads and DELs work",
		Needs:       static(NeedsAdminRedis | ChangesRedisServer),
		Exclusive:   exclusiveRedis,
		WholeServer: "redis",
		New:         newRedisOOM,
	}
}

// redisOOM sets maxmemory-policy noeviction, then maxmemory below the
// memory Redis uses, so that every command that needs memory (SET, not GET
// or DEL) gets Redis's own "OOM command not allowed" error while reads are
// served. Inject returns once a probe SET got that error. Heal restores
// the values CONFIG GET read before (maxmemory first: restoring an evicting
// policy under the low limit would evict every key) and returns once a
// probe SET succeeds.
//
// The limit is half the used memory, not "just above" it: Redis compares
// the limit with used memory including client buffers, which shrink and
// grow between commands, and DELs free memory, so with a limit just above
// usage writes would keep slipping through (measured: the probe SET was
// refused and the next SET of another client accepted). Half of it is
// beyond what DELs, expiry or buffers can give back during a fault, and
// with noeviction nothing is evicted.
//
// It talks to the real server directly, not through a proxy, so that a
// network fault scheduled at the same time cannot stop its heal.
type redisOOM struct {
	rdb   redis.UniversalClient
	probe string

	mu    sync.Mutex
	saved map[string]string // maxmemory, maxmemory-policy; nil when nothing changed
}

// oomAttempts bounds the rounds of "lower the limit, probe".
const oomAttempts = 10

func newRedisOOM(_ context.Context, env Env, _ Params) (fault.Fault, error) {
	if env.Admin == nil {
		return nil, errors.New("no direct Redis client: the kind must declare NeedsAdminRedis")
	}
	return &redisOOM{rdb: env.Admin, probe: env.Prefix + "faults:oom-probe"}, nil
}

func (f *redisOOM) Name() string { return "redis-oom" }

func (f *redisOOM) Inject(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saved == nil {
		saved := map[string]string{}
		for _, name := range []string{"maxmemory", "maxmemory-policy"} {
			m, err := f.rdb.ConfigGet(ctx, name).Result()
			if err != nil {
				return fmt.Errorf("CONFIG GET %s: %w", name, err)
			}
			v, ok := m[name]
			if !ok {
				return fmt.Errorf("CONFIG GET %s: no value", name)
			}
			saved[name] = v
		}
		f.saved = saved
	}
	if err := f.rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		return fmt.Errorf("CONFIG SET maxmemory-policy noeviction: %w", err)
	}
	for range oomAttempts {
		used, err := usedMemory(ctx, f.rdb)
		if err != nil {
			return err
		}
		limit := max(1, used/2)
		if err := f.rdb.ConfigSet(ctx, "maxmemory", strconv.FormatInt(limit, 10)).Err(); err != nil {
			return fmt.Errorf("CONFIG SET maxmemory %d: %w", limit, err)
		}
		err = f.rdb.Set(ctx, f.probe, "x", 0).Err()
		if isOOM(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("probe SET: %w", err)
		}
	}
	return fmt.Errorf("maxmemory is below used memory but SET still succeeds after %d tries", oomAttempts)
}

func (f *redisOOM) Heal(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saved == nil {
		return nil // nothing changed
	}
	err := poll(ctx, "Redis accepts writes again", func(ctx context.Context) error {
		for _, name := range []string{"maxmemory", "maxmemory-policy"} {
			if err := f.rdb.ConfigSet(ctx, name, f.saved[name]).Err(); err != nil {
				return fmt.Errorf("CONFIG SET %s %s: %w", name, f.saved[name], err)
			}
		}
		if err := f.rdb.Set(ctx, f.probe, "ok", 0).Err(); err != nil {
			return fmt.Errorf("probe SET: %w", err)
		}
		return f.rdb.Del(ctx, f.probe).Err()
	})
	if err != nil {
		return err
	}
	f.saved = nil
	return nil
}

// usedMemory returns INFO memory's used_memory.
func usedMemory(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("INFO memory: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("INFO memory: used_memory %q: %w", v, err)
			}
			return n, nil
		}
	}
	return 0, errors.New("INFO memory: no used_memory")
}

// isOOM reports whether err is Redis's out-of-memory refusal.
func isOOM(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "OOM ")
}
