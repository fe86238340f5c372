package faults

import (
	"context"
	"github.com/ghostbench/ghostbench/fault"
)

func redisLatencyKind() Kind {
	return Kind{
		Name:        "redis-latency",
		Description: "every Redis reply delayed by latency +- jitter at the proxy",
		Params: []Param{
			msDurationParam("latency", "100ms", "delay added to every reply"),
			msDurationParam("jitter", "0", "the delay varies uniformly by up to this much either way"),
		},
		Needs: static(NeedsRedisProxy),
		New: func(_ context.Context, env Env, p Params) (fault.Fault, error) {
			px, err := proxyOf(env.RedisProxy, "redis")
			if err != nil {
				return nil, err
			}
			return &toxicFault{name: "redis-latency", proxy: px, answers: redisAnswersVia(env, px),
				toxics: []Toxic{latencyToxic(env.Step, p)}}, nil
		},
	}
}

// latencyToxic delays what the server sends (downstream), so every reply
// comes latency +- jitter late.
func latencyToxic(step int, p Params) Toxic {
	return Toxic{Name: toxicName(step, "latency"), Type: "latency", Stream: "downstream",
		Attributes: map[string]int64{"latency": p.Duration("latency").Milliseconds(), "jitter": p.Duration("jitter").Milliseconds()}}
}
