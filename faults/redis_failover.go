package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/internal/wait"
	"github.com/ghostbench/ghostbench/record"
)

// failoverBound bounds the wait for a new primary (Sentinel) or a promoted
// replica (cluster) and for clients to reach it.
const failoverBound = 30 * time.Second

func redisFailoverKind() Kind {
	return Kind{
		Name: "redis-failover",
		Description: "Sentinel fails the Redis primary over to its replica: the replica's link is delayed first, then the primary " +
			"killed (or frozen) and the link cut, so what it acknowledged in the last link-delay is lost",
		Params: []Param{
			{Name: "mode", Default: "kill", Help: "kill the primary (SIGKILL; heal starts it empty), or pause it (SIGSTOP; heal resumes it)",
				Allowed: "kill or pause", Check: oneOf("kill", "pause")},
			durationParam("link-delay", "200ms", "how long the replication link holds every byte before the primary goes; what the primary acknowledged within it never reaches the replica", true),
		},
		Needs:     static(NeedsRedisControl),
		Topology:  docker.TopologyRedisReplica,
		Exclusive: exclusiveRedis,
		New:       newRedisFailover,
	}
}

// redisFailover is the failover of DESIGN section 9: acknowledged DELs
// lost when Sentinel promotes a replica that had not received them.
// Inject delays the replication link at the relay for link-delay (writes
// queue in it, acknowledged by the primary), then cuts the link (the
// queued bytes are lost, as the output buffer of a dead primary is) and
// kills or freezes the primary, and gives the Sentinels their short
// failover-timeout for the failover. A watcher records when Sentinel names
// the new primary and when the run's client reaches it. Heal waits for
// both, gives the Sentinels their long failover-timeout again, points the
// relay at the new primary, brings the old primary back as its replica
// through the relay and returns once every Sentinel lists it as a replica.
type redisFailover struct {
	env      Env
	kill     bool
	delay    time.Duration
	link     *docker.Relay
	sentinel *redis.SentinelClient
	log      *eventLog

	victim  *docker.Server
	watched chan error
}

func newRedisFailover(_ context.Context, env Env, p Params) (fault.Fault, error) {
	t := env.Real.Topology
	if len(t.Sentinels) == 0 || t.RedisReplica == nil {
		return nil, errors.New("the servers have no Sentinel and replica")
	}
	if t.RedisLink == nil {
		return nil, errors.New("the replica's link has no relay to delay (only the local provider has one)")
	}
	if env.Real.Redis.Control == nil || t.RedisReplica.Control == nil {
		return nil, errors.New("the Redis servers have no Control (not started by the harness)")
	}
	return &redisFailover{
		env: env, kill: p["mode"] == "kill", delay: p.Duration("link-delay"), link: t.RedisLink,
		sentinel: redis.NewSentinelClient(&redis.Options{Addr: t.Sentinels[0].Addr, Protocol: 2, DialTimeout: time.Second,
			ReadTimeout: time.Second, WriteTimeout: time.Second, MaxRetries: -1, DisableIdentity: true}),
		log: newEventLog(env),
	}, nil
}

func (f *redisFailover) Name() string                { return "redis-failover" }
func (f *redisFailover) Events() []record.FaultEvent { return f.log.Events() }
func (f *redisFailover) Close() error                { return f.sentinel.Close() }
func (f *redisFailover) servers() []*docker.Server {
	return []*docker.Server{f.env.Real.Redis, f.env.Real.Topology.RedisReplica}
}
func (f *redisFailover) byAddr(addr string) *docker.Server {
	for _, s := range f.servers() {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

// primary asks Sentinel for the primary's address.
func (f *redisFailover) primary(ctx context.Context) (string, error) {
	a, err := f.sentinel.GetMasterAddrByName(ctx, f.env.Real.Topology.SentinelMaster).Result()
	if err != nil {
		return "", err
	}
	if len(a) != 2 {
		return "", fmt.Errorf("sentinel answered %v", a)
	}
	return net.JoinHostPort(a[0], a[1]), nil
}

func (f *redisFailover) Inject(ctx context.Context) error {
	f.log.reset()
	addr, err := f.primary(ctx)
	if err != nil {
		return fmt.Errorf("ask Sentinel for the primary: %w", err)
	}
	victim := f.byAddr(addr)
	if victim == nil {
		return fmt.Errorf("the primary Sentinel names, %s, is none of the harness's servers", addr)
	}
	f.link.SetDelay(f.delay)
	f.log.add("replication link delayed by %v", f.delay)
	if !wait.Sleep(ctx, f.delay) {
		f.link.SetDelay(0)
		return ctx.Err()
	}
	f.link.Cut()
	if f.kill {
		err = victim.Control.Kill(ctx)
	} else {
		err = victim.Control.Pause(ctx)
	}
	if err != nil {
		return err
	}
	f.victim = victim
	verb := map[bool]string{true: "killed", false: "frozen"}[f.kill]
	f.log.add("link cut and primary %s %s", victim.Addr, verb)
	// The Sentinels hold a failover-timeout of a day between failovers
	// (see docker.SentinelFailoverTimeout); this failover gets the short
	// one, so that a failed election is retried within seconds. The
	// primary is gone already: a +fix-slave-config it lets through now
	// points the replica at a dead primary, which changes nothing.
	if err := f.env.Real.Topology.SetSentinelFailoverTimeout(ctx, docker.SentinelFailoverTimeout); err != nil {
		return err
	}
	f.watched = make(chan error, 1)
	wctx := context.WithoutCancel(ctx)
	go func() { f.watched <- f.watch(wctx, victim.Addr) }()
	return nil
}

// watch records when Sentinel names another primary and when the run's
// client reaches it (INFO answers with the new primary's port).
func (f *redisFailover) watch(ctx context.Context, old string) error {
	var elected string
	err := pollUntil(ctx, failoverBound, "Sentinel elects a new primary", func(ctx context.Context) (bool, error) {
		a, err := f.primary(ctx)
		if err != nil || a == old {
			return false, err
		}
		elected = a
		return true, nil
	})
	if err != nil {
		return err
	}
	f.log.add("Sentinel elected %s as the new primary", elected)
	if f.env.Redis == nil {
		return nil
	}
	_, port, _ := net.SplitHostPort(elected)
	err = pollUntil(ctx, failoverBound, "the run's client reaches the new primary", func(ctx context.Context) (bool, error) {
		info, err := f.env.Redis.Info(ctx, "server").Result()
		return err == nil && strings.Contains(info, "tcp_port:"+port+"\r"), err
	})
	if err == nil {
		f.log.add("clients followed: the run's client reaches %s", elected)
	}
	return err
}

func (f *redisFailover) Heal(ctx context.Context) error {
	f.link.SetDelay(0)
	victim := f.victim
	if victim == nil {
		return nil
	}
	var werr error
	select {
	case werr = <-f.watched:
	case <-ctx.Done():
		return ctx.Err()
	}
	start := victim.Control.Resume
	if f.kill {
		start = victim.Control.Start
	}
	if werr != nil {
		f.victim = nil
		return errors.Join(werr, startServer(ctx, "Redis", start))
	}
	// Sentinel has switched to the new primary. Before the old one comes
	// back, the Sentinels hold their long failover-timeout again (else
	// each sends +fix-slave-config, REPLICAOF the new primary's own
	// address, failover-timeout after it sees the old one replicate
	// through the relay: two of them did, 3 s after the relink, and the
	// second undid it), and the relay forwards to the new primary (the
	// provisioned replica restarts with --replicaof the relay, which
	// forwarded to that server itself).
	t := f.env.Real.Topology
	if err := t.SetSentinelFailoverTimeout(ctx, docker.SentinelHoldTimeout); err != nil {
		return err
	}
	primary, err := f.primary(ctx)
	if err != nil {
		return fmt.Errorf("ask Sentinel for the primary: %w", err)
	}
	f.link.SetUpstream(primary)
	if err := startServer(ctx, "Redis", start); err != nil {
		return err
	}
	f.victim = nil
	// Sentinel would make it a replica of the new primary only after it
	// reported itself a primary for 8 s, and straight, not through the
	// relay: do it now, through the relay, so that the next failover's
	// delay and cut bite.
	if err := t.RelinkRedisReplica(ctx, primary, victim.Addr); err != nil {
		return fmt.Errorf("replication link through the relay again: %w", err)
	}
	f.log.add("replication link %s -> %s through the relay again", victim.Addr, primary)
	err = pollUntil(ctx, failoverBound, "every Sentinel lists the old primary as a replica", func(ctx context.Context) (bool, error) {
		return f.listedAsReplica(ctx, victim.Addr)
	})
	if err != nil {
		return err
	}
	f.log.add("old primary %s back as a replica", victim.Addr)
	return nil
}

// listedAsReplica reports whether every Sentinel lists the server at addr
// among the replicas of the primary, with flags just "slave" (reachable,
// not subjectively down), so that it can elect it in the next failover.
func (f *redisFailover) listedAsReplica(ctx context.Context, addr string) (bool, error) {
	t := f.env.Real.Topology
	for _, s := range t.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, Protocol: 2, DialTimeout: time.Second,
			ReadTimeout: time.Second, MaxRetries: -1, DisableIdentity: true})
		reps, err := c.Replicas(ctx, t.SentinelMaster).Result()
		c.Close()
		if err != nil {
			return false, err
		}
		found := false
		for _, r := range reps {
			if net.JoinHostPort(r["ip"], r["port"]) == addr && r["flags"] == "slave" {
				found = true
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

// replicating reports whether the Redis server at addr is a replica whose
// link to its primary is up.
func replicating(ctx context.Context, addr string) (bool, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DialTimeout: time.Second, ReadTimeout: time.Second,
		MaxRetries: -1, DialerRetries: 1, PoolSize: 1, DisableIdentity: true})
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return false, err
	}
	return strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up"), nil
}
