package docker

import (
	"context"
	"fmt"
	"time"

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
		return nil, scrubError(fmt.Errorf("postgres pool for %s: %w", target.Redacted(), err), s.secrets)
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
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, scrubError(fmt.Errorf("postgres pool for %s: %w", target.Redacted(), err), s.secrets)
	}
	pctx := ctx
	if o.pingTimeout > 0 {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, o.pingTimeout)
		defer cancel()
	}
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, scrubError(fmt.Errorf("postgres pool for %s: %w", target.Redacted(), err), s.secrets)
	}
	return pool, nil
}
