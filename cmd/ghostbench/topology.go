package main

import (
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/scenarios"
)

// topologyChoice decides the servers' topology of a run or a bench: the
// -topology flag (or GHOSTBENCH_TOPOLOGY) when given, else the topology
// the scenarios ask for, which must then be the same for all of them
// (a bench provisions its servers once).
type topologyChoice struct {
	explicit bool
	from     string // the scenario that chose the topology
}

// newTopologyChoice checks the -topology value.
func newTopologyChoice(pcfg *docker.Config) (*topologyChoice, error) {
	if err := docker.CheckTopology(pcfg.Topology); err != nil {
		return nil, usagef("-topology: %v", err)
	}
	return &topologyChoice{explicit: pcfg.TopologySet()}, nil
}

// apply sets pcfg.Topology from sc unless the topology was given
// explicitly. It returns a usage error when sc asks for another topology
// than an earlier scenario did.
func (c *topologyChoice) apply(pcfg *docker.Config, sc *scenarios.Scenario) error {
	if c.explicit {
		return nil
	}
	t := sc.Topology
	if t == "" {
		t = docker.TopologySingle
	}
	cur := pcfg.Topology
	if cur == "" {
		cur = docker.TopologySingle
	}
	if c.from != "" && t != cur {
		return usagef("scenario %s needs topology %s but scenario %s needs %s: run them separately, or pass -topology", sc.Name, t, c.from, cur)
	}
	if c.from == "" {
		pcfg.Topology, c.from = t, sc.Name
	}
	return nil
}

// topologyBenchScenarios are the default scenarios of a bench on a
// topology other than single: the steady loads and the topology's own
// faults (the single-server defaults include proxy faults, which sit in
// front of one Redis server only).
var topologyBenchScenarios = map[string][]string{
	docker.TopologyPGReplica:    {"steady-read-heavy", "write-heavy-hot-key", "replica-lag"},
	docker.TopologyRedisReplica: {"steady-read-heavy", "write-heavy-hot-key", "redis-failover"},
	docker.TopologyRedisCluster: {"steady-read-heavy", "write-heavy-hot-key", "cluster-failover", "slot-migration"},
}
