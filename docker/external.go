package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// externalTimeout bounds the first connection to an external server.
const externalTimeout = 5 * time.Second

// provisionExternal checks the user's URLs and connects to both servers.
// It changes nothing on them.
func provisionExternal(ctx context.Context, cfg *Config) (*Servers, error) {
	pgName, redisName := cfg.settingName("postgres-url"), cfg.settingName("redis-url")
	if err := checkPostgresURL(cfg.PostgresURL); err != nil {
		return nil, fmt.Errorf("%s: %w", pgName, err)
	}
	if err := checkRedisURL(cfg.RedisURL); err != nil {
		return nil, fmt.Errorf("%s: %w", redisName, err)
	}
	pgcfg, err := pgx.ParseConfig(cfg.PostgresURL)
	if err != nil {
		return nil, fmt.Errorf("%s: malformed URL %q: %w", pgName, redactURL(cfg.PostgresURL), err)
	}
	rs, err := redisServer(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("%s: malformed URL %q: %w", redisName, redactURL(cfg.RedisURL), err)
	}
	s := &Servers{
		Postgres: &Server{Name: "postgres", Addr: fmt.Sprintf("%s:%d", pgcfg.Host, pgcfg.Port), URL: cfg.PostgresURL},
		Redis:    rs,
	}
	ctx, cancel := context.WithTimeout(ctx, externalTimeout)
	defer cancel()
	var pgErr, redisErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.Postgres.Version, s.Postgres.Settings, pgErr = describePostgres(ctx, s.Postgres.URL)
		if pgErr != nil {
			pgErr = fmt.Errorf("%s: cannot use postgres at %s: %w", pgName, s.Postgres.Redacted(), pgErr)
		}
	}()
	go func() {
		defer wg.Done()
		// A plain dial first: go-redis would log every failed dial.
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", s.Redis.Addr)
		if err != nil {
			redisErr = fmt.Errorf("%s: cannot use redis at %s: %w", redisName, s.Redis.Redacted(), err)
			return
		}
		conn.Close()
		s.Redis.Version, s.Redis.Settings, redisErr = describeRedis(ctx, s.Redis.redisOpts)
		if redisErr != nil {
			redisErr = fmt.Errorf("%s: cannot use redis at %s: %w", redisName, s.Redis.Redacted(), redisErr)
		}
	}()
	wg.Wait()
	if err := joinErrors(pgErr, redisErr); err != nil {
		return nil, err
	}
	if err := externalTopology(ctx, cfg, s); err != nil {
		return nil, err
	}
	s.footprint = func() Footprint { return Footprint{} }
	return s, nil
}

// checkPostgresURL accepts postgres:// and postgresql:// URLs with a host.
// Errors quote the URL redacted.
func checkPostgresURL(raw string) error {
	u, err := parseURL(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("malformed URL %q: scheme must be postgres:// or postgresql://", redactURL(raw))
	}
	if u.Host == "" {
		return fmt.Errorf("malformed URL %q: no host", redactURL(raw))
	}
	return nil
}

// checkRedisURL accepts redis:// and rediss:// URLs with a host.
func checkRedisURL(raw string) error {
	u, err := parseURL(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return fmt.Errorf("malformed URL %q: scheme must be redis:// or rediss://", redactURL(raw))
	}
	if u.Host == "" {
		return fmt.Errorf("malformed URL %q: no host", redactURL(raw))
	}
	return nil
}

// parseURL parses raw, and on failure returns an error that quotes raw
// redacted and leaves out net/url's own quote of it.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("malformed URL %q: %w", redactURL(raw), err)
	}
	if !strings.Contains(raw, "://") {
		return nil, fmt.Errorf("malformed URL %q: want a URL such as scheme://host:port/path", redactURL(raw))
	}
	return u, nil
}
