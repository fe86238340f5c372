package wire_test

import (
	"testing"

	"github.com/ghostbench/ghostbench/internal/servertest"
)

// TestProxies runs the tests against real servers, all on one pair of
// servers started once: Redis and PostgreSQL through their proxies with
// Go clients, then with redis-py and psycopg from Python.
func TestProxies(t *testing.T) {
	s := servertest.Start(t)
	t.Run("redis", func(t *testing.T) { testRedis(t, s) })
	t.Run("postgres", func(t *testing.T) { testPostgres(t, s) })
	t.Run("python", func(t *testing.T) { testPython(t, s) })
}
