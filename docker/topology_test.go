package docker

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// provisionTopology provisions the local topology for t and closes it at
// the end of t.
func provisionTopology(t *testing.T, topology string) *Servers {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	s, err := Provision(ctx, Config{Provider: ProviderLocal, Topology: topology, Logf: t.Logf})
	if err != nil {
		t.Fatalf("Provision(local, %s): %v", topology, err)
	}
	t.Logf("topology %s ready in %v", topology, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() { s.Close() })
	return s
}

// TestLocalTopologies starts each topology, checks that its servers work
// together (the standby replays the primary's commits, Sentinel clients
// reach the primary, a cluster client spreads keys over the masters), and
// that Close leaves no process, directory or shared memory segment.
func TestLocalTopologies(t *testing.T) {
	for _, tc := range []struct {
		topology string
		procs    int
		check    func(t *testing.T, s *Servers)
	}{
		{TopologyPGReplica, 3, checkPGReplica},
		{TopologyRedisReplica, 6, checkRedisReplica},
		{TopologyRedisCluster, 7, checkRedisCluster},
	} {
		t.Run(tc.topology, func(t *testing.T) {
			s := provisionTopology(t, tc.topology)
			if got := s.TopologyName(); got != tc.topology {
				t.Errorf("TopologyName = %q, want %q", got, tc.topology)
			}
			fp := s.Footprint()
			if len(fp.PIDs) != tc.procs || len(fp.Dirs) != 1 {
				t.Fatalf("footprint = %+v, want %d processes and 1 directory", fp, tc.procs)
			}
			tc.check(t, s)
			var shmKeys []int64
			if tc.topology == TopologyPGReplica {
				for _, d := range []string{"pgdata", "pgreplica"} {
					shmKeys = append(shmKeys, shmKeyOf(t, filepath.Join(fp.Dirs[0], d)))
				}
				// A killed standby leaves its segment for Close to remove.
				if err := s.Topology.PostgresReplica.Control.Kill(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			assertGone(t, fp)
			for _, k := range shmKeys {
				if segs := shmSegmentsWithKey(t, k); len(segs) > 0 {
					t.Errorf("shared memory segments %v left behind", segs)
				}
			}
			if got := s.Footprint(); len(got.PIDs)+len(got.Dirs) > 0 {
				t.Errorf("footprint after Close = %+v, want empty", got)
			}
		})
	}
	assertNoLeftovers(t)
}

func checkPGReplica(t *testing.T, s *Servers) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := s.Topology.PostgresReplica
	if r == nil || r.Version == "" || s.Topology.PostgresLink == nil {
		t.Fatalf("topology = %+v, want a described replica and its relay", s.Topology)
	}
	primary, err := pgx.Connect(ctx, s.Postgres.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close(ctx)
	replica, err := pgx.Connect(ctx, r.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close(ctx)
	var inRecovery bool
	if err := replica.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery {
		t.Fatalf("replica pg_is_in_recovery = %v, %v; want true", inRecovery, err)
	}
	if _, err := primary.Exec(ctx, "CREATE TABLE topo_check (v int); INSERT INTO topo_check VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() error {
		var v int
		return replica.QueryRow(ctx, "SELECT v FROM topo_check").Scan(&v)
	})
	// With the relay's delay the replica lags: a new row is not there
	// at once, and is once the delay has passed.
	s.Topology.PostgresLink.SetDelay(300 * time.Millisecond)
	if _, err := primary.Exec(ctx, "INSERT INTO topo_check VALUES (43)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := replica.QueryRow(ctx, "SELECT count(*) FROM topo_check").Scan(&n); err != nil || n != 1 {
		t.Errorf("replica right after the commit, link delayed: %d rows, %v; want 1", n, err)
	}
	s.Topology.PostgresLink.SetDelay(0)
	waitFor(t, 10*time.Second, func() error {
		var n int
		if err := replica.QueryRow(ctx, "SELECT count(*) FROM topo_check").Scan(&n); err != nil {
			return err
		}
		if n != 2 {
			return fmt.Errorf("%d rows", n)
		}
		return nil
	})
}

func checkRedisReplica(t *testing.T, s *Servers) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if len(s.Topology.Sentinels) != 3 || s.Topology.RedisReplica == nil || s.Topology.RedisLink == nil {
		t.Fatalf("topology = %+v, want 3 sentinels, a replica and its relay", s.Topology)
	}
	rc := s.RedisClient(DefaultClientConfig())
	defer rc.Close()
	if err := rc.Set(ctx, "topo", "1", 0).Err(); err != nil {
		t.Fatalf("SET through Sentinel: %v", err)
	}
	rep := adminRedis(s.Topology.RedisReplica.Addr)
	defer rep.Close()
	waitFor(t, 10*time.Second, func() error { return rep.Get(ctx, "topo").Err() })
	if role, _ := redisInfoField(ctx, s.Redis.Addr, "replication", "role"); role != "master" {
		t.Errorf("Servers.Redis role %q, want master", role)
	}
}

func checkRedisCluster(t *testing.T, s *Servers) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if len(s.Topology.RedisNodes) != clusterNodes || s.Topology.RedisNodes[0] != s.Redis {
		t.Fatalf("topology nodes = %v, want %d with Servers.Redis first", s.Topology.RedisNodes, clusterNodes)
	}
	rc := s.RedisClient(DefaultClientConfig())
	defer rc.Close()
	for i := range 30 {
		if err := rc.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET k%d on the cluster: %v", i, err)
		}
	}
	keys, err := ScanKeys(ctx, rc, "k*")
	if err != nil || len(keys) != 30 {
		t.Errorf("ScanKeys = %d keys, %v; want 30", len(keys), err)
	}
	// The keys landed on every master.
	for i := range clusterNodes / 2 {
		c := adminRedis(s.Topology.RedisNodes[i].Addr)
		n, err := c.DBSize(ctx).Result()
		c.Close()
		if err != nil || n == 0 {
			t.Errorf("master %d holds %d keys (%v), want some", i, n, err)
		}
	}
	if err := DeleteKeys(ctx, rc, keys); err != nil {
		t.Fatalf("DeleteKeys: %v", err)
	}
	if left, _ := ScanKeys(ctx, rc, "k*"); len(left) != 0 {
		t.Errorf("after DeleteKeys %d keys left", len(left))
	}
	info, err := rc.ClusterInfo(ctx).Result()
	if err != nil || !strings.Contains(info, "cluster_size:3") {
		t.Errorf("CLUSTER INFO: %v %q", err, info)
	}
}

// waitFor polls f until it returns nil, failing t after d.
func waitFor(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %v: %v", d, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestExternalTopologies points the external provider at local
// topologies through the topology URLs, and checks that a missing URL is
// an error naming the setting.
func TestExternalTopologies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, topo := range []string{TopologyPGReplica, TopologyRedisReplica, TopologyRedisCluster} {
		t.Run(topo, func(t *testing.T) {
			l := provisionTopology(t, topo)
			cfg := Config{Provider: ProviderExternal, Topology: topo, PostgresURL: l.Postgres.URL, RedisURL: l.Redis.URL}
			if _, err := Provision(ctx, cfg); err == nil || !strings.Contains(err.Error(), "is not set") {
				t.Errorf("external %s without its URL: %v, want an error saying what is not set", topo, err)
			}
			switch topo {
			case TopologyPGReplica:
				cfg.PostgresReplicaURL = l.Topology.PostgresReplica.URL
			case TopologyRedisReplica:
				cfg.RedisSentinelURL = fmt.Sprintf("redis://%s?master_name=%s&addr=%s", l.Topology.Sentinels[0].Addr, SentinelMaster, l.Topology.Sentinels[1].Addr)
			case TopologyRedisCluster:
				cfg.RedisURL = ""
				cfg.RedisClusterURL = fmt.Sprintf("redis://%s?addr=%s", l.Topology.RedisNodes[0].Addr, l.Topology.RedisNodes[1].Addr)
			}
			s, err := Provision(ctx, cfg)
			if err != nil {
				t.Fatalf("external %s: %v", topo, err)
			}
			defer s.Close()
			if s.TopologyName() != topo || s.Redis.Control != nil {
				t.Errorf("external %s: topology %q, Redis control %v", topo, s.TopologyName(), s.Redis.Control)
			}
			rc := s.RedisClient(DefaultClientConfig())
			defer rc.Close()
			for i := range 10 {
				if err := rc.Set(ctx, fmt.Sprintf("ext%d", i), i, 0).Err(); err != nil {
					t.Fatalf("SET through the external %s: %v", topo, err)
				}
			}
			if topo == TopologyPGReplica && s.Topology.PostgresReplica.Version == "" {
				t.Errorf("external replica not described: %+v", s.Topology.PostgresReplica)
			}
		})
	}
}
