package faults

import (
	"context"
	"fmt"

	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/internal/wait"
)

// exclusiveRedis is the resource of the faults that take over the Redis
// server (its process or its configuration).
const exclusiveRedis = "the Redis server"

func redisDownKind() Kind {
	return Kind{
		Name:        "redis-down",
		Description: "Redis stopped (graceful stop; or its proxy disabled with via=proxy); heal starts it, empty, and waits for PING",
		Params: []Param{{
			Name: "via", Default: "process", Allowed: "process or proxy",
			Help:  "process: stop the server (harness-started servers only); proxy: close the proxy's listener and connections",
			Check: oneOf("process", "proxy"),
		}},
		Needs: func(p Params) Needs {
			if p["via"] == "proxy" {
				return NeedsRedisProxy
			}
			return NeedsRedisControl
		},
		Exclusive: exclusiveRedis,
		New:       newRedisDown,
	}
}

// redisDown stops Redis: Control.Stop, or the proxy disabled. Heal starts
// it again (Redis comes back empty: it keeps no data on disk here) and
// returns once PING answers at the server, through the proxy and through
// the run's own client.
type redisDown struct {
	env      Env
	viaProxy bool
}

func newRedisDown(_ context.Context, env Env, p Params) (fault.Fault, error) {
	f := &redisDown{env: env, viaProxy: p["via"] == "proxy"}
	if f.viaProxy {
		if _, err := proxyOf(env.RedisProxy, "redis"); err != nil {
			return nil, err
		}
	} else if env.Real.Redis.Control == nil {
		return nil, fmt.Errorf("the Redis server has no Control (not started by the harness)")
	}
	return f, nil
}

func (f *redisDown) Name() string { return "redis-down" }

// Inject returns once nothing accepts connections any more.
func (f *redisDown) Inject(ctx context.Context) error {
	if f.viaProxy {
		f.env.RedisProxy.Disable()
		return refused(ctx, f.env.RedisProxy.Addr())
	}
	if err := f.env.Real.Redis.Control.Stop(ctx); err != nil {
		return err
	}
	return refused(ctx, f.env.Real.Redis.Addr)
}

// Heal starts Redis (or the proxy) until it works, then waits for PING.
func (f *redisDown) Heal(ctx context.Context) error {
	if f.viaProxy {
		if err := poll(ctx, "the Redis proxy listens again", func(context.Context) error { return f.env.RedisProxy.Enable() }); err != nil {
			return err
		}
		return f.env.redisBack(ctx, f.env.RedisProxy.Addr())
	}
	if err := startServer(ctx, "Redis", f.env.Real.Redis.Control.Start); err != nil {
		return err
	}
	return f.env.redisBack(ctx, f.env.Real.Redis.Addr, proxyAddr(f.env.RedisProxy))
}

// startServer calls start (a Control.Start or Resume, which do nothing on
// a running server) until it succeeds or ctx ends.
func startServer(ctx context.Context, name string, start func(context.Context) error) error {
	var last error
	for {
		if last = start(ctx); last == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("start %s: %w", name, last)
		}
		if !wait.Sleep(ctx, 50*pollInterval) {
			return fmt.Errorf("start %s: %w", name, last)
		}
	}
}

// oneOf returns a check that accepts only the given values.
func oneOf(values ...string) func(string) error {
	return func(v string) error {
		if !contains(values, v) {
			return fmt.Errorf("not allowed")
		}
		return nil
	}
}
