package faults

import (
	"context"
	"fmt"

	"github.com/ghostbench/ghostbench/fault"
)

func redisPauseKind() Kind {
	return Kind{
		Name:        "redis-pause",
		Description: "Redis frozen (SIGSTOP or container pause): connections stay open, commands hang until client timeouts",
		Needs:       static(NeedsRedisControl),
		Exclusive:   exclusiveRedis,
		WholeServer: "redis",
		New:         newRedisPause,
	}
}

// redisPause freezes the Redis process with Control.Pause. The kernel still
// accepts connections on its port, so clients connect and then time out,
// as with a server stuck in a long command or a stalled VM. Heal resumes
// it and waits for PING.
type redisPause struct{ env Env }

func newRedisPause(_ context.Context, env Env, _ Params) (fault.Fault, error) {
	if env.Real.Redis.Control == nil {
		return nil, fmt.Errorf("the Redis server has no Control (not started by the harness)")
	}
	return &redisPause{env: env}, nil
}

func (f *redisPause) Name() string { return "redis-pause" }

// Inject sends the stop signal (pauses the container); the server is
// frozen once the kernel delivers it, which Pause does not wait for.
func (f *redisPause) Inject(ctx context.Context) error {
	return f.env.Real.Redis.Control.Pause(ctx)
}

// Heal resumes Redis (resuming a running server does nothing) and waits
// for PING at the server, the proxy and the run's client.
func (f *redisPause) Heal(ctx context.Context) error {
	if err := startServer(ctx, "Redis", f.env.Real.Redis.Control.Resume); err != nil {
		return err
	}
	return f.env.redisBack(ctx, f.env.Real.Redis.Addr, proxyAddr(f.env.RedisProxy))
}
