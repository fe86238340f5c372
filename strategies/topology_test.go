package strategies_test

import (
	"strings"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/strategytest"
)

// TestConformanceCluster runs the conformance suite for every built-in
// strategy on a Redis Cluster of three masters: keys spread over the
// slots, so multi-key commands and scripts must keep to one slot.
func TestConformanceCluster(t *testing.T) {
	srv := servertest.StartTopology(t, docker.TopologyRedisCluster)
	// The client-side caching strategies use rueidis's single-server
	// client (CLIENT TRACKING over RESP3 on one connection); on a cluster
	// they refuse to build, with a message naming the client they need.
	singleServer := map[string]bool{"rueidis-csc": true, "rueidis-aside": true}
	for _, info := range strategies.Default().All() {
		if singleServer[info.Name] {
			t.Run(info.Name, func(t *testing.T) {
				_, err := strategies.Default().New(info.Name, strategies.Env{Redis: srv.RedisClient(docker.ClientConfig{}), TTL: time.Minute})
				if err == nil || !strings.Contains(err.Error(), "single-server") {
					t.Errorf("on a cluster: got %v, want a refusal naming the single-server client it needs", err)
				}
			})
			continue
		}
		t.Run(info.Name, func(t *testing.T) { strategytest.Run(t, info, srv) })
	}
}

func TestTopologyParams(t *testing.T) {
	r := strategies.Default()
	for _, tc := range []struct {
		strategy string
		params   strategies.Params
		want     string // in the error; "" for none
	}{
		{"cache-aside", strategies.Params{"fill-from": "replica"}, "needs a PostgreSQL read replica"},
		{"cache-aside", strategies.Params{"fill-from": "standby"}, `fill-from = "standby": want primary or replica`},
		{"cache-aside", strategies.Params{"wait": "x"}, `wait = "x": want an integer from 0 to 16`},
		{"cache-aside", strategies.Params{"wait": "1", "wait-timeout": "0"}, `wait-timeout = "0"`},
		{"db-only", strategies.Params{"fill-from": "primary"}, `unknown parameter "fill-from"`},
		{"leases", strategies.Params{"wait-timeout": "1s"}, `unknown parameter "wait-timeout"`},
	} {
		_, err := r.New(tc.strategy, strategies.Env{Params: tc.params})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want one containing %q", tc.strategy, tc.params, err, tc.want)
		}
	}
}

// TestWaitParam: with wait=1 a write's DEL is followed by WAIT 1, which
// a lone Redis cannot satisfy (a warning per write) and a primary with a
// replica does.
func TestWaitParam(t *testing.T) {
	for _, tc := range []struct {
		topology string
		warns    bool
	}{{docker.TopologySingle, true}, {docker.TopologyRedisReplica, false}} {
		t.Run(tc.topology, func(t *testing.T) {
			srv := servertest.StartTopology(t, tc.topology)
			s := session(t, srv, "cache-aside", strategies.Params{"wait": "1", "wait-timeout": "200ms"}, time.Minute)
			for i := range 3 {
				if op := s.Write(tctx(t), gb.Actor{Kind: "writer"}, 1, gb.Token(100+i), 1); op.Err != nil {
					t.Fatalf("write: %v", op.Err)
				}
			}
			m := closeSession(t, s)
			if got := m.Warnings > 0; got != tc.warns {
				t.Errorf("%d warnings after 3 writes with wait=1, want warnings: %v", m.Warnings, tc.warns)
			}
		})
	}
}
