package docker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// addExtra records a server of the topology for teardown and footprint.
func (p *localPair) addExtra(s *localServer) {
	p.mu.Lock()
	p.extra = append(p.extra, s)
	p.mu.Unlock()
}

func (p *localPair) addRelay(r *Relay) {
	p.mu.Lock()
	p.relays = append(p.relays, r)
	p.mu.Unlock()
}

// servers returns every server process of the pair and its topology.
func (p *localPair) servers() []*localServer {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []*localServer{}
	for _, s := range append([]*localServer{p.postgres, p.redis}, p.extra...) {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// closeRelays stops the replication relays.
func (p *localPair) closeRelays() {
	p.mu.Lock()
	rs := p.relays
	p.relays = nil
	p.mu.Unlock()
	for _, r := range rs {
		r.Close()
	}
}

// startRedisTopology starts Redis as the topology says and sets p.redis
// to the server Servers.Redis stands for.
func (p *localPair) startRedisTopology(ctx context.Context, cfg *Config, bins *localBinaries) error {
	var err error
	switch cfg.Topology {
	case TopologyRedisReplica:
		return p.startRedisReplica(ctx, cfg, bins)
	case TopologyRedisCluster:
		return p.startCluster(ctx, cfg, bins)
	default:
		p.redis, err = startLocalRedis(ctx, cfg, bins, p.dir)
		return err
	}
}

// replicationArgs make an initial or full resynchronisation start at
// once: Redis 7 waits 5 s for more replicas before a diskless sync by
// default.
var replicationArgs = []string{"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}

// startLocalRedisNode starts one redis-server of a topology named name,
// working in dir/name, logging to dir/name.log, with extra arguments.
// ready, when set, replaces the PING readiness check.
func startLocalRedisNode(ctx context.Context, cfg *Config, bins *localBinaries, dir, name string, extra []string, ready func(ctx context.Context, addr string) error) (*localServer, error) {
	rdir := filepath.Join(dir, name)
	if err := os.Mkdir(rdir, 0o700); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	logPath := filepath.Join(dir, name+".log")
	maxPort := 65535
	if slices.Contains(extra, "--cluster-enabled") {
		maxPort = 65535 - 10000 // the cluster bus listens on port+10000
	}
	return startWithPortRetryBelow(ctx, maxPort, func(port int) *localServer {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		return &localServer{
			name:    name,
			port:    port,
			logPath: logPath,
			spec: procSpec{
				path: bins.redisServer, args: append(redisArgs(rdir, port, cfg.Redis), extra...),
				dir: rdir, logPath: logPath,
			},
			stopSignal: syscall.SIGTERM,
			ready: func(ctx context.Context) error {
				if err := PingRedis(ctx, addr); err != nil {
					return err
				}
				if ready != nil {
					return ready(ctx, addr)
				}
				return nil
			},
			// No persistence: a restarted node starts empty. A cluster
			// node keeps nodes.conf, its identity in the cluster.
			prepare: func() error {
				for _, f := range []string{"dump.rdb", "appendonly.aof", "appendonlydir"} {
					if err := os.RemoveAll(filepath.Join(rdir, f)); err != nil {
						return err
					}
				}
				return nil
			},
			logf: cfg.Logf,
		}
	})
}

// adminRedis is a short-lived client for the harness's own checks.
func adminRedis(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, Protocol: redisProtocol, DialTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, MaxRetries: -1, DialerRetries: 1, PoolSize: 2,
		ContextTimeoutEnabled: true, DisableIdentity: true,
	})
}

// redisInfoField returns one field of INFO section on addr.
func redisInfoField(ctx context.Context, addr, section, field string) (string, error) {
	c := adminRedis(addr)
	defer c.Close()
	info, err := c.Info(ctx, section).Result()
	if err != nil {
		return "", err
	}
	return infoField(info, field), nil
}

// replicaLinked is a readiness check: the replica's link to its primary
// is up (initial sync done).
func replicaLinked(ctx context.Context, addr string) error {
	v, err := redisInfoField(ctx, addr, "replication", "master_link_status")
	if err != nil {
		return err
	}
	if v != "up" {
		return fmt.Errorf("master_link_status %q", v)
	}
	return nil
}

// describeTopology fills in the versions and settings of the topology's
// servers: the PostgreSQL replica is asked; the Redis servers run the
// same binary with the same settings as Servers.Redis.
func (s *Servers) describeTopology(ctx context.Context) error {
	t := &s.Topology
	if r := t.PostgresReplica; r != nil {
		v, set, err := describePostgres(ctx, r.URL)
		if err != nil {
			return fmt.Errorf("postgres replica at %s: %w", r.Redacted(), err)
		}
		r.Version, r.Settings = v, set
	}
	for _, r := range append(append([]*Server{t.RedisReplica}, t.RedisNodes...), t.Sentinels...) {
		if r != nil && r != s.Redis && r.Version == "" {
			r.Version = s.Redis.Version
			if !strings.HasPrefix(r.Name, "sentinel") {
				r.Settings = s.Redis.Settings
			}
		}
	}
	if len(t.RedisNodes) > 0 {
		t.RedisNodes[0] = s.Redis
	}
	return nil
}
