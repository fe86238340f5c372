package faults

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
			"and every reconnection killed again through the window; mode half-open hides the close from the client",
		Params: []Param{
			durationParam("every", "100ms", "kill the tracking connections that reconnected at this interval until heal; 0 kills once", true),
			enumParam("mode", "close", "close: the client sees its connection closed; "+
				"half-open: the proxy keeps the client's end open and silent, so the client keeps its local cache until it notices", "close", "half-open"),
			{Name: "connections", Default: "all", Allowed: "all or a positive integer",
				Help:  "how many tracking connections to kill: all, or the N newest (highest client id) at the first kill, then only reconnections",
				Check: checkConnections},
		},
		Needs: func(p Params) Needs {
			if p["mode"] == "half-open" {
				return NeedsAdminRedis | NeedsRedisProxy
			}
			return NeedsAdminRedis
		},
		New: newRedisTrackingKill,
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
// mode=half-open is the failure in which the client does not learn of the
// kill: a holdCloseToxic on the Redis proxy keeps the client's end of a
// killed connection open and silent. Redis has forgotten the connection's
// tracking, so no invalidation reaches the process, while the client
// serves its local entries as if nothing happened: until their local TTL,
// or until the client notices the dead connection (rueidis: a command on
// it times out after ConnWriteTimeout, or its keepalive PING does, sent
// after Dialer.KeepAlive without traffic). Heal removes the toxic, which
// closes the held connections.
//
// connections=N kills only the N newest tracking connections (the highest
// client ids: the instances are built in order, so the last instance's
// first, which with fewer writers than instances runs readers only) and,
// through the window, only connections that were not tracking at the
// first kill (their reconnections): one application server losing its
// invalidations while the others go on writing.
//
// Inject returns once the first victims are gone from CLIENT LIST; with
// every > 0 a loop kills the reconnected ones until Heal. Nothing to kill
// is not an error (the strategy keeps no tracking connection): the run
// record's fault window still shows the window, and the debug log the
// count.
type redisTrackingKill struct {
	admin redis.UniversalClient
	every time.Duration
	proxy *Proxy // mode half-open; nil otherwise
	toxic Toxic
	limit int // connections: 0 for all
	log   func(msg string, args ...any)

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	spared map[string]bool // tracking at the first kill and not a victim
	killed int
}

// checkConnections accepts "all" or a positive integer.
func checkConnections(v string) error {
	if v == "all" {
		return nil
	}
	if n, err := strconv.Atoi(v); err != nil || n <= 0 {
		return errors.New("not allowed")
	}
	return nil
}

func newRedisTrackingKill(_ context.Context, env Env, p Params) (fault.Fault, error) {
	if env.Admin == nil {
		return nil, errors.New("no direct Redis client: the kind must declare NeedsAdminRedis")
	}
	f := &redisTrackingKill{admin: env.Admin, every: p.Duration("every"), log: func(string, ...any) {}}
	if p["connections"] != "all" {
		f.limit, _ = strconv.Atoi(p["connections"])
	}
	if p["mode"] == "half-open" {
		px, err := proxyOf(env.RedisProxy, "redis")
		if err != nil {
			return nil, err
		}
		f.proxy, f.toxic = px, holdCloseToxicFor(env.Step)
	}
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

// kill kills the tracking connections and returns their ids. The first
// call picks the victims (connections=N: the N highest ids) and spares
// the rest for the whole window.
func (f *redisTrackingKill) kill(ctx context.Context) ([]string, error) {
	all, err := trackingIDs(ctx, f.admin)
	if err != nil {
		return nil, err
	}
	if f.spared == nil {
		f.spared = map[string]bool{}
		if f.limit > 0 && len(all) > f.limit {
			slices.SortFunc(all, func(a, b string) int {
				x, _ := strconv.ParseInt(a, 10, 64)
				y, _ := strconv.ParseInt(b, 10, 64)
				return cmp.Compare(y, x) // newest first
			})
			for _, id := range all[f.limit:] {
				f.spared[id] = true
			}
		}
	}
	var ids []string
	for _, id := range all {
		if !f.spared[id] {
			ids = append(ids, id)
		}
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
	if f.proxy != nil && !f.proxy.HasToxic(f.toxic.Name) {
		// On every connection before the kill, so that no close gets through.
		if err := f.proxy.AddToxic(f.toxic); err != nil {
			return err
		}
	}
	f.spared = nil
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

// Heal stops the kill loop and waits until it has exited; in mode
// half-open it then removes the toxic, which closes the connections it
// held. The clients reconnect by themselves.
func (f *redisTrackingKill) Heal(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel != nil {
		f.cancel()
		if f.done != nil {
			select {
			case <-f.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		f.cancel, f.done = nil, nil
	}
	if f.proxy != nil {
		return f.proxy.RemoveToxic(ctx, f.toxic.Name)
	}
	return nil
}
