package faults

import (
	"context"
	"github.com/ghostbench/ghostbench/fault"
)

func redisPartitionKind() Kind {
	return Kind{
		Name:        "redis-partition",
		Description: "nothing passes between the harness and Redis in either direction, and nothing is reset: clients time out",
		Needs:       static(NeedsRedisProxy),
		New: func(_ context.Context, env Env, _ Params) (fault.Fault, error) {
			px, err := proxyOf(env.RedisProxy, "redis")
			if err != nil {
				return nil, err
			}
			return &toxicFault{name: "redis-partition", proxy: px, answers: redisAnswersVia(env, px),
				toxics: []Toxic{dropToxic(env.Step, "upstream"), dropToxic(env.Step, "downstream")}}, nil
		},
	}
}
