package strategies_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis/rueidisaside"

	gb "github.com/ghostbench/ghostbench"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/strategytest"
)

// TestConformanceCluster runs the conformance suite for every built-in
// strategy on a Redis Cluster of three masters: keys spread over the
// slots, so multi-key commands and scripts must keep to one slot, and the
// client-side caching strategies (rueidis) track keys on every node. Once
// every strategy is closed, no key is left outside the suite's prefixes
// on any master (rueidis-aside's client marker, the one key it writes
// outside them, goes with its client).
func TestConformanceCluster(t *testing.T) {
	srv := servertest.StartTopology(t, docker.TopologyRedisCluster)
	for _, info := range strategies.Default().All() {
		t.Run(info.Name, func(t *testing.T) { strategytest.Run(t, info, srv) })
	}
	noKeysOutside(t, srv, "gbconf:")
}

// TestConformanceSentinel runs the conformance suite for the strategies
// that build their own Redis client (rueidis) on redis-replica, where
// they must find the primary through the Sentinels as go-redis does.
func TestConformanceSentinel(t *testing.T) {
	srv := servertest.StartTopology(t, docker.TopologyRedisReplica)
	for _, name := range []string{"rueidis-csc", "rueidis-aside"} {
		info, ok := strategies.Default().Lookup(name)
		if !ok {
			t.Fatalf("no strategy %s", name)
		}
		t.Run(name, func(t *testing.T) { strategytest.Run(t, info, srv) })
	}
	noKeysOutside(t, srv, "gbconf:")
}

// TestClientSideCachingCluster: on a Redis Cluster rueidis keeps local
// copies of keys in every master's slots, and every master's invalidation
// reaches them. Instance 1 caches 16 keys spread over the masters;
// instance 0 writes each; once drained, instance 1 holds none of the old
// copies and reads every new row.
func TestClientSideCachingCluster(t *testing.T) {
	srv := servertest.StartTopology(t, docker.TopologyRedisCluster)
	const keys = 16
	for _, name := range []string{"rueidis-csc", "rueidis-aside"} {
		t.Run(name, func(t *testing.T) {
			sc := &scenarios.Scenario{Name: "scripted", Keys: keys, Readers: 1, Duration: scenarios.Duration(time.Minute),
				TTL: scenarios.Duration(time.Minute), Seed: 1, Instances: 2}
			sc.Defaults()
			octx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			s, err := runner.Open(octx, runner.Config{Scenario: sc, Strategy: name, Servers: srv})
			cancel()
			if err != nil {
				t.Fatalf("open session: %v", err)
			}
			ctx := tctx(t)
			r1 := gb.Actor{Kind: "reader", ID: 1, Instance: 1}
			w0 := gb.Actor{Kind: "writer", ID: 10, Instance: 0}
			// The first read fills Redis, the second (after the fill's
			// own invalidation) keeps the entry in instance 1's memory.
			for range 2 {
				for k := gb.Key(0); k < keys; k++ {
					if op := s.Read(ctx, r1, k); op.Err != nil {
						t.Fatalf("read %d: %v", k, op.Err)
					}
				}
				drain(t, s)
			}
			for k := gb.Key(0); k < keys; k++ {
				if v, _, ok := s.PeekLocal(1, k); !ok || v.Version != 0 {
					t.Fatalf("instance 1's local copy of key %d = %v, %v; want v0 held after two reads", k, v, ok)
				}
			}
			if n := mastersHolding(t, srv, "*row:*"); n < 2 {
				t.Fatalf("the %d keys are on %d master(s), want them spread over at least 2", keys, n)
			}
			for k := gb.Key(0); k < keys; k++ {
				if op := s.Write(ctx, w0, k, gb.Token(500+k), 1); op.Err != nil {
					t.Fatalf("write %d: %v", k, op.Err)
				}
			}
			drain(t, s)
			for k := gb.Key(0); k < keys; k++ {
				if v, _, ok := s.PeekLocal(1, k); ok {
					t.Errorf("after the writes and a drain instance 1 still holds key %d = %v locally: its master's invalidation did not reach it", k, v)
				}
				if op := s.Read(ctx, r1, k); op.Err != nil || op.Value.Version != 1 {
					t.Errorf("read %d after the write = %v, %v; want version 1", k, op.Value, op.Err)
				}
			}
			if m := closeSession(t, s); m.Warnings != 0 {
				t.Errorf("%d warnings on a healthy cluster, want none", m.Warnings)
			}
		})
	}
}

// mastersHolding returns how many masters of srv's cluster hold a key
// matching pattern.
func mastersHolding(t *testing.T, srv *docker.Servers, pattern string) int {
	t.Helper()
	rdb := srv.RedisClient(docker.DefaultClientConfig())
	defer rdb.Close()
	cl, ok := rdb.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("client %T, want a cluster client", rdb)
	}
	var n atomic.Int32
	err := cl.ForEachMaster(tctx(t), func(ctx context.Context, c *redis.Client) error {
		keys, _, err := c.Scan(ctx, 0, pattern, 1000).Result()
		if len(keys) > 0 {
			n.Add(1)
		}
		return err
	})
	if err != nil {
		t.Fatalf("scan masters: %v", err)
	}
	return int(n.Load())
}

// noKeysOutside fails t if any master of srv holds a key not under prefix,
// but for rueidisaside's client markers with their TTL: the library keeps
// one per client under its own constant prefix (rueidisaside.
// PlaceholderPrefix) and deletes it on Close, but concurrent first fills
// may each create one and keep only the first, the others expiring after
// the marker TTL (10 s).
func noKeysOutside(t *testing.T, srv *docker.Servers, prefix string) {
	t.Helper()
	rdb := srv.RedisClient(docker.DefaultClientConfig())
	defer rdb.Close()
	c := tctx(t)
	keys, err := docker.ScanKeys(c, rdb, "*")
	if err != nil {
		t.Fatalf("scan keys: %v", err)
	}
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			continue
		}
		if strings.HasPrefix(k, rueidisaside.PlaceholderPrefix) {
			pttl, err := rdb.PTTL(c, k).Result()
			if err != nil {
				t.Fatalf("PTTL %s: %v", k, err)
			}
			if pttl > 0 && pttl <= 10*time.Second {
				continue
			}
			t.Errorf("rueidisaside marker %q has TTL %v, want in (0, 10s]", k, pttl)
			continue
		}
		t.Errorf("key %q left outside the prefix %q after every strategy closed", k, prefix)
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
