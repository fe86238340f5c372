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
)

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
	if err := joinErrors(errs...); err != nil {
		return err
	}
	return replicaAcking(ctx, fmt.Sprintf("127.0.0.1:%d", primary.port))
}

// replicaAcking waits until the primary on addr counts its replica as
// having acknowledged a write (WAIT 1 returns 1).
// A replica whose link is up can take most of a second after its initial
// sync to send its first acknowledgement; until then every WAIT a
// strategy sends (wait=1) would time out, so the topology is not ready.
func replicaAcking(ctx context.Context, addr string) error {
	const readyKey = "ghostbench:topology-ready"
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c := adminRedis(addr)
	defer c.Close()
	var last error
	// WAIT counts replicas whose acknowledged offset reached the
	// primary's: with nothing written yet both are 0 and it returns at
	// once, so write first (this is our own server, not a user's).
	if err := c.Set(ctx, readyKey, "1", time.Minute).Err(); err != nil {
		return fmt.Errorf("topology redis-replica: write the readiness key: %w", err)
	}
	defer c.Del(context.WithoutCancel(ctx), readyKey)
	for {
		n, err := c.Do(ctx, "WAIT", 1, 100).Int()
		switch {
		case err == nil && n >= 1:
			return nil
		case err != nil:
			last = err
		default:
			last = fmt.Errorf("WAIT 1 returned %d replicas", n)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topology redis-replica: the replica never acknowledged the primary's stream (%v): %w", last, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startSentinel starts Sentinel number i on port, monitoring the primary
// on primaryPort with a quorum of two. It holds failover-timeout
// SentinelHoldTimeout until a fault lowers it (SetSentinelFailoverTimeout).
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
		fmt.Sprintf("sentinel failover-timeout %s %d", m, SentinelHoldTimeout),
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

// RelinkRedisReplica routes the replication of the Redis replica at
// replica, whose primary is now the server at primary, through the
// topology's relay (RedisLink) again, and returns once the link is up
// through it. After a Sentinel failover the demoted primary follows the
// new one directly (Sentinel sends it REPLICAOF with the new primary's own
// address), so without this only the first failover of a run could have
// its link delayed or cut. The replica keeps its replication offset: the
// primary is the same, so it resyncs partially.
func (t Topology) RelinkRedisReplica(ctx context.Context, primary, replica string) error {
	if t.RedisLink == nil {
		return errors.New("the Redis replication link has no relay (only the local provider has one)")
	}
	t.RedisLink.SetUpstream(primary)
	host, port, err := net.SplitHostPort(t.RedisLink.Addr())
	if err != nil {
		return err
	}
	c := adminRedis(replica)
	defer c.Close()
	if err := c.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		return fmt.Errorf("REPLICAOF %s on %s: %w", t.RedisLink.Addr(), replica, err)
	}
	return waitReady(ctx, 10*time.Second, func(ctx context.Context) error {
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if p, st := infoField(info, "master_port"), infoField(info, "master_link_status"); p != port || st != "up" {
			return fmt.Errorf("%s replicates from port %s (link %s), want the relay's %s, up", replica, p, st, port)
		}
		return nil
	}, nil)
}

// SetSentinelFailoverTimeout sets failover-timeout (ms) of the master
// Sentinel monitors on every Sentinel of the topology (SENTINEL SET is not
// passed on between Sentinels). A fault about to make Sentinel fail over
// sets SentinelFailoverTimeout once the primary is gone, and
// SentinelHoldTimeout again before it relinks the replica through the
// relay; see SentinelFailoverTimeout for why.
func (t Topology) SetSentinelFailoverTimeout(ctx context.Context, ms int) error {
	if len(t.Sentinels) == 0 {
		return errors.New("the topology has no Sentinels")
	}
	var errs []error
	for _, s := range t.Sentinels {
		c := adminRedis(s.Addr)
		err := c.Do(ctx, "SENTINEL", "SET", t.SentinelMaster, "failover-timeout", ms).Err()
		c.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("SENTINEL SET %s failover-timeout %d on %s: %w", t.SentinelMaster, ms, s.Name, err))
		}
	}
	return joinErrors(errs...)
}
