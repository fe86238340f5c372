package docker

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// clusterNodes is the number of nodes of the local Redis Cluster: three
// masters and one replica each.
const clusterNodes = 6

// clusterArgs are the settings of a local cluster node: a short node
// timeout so that a failover fits in a run, and replicas that may take
// over whatever their replication lag (the harness measures what that
// loses).
var clusterArgs = append([]string{
	"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
	"--cluster-node-timeout", strconv.Itoa(ClusterNodeTimeout),
	"--cluster-replica-validity-factor", "0",
}, replicationArgs...)

// startCluster starts the nodes and makes them a cluster of three masters
// with one replica each.
func (p *localPair) startCluster(ctx context.Context, cfg *Config, bins *localBinaries) error {
	nodes := make([]*localServer, clusterNodes)
	errs := make([]error, clusterNodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i], errs[i] = startLocalRedisNode(ctx, cfg, bins, p.dir, fmt.Sprintf("redis-node-%d", i), clusterArgs, nil)
		}()
	}
	wg.Wait()
	for i, n := range nodes {
		if n == nil {
			continue
		}
		if i == 0 {
			p.redis = n
		} else {
			p.addExtra(n)
		}
		p.topo.RedisNodes = append(p.topo.RedisNodes, &Server{Name: n.name, Addr: fmt.Sprintf("127.0.0.1:%d", n.port),
			URL: fmt.Sprintf("redis://127.0.0.1:%d/0", n.port), Control: n})
	}
	if err := joinErrors(errs...); err != nil {
		return err
	}
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", n.port)
	}
	if err := createCluster(ctx, addrs); err != nil {
		return fmt.Errorf("create redis cluster: %w", err)
	}
	return nil
}

// createCluster makes fresh nodes at addrs a cluster: the first half
// masters sharing the 16384 slots evenly, the second half their replicas
// in the same order. It returns once every node agrees on the whole
// layout, the cluster is ok and every replica has synchronised.
func createCluster(ctx context.Context, addrs []string) error {
	n := len(addrs)
	masters := n / 2
	cs := make([]*redis.Client, n)
	for i, a := range addrs {
		cs[i] = adminRedis(a)
		defer cs[i].Close()
	}
	ids := make([]string, n)
	for i, c := range cs {
		id, err := c.ClusterMyID(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: CLUSTER MYID: %w", addrs[i], err)
		}
		ids[i] = id
		// Distinct epochs from the start, as redis-cli --cluster create
		// does, so that no epoch collision has to be resolved first.
		if err := c.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER SET-CONFIG-EPOCH: %w", addrs[i], err)
		}
	}
	for i := range masters {
		lo, hi := i*16384/masters, (i+1)*16384/masters-1
		if err := cs[i].Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER ADDSLOTSRANGE %d %d: %w", addrs[i], lo, hi, err)
		}
	}
	for i := 1; i < n; i++ {
		host, port, _ := net.SplitHostPort(addrs[i])
		if err := cs[0].ClusterMeet(ctx, host, port).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER MEET %s: %w", addrs[0], addrs[i], err)
		}
	}
	known := func(ctx context.Context) error {
		for i, c := range cs {
			nodes, err := c.ClusterNodes(ctx).Result()
			if err != nil {
				return err
			}
			lines := strings.Split(strings.TrimSpace(nodes), "\n")
			if len(lines) != n || strings.Contains(nodes, "handshake") || strings.Contains(nodes, "noaddr") {
				return fmt.Errorf("%s knows %d of %d nodes", addrs[i], len(lines), n)
			}
		}
		return nil
	}
	if err := waitReady(ctx, localReadyTimeout, known, nil); err != nil {
		return fmt.Errorf("nodes meeting: %w", err)
	}
	for j := masters; j < n; j++ {
		if err := cs[j].ClusterReplicate(ctx, ids[j-masters]).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER REPLICATE %s: %w", addrs[j], ids[j-masters], err)
		}
	}
	settled := func(ctx context.Context) error {
		for i, c := range cs {
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if st := infoField(info, "cluster_state"); st != "ok" {
				return fmt.Errorf("%s: cluster_state %s", addrs[i], st)
			}
			nodes, err := c.ClusterNodes(ctx).Result()
			if err != nil {
				return err
			}
			if got := strings.Count(nodes, "slave"); got != n-masters {
				return fmt.Errorf("%s sees %d replicas of %d", addrs[i], got, n-masters)
			}
			if i >= masters {
				if err := replicaLinked(ctx, addrs[i]); err != nil {
					return fmt.Errorf("%s: %w", addrs[i], err)
				}
			}
		}
		return nil
	}
	if err := waitReady(ctx, localReadyTimeout, settled, nil); err != nil {
		return fmt.Errorf("cluster settling: %w", err)
	}
	return nil
}
