// Package strategies holds the caching strategies ghostbench ships, the
// environment a strategy is built from, and the registry that finds a
// strategy by name.
//
// A strategy is built by a Factory from an Env: a PostgreSQL pool, a Redis
// client, the store (the only way to write a row), the TTL to put on every
// cache entry, the interleaving hooks and its own parameters. Strategies
// never time themselves: the runner times every call at the boundary.
//
// A user's own strategy is a Factory registered in a Registry; package
// strategytest checks it against the same conformance suite as the built-in
// ones.
package strategies

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/store"
)

// Env is everything a strategy is built from.
type Env struct {
	// DB is the PostgreSQL pool (the store uses the same one).
	DB *pgxpool.Pool
	// Redis is the cache client. It is a UniversalClient so that a
	// cluster works without changing strategies.
	Redis redis.UniversalClient
	// Sentinel is what the Redis client follows when it is a failover
	// client (topology redis-replica: the Sentinels, the master's name,
	// credentials, timeouts), for a strategy that builds its own client
	// of the same servers (rueidis); nil otherwise. go-redis does not
	// say it: its failover client's options name no server.
	Sentinel *redis.FailoverOptions
	// Store runs the write transaction and records it.
	Store *store.Store
	// Replica reads rows from the PostgreSQL read replica (topology
	// pg-replica), for fills with fill-from=replica; nil without one.
	Replica *store.Store
	// TTL is put on every cache entry a strategy writes; 0 means none
	// (useful to unmask bugs that a TTL hides).
	TTL time.Duration
	// Prefix is put before every cache key; the harness touches no other
	// keys. Default "gb:".
	Prefix string
	// Hooks are the interleaving points; may be nil.
	Hooks *gb.Hooks
	// Params are the strategy's own parameters (see Info.Params), already
	// validated by the registry.
	Params Params
	// Warn reports an error that did not fail the operation (a
	// best-effort DEL that failed after COMMIT; on the read path, marked
	// with gb.Fill, a failed GET or fill). May be nil.
	Warn func(key gb.Key, err error)
	// Log receives debug messages; may be nil.
	Log *slog.Logger

	// PostgresURL and RedisURL are the servers as the run reaches them
	// (through the fault proxies when the scenario has network faults),
	// for a strategy that opens its own connections (a foreign process,
	// package strategies/process). Empty when the caller did not say.
	PostgresURL, RedisURL string
	// PostgresTimeout and RedisTimeout are the scenario's client timeouts
	// (0: none given), for the same strategies.
	PostgresTimeout, RedisTimeout time.Duration
}

func (e *Env) warn(key gb.Key, err error) {
	if e.Warn != nil && err != nil {
		e.Warn(key, err)
	}
}

// warnFill reports a cache error on the read path that did not fail the
// read (a GET that fell back to the database, a failed fill), marked with
// gb.Fill so that it is counted apart from the errors after COMMIT.
func (e *Env) warnFill(key gb.Key, err error) {
	if e.Warn != nil && err != nil {
		e.Warn(key, gb.Fill(err))
	}
}

// Params are a strategy's parameters as name=value strings, with typed
// getters. Unknown names are refused by the registry before a strategy is
// built, so a getter only ever sees declared names.
type Params map[string]string

// Duration returns the named parameter as a duration, or def when unset.
// "none" and "0" are zero.
func (p Params) Duration(name string, def time.Duration) (time.Duration, error) {
	s, ok := p[name]
	if !ok || s == "" {
		return def, nil
	}
	if s == "none" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("parameter %s = %q: want a non-negative duration such as 280ms or 1s", name, s)
	}
	return d, nil
}

// ParseParams parses "name=value,name=value" (as given to -param). An empty
// string is no parameters.
func ParseParams(s string) (Params, error) {
	p := Params{}
	if strings.TrimSpace(s) == "" {
		return p, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("parameter %q: want name=value", kv)
		}
		if v == "" {
			return nil, fmt.Errorf("parameter %q: empty value: want name=value with a value (omit the parameter for its default)", kv)
		}
		if _, dup := p[k]; dup {
			return nil, fmt.Errorf("parameter %s given twice (%s=%s and %s): want each parameter once", k, k, p[k], kv)
		}
		p[k] = v
	}
	return p, nil
}

// String returns the parameters as "a=1,b=2" in name order.
func (p Params) String() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + p[k])
	}
	return b.String()
}
