// Package servertest starts real PostgreSQL and Redis servers for tests.
//
// Tests of ghostbench run against real servers, never fakes of them. Start
// provisions a pair the way the harness does (see package docker: external
// URLs, Docker, or local server processes, chosen by GHOSTBENCH_PROVIDER,
// GHOSTBENCH_POSTGRES_URL and GHOSTBENCH_REDIS_URL) and tears it down when
// the test ends, pass or fail.
package servertest

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/docker"
)

func init() {
	// go-redis logs every failed dial through a process-wide logger; tests
	// that inject faults would bury their own output under those lines.
	redis.SetLogger(quietLog{})
}

type quietLog struct{}

func (quietLog) Printf(context.Context, string, ...any) {}

// startTimeout bounds provisioning; the docker provider may pull images.
const startTimeout = 5 * time.Minute

// Start provisions a PostgreSQL and a Redis server for t and registers
// their teardown with t.Cleanup. It fails t with a message saying what is
// missing and how to fix it when no servers can be had: it never skips,
// because a test that needs real servers and silently does not run proves
// nothing.
//
// Servers from the external provider are shared with whatever else uses
// them: tests must confine themselves to their own keys and tables.
func Start(t testing.TB) *docker.Servers {
	t.Helper()
	cfg := docker.ConfigFromEnv()
	cfg.Logf = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := docker.Provision(ctx, cfg)
	if err != nil {
		t.Fatalf("servertest: cannot provision PostgreSQL and Redis: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("servertest: teardown: %v", err)
		}
	})
	return s
}

// StartTopology is Start for a topology (docker.TopologyPGReplica, ...):
// the servers come from the provider GHOSTBENCH_PROVIDER selects, with the
// topology's URLs for the external one.
func StartTopology(t testing.TB, topology string) *docker.Servers {
	t.Helper()
	cfg := docker.ConfigFromEnv()
	cfg.Topology = topology
	cfg.Logf = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := docker.Provision(ctx, cfg)
	if err != nil {
		t.Fatalf("servertest: cannot provision topology %s: %v", topology, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("servertest: teardown: %v", err)
		}
	})
	return s
}
