package faults

import (
	"context"
	"github.com/ghostbench/ghostbench/fault"
)

// redisLostRepliesKind drops everything Redis sends (a Toxiproxy timeout
// toxic with timeout 0, downstream only): every command that reaches Redis
// is applied, its reply never arrives, and the client times out after its
// ReadTimeout.
//
// With go-redis that holds for one command per connection already open
// when the fault starts (measured: 1 of 10 sequential DELs applied). A
// timeout makes go-redis close the connection, and every new connection
// begins with a HELLO whose reply is lost too, so the commands meant for
// it never leave the client. After the first wave of timeouts, lost
// replies look to the harness like a partition: this is the client's
// behaviour, not the proxy's, and it is why cache-aside's DELs are lost
// (keys stale until TTL) while write-through's in-transaction SETs of the
// first wave are applied (ghost values).
func redisLostRepliesKind() Kind {
	return Kind{
		Name:        "redis-lost-replies",
		Description: "Redis applies every command but its replies never arrive: clients time out after a write took effect",
		Needs:       static(NeedsRedisProxy),
		New: func(_ context.Context, env Env, _ Params) (fault.Fault, error) {
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
