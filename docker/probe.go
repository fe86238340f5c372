package docker

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// pollInterval is the pause between two readiness attempts.
const pollInterval = 5 * time.Millisecond

// waitReady calls try until it succeeds, ctx is done, exited (when not nil)
// reports the server gone, or timeout passes. The error names the last
// failure of try.
func waitReady(ctx context.Context, timeout time.Duration, try func(context.Context) error, exited func() error) error {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if exited != nil {
			if err := exited(); err != nil {
				return err
			}
		}
		actx, acancel := context.WithTimeout(tctx, time.Second)
		last := try(actx)
		acancel()
		if last == nil {
			return nil
		}
		select {
		case <-tctx.Done():
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%w (last attempt: %v)", err, last)
			}
			return fmt.Errorf("not ready after %v: %w", timeout, last)
		case <-tick.C:
		}
	}
}

// pingPostgres opens one real connection to url and runs a query.
func pingPostgres(ctx context.Context, url string) error {
	var one int
	return queryOnce(ctx, url, "SELECT 1", &one)
}

// queryOnce opens one fresh connection to url (1 s to connect), scans the
// one row of query into dest and closes the connection.
func queryOnce(ctx context.Context, url, query string, dest ...any) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	cfg.ConnectTimeout = time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.QueryRow(ctx, query).Scan(dest...)
}

// PingRedis opens one fresh connection to addr and expects an answer to
// PING: PONG, or NOAUTH from a server that wants a password (it answered).
// It speaks the protocol directly, so it needs no credentials and logs
// nothing (polling through go-redis would log every refused dial). It
// returns the dial or read error, or one naming an unexpected answer.
func PingRedis(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	line = strings.TrimSpace(line)
	if line != "+PONG" && !strings.HasPrefix(line, "-NOAUTH") {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// postgresSettingNames are the settings reported in Server.Settings.
var postgresSettingNames = []string{
	"fsync", "synchronous_commit", "wal_level", "max_connections",
	"max_wal_senders", "max_replication_slots", "full_page_writes",
	"shared_buffers", "dynamic_shared_memory_type", "data_directory",
}

// describePostgres reads the server's version and effective settings.
func describePostgres(ctx context.Context, url string) (version string, settings map[string]string, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "", nil, err
	}
	cfg.ConnectTimeout = 5 * time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return "", nil, fmt.Errorf("SHOW server_version: %w", err)
	}
	// Sizes are reported in bytes, whatever unit pg_settings counts in.
	rows, err := conn.Query(ctx, `SELECT name, CASE
		WHEN unit = '8kB' THEN (setting::bigint * 8192)::text
		WHEN unit = 'kB' THEN (setting::bigint * 1024)::text
		WHEN unit = 'MB' THEN (setting::bigint * 1048576)::text
		ELSE setting || coalesce(unit, '') END
		FROM pg_settings WHERE name = ANY($1)`, postgresSettingNames)
	if err != nil {
		return "", nil, fmt.Errorf("read pg_settings: %w", err)
	}
	settings = map[string]string{}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return "", nil, fmt.Errorf("read pg_settings: %w", err)
		}
		settings[name] = value
	}
	if err := rows.Err(); err != nil {
		return "", nil, fmt.Errorf("read pg_settings: %w", err)
	}
	return version, settings, nil
}

// describeRedis reads the server's version and effective settings. It uses
// CONFIG GET where the server allows it and INFO otherwise (managed servers
// often disable CONFIG).
func describeRedis(ctx context.Context, opts *redis.Options) (version string, settings map[string]string, err error) {
	o := *opts
	o.MaxRetries = -1
	o.DialerRetries = 1
	o.PoolSize = 1
	o.DisableIdentity = true
	o.ContextTimeoutEnabled = true
	c := redis.NewClient(&o)
	defer c.Close()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return "", nil, fmt.Errorf("INFO server: %w", err)
	}
	version = infoField(info, "redis_version")
	settings = map[string]string{}
	cfg, err := c.ConfigGet(ctx, "*").Result()
	if err == nil {
		for _, k := range []string{"maxmemory", "maxmemory-policy", "save", "appendonly", "protected-mode"} {
			if v, ok := cfg[k]; ok {
				settings[k] = v
			}
		}
		return version, settings, nil
	}
	mem, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return "", nil, fmt.Errorf("INFO memory: %w", err)
	}
	settings["maxmemory"] = infoField(mem, "maxmemory")
	settings["maxmemory-policy"] = infoField(mem, "maxmemory_policy")
	return version, settings, nil
}

// infoField returns the value of field in the text of an INFO reply.
func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}
