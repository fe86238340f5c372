package wire_test

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/wire"
)

// recorder is a Gate that records every command and answers with what
// decide returns (Forward when decide is nil).
type recorder struct {
	mu     sync.Mutex
	cmds   []wire.Command
	acts   []wire.Action
	decide func(wire.Command) wire.Action
}

func (r *recorder) gate(_ context.Context, c wire.Command) wire.Action {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := wire.Forward
	if r.decide != nil {
		a = r.decide(c)
	}
	r.cmds = append(r.cmds, c)
	r.acts = append(r.acts, a)
	return a
}

// set replaces the decision function.
func (r *recorder) set(decide func(wire.Command) wire.Action) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.decide = decide
}

// commands returns the commands recorded so far, and forgets them.
func (r *recorder) take() []wire.Command {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.cmds
	r.cmds, r.acts = nil, nil
	return c
}

// names returns the names of cmds, without the connection-setup commands
// a client sends on its own.
func names(cmds []wire.Command) []string {
	var out []string
	for _, c := range cmds {
		switch c.Name {
		case "HELLO", "CLIENT", "AUTH", "SELECT":
			if c.Server == wire.Redis {
				continue
			}
		}
		out = append(out, c.Name)
	}
	return out
}

// on returns a decision function that answers a for commands named name
// whose first key is key (any key when key is ""), Forward otherwise.
func on(name, key string, a wire.Action) func(wire.Command) wire.Action {
	return func(c wire.Command) wire.Action {
		if c.Name == name && (key == "" || len(c.Keys) > 0 && c.Keys[0] == key) {
			return a
		}
		return wire.Forward
	}
}

// listen starts a proxy closed when the test ends.
func listen(t testing.TB, server, upstream string, g wire.Gate, opts ...wire.Option) *wire.Proxy {
	t.Helper()
	p, err := wire.Listen(context.Background(), server, upstream, g, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// redisVia returns a go-redis client for the server s.Redis reached at
// addr, with a short read timeout and no retries.
func redisVia(t testing.TB, s *docker.Servers, addr string) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(s.Redis.URL)
	if err != nil {
		t.Fatal(err)
	}
	o.Addr = addr
	o.Protocol = 2
	o.DisableIdentity = true
	o.MaxRetries = -1
	o.DialTimeout = 2 * time.Second
	o.ReadTimeout = 300 * time.Millisecond
	o.WriteTimeout = 2 * time.Second
	o.ContextTimeoutEnabled = true
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// pgConfigVia returns a pgx configuration for s.Postgres reached at addr.
func pgConfigVia(t testing.TB, s *docker.Servers, addr string) *pgx.ConnConfig {
	t.Helper()
	cfg, err := pgx.ParseConfig(s.Postgres.URL)
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	cfg.Host, cfg.Port = host, uint16(p)
	cfg.Fallbacks = nil
	return cfg
}

// pgVia connects pgx to s.Postgres through addr.
func pgVia(t testing.TB, s *docker.Servers, addr string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, pgConfigVia(t, s, addr))
	if err != nil {
		t.Fatalf("connect through %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// ctxT returns a context bounded in time for one step of a test.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
