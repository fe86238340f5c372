package faults_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

func TestRedisFaults(t *testing.T) { testRedisFaults(t, servertest.Start(t)) }

// TestRedisFaultsDocker runs the same faults, with the same checks, on
// servers in containers: pauses are container pauses, kills container kills.
func TestRedisFaultsDocker(t *testing.T) { testRedisFaults(t, servertest.StartDocker(t)) }

func testRedisFaults(t *testing.T, srv *docker.Servers) {
	bg := context.Background()

	t.Run("redis-down", func(t *testing.T) {
		r := newRig(t, srv, "cache-aside", step("redis-down", nil))
		if err := r.direct.Set(bg, "gb:test:down", "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		r.inject()
		if err := r.env.Redis.Ping(bg).Err(); err == nil {
			t.Error("PING answered while Redis is down")
		}
		if _, err := net.DialTimeout("tcp", srv.Redis.Addr, time.Second); err == nil {
			t.Error("Redis port accepts connections while Redis is down")
		}
		r.heal()
		if err := r.env.Redis.Ping(bg).Err(); err != nil {
			t.Errorf("PING after heal: %v", err)
		}
		if n, err := r.direct.Exists(bg, "gb:test:down").Result(); err != nil || n != 0 {
			t.Errorf("after heal EXISTS = %d, %v; want 0 (Redis comes back empty)", n, err)
		}
	})

	t.Run("redis-down via proxy", func(t *testing.T) {
		r := newRig(t, srv, "cache-aside", step("redis-down", map[string]string{"via": "proxy"}))
		if r.setup.Servers().Redis.Addr == srv.Redis.Addr {
			t.Fatal("via=proxy: the run's Redis address is the real one, want the proxy's")
		}
		r.inject()
		if err := r.env.Redis.Ping(bg).Err(); err == nil {
			t.Error("PING through the disabled proxy answered")
		}
		if err := r.direct.Ping(bg).Err(); err != nil {
			t.Errorf("the real Redis must stay up: %v", err)
		}
		r.heal()
		if err := r.env.Redis.Ping(bg).Err(); err != nil {
			t.Errorf("PING through the proxy after heal: %v", err)
		}
	})

	t.Run("redis-oom", func(t *testing.T) {
		r := newRig(t, srv, "cache-aside", step("redis-oom", nil))
		before, err := r.direct.ConfigGet(bg, "maxmemory*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := r.env.Redis.Set(bg, "gb:test:oom", "before", 0).Err(); err != nil {
			t.Fatal(err)
		}
		r.inject()
		err = r.env.Redis.Set(bg, "gb:test:oom", "during", 0).Err()
		if err == nil || !strings.HasPrefix(err.Error(), "OOM ") {
			t.Errorf("SET during redis-oom: %v, want Redis's OOM error", err)
		}
		if v, err := r.env.Redis.Get(bg, "gb:test:oom").Result(); err != nil || v != "before" {
			t.Errorf("GET during redis-oom = %q, %v; want the old value (reads work)", v, err)
		}
		r.heal()
		if err := r.env.Redis.Set(bg, "gb:test:oom", "after", 0).Err(); err != nil {
			t.Errorf("SET after heal: %v", err)
		}
		after, err := r.direct.ConfigGet(bg, "maxmemory*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"maxmemory", "maxmemory-policy"} {
			if after[k] != before[k] {
				t.Errorf("after heal %s = %s, want %s restored", k, after[k], before[k])
			}
		}
	})

	t.Run("redis-latency", func(t *testing.T) {
		// Latency under the session's 500ms client timeout; "not delayed"
		// is "under 230ms", which holds on a loaded machine too.
		r := newRig(t, srv, "cache-aside", step("redis-latency", map[string]string{"latency": "250ms", "jitter": "20ms"}))
		_ = r.env.Redis.Ping(bg) // a pooled connection exists before the toxic
		r.inject()
		d, err := timed(func() error { return r.env.Redis.Ping(bg).Err() })
		if err != nil || d < 230*time.Millisecond {
			t.Errorf("PING during redis-latency took %v (%v), want at least 230ms", d, err)
		}
		r.heal()
		d, err = timed(func() error { return r.env.Redis.Ping(bg).Err() })
		if err != nil || d >= 230*time.Millisecond {
			t.Errorf("PING after heal took %v (%v), want under 230ms", d, err)
		}
	})

	t.Run("redis-lost-replies", func(t *testing.T) {
		r := newRig(t, srv, "cache-aside", step("redis-lost-replies", nil))
		// An open pooled connection: on a new one go-redis would wait for
		// its HELLO reply, which is lost too, and never send the SET.
		if err := r.env.Redis.Ping(bg).Err(); err != nil {
			t.Fatal(err)
		}
		r.inject()
		d, err := timed(func() error { return r.env.Redis.Set(bg, "gb:test:lost", "applied", 0).Err() })
		if !isTimeout(err) {
			t.Errorf("SET during redis-lost-replies: %v after %v, want a client timeout", err, d)
		}
		// The command reached Redis and was applied: only the reply was lost.
		if v, err := r.direct.Get(bg, "gb:test:lost").Result(); err != nil || v != "applied" {
			t.Errorf("direct GET = %q, %v; want the value the timed-out SET wrote", v, err)
		}
		r.heal()
		if err := r.env.Redis.Set(bg, "gb:test:lost", "after", 0).Err(); err != nil {
			t.Errorf("SET after heal: %v", err)
		}
	})

	t.Run("redis-partition", func(t *testing.T) {
		r := newRig(t, srv, "cache-aside", step("redis-partition", nil))
		r.inject()
		if err := r.env.Redis.Ping(bg).Err(); !isTimeout(err) {
			t.Errorf("PING during redis-partition: %v, want a client timeout (no reset)", err)
		}
		if err := r.env.Redis.Set(bg, "gb:test:part", "sent", 0).Err(); !isTimeout(err) {
			t.Errorf("SET during redis-partition: %v, want a client timeout", err)
		}
		// Nothing reached Redis either.
		if n, err := r.direct.Exists(bg, "gb:test:part").Result(); err != nil || n != 0 {
			t.Errorf("direct EXISTS = %d, %v; want 0 (the SET never arrived)", n, err)
		}
		r.heal()
		if err := r.env.Redis.Ping(bg).Err(); err != nil {
			t.Errorf("PING after heal: %v", err)
		}
	})

	t.Run("redis-restart", func(t *testing.T) {
		r := newRig(t, srv, "cache-aside", step("redis-restart", nil))
		if err := r.direct.Set(bg, "gb:test:restart", "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		r.inject()
		if err := r.env.Redis.Ping(bg).Err(); err == nil {
			t.Error("PING answered while Redis is crashed")
		}
		r.heal()
		if n, err := r.direct.Exists(bg, "gb:test:restart").Result(); err != nil || n != 0 {
			t.Errorf("after restart EXISTS = %d, %v; want 0 (data lost)", n, err)
		}
	})

	t.Run("redis-pause", func(t *testing.T) {
		r := newRig(t, srv, "cache-aside", step("redis-pause", nil))
		if err := r.direct.Set(bg, "gb:test:pause", "kept", 0).Err(); err != nil {
			t.Fatal(err)
		}
		r.inject()
		d, err := timed(func() error { return r.env.Redis.Ping(bg).Err() })
		if !isTimeout(err) {
			t.Errorf("PING during redis-pause: %v after %v, want a client timeout", err, d)
		}
		r.heal()
		if v, err := r.env.Redis.Get(bg, "gb:test:pause").Result(); err != nil || v != "kept" {
			t.Errorf("GET after heal = %q, %v; want the value (a pause loses nothing)", v, err)
		}
	})
}
