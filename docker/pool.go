package docker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolOption adjusts a PostgreSQL pool that PostgresPool opens, beyond
// what ClientConfig says.
type PoolOption func(*poolOptions)

type poolOptions struct {
	warm          int
	runtimeParams map[string]string
	pingTimeout   time.Duration
	server        *Server // nil: Servers.Postgres
	backends      *Backends
	tracer        pgx.QueryTracer
}

// Backends is the set of PostgreSQL backend process ids of the
// connections a pool opened and has not closed: what a fault that kills a
// run's own sessions (pg-conn-kill) may kill, and nothing else. It is safe
// for concurrent use.
type Backends struct {
	mu   sync.Mutex
	pids map[uint32]struct{}
}

// NewBackends returns an empty set.
func NewBackends() *Backends { return &Backends{pids: map[uint32]struct{}{}} }

func (b *Backends) add(pid uint32) {
	b.mu.Lock()
	b.pids[pid] = struct{}{}
	b.mu.Unlock()
}

func (b *Backends) remove(pid uint32) {
	b.mu.Lock()
	delete(b.pids, pid)
	b.mu.Unlock()
}

// PIDs returns the backend pids recorded, in no particular order.
func (b *Backends) PIDs() []uint32 {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]uint32, 0, len(b.pids))
	for p := range b.pids {
		out = append(out, p)
	}
	return out
}

// TrackBackends records in b the backend pid of every connection the pool
// makes (pg_backend_pid(), as the server announced it at startup in
// BackendKeyData), and forgets it when the pool closes the connection.
func TrackBackends(b *Backends) PoolOption {
	return func(o *poolOptions) { o.backends = b }
}

// WithTracer makes every connection of the pool report its queries to t
// (pgx's QueryTracer): how a scheduler sees each statement before it is
// sent.
func WithTracer(t pgx.QueryTracer) PoolOption {
	return func(o *poolOptions) { o.tracer = t }
}

// OnServer opens the pool on srv, another PostgreSQL server of the
// topology (Topology.PostgresReplica), instead of Servers.Postgres.
func OnServer(srv *Server) PoolOption {
	return func(o *poolOptions) { o.server = srv }
}

// WarmConns keeps n connections open at all times (pgxpool MinConns)
// instead of opening every one on demand.
func WarmConns(n int) PoolOption {
	return func(o *poolOptions) { o.warm = n }
}

// RuntimeParam sets a session parameter (application_name,
// synchronous_commit, statement_timeout, ...) on every connection of the
// pool, as the startup message sends it.
func RuntimeParam(name, value string) PoolOption {
	return func(o *poolOptions) {
		if o.runtimeParams == nil {
			o.runtimeParams = map[string]string{}
		}
		o.runtimeParams[name] = value
	}
}

// PingTimeout bounds the check that one connection works; without it only
// ctx bounds it.
func PingTimeout(d time.Duration) PoolOption {
	return func(o *poolOptions) { o.pingTimeout = d }
}

// PostgresPool returns a pgx pool for the PostgreSQL server with
// cc.DialTimeout as connect timeout and cc.PoolSize as the maximum number
// of connections, adjusted by opts, after checking that one connection
// works. The caller closes it. The error never contains the password.
func (s *Servers) PostgresPool(ctx context.Context, cc ClientConfig, opts ...PoolOption) (*pgxpool.Pool, error) {
	var o poolOptions
	for _, opt := range opts {
		opt(&o)
	}
	target := s.Postgres
	if o.server != nil {
		target = o.server
	}
	cfg, err := pgxpool.ParseConfig(target.URL)
	if err != nil {
		return nil, scrubError(fmt.Errorf("postgres pool for %s: %w", target.Redacted(), err))
	}
	cfg.ConnConfig.ConnectTimeout = cc.DialTimeout
	if cc.PoolSize > 0 {
		cfg.MaxConns = int32(cc.PoolSize)
	}
	if o.warm > 0 {
		cfg.MinConns = int32(o.warm)
	}
	for k, v := range o.runtimeParams {
		cfg.ConnConfig.RuntimeParams[k] = v
	}
	if o.tracer != nil {
		cfg.ConnConfig.Tracer = o.tracer
	}
	if b := o.backends; b != nil {
		cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
			b.add(c.PgConn().PID())
			return nil
		}
		cfg.BeforeClose = func(c *pgx.Conn) { b.remove(c.PgConn().PID()) }
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, scrubError(fmt.Errorf("postgres pool for %s: %w", target.Redacted(), err))
	}
	pctx := ctx
	if o.pingTimeout > 0 {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, o.pingTimeout)
		defer cancel()
	}
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, scrubError(fmt.Errorf("postgres pool for %s: %w", target.Redacted(), err))
	}
	return pool, nil
}
