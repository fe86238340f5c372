package faults

import (
	"context"
	"fmt"

	"github.com/ghostbench/ghostbench/fault"
)

func redisRestartKind() Kind {
	return Kind{
		Name:        "redis-restart",
		Description: "Redis crashes (SIGKILL) and, at heal, restarts empty: every cached key lost; keep For short for a supervisor restart",
		Needs:       static(NeedsRedisControl),
		Exclusive:   exclusiveRedis,
		New:         newRedisRestart,
	}
}

// redisRestart is Control.Restart split at its seam: Inject kills the
// server (no graceful shutdown, nothing saved), Heal starts it, empty. The
// recorded window is therefore the real downtime, and For chooses how long
// the crashed server stays down.
type redisRestart struct{ env Env }

func newRedisRestart(_ context.Context, env Env, _ Params) (fault.Fault, error) {
	if env.Real.Redis.Control == nil {
		return nil, fmt.Errorf("the Redis server has no Control (not started by the harness)")
	}
	return &redisRestart{env: env}, nil
}

func (f *redisRestart) Name() string { return "redis-restart" }

// Inject kills Redis and returns once nothing accepts connections.
func (f *redisRestart) Inject(ctx context.Context) error {
	if err := f.env.Real.Redis.Control.Kill(ctx); err != nil {
		return err
	}
	return refused(ctx, f.env.Real.Redis.Addr)
}

// Heal starts Redis and waits for PING at the server, the proxy and the
// run's client.
func (f *redisRestart) Heal(ctx context.Context) error {
	if err := startServer(ctx, "Redis", f.env.Real.Redis.Control.Start); err != nil {
		return err
	}
	return f.env.redisBack(ctx, f.env.Real.Redis.Addr, proxyAddr(f.env.RedisProxy))
}
