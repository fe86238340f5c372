package servertest_test

import (
	"context"
	"testing"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
)

// TestStart checks that Start hands back two working servers and that
// their teardown is registered.
func TestStart(t *testing.T) {
	var fp docker.Footprint
	t.Run("servers", func(t *testing.T) {
		s := servertest.Start(t)
		fp = s.Footprint()
		ctx := context.Background()
		pool, err := s.PostgresPool(ctx, docker.DefaultClientConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		var got int
		if err := pool.QueryRow(ctx, "SELECT 41 + 1").Scan(&got); err != nil || got != 42 {
			t.Fatalf("SELECT 41 + 1 = %d, %v; want 42", got, err)
		}
		rc := s.RedisClient(docker.DefaultClientConfig())
		defer rc.Close()
		if err := rc.Set(ctx, "servertest:k", "v", 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
		if v, err := rc.Get(ctx, "servertest:k").Result(); err != nil || v != "v" {
			t.Fatalf("GET = %q, %v; want \"v\"", v, err)
		}
	})
	// The sub-test's cleanup has run: nothing it started may remain.
	for _, pid := range fp.PIDs {
		if docker.ProcessAlive(pid) {
			t.Errorf("server process %d still alive after the test ended", pid)
		}
	}
}
