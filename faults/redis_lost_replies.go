package faults

import (
	"context"
	"github.com/ghostbench/ghostbench/runner"
)

func redisLostRepliesKind() Kind {
	return Kind{
		Name:        "redis-lost-replies",
		Description: "Redis applies every command but its replies never arrive: clients time out after a write took effect",
		Needs:       static(NeedsRedisProxy),
		New: func(_ context.Context, env Env, _ Params) (runner.Fault, error) {
			px, err := proxyOf(env.RedisProxy, "redis")
			if err != nil {
				return nil, err
			}
			return &toxicFault{name: "redis-lost-replies", proxy: px, answers: redisAnswersVia(env, px),
				toxics: []Toxic{dropToxic(env.Step, "downstream")}}, nil
		},
	}
}

// dropToxic drops every byte in one direction without closing anything (a
// Toxiproxy timeout toxic with timeout 0). Removing it closes the
// connections it was on: their byte streams lost data.
func dropToxic(step int, stream string) Toxic {
	return Toxic{Name: toxicName(step, "drop-"+stream), Type: "timeout", Stream: stream,
		Attributes: map[string]int64{"timeout": 0}}
}
