package strategies

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/store"
)

// Parameters every cache strategy takes for the topologies beyond one
// server each (DESIGN section 9). withTopologyParams declares them.
const (
	// ParamFillFrom is where a miss reads the row it fills the cache
	// with: primary (default) or replica (Env.Replica, the pg-replica
	// topology's standby, which may lag).
	ParamFillFrom = "fill-from"
	// ParamWait is the number of Redis replicas a strategy's DEL or SET
	// (not a miss's fill) must reach: the command is followed by WAIT N
	// on the same connection. 0 (default) sends no WAIT.
	ParamWait = "wait"
	// ParamWaitTimeout bounds that WAIT.
	ParamWaitTimeout = "wait-timeout"
)

// withTopologyParams returns info with the topology parameters declared:
// fill-from for every strategy that fills the cache, wait and
// wait-timeout for those that do not already use the name wait for
// something else (leases waits for a lease holder).
func withTopologyParams(info Info) Info {
	if info.Name == "db-only" {
		return info
	}
	has := func(n string) bool {
		for _, p := range info.Params {
			if p.Name == n {
				return true
			}
		}
		return false
	}
	ps := append([]Param(nil), info.Params...)
	if !has(ParamFillFrom) {
		ps = append(ps, Param{Name: ParamFillFrom, Default: "primary",
			Help: "where a miss reads the row it fills: primary, or replica (topology pg-replica; the replica may lag)", Check: OneOfParam("primary", "replica")})
	}
	if !has(ParamWait) && !has(ParamWaitTimeout) {
		ps = append(ps,
			Param{Name: ParamWait, Default: "0", Help: "WAIT for this many Redis replicas after the strategy's DEL or SET (0: no WAIT)", Check: IntParam(0, 16)},
			Param{Name: ParamWaitTimeout, Default: "100ms", Help: "bound of that WAIT; fewer replicas in time is a cache error", Check: DurationParam(time.Millisecond)})
	}
	info.Params = ps
	return info
}

// checkTopologyParams validates the topology parameters info declares
// (see withTopologyParams) against what env provides.
func checkTopologyParams(info Info, env *Env) error {
	declared := func(name string) bool {
		for _, p := range info.Params {
			if p.Name == name {
				return true
			}
		}
		return false
	}
	switch v := env.Params[ParamFillFrom]; v {
	case "", "primary":
	case "replica":
		if env.Replica == nil {
			return fmt.Errorf("parameter %s = %q: needs a PostgreSQL read replica (run with -topology pg-replica)", ParamFillFrom, v)
		}
	default:
		return fmt.Errorf("parameter %s = %q: want primary or replica", ParamFillFrom, v)
	}
	if !declared(ParamWaitTimeout) {
		return nil // wait, if declared, is the strategy's own
	}
	if _, err := waitReplicas(env.Params); err != nil {
		return err
	}
	if d, err := env.Params.Duration(ParamWaitTimeout, 100*time.Millisecond); err != nil || (env.Params[ParamWaitTimeout] != "" && d <= 0) {
		return fmt.Errorf("parameter %s = %q: want a positive duration such as 100ms", ParamWaitTimeout, env.Params[ParamWaitTimeout])
	}
	return nil
}

// waitReplicas returns the wait parameter.
func waitReplicas(p Params) (int, error) {
	s, ok := p[ParamWait]
	if !ok || s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 16 {
		return 0, fmt.Errorf("parameter %s = %q: want a number of replicas from 0 to 16", ParamWait, s)
	}
	return n, nil
}

// fillSource returns the store a miss reads the row to fill from.
func (e *Env) fillSource() *store.Store {
	if e.Replica != nil && e.Params[ParamFillFrom] == "replica" {
		return e.Replica
	}
	return e.Store
}

// waitSettings reads the WAIT parameters into c; a wait parameter that is
// not a number of replicas is a strategy's own (leases) and sends no WAIT.
func (c *Cache) waitSettings(p Params) {
	c.waitN, _ = waitReplicas(p)
	c.waitTimeout, _ = p.Duration(ParamWaitTimeout, 100*time.Millisecond)
	if c.waitTimeout <= 0 {
		c.waitTimeout = 100 * time.Millisecond
	}
}

// ErrNotReplicated is wrapped by the error of a DEL or SET whose WAIT saw
// fewer replicas than the wait parameter asked for within wait-timeout:
// the primary applied it, but a failover may still lose it.
var ErrNotReplicated = fmt.Errorf("fewer replicas acknowledged than asked")

// withWait runs op (a command on key) and, when the wait parameter is set,
// WAIT right after it on the same connection: on a cluster, the
// connection to the master of key's slot.
func (c *Cache) withWait(ctx context.Context, key string, op func(p redis.Cmdable) redis.Cmder) error {
	if c.waitN == 0 {
		return op(c.rdb).Err()
	}
	var target redis.Cmdable = c.rdb
	if cl, ok := c.rdb.(*redis.ClusterClient); ok {
		node, err := cl.MasterForKey(ctx, key)
		if err != nil {
			return err
		}
		target = node
	}
	var cmd redis.Cmder
	var w *redis.IntCmd
	_, err := target.Pipelined(ctx, func(p redis.Pipeliner) error {
		cmd = op(p)
		w = redis.NewIntCmd(ctx, "wait", c.waitN, c.waitTimeout.Milliseconds())
		return p.Process(ctx, w)
	})
	if cmd != nil && cmd.Err() != nil {
		return cmd.Err()
	}
	if err != nil {
		return fmt.Errorf("WAIT %d %v: %w", c.waitN, c.waitTimeout, err)
	}
	if n := w.Val(); n < int64(c.waitN) {
		return fmt.Errorf("WAIT %d %v: %d acknowledged: %w", c.waitN, c.waitTimeout, n, ErrNotReplicated)
	}
	return nil
}

// fill writes v as the entry of k with the TTL, for a miss: without WAIT
// (the wait parameter is about the write path's DEL or SET).
func (c *Cache) fill(ctx context.Context, k gb.Key, v gb.Value) error {
	if err := c.rdb.Set(ctx, c.Key(k), v.MarshalCache(), c.ttl).Err(); err != nil {
		return gb.Redis(fmt.Errorf("SET key %d: %w", k, err))
	}
	return nil
}
