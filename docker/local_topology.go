package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// clusterNodes is the number of nodes of the local Redis Cluster: three
// masters and one replica each.
const clusterNodes = 6

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

// startPostgresTopology starts what the topology adds to PostgreSQL once
// the primary runs.
func (p *localPair) startPostgresTopology(ctx context.Context, cfg *Config, bins *localBinaries, run runUser) error {
	if cfg.Topology != TopologyPGReplica {
		return nil
	}
	return p.startStandby(ctx, cfg, bins, run)
}

// startStandby makes a streaming standby of the primary: pg_basebackup
// through a relay in front of the primary, then postgres in standby mode
// with the relay as primary_conninfo, ready once its WAL receiver streams.
func (p *localPair) startStandby(ctx context.Context, cfg *Config, bins *localBinaries, run runUser) error {
	relay, err := startRelay("postgres-replication", fmt.Sprintf("127.0.0.1:%d", p.postgres.port))
	if err != nil {
		return err
	}
	p.addRelay(relay)
	_, rport, _ := net.SplitHostPort(relay.Addr())
	data := filepath.Join(p.dir, "pgreplica")
	logPath := filepath.Join(p.dir, "pg_basebackup.log")
	bb := procSpec{
		path: filepath.Join(bins.pgBin, "pg_basebackup"),
		args: []string{"-h", "127.0.0.1", "-p", rport, "-U", localPostgresUser, "-D", data,
			"-X", "stream", "-c", "fast", "--no-sync", "-w"},
		dir: p.dir, logPath: logPath, cred: run.cred,
	}
	proc, err := startProc(bb)
	if err != nil {
		return fmt.Errorf("postgres replica: %w", err)
	}
	if !proc.wait(ctx, 2*time.Minute) {
		_ = proc.kill(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return fmt.Errorf("postgres replica: pg_basebackup: %w", ctx.Err())
		}
		return errors.New("postgres replica: pg_basebackup took more than 2 minutes")
	}
	if proc.err != nil {
		return fmt.Errorf("postgres replica: pg_basebackup: %v; log: %s", proc.err, logTail(logPath, 0, 6))
	}
	signal := filepath.Join(data, "standby.signal")
	if err := os.WriteFile(signal, nil, 0o600); err != nil {
		return fmt.Errorf("postgres replica: %w", err)
	}
	if err := run.chown(signal); err != nil {
		return fmt.Errorf("postgres replica: %w", err)
	}
	conninfo := fmt.Sprintf("host=127.0.0.1 port=%s user=%s application_name=ghostbench-standby", rport, localPostgresUser)
	srv, err := startWithPortRetry(ctx, func(port int) *localServer {
		pgURL, _ := loopbackURLs(port, 0, localPostgresUser, "", localPostgresDB)
		args := append(postgresArgs(data, port, cfg.Postgres),
			"-c", "primary_conninfo="+conninfo, "-c", "hot_standby=on", "-c", "wal_receiver_status_interval=1s")
		return &localServer{
			name:    "postgres-replica",
			port:    port,
			logPath: filepath.Join(p.dir, "postgres-replica.log"),
			spec: procSpec{
				path: filepath.Join(bins.pgBin, "postgres"), args: args, dir: p.dir,
				logPath: filepath.Join(p.dir, "postgres-replica.log"), cred: run.cred,
			},
			stopSignal: syscall.SIGINT,
			ready:      func(ctx context.Context) error { return standbyStreaming(ctx, pgURL) },
			cleanup:    func(ctx context.Context) { releasePostgresShm(ctx, data) },
			logf:       cfg.Logf,
		}
	})
	if err != nil {
		return err
	}
	p.addExtra(srv)
	pgURL, _ := loopbackURLs(srv.port, 0, localPostgresUser, "", localPostgresDB)
	p.topo.PostgresReplica = &Server{Name: "postgres-replica", Addr: fmt.Sprintf("127.0.0.1:%d", srv.port), URL: pgURL, Control: srv}
	p.topo.PostgresLink = relay
	return nil
}

// standbyStreaming returns nil once the standby at url answers and its WAL
// receiver streams from the primary.
func standbyStreaming(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	cfg.ConnectTimeout = time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'").Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errors.New("WAL receiver not streaming yet")
	}
	return nil
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
	return startWithPortRetry(ctx, func(port int) *localServer {
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

// startRedisReplica starts the primary, its replica (linked through a
// relay) and three Sentinels that already know each other and the
// replica, so that they can fail over from the start.
func (p *localPair) startRedisReplica(ctx context.Context, cfg *Config, bins *localBinaries) error {
	sentinelBin, err := exec.LookPath("redis-sentinel")
	if err != nil {
		return errors.New("topology redis-replica: redis-sentinel not found in PATH: run `make deps` (Debian package redis-sentinel)")
	}
	primary, err := startLocalRedisNode(ctx, cfg, bins, p.dir, "redis", replicationArgs, nil)
	if err != nil {
		return err
	}
	p.redis = primary
	relay, err := startRelay("redis-replication", fmt.Sprintf("127.0.0.1:%d", primary.port))
	if err != nil {
		return err
	}
	p.addRelay(relay)
	_, rport, _ := net.SplitHostPort(relay.Addr())
	replica, err := startLocalRedisNode(ctx, cfg, bins, p.dir, "redis-replica",
		append([]string{"--replicaof", "127.0.0.1", rport}, replicationArgs...), replicaLinked)
	if err != nil {
		return err
	}
	p.addExtra(replica)
	p.topo.RedisReplica = &Server{Name: "redis-replica", Addr: fmt.Sprintf("127.0.0.1:%d", replica.port),
		URL: fmt.Sprintf("redis://127.0.0.1:%d/0", replica.port), Control: replica}
	p.topo.RedisLink = relay
	p.topo.SentinelMaster = SentinelMaster

	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	ids := make([]string, len(ports))
	for i := range ids {
		b := make([]byte, 20)
		_, _ = rand.Read(b)
		ids[i] = hex.EncodeToString(b)
	}
	sentinels := make([]*localServer, len(ports))
	errs := make([]error, len(ports))
	var wg sync.WaitGroup
	for i, port := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sentinels[i], errs[i] = startSentinel(ctx, cfg, sentinelBin, p.dir, i, port, ids, ports, primary.port, replica.port)
		}()
	}
	wg.Wait()
	for i, s := range sentinels {
		if s == nil {
			continue
		}
		p.addExtra(s)
		p.topo.Sentinels = append(p.topo.Sentinels, &Server{Name: s.name, Addr: fmt.Sprintf("127.0.0.1:%d", ports[i]),
			URL: fmt.Sprintf("redis://127.0.0.1:%d", ports[i]), Control: s})
	}
	return joinErrors(errs...)
}

// startSentinel starts Sentinel number i on port, monitoring the primary
// on primaryPort with a quorum of two.
func startSentinel(ctx context.Context, cfg *Config, bin, dir string, i, port int, ids []string, ports []int, primaryPort, replicaPort int) (*localServer, error) {
	name := fmt.Sprintf("sentinel-%d", i)
	sdir := filepath.Join(dir, name)
	if err := os.Mkdir(sdir, 0o700); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m := SentinelMaster
	conf := []string{
		fmt.Sprintf("port %d", port), "bind 127.0.0.1", "protected-mode no", "daemonize no", `logfile ""`,
		"dir " + sdir,
		fmt.Sprintf("sentinel myid %s", ids[i]),
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", m, primaryPort),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", m, SentinelDownAfter),
		fmt.Sprintf("sentinel failover-timeout %s 3000", m),
		fmt.Sprintf("sentinel parallel-syncs %s 1", m),
		fmt.Sprintf("sentinel known-replica %s 127.0.0.1 %d", m, replicaPort),
	}
	for j, pj := range ports {
		if j != i {
			conf = append(conf, fmt.Sprintf("sentinel known-sentinel %s 127.0.0.1 %d %s", m, pj, ids[j]))
		}
	}
	confPath := filepath.Join(sdir, "sentinel.conf")
	if err := os.WriteFile(confPath, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := &localServer{
		name: name, port: port, logPath: filepath.Join(dir, name+".log"),
		spec:       procSpec{path: bin, args: []string{confPath}, dir: sdir, logPath: filepath.Join(dir, name+".log")},
		stopSignal: syscall.SIGTERM,
		ready:      func(ctx context.Context) error { return sentinelReady(ctx, addr, len(ports)-1) },
		logf:       cfg.Logf,
	}
	s.mu.Lock()
	err := s.startLocked(ctx)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// sentinelReady returns nil once the Sentinel at addr sees the primary up
// with one replica and the other Sentinels.
func sentinelReady(ctx context.Context, addr string, others int) error {
	if err := PingRedis(ctx, addr); err != nil {
		return err // a plain dial first: go-redis would log every failed dial
	}
	c := adminRedis(addr)
	defer c.Close()
	kv, err := c.Do(ctx, "SENTINEL", "MASTER", SentinelMaster).StringSlice()
	if err != nil {
		return err
	}
	f := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	if f["flags"] != "master" || f["num-slaves"] != "1" || f["num-other-sentinels"] != strconv.Itoa(others) {
		return fmt.Errorf("sentinel sees flags=%s num-slaves=%s num-other-sentinels=%s", f["flags"], f["num-slaves"], f["num-other-sentinels"])
	}
	reps, err := c.Do(ctx, "SENTINEL", "REPLICAS", SentinelMaster).Slice()
	if err != nil {
		return err
	}
	for _, r := range reps {
		fields, _ := r.([]any)
		for i := 0; i+1 < len(fields); i += 2 {
			if fields[i] == "flags" && fields[i+1] != "slave" {
				return fmt.Errorf("sentinel sees the replica as %v", fields[i+1])
			}
		}
	}
	return nil
}

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
