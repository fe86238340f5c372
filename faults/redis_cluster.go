package faults

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/record"
)

// exclusiveCluster is the resource both cluster faults take over.
const exclusiveCluster = "the Redis cluster's slot layout"

func keyParam() Param {
	return Param{Name: "key", Default: "0", Help: "the key (row number) whose slot the fault acts on; key 0 is the hottest of the hotkey and zipfian distributions",
		Allowed: "a row number such as 0", Check: func(v string) error {
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				return fmt.Errorf("not a row number")
			}
			return nil
		}}
}

func redisClusterFailoverKind() Kind {
	return Kind{
		Name:        "redis-cluster-failover",
		Description: "the cluster master owning key's slot is killed; its replica takes over after the node timeout; heal restarts the old master (empty), which rejoins as a replica",
		Params:      []Param{keyParam()},
		Needs:       static(NeedsRedisControl),
		Topology:    docker.TopologyRedisCluster,
		Exclusive:   exclusiveCluster,
		New: func(_ context.Context, env Env, p Params) (fault.Fault, error) {
			c, err := newClusterFault(env, p)
			if err != nil {
				return nil, err
			}
			return &clusterFailover{clusterFault: c}, nil
		},
	}
}

// clusterFault is what both cluster faults share: the run's cluster
// client, the key, and an admin client per node.
type clusterFault struct {
	env   Env
	rdb   *redis.ClusterClient
	key   string
	nodes map[string]*redis.Client // by address
	log   *eventLog
}

func newClusterFault(env Env, p Params) (*clusterFault, error) {
	cl, ok := env.Redis.(*redis.ClusterClient)
	if !ok {
		return nil, errors.New("the run's Redis client is not a cluster client")
	}
	if len(env.Real.Topology.RedisNodes) == 0 {
		return nil, errors.New("the servers have no cluster nodes")
	}
	prefix := env.Prefix
	if prefix == "" {
		prefix = "gb:"
	}
	c := &clusterFault{env: env, rdb: cl, key: prefix + "row:" + p["key"], nodes: map[string]*redis.Client{}, log: newEventLog(env)}
	for _, n := range env.Real.Topology.RedisNodes {
		if n.Control == nil {
			return nil, fmt.Errorf("cluster node %s has no Control (not started by the harness)", n.Addr)
		}
		c.nodes[n.Addr] = redis.NewClient(&redis.Options{Addr: n.Addr, Protocol: 2, DialTimeout: time.Second,
			ReadTimeout: 2 * time.Second, WriteTimeout: time.Second, MaxRetries: -1, DialerRetries: 1, PoolSize: 2, DisableIdentity: true})
	}
	return c, nil
}

func (c *clusterFault) Events() []record.FaultEvent { return c.log.Events() }

// Close closes the admin clients.
func (c *clusterFault) Close() error {
	for _, n := range c.nodes {
		n.Close()
	}
	return nil
}

func (c *clusterFault) server(addr string) *docker.Server {
	for _, n := range c.env.Real.Topology.RedisNodes {
		if n.Addr == addr {
			return n
		}
	}
	return nil
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, addr, flags, master string
	slots                   [][2]int
}

func (n clusterNode) owns(slot int) bool {
	for _, r := range n.slots {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

// layout returns CLUSTER NODES as seen by the node at addr.
func (c *clusterFault) layout(ctx context.Context, addr string) ([]clusterNode, error) {
	txt, err := c.nodes[addr].ClusterNodes(ctx).Result()
	if err != nil {
		return nil, err
	}
	var out []clusterNode
	for _, l := range strings.Split(strings.TrimSpace(txt), "\n") {
		f := strings.Fields(l)
		if len(f) < 8 {
			continue
		}
		n := clusterNode{id: f[0], addr: strings.SplitN(strings.SplitN(f[1], "@", 2)[0], ",", 2)[0], flags: f[2], master: f[3]}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				continue // a migration in progress
			}
			lo, hi, ok := strings.Cut(s, "-")
			if !ok {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 == nil && err2 == nil {
				n.slots = append(n.slots, [2]int{a, b})
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// owner returns the live master owning slot as the node at addr sees it.
func (c *clusterFault) owner(ctx context.Context, addr string, slot int) (clusterNode, error) {
	nodes, err := c.layout(ctx, addr)
	if err != nil {
		return clusterNode{}, err
	}
	for _, n := range nodes {
		if strings.Contains(n.flags, "master") && !strings.Contains(n.flags, "fail") && n.owns(slot) {
			return n, nil
		}
	}
	return clusterNode{}, fmt.Errorf("%s sees no live master for slot %d", addr, slot)
}

// clusterFailover kills the master of key's slot. A watcher records when
// the cluster promoted its replica and when the run's client reached the
// key again. Heal waits for both, restarts the old master (empty: no
// persistence) and returns once it replicates the new one.
type clusterFailover struct {
	*clusterFault
	victim  *docker.Server
	watched chan error
}

func (f *clusterFailover) Name() string { return "redis-cluster-failover" }

func (f *clusterFailover) Inject(ctx context.Context) error {
	f.log.reset()
	slot, err := f.rdb.ClusterKeySlot(ctx, f.key).Result()
	if err != nil {
		return fmt.Errorf("CLUSTER KEYSLOT %s: %w", f.key, err)
	}
	var witness string
	for addr := range f.nodes {
		witness = addr
		break
	}
	m, err := f.owner(ctx, witness, int(slot))
	if err != nil {
		return err
	}
	victim := f.server(m.addr)
	if victim == nil {
		return fmt.Errorf("the master of slot %d, %s, is none of the harness's nodes", slot, m.addr)
	}
	if err := victim.Control.Kill(ctx); err != nil {
		return err
	}
	f.victim = victim
	f.log.add("master %s of slot %d (key %s) killed", victim.Addr, slot, f.key)
	for addr := range f.nodes {
		if addr != victim.Addr {
			witness = addr
			break
		}
	}
	f.watched = make(chan error, 1)
	wctx := context.WithoutCancel(ctx)
	go func() { f.watched <- f.watch(wctx, witness, victim.Addr, int(slot)) }()
	return nil
}

func (f *clusterFailover) watch(ctx context.Context, witness, old string, slot int) error {
	var promoted string
	err := pollUntil(ctx, failoverBound, "the cluster promotes a replica", func(ctx context.Context) (bool, error) {
		m, err := f.owner(ctx, witness, slot)
		if err != nil || m.addr == old {
			return false, nil
		}
		promoted = m.addr
		return true, nil
	})
	if err != nil {
		return err
	}
	f.log.add("replica %s promoted to master of slot %d", promoted, slot)
	err = pollUntil(ctx, failoverBound, "the run's client reaches the key", func(ctx context.Context) (bool, error) {
		err := f.rdb.Get(ctx, f.key).Err()
		return err == nil || errors.Is(err, redis.Nil), err
	})
	if err == nil {
		f.log.add("clients followed: the run's client reads key %s again", f.key)
	}
	return err
}

func (f *clusterFailover) Heal(ctx context.Context) error {
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
	if err := startServer(ctx, "Redis cluster node", victim.Control.Start); err != nil {
		return err
	}
	f.victim = nil
	if werr != nil {
		return werr
	}
	err := pollUntil(ctx, failoverBound, "the old master replicates", func(ctx context.Context) (bool, error) {
		return replicating(ctx, victim.Addr)
	})
	if err == nil {
		f.log.add("old master %s back as a replica", victim.Addr)
	}
	return err
}
