package docker

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Topology names accepted by Config.Topology, the -topology flag,
// GHOSTBENCH_TOPOLOGY and a scenario's topology field.
const (
	// TopologySingle is one PostgreSQL and one Redis (the default).
	TopologySingle = "single"
	// TopologyPGReplica adds a streaming standby of PostgreSQL, made by
	// pg_basebackup from the primary, whose replication connection goes
	// through a Relay (Topology.PostgresLink).
	TopologyPGReplica = "pg-replica"
	// TopologyRedisReplica is a Redis primary, one replica (its link
	// through a Relay, Topology.RedisLink) and three Sentinel processes;
	// clients follow Sentinel (go-redis's failover client).
	TopologyRedisReplica = "redis-replica"
	// TopologyRedisCluster is a Redis Cluster of three masters with one
	// replica each, created by the harness, with a node timeout short
	// enough for a failover within a run; clients are cluster clients.
	TopologyRedisCluster = "redis-cluster"
)

// Environment variables of the topologies, read by ConfigFromEnv.
const (
	EnvTopology           = "GHOSTBENCH_TOPOLOGY"
	EnvPostgresReplicaURL = "GHOSTBENCH_POSTGRES_REPLICA_URL"
	EnvRedisSentinelURL   = "GHOSTBENCH_REDIS_SENTINEL_URL"
	EnvRedisClusterURL    = "GHOSTBENCH_REDIS_CLUSTER_URL"
)

// Topologies returns the topology names, the default first.
func Topologies() []string {
	return []string{TopologySingle, TopologyPGReplica, TopologyRedisReplica, TopologyRedisCluster}
}

// CheckTopology returns nil for a topology name ("" means single), else an
// error naming the value and the allowed ones.
func CheckTopology(name string) error {
	if name == "" {
		return nil
	}
	for _, t := range Topologies() {
		if name == t {
			return nil
		}
	}
	return fmt.Errorf("topology %q: unknown; allowed: %s", name, strings.Join(Topologies(), ", "))
}

// SentinelMaster is the name Sentinel monitors the local Redis primary by.
const SentinelMaster = "ghostbench"

// ClusterNodeTimeout is cluster-node-timeout of the local Redis Cluster, in
// milliseconds: a master that stops answering is failed over about this
// long later (plus an election), well within a run.
const ClusterNodeTimeout = 500

// ClusterReload is how often the harness's cluster clients reload the
// slot map (go-redis's ClusterStateReloadInterval, 60 s by default): at
// most about this long after a replica took over, clients follow it.
const ClusterReload = time.Second

// SentinelDownAfter is down-after-milliseconds of the local Sentinels.
const SentinelDownAfter = 500

// SentinelFailoverTimeout is failover-timeout of the local Sentinels, in
// milliseconds, while a failover runs (a failed election is retried twice
// this long later). Between failovers they hold SentinelHoldTimeout: a
// Sentinel sends +fix-slave-config (REPLICAOF its primary's own address)
// to a replica that replicates from any other address once it has seen
// that address for failover-timeout, and the replica's link goes through a
// relay (RedisLink) on purpose. With 3000 ms the replica followed the
// primary directly some 9 s after the start and 3 s after every relink, so
// a redis-failover fault later than that neither delayed nor cut its link.
// SetSentinelFailoverTimeout switches between the two.
const SentinelFailoverTimeout = 3000

// SentinelHoldTimeout is failover-timeout of the local Sentinels between
// failovers, in milliseconds (24 h): longer than any run, so Sentinel
// leaves the replica's link through the relay alone.
const SentinelHoldTimeout = 24 * 60 * 60 * 1000

// Topology describes the servers of a topology beyond Servers.Postgres and
// Servers.Redis. For redis-replica, Servers.Redis is the primary as
// provisioned (after a failover it is not the primary any more: ask
// Sentinel); for redis-cluster it is the first master.
type Topology struct {
	// Name is the topology's name; "" means single.
	Name string
	// PostgresReplica is the streaming standby (pg-replica).
	PostgresReplica *Server
	// RedisReplica is the replica of the Redis primary (redis-replica).
	RedisReplica *Server
	// Sentinels are the Sentinel processes (redis-replica), and
	// SentinelMaster the name they monitor the primary by.
	Sentinels      []*Server
	SentinelMaster string
	// RedisNodes are the cluster's nodes (redis-cluster): the masters
	// first, then their replicas in the same order (RedisNodes[i+n/2]
	// replicated RedisNodes[i] when the cluster was created).
	RedisNodes []*Server
	// PostgresLink and RedisLink carry the replication links of the local
	// provider; nil elsewhere.
	PostgresLink, RedisLink *Relay
	// PostgresFront is the relay clients reach the PostgreSQL primary
	// through (pg-replica on the local provider: Servers.Postgres's
	// address is the relay's, its Control the primary's process), so that
	// a failover can point them at the promoted standby; nil elsewhere.
	PostgresFront *Relay
}

// TopologyName returns the topology of s: single when none was asked.
func (s *Servers) TopologyName() string {
	if s == nil || s.Topology.Name == "" {
		return TopologySingle
	}
	return s.Topology.Name
}

// Describe returns one line per server of the topology beyond the pair,
// for doctor and run records, e.g. "postgres replica 15.18 at
// 127.0.0.1:5433 (replication via relay 127.0.0.1:40001)".
func (t Topology) Describe() []string {
	var out []string
	if r := t.PostgresReplica; r != nil {
		l := fmt.Sprintf("postgres replica %s at %s", r.Version, r.Redacted())
		if t.PostgresLink != nil {
			l += fmt.Sprintf(" (replication via relay %s -> %s)", t.PostgresLink.Addr(), t.PostgresLink.Upstream())
		}
		out = append(out, l)
	}
	if r := t.RedisReplica; r != nil {
		l := fmt.Sprintf("redis replica %s at %s", r.Version, r.Redacted())
		if t.RedisLink != nil {
			l += fmt.Sprintf(" (replication via relay %s -> %s)", t.RedisLink.Addr(), t.RedisLink.Upstream())
		}
		out = append(out, l)
	}
	if len(t.Sentinels) > 0 {
		addrs := make([]string, len(t.Sentinels))
		for i, s := range t.Sentinels {
			addrs[i] = s.Addr
		}
		out = append(out, fmt.Sprintf("sentinels at %s watching %q", strings.Join(addrs, ", "), t.SentinelMaster))
	}
	if n := len(t.RedisNodes); n > 0 {
		addrs := make([]string, n)
		for i, s := range t.RedisNodes {
			addrs[i] = s.Addr
		}
		out = append(out, fmt.Sprintf("redis cluster nodes %s", strings.Join(addrs, ", ")))
	}
	return out
}

// Addrs returns "name=addr" pairs of the topology's extra servers, for
// run records.
func (t Topology) Addrs() map[string]string {
	m := map[string]string{}
	if t.PostgresReplica != nil {
		m["postgres-replica"] = t.PostgresReplica.Addr
	}
	if t.RedisReplica != nil {
		m["redis-replica"] = t.RedisReplica.Addr
	}
	for i, s := range t.Sentinels {
		m[fmt.Sprintf("sentinel-%d", i)] = s.Addr
	}
	for i, s := range t.RedisNodes {
		m[fmt.Sprintf("redis-node-%d", i)] = s.Addr
	}
	return m
}

// topologyFromEnv fills the topology settings of c from the environment.
func (c *Config) topologyFromEnv() {
	c.Topology = strings.TrimSpace(os.Getenv(EnvTopology))
	c.PostgresReplicaURL = strings.TrimSpace(os.Getenv(EnvPostgresReplicaURL))
	c.RedisSentinelURL = strings.TrimSpace(os.Getenv(EnvRedisSentinelURL))
	c.RedisClusterURL = strings.TrimSpace(os.Getenv(EnvRedisClusterURL))
	for key, env := range map[string]string{"topology": EnvTopology, "postgres-replica-url": EnvPostgresReplicaURL,
		"redis-sentinel-url": EnvRedisSentinelURL, "redis-cluster-url": EnvRedisClusterURL} {
		if os.Getenv(env) != "" {
			c.origin[key] = env
		}
	}
}

// registerTopologyFlags defines -topology and the external topology URLs.
func (c *Config) registerTopologyFlags(fs *flag.FlagSet) {
	fs.Var(&stringFlag{p: &c.Topology, key: "topology", origin: c.origin}, "topology",
		"server topology: "+strings.Join(Topologies(), ", ")+" (default from "+EnvTopology+", else the scenario's, else single)")
	fs.Var(&stringFlag{p: &c.PostgresReplicaURL, key: "postgres-replica-url", origin: c.origin, secret: true}, "postgres-replica-url",
		"external pg-replica: URL of a streaming standby of -postgres-url (default from "+EnvPostgresReplicaURL+")")
	fs.Var(&stringFlag{p: &c.RedisSentinelURL, key: "redis-sentinel-url", origin: c.origin, secret: true}, "redis-sentinel-url",
		"external redis-replica: Sentinel URL redis://sentinel:26379?master_name=NAME&addr=sentinel2:26379 (default from "+EnvRedisSentinelURL+")")
	fs.Var(&stringFlag{p: &c.RedisClusterURL, key: "redis-cluster-url", origin: c.origin, secret: true}, "redis-cluster-url",
		"external redis-cluster: URL redis://node1:6379?addr=node2:6379&addr=node3:6379 (default from "+EnvRedisClusterURL+")")
}

// TopologySet reports whether the topology was given by a flag or the
// environment (a scenario's topology applies only when it was not).
func (c *Config) TopologySet() bool {
	_, ok := c.origin["topology"]
	return ok || c.Topology != ""
}

// topologyRedisClient returns the Redis client of a topology whose clients
// are not plain clients of Servers.Redis: a failover client following the
// Sentinels, or a cluster client. It returns nil for the others.
func (s *Servers) topologyRedisClient(cc ClientConfig) redis.UniversalClient {
	if fo := s.RedisFailoverOptions(cc); fo != nil {
		return redis.NewFailoverClient(fo)
	}
	if len(s.Topology.RedisNodes) == 0 {
		return nil
	}
	base := s.Redis.redisOpts
	co := &redis.ClusterOptions{
		Addrs:       serverAddrs(s.Topology.RedisNodes),
		Protocol:    redisProtocol,
		DialTimeout: cc.DialTimeout, ReadTimeout: cc.ReadTimeout, WriteTimeout: cc.WriteTimeout,
		MaxRetries: cc.MaxRetries, PoolSize: cc.PoolSize, PoolTimeout: cc.PoolTimeout,
		// A slot migration answers ASK then perhaps TRYAGAIN, a
		// failover MOVED: room for a few redirects per command.
		MaxRedirects:  8,
		DialerRetries: 1,
		// go-redis follows a failover only when a node answers MOVED
		// or the slot map is reloaded, by default once a minute: the
		// clients of a dead master would keep dialling it for that
		// long. ClusterReload is the harness's explicit choice.
		ClusterStateReloadInterval: ClusterReload,
		ContextTimeoutEnabled:      true, DisableIdentity: true,
	}
	if base != nil {
		co.Username, co.Password = base.Username, base.Password
	}
	return redis.NewClusterClient(co)
}

// RedisFailoverOptions returns the options of the failover client
// RedisClient builds for the topology redis-replica (the Sentinels, the
// master's name, credentials and the timeouts of cc), for a strategy that
// builds its own Sentinel-following client (rueidis); nil for the other
// topologies.
func (s *Servers) RedisFailoverOptions(cc ClientConfig) *redis.FailoverOptions {
	if len(s.Topology.Sentinels) == 0 {
		return nil
	}
	base := s.Redis.redisOpts
	fo := &redis.FailoverOptions{
		MasterName:    s.Topology.SentinelMaster,
		SentinelAddrs: serverAddrs(s.Topology.Sentinels),
		Protocol:      redisProtocol,
		DialTimeout:   cc.DialTimeout, ReadTimeout: cc.ReadTimeout, WriteTimeout: cc.WriteTimeout,
		MaxRetries: cc.MaxRetries, PoolSize: cc.PoolSize, PoolTimeout: cc.PoolTimeout,
		DialerRetries:         1,
		ContextTimeoutEnabled: true, DisableIdentity: true,
	}
	if base != nil {
		fo.Username, fo.Password, fo.DB = base.Username, base.Password, base.DB
	}
	if s.sentinelOpts != nil {
		fo.SentinelUsername, fo.SentinelPassword = s.sentinelOpts.SentinelUsername, s.sentinelOpts.SentinelPassword
	}
	return fo
}

// ScanKeys returns every key matching pattern on rdb: on a cluster client,
// on every master.
func ScanKeys(ctx context.Context, rdb redis.UniversalClient, pattern string) ([]string, error) {
	scan := func(ctx context.Context, c redis.UniversalClient) ([]string, error) {
		var keys []string
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		return keys, iter.Err()
	}
	cl, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return scan(ctx, rdb)
	}
	var mu sync.Mutex
	var all []string
	err := cl.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		keys, err := scan(ctx, c)
		mu.Lock()
		all = append(all, keys...)
		mu.Unlock()
		return err
	})
	return all, err
}

// DeleteKeys deletes keys on rdb one DEL per key in pipelines (a cluster
// refuses a DEL of keys in different slots).
func DeleteKeys(ctx context.Context, rdb redis.UniversalClient, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		batch := keys[:n]
		keys = keys[n:]
		if _, ok := rdb.(*redis.ClusterClient); !ok {
			if err := rdb.Del(ctx, batch...).Err(); err != nil {
				return err
			}
			continue
		}
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range batch {
				p.Del(ctx, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// serverAddrs returns the host:port of each server.
func serverAddrs(servers []*Server) []string {
	out := make([]string, len(servers))
	for i, x := range servers {
		out[i] = x.Addr
	}
	return out
}
