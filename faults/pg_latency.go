package faults

import (
	"context"
	"github.com/ghostbench/ghostbench/fault"
)

func pgLatencyKind() Kind {
	return Kind{
		Name:        "pg-latency",
		Description: "every PostgreSQL reply delayed by latency +- jitter at the proxy",
		Params: []Param{
			msDurationParam("latency", "50ms", "delay added to every reply"),
			msDurationParam("jitter", "0", "the delay varies uniformly by up to this much either way"),
		},
		Needs: static(NeedsPostgresProxy),
		New: func(ctx context.Context, env Env, p Params) (fault.Fault, error) {
			px, err := proxyOf(env.PostgresProxy, "postgres")
			if err != nil {
				return nil, err
			}
			url, err := withHost(env.Real.Postgres.URL, px.Addr())
			if err != nil {
				return nil, err
			}
			// The heal confirmation runs on a session through the proxy
			// opened now, before any toxic and before the load.
			sess, err := openSession(ctx, url)
			if err != nil {
				return nil, err
			}
			return &toxicFault{name: "pg-latency", proxy: px, answers: sess.answers("PostgreSQL answers through the proxy"),
				closer: sess, toxics: []Toxic{latencyToxic(env.Step, p)}}, nil
		},
	}
}
