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
	"errors"
	"os"
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

// Local images of make docker-images (docker/image/build.sh), which
// StartDocker uses unless GHOSTBENCH_POSTGRES_IMAGE and
// GHOSTBENCH_REDIS_IMAGE name others: the pinned images need a registry.
const (
	LocalPostgresImage = "ghostbench/postgres:15-debian"
	LocalRedisImage    = "ghostbench/redis:7-debian"
)

// StartDocker is Start with the docker provider, whatever
// GHOSTBENCH_PROVIDER says, so that a test runs the same checks on
// containers. It skips t when no Docker engine answers, and when the images
// are missing outside CI (make test builds them; under CI it fails).
func StartDocker(t testing.TB) *docker.Servers {
	t.Helper()
	cfg := docker.ConfigFromEnv()
	cfg.Provider = docker.ProviderDocker
	cfg.PostgresURL, cfg.RedisURL = "", ""
	if cfg.PostgresImage == "" {
		cfg.PostgresImage = LocalPostgresImage
	}
	if cfg.RedisImage == "" {
		cfg.RedisImage = LocalRedisImage
	}
	cfg.Logf = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := docker.Provision(ctx, cfg)
	switch {
	case errors.Is(err, docker.ErrNoEngine):
		t.Skipf("servertest: not run on containers: %v", err)
	case errors.Is(err, docker.ErrNoImage) && os.Getenv("CI") == "":
		t.Skipf("servertest: not run on containers (run make docker-images): %v", err)
	case err != nil:
		t.Fatalf("servertest: cannot provision PostgreSQL and Redis in containers: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("servertest: teardown: %v", err)
		}
	})
	return s
}
