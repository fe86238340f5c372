package strategies_test

import (
	"testing"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/strategytest"
)

// TestConformanceCluster runs the conformance suite for every built-in
// strategy on a Redis Cluster of three masters: keys spread over the
// slots, so multi-key commands and scripts must keep to one slot.
func TestConformanceCluster(t *testing.T) {
	srv := servertest.StartTopology(t, docker.TopologyRedisCluster)
	for _, info := range strategies.Default().All() {
		t.Run(info.Name, func(t *testing.T) { strategytest.Run(t, info, srv) })
	}
}
