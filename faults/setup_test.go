package faults_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/scenarios"
)

func refuses(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return true
}

func TestPrepare(t *testing.T) {
	srv := servertest.Start(t)
	ctx := tctx(t)
	bg := context.Background()

	t.Run("no proxies without network faults", func(t *testing.T) {
		for _, sc := range []*scenarios.Scenario{scenarioWith(), scenarioWith(step("redis-oom", nil), step("pg-conn-kill", nil))} {
			setup, err := faults.Prepare(ctx, sc, srv, faults.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if setup.Servers() != srv {
				t.Errorf("%d faults without network ones: Servers() is not the provisioned servers", len(sc.Faults))
			}
			if err := setup.Close(); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("proxies for network faults", func(t *testing.T) {
		setup, err := faults.Prepare(ctx, scenarioWith(step("redis-partition", nil), step("pg-latency", nil)), srv, faults.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer setup.Close()
		got := setup.Servers()
		if got.Redis.Addr == srv.Redis.Addr || got.Postgres.Addr == srv.Postgres.Addr {
			t.Fatalf("Servers() = redis %s, postgres %s: want the proxies, not the servers", got.Redis.Addr, got.Postgres.Addr)
		}
		if got.Redis.Control != srv.Redis.Control || got.Postgres.Control != srv.Postgres.Control {
			t.Error("the proxied servers lost the real Control")
		}
		if setup.Real() != srv {
			t.Error("Real() is not the provisioned servers")
		}
		rc := got.RedisClient(docker.DefaultClientConfig())
		defer rc.Close()
		if err := rc.Set(bg, "gb:test:proxy", "1", 0).Err(); err != nil {
			t.Fatalf("SET through the proxy: %v", err)
		}
		pool, err := got.PostgresPool(bg, docker.DefaultClientConfig())
		if err != nil {
			t.Fatalf("PostgreSQL through the proxy: %v", err)
		}
		pool.Close()
		if err := setup.Close(); err != nil {
			t.Error(err)
		}
		for _, a := range []string{got.Redis.Addr, got.Postgres.Addr} {
			if !refuses(a) {
				t.Errorf("proxy %s still accepts connections after Close", a)
			}
		}
	})

	t.Run("Close heals what the runner did not", func(t *testing.T) {
		before, err := srv.RedisClient(docker.DefaultClientConfig()).ConfigGet(bg, "maxmemory").Result()
		if err != nil {
			t.Fatal(err)
		}
		r := newRig(t, srv, "cache-aside", step("redis-oom", nil))
		r.inject()
		if err := r.setup.Close(); err != nil {
			t.Fatal(err)
		}
		after, err := r.direct.ConfigGet(bg, "maxmemory").Result()
		if err != nil || after["maxmemory"] != before["maxmemory"] {
			t.Errorf("maxmemory after Close = %v (%v), want %s", after["maxmemory"], err, before["maxmemory"])
		}
	})

	t.Run("external servers", func(t *testing.T) {
		// The same servers seen as external: no Control.
		rs, ps := *srv.Redis, *srv.Postgres
		rs.Control, ps.Control = nil, nil
		ext := &docker.Servers{Provider: docker.ProviderExternal, Redis: &rs, Postgres: &ps}
		_, err := faults.Prepare(ctx, scenarioWith(step("redis-oom", nil)), ext, faults.Options{})
		if err == nil || !strings.Contains(err.Error(), faults.AllowServerChangesFlag) {
			t.Errorf("redis-oom on an external Redis: %v, want a refusal naming %s", err, faults.AllowServerChangesFlag)
		}
		_, err = faults.Prepare(ctx, scenarioWith(step("redis-pause", nil)), ext, faults.Options{AllowServerChanges: true})
		if err == nil {
			t.Error("redis-pause on an external Redis was accepted")
		}
	})
}
