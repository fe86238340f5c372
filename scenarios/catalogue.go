package scenarios

import (
	"sort"
	"time"
)

func ms(n int) Duration  { return Duration(time.Duration(n) * time.Millisecond) }
func sec(n int) Duration { return Duration(time.Duration(n) * time.Second) }

// catalogue returns the built-in scenarios, freshly built (callers may
// change what they get).
func catalogue() []*Scenario {
	base := func(name, desc string) *Scenario {
		return &Scenario{
			Name: name, Description: desc,
			Keys: 1000, Distribution: Distribution{Kind: "uniform"},
			Readers: 16, Writers: 4, WriteInterval: ms(2),
			Duration: sec(10), Warmup: sec(1), TTL: sec(60), Seed: 1,
		}
	}
	var out []*Scenario

	s := base("steady-read-heavy", "16 readers, 4 paced writers over 1000 uniform keys: the everyday load")
	out = append(out, s)

	s = base("write-heavy-hot-key", "8 readers, 8 unpaced writers, 90% of operations on 1% of keys: races on hot rows")
	s.Readers, s.Writers, s.WriteInterval = 8, 8, 0
	s.Distribution = Distribution{Kind: "hotkey", HotOps: 90, HotKeys: 1}
	out = append(out, s)

	s = base("write-heavy-zipfian", "32 readers, 8 unpaced writers over 1000 zipfian keys (s=1.1) for 20s, TTL 30s: "+
		"thousands of writes/s that an invalidation pipeline must keep up with")
	s.Readers, s.Writers, s.WriteInterval = 32, 8, 0
	s.Distribution = Distribution{Kind: "zipfian", S: 1.1}
	s.Duration, s.Warmup, s.TTL = sec(20), sec(2), sec(30)
	out = append(out, s)

	s = base("zipfian-read-heavy", "open loop at 2000 ops/s, 90% reads, zipfian keys (s=1.1): latency without coordinated omission")
	s.Readers, s.Writers, s.WriteInterval = 0, 0, 0
	s.Rate, s.ReadRatio, s.Concurrency = 2000, 0.9, 64
	s.Distribution = Distribution{Kind: "zipfian", S: 1.1}
	out = append(out, s)

	fault := func(name, desc, f string, params map[string]string) *Scenario {
		s := base(name, desc)
		s.Faults = []FaultStep{{At: sec(3), For: sec(3), Fault: f, Params: params}}
		return s
	}
	out = append(out,
		fault("redis-outage", "Redis stopped from 3s to 6s, then started empty", "redis-down", nil),
		fault("redis-oom", "Redis at its memory limit (noeviction) from 3s to 6s: writes refused, reads served", "redis-oom", nil),
		fault("redis-latency", "100ms +-50ms added to every Redis reply from 3s to 6s", "redis-latency", map[string]string{"latency": "100ms", "jitter": "50ms"}),
		fault("lost-replies", "from 3s to 6s Redis applies commands but its replies never arrive (client timeouts)", "redis-lost-replies", nil),
		fault("partition", "from 3s to 6s nothing passes between the harness and Redis (no reset)", "redis-partition", nil),
		fault("pg-connection-kill", "every 500ms from 3s to 6s the run's own PostgreSQL sessions (its pool's backends) are terminated", "pg-conn-kill", map[string]string{"every": "500ms"}),
		fault("redis-pause", "Redis frozen (SIGSTOP) from 3s to 6s: connections stay open, commands hang until client timeouts", "redis-pause", nil),
		fault("pg-latency", "50ms +-20ms added to every PostgreSQL reply from 3s to 6s: longer transactions, wider races", "pg-latency", map[string]string{"latency": "50ms", "jitter": "20ms"}),
		fault("pg-commit-failure", "from 3s to 6s one COMMIT in five fails after everything before it (cache writes included) succeeded", "pg-commit-fail", map[string]string{"probability": "0.2"}),
		fault("slow-cache-fill", "from 3s to 6s a read that missed waits 50ms between its SELECT and its SET: the cache-aside fill race, widened", "app-delay",
			map[string]string{"point": "after-db-read", "delay": "50ms", "actor": "reader"}),
	)
	s = base("redis-crash-restart", "Redis killed at 3s and restarted 200ms later, empty: every cached key lost at once")
	s.Faults = []FaultStep{{At: sec(3), For: ms(200), Fault: "redis-restart"}}
	out = append(out, s)

	s = base("hot-key-stampede", "32 readers on 3 hot keys, one writer invalidating them every 50ms, 10ms added to every PostgreSQL reply "+
		"for the whole run (slow fills, so misses overlap): the stampede on PostgreSQL after each invalidation")
	s.Keys, s.Readers, s.Writers, s.WriteInterval = 300, 32, 1, ms(50)
	s.Distribution = Distribution{Kind: "hotkey", HotOps: 100, HotKeys: 1}
	s.Faults = []FaultStep{{At: 0, For: sec(10), Fault: "pg-latency", Params: map[string]string{"latency": "10ms"}}}
	out = append(out, s)

	// Topologies beyond one server each (DESIGN section 9).
	s = fault("replica-lag", "pg-replica: the read replica's replication link delayed 100ms from 3s to 6s; fills with fill-from=replica cache rows older than the DEL",
		"pg-replica-lag", map[string]string{"latency": "100ms"})
	s.Topology, s.Keys = "pg-replica", 200
	out = append(out, s)
	s = base("pg-failover", "pg-replica: at 3s the PostgreSQL primary is killed and its standby promoted; clients and consumers reconnect to it; logical replication slots do not survive")
	s.Topology = "pg-replica"
	s.Faults = []FaultStep{{At: sec(3), For: sec(2), Fault: "pg-failover"}}
	out = append(out, s)
	s = base("redis-failover", "redis-replica: at 3s the replica's link is held 200ms, then the primary is killed; Sentinel promotes the replica, which never got those DELs")
	s.Topology = "redis-replica"
	s.Faults = []FaultStep{{At: sec(3), For: sec(4), Fault: "redis-failover", Params: map[string]string{"link-delay": "200ms"}}}
	out = append(out, s)
	s = base("cluster-failover", "redis-cluster: at 3s the master of the hot key's slot is killed and its replica takes over; restarted as a replica at 6s")
	s.Topology = "redis-cluster"
	s.Distribution = Distribution{Kind: "hotkey", HotOps: 50, HotKeys: 1}
	s.Faults = []FaultStep{{At: sec(3), For: sec(3), Fault: "redis-cluster-failover"}}
	out = append(out, s)
	s = base("slot-migration", "redis-cluster: from 3s to 6s the hot key's slot migrates to another master (ASK), then is reassigned (MOVED)")
	s.Topology = "redis-cluster"
	s.Distribution = Distribution{Kind: "hotkey", HotOps: 50, HotKeys: 1}
	s.Faults = []FaultStep{{At: sec(3), For: sec(3), Fault: "redis-slot-migration"}}
	out = append(out, s)
	for _, s := range out {
		s.Defaults()
	}
	return out
}

// Builtin returns a fresh copy of the built-in scenario called name.
func Builtin(name string) (*Scenario, bool) {
	for _, s := range catalogue() {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// All returns fresh copies of every built-in scenario, sorted by name.
func All() []*Scenario {
	out := catalogue()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the built-in scenario names, sorted.
func Names() []string {
	var out []string
	for _, s := range All() {
		out = append(out, s.Name)
	}
	return out
}
