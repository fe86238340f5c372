package docker

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// deriveClusterRedisURL lets an external redis-cluster be named by its
// cluster URL alone: Servers.Redis is then the URL's first node.
func (c *Config) deriveClusterRedisURL() {
	if c.Topology != TopologyRedisCluster || c.RedisURL != "" || c.RedisClusterURL == "" {
		return
	}
	u, err := url.Parse(c.RedisClusterURL)
	if err != nil {
		return // externalTopology reports it
	}
	u.RawQuery = ""
	c.RedisURL = u.String()
	if _, ok := c.origin["redis-url"]; !ok {
		if n, ok := c.origin["redis-cluster-url"]; ok {
			c.origin["redis-url"] = n
		}
	}
}

// externalTopology fills s.Topology from the topology URLs of cfg for
// servers the user runs. It checks that the URL the topology needs is
// given and well formed, and that the servers answer; their Control is
// nil (the harness does not stop what it did not start).
func externalTopology(ctx context.Context, cfg *Config, s *Servers) error {
	t := &s.Topology
	t.Name = cfg.Topology
	switch cfg.Topology {
	case "":
		return nil
	case TopologyPGReplica:
		name := cfg.settingName("postgres-replica-url")
		if cfg.PostgresReplicaURL == "" {
			return fmt.Errorf("topology pg-replica on the external provider: %s is not set (the URL of a streaming standby of %s)", name, cfg.settingName("postgres-url"))
		}
		if err := checkPostgresURL(cfg.PostgresReplicaURL); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		pc, err := pgx.ParseConfig(cfg.PostgresReplicaURL)
		if err != nil {
			return fmt.Errorf("%s: malformed URL %q: %w", name, redactURL(cfg.PostgresReplicaURL), err)
		}
		t.PostgresReplica = &Server{Name: "postgres-replica", Addr: fmt.Sprintf("%s:%d", pc.Host, pc.Port), URL: cfg.PostgresReplicaURL}
		conn, err := pgx.ConnectConfig(ctx, pc)
		if err != nil {
			return fmt.Errorf("%s: cannot use the replica at %s: %w", name, t.PostgresReplica.Redacted(), err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		var rec bool
		if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&rec); err != nil || !rec {
			return fmt.Errorf("%s: %s is not a standby (pg_is_in_recovery() = %v, %v)", name, t.PostgresReplica.Redacted(), rec, err)
		}
	case TopologyRedisReplica:
		name := cfg.settingName("redis-sentinel-url")
		if cfg.RedisSentinelURL == "" {
			return fmt.Errorf("topology redis-replica on the external provider: %s is not set (redis://sentinel:26379?master_name=NAME&addr=sentinel2:26379)", name)
		}
		fo, err := redis.ParseFailoverURL(cfg.RedisSentinelURL)
		if err != nil {
			return fmt.Errorf("%s: malformed URL %q: %w", name, redactURL(cfg.RedisSentinelURL), err)
		}
		if fo.MasterName == "" {
			return fmt.Errorf("%s: URL %q names no master: add ?master_name=NAME", name, redactURL(cfg.RedisSentinelURL))
		}
		s.sentinelOpts = fo
		t.SentinelMaster = fo.MasterName
		for i, a := range fo.SentinelAddrs {
			t.Sentinels = append(t.Sentinels, &Server{Name: fmt.Sprintf("sentinel-%d", i), Addr: a, URL: "redis://" + a})
		}
		sc := redis.NewSentinelClient(&redis.Options{Addr: fo.SentinelAddrs[0], Username: fo.SentinelUsername, Password: fo.SentinelPassword,
			Protocol: redisProtocol, MaxRetries: -1, DialerRetries: 1, DisableIdentity: true})
		defer sc.Close()
		if _, err := sc.GetMasterAddrByName(ctx, fo.MasterName).Result(); err != nil {
			return fmt.Errorf("%s: Sentinel at %s does not know master %q: %w", name, fo.SentinelAddrs[0], fo.MasterName, err)
		}
	case TopologyRedisCluster:
		name := cfg.settingName("redis-cluster-url")
		if cfg.RedisClusterURL == "" {
			return fmt.Errorf("topology redis-cluster on the external provider: %s is not set (redis://node1:6379?addr=node2:6379)", name)
		}
		co, err := redis.ParseClusterURL(cfg.RedisClusterURL)
		if err != nil {
			return fmt.Errorf("%s: malformed URL %q: %w", name, redactURL(cfg.RedisClusterURL), err)
		}
		for i, a := range co.Addrs {
			t.RedisNodes = append(t.RedisNodes, &Server{Name: fmt.Sprintf("redis-node-%d", i), Addr: a, URL: "redis://" + a})
		}
		cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: co.Addrs, Username: co.Username, Password: co.Password,
			Protocol: redisProtocol, MaxRetries: -1, DialerRetries: 1, DisableIdentity: true})
		defer cl.Close()
		info, err := cl.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: cannot use the cluster at %s: %w", name, redactURL(cfg.RedisClusterURL), err)
		}
		if infoField(info, "cluster_state") != "ok" {
			return fmt.Errorf("%s: cluster_state is %q, want ok", name, infoField(info, "cluster_state"))
		}
	default:
		return errors.New("unknown topology " + cfg.Topology)
	}
	return s.describeTopology(ctx)
}
