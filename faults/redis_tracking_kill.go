package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/fault"
)

// TrackingClientName is the connection name (CLIENT SETNAME) of the
// harness's own connections that use Redis client tracking (the
// rueidis-csc strategy sets it): redis-tracking-kill kills those and no
// other client's.
const TrackingClientName = "ghostbench-csc"

func redisTrackingKillKind() Kind {
	return Kind{
		Name: "redis-tracking-kill",
		Description: "the harness's client-tracking connections (the ones Redis pushes invalidations on) killed with CLIENT KILL, " +
			"and every reconnection killed again through the window",
		Params: []Param{
			durationParam("every", "100ms", "kill the tracking connections that reconnected at this interval until heal; 0 kills once", true),
		},
		Needs: static(NeedsAdminRedis),
		New:   newRedisTrackingKill,
	}
}

// redisTrackingKill kills, with CLIENT KILL ID on a direct connection, every
// client connection named TrackingClientName that has tracking on (flag
// "t" in CLIENT LIST). Redis forgets what a killed connection was tracking
// (redis/redis#11767): what happens to the process's local cache is up to
// the client library, and this fault measures it. A client that flushes its
// local cache on disconnect (rueidis does) loses its cache, not its
// consistency with Redis; one that kept it would serve it until its local
// TTL. A client that carries its writes' DELs on the same connection
// (rueidis multiplexes everything on it) also loses the DELs in flight when
// the connection dies: Redis then keeps the old value until its own TTL,
// and every instance's local cache refills from it.
//
// Inject returns once the first victims are gone from CLIENT LIST; with
// every > 0 a loop kills the reconnected ones until Heal. Nothing to kill
// is not an error (the strategy keeps no tracking connection): the run
// record's fault window still shows the window, and the debug log the
// count.
type redisTrackingKill struct {
	admin redis.UniversalClient
	every time.Duration
	log   func(msg string, args ...any)

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	killed int
}

func newRedisTrackingKill(_ context.Context, env Env, p Params) (fault.Fault, error) {
	if env.Admin == nil {
		return nil, errors.New("no direct Redis client: the kind must declare NeedsAdminRedis")
	}
	f := &redisTrackingKill{admin: env.Admin, every: p.Duration("every"), log: func(string, ...any) {}}
	if env.Log != nil {
		f.log = env.Log.Debug
	}
	return f, nil
}

func (f *redisTrackingKill) Name() string { return "redis-tracking-kill" }

// trackingIDs returns the ids of the harness's tracking connections.
func trackingIDs(ctx context.Context, admin redis.UniversalClient) ([]string, error) {
	list, err := admin.ClientList(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLIENT LIST: %w", err)
	}
	var ids []string
	for _, line := range strings.Split(list, "\n") {
		var id, name, flags string
		for _, kv := range strings.Fields(line) {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "id":
				id = v
			case "name":
				name = v
			case "flags":
				flags = v
			}
		}
		if id != "" && name == TrackingClientName && strings.Contains(flags, "t") {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// kill kills the tracking connections and returns their ids.
func (f *redisTrackingKill) kill(ctx context.Context) ([]string, error) {
	ids, err := trackingIDs(ctx, f.admin)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		// A connection may have closed by itself meanwhile: "No such
		// client" is not a failure.
		if err := f.admin.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil && !strings.Contains(err.Error(), "No such client") {
			return nil, fmt.Errorf("CLIENT KILL ID %s: %w", id, err)
		}
	}
	f.killed += len(ids)
	return ids, nil
}

func (f *redisTrackingKill) Inject(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel != nil {
		return nil // in effect already
	}
	ids, err := f.kill(ctx)
	if err != nil {
		return err
	}
	f.log("redis-tracking-kill: killed", "connections", len(ids))
	err = poll(ctx, "killed tracking connections are gone", func(ctx context.Context) error {
		list, err := f.admin.ClientList(ctx).Result()
		if err != nil {
			return err
		}
		for _, id := range ids {
			if strings.Contains(list, "id="+id+" ") {
				return fmt.Errorf("connection %s still listed", id)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	f.cancel, f.done = repeatEvery(ctx, f.every,
		func(ctx context.Context) error { _, err := f.kill(ctx); return err },
		func(err error) { f.log("redis-tracking-kill: kill failed", "err", err) })
	return nil
}

// Heal stops the kill loop and waits until it has exited; the clients
// reconnect by themselves.
func (f *redisTrackingKill) Heal(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel == nil {
		return nil
	}
	f.cancel()
	if f.done != nil {
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.cancel, f.done = nil, nil
	return nil
}
