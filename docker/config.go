package docker

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Provider names accepted by Config.Provider and GHOSTBENCH_PROVIDER.
const (
	ProviderAuto     = "auto"
	ProviderExternal = "external"
	ProviderDocker   = "docker"
	ProviderLocal    = "local"
)

// Environment variables read by ConfigFromEnv.
const (
	EnvProvider    = "GHOSTBENCH_PROVIDER"
	EnvPostgresURL = "GHOSTBENCH_POSTGRES_URL"
	EnvRedisURL    = "GHOSTBENCH_REDIS_URL"
)

// Config says which servers to use and how to configure the ones the
// harness starts itself. The zero value is valid: automatic choice of
// provider and default settings.
type Config struct {
	// Provider is "auto" (also when empty), "external", "docker" or "local".
	Provider string
	// PostgresURL and RedisURL name servers the user runs. Setting either
	// selects the external provider under "auto"; it needs both.
	PostgresURL string
	RedisURL    string
	// Topology is the servers' topology: single (also when empty),
	// pg-replica, redis-replica or redis-cluster.
	Topology string
	// PostgresReplicaURL, RedisSentinelURL and RedisClusterURL name the
	// user's servers of a topology (external provider): a streaming
	// standby of PostgresURL; Sentinels watching the Redis primary; a
	// cluster (which replaces RedisURL).
	PostgresReplicaURL string
	RedisSentinelURL   string
	RedisClusterURL    string
	// Postgres and Redis are the server settings applied by the docker and
	// local providers. Zero fields take the defaults. The external provider
	// changes nothing on the user's servers and only reports their values.
	Postgres PostgresSettings
	Redis    RedisSettings
	// Logf, when set, receives progress and debug messages. They are
	// redacted like errors.
	Logf func(format string, args ...any)

	// PostgresImage and RedisImage are the images of the docker provider.
	// Empty means the pinned PostgresImage and RedisImage.
	PostgresImage string
	RedisImage    string
	// PullTimeout bounds the pull of the images the engine lacks, all of
	// them together; zero means DefaultPullTimeout. A pull that shows no
	// progress for a minute is given up earlier.
	PullTimeout time.Duration
	// Progress, when set, receives the pull progress as one line redrawn
	// in place (a terminal). ConfigFromEnv sets it to standard error when
	// that is a terminal.
	Progress io.Writer

	// envErr is an environment variable ConfigFromEnv could not parse;
	// Provision reports it.
	envErr error

	// origin maps a setting ("provider", "postgres-url", "redis-url") to the
	// name the user gave it by, so that errors name what the user typed.
	origin map[string]string
}

// PostgresSettings are the PostgreSQL server settings that change results.
// The zero value means the defaults of DefaultPostgresSettings.
type PostgresSettings struct {
	// Fsync is the fsync setting. Off (false) by default: the servers are
	// scratch servers and the benchmark measures caching, not disks.
	Fsync bool
	// SynchronousCommit is synchronous_commit: on, off, local,
	// remote_write or remote_apply. Empty means "on".
	SynchronousCommit string
	// WALLevel is wal_level: minimal, replica or logical. Empty means
	// "logical", which WAL-based invalidation needs.
	WALLevel string
	// MaxConnections is max_connections. Zero means 200.
	MaxConnections int
}

// RedisSettings are the Redis server settings that change results. The zero
// value means the defaults of DefaultRedisSettings.
type RedisSettings struct {
	// MaxMemory is maxmemory in Redis syntax ("1gb", "256mb", "0" for no
	// limit). Empty means "1gb".
	MaxMemory string
	// MaxMemoryPolicy is maxmemory-policy. Empty means "allkeys-lru", the
	// usual policy of a cache.
	MaxMemoryPolicy string
}

// DefaultPostgresSettings returns the settings used when none are given:
// fsync off, synchronous_commit on, wal_level logical, max_connections 200.
func DefaultPostgresSettings() PostgresSettings {
	return PostgresSettings{Fsync: false, SynchronousCommit: "on", WALLevel: "logical", MaxConnections: 200}
}

// DefaultRedisSettings returns the settings used when none are given:
// maxmemory 1gb with the allkeys-lru policy.
func DefaultRedisSettings() RedisSettings {
	return RedisSettings{MaxMemory: "1gb", MaxMemoryPolicy: "allkeys-lru"}
}

// withDefaults returns s with its empty fields set to the defaults.
func (s PostgresSettings) withDefaults() PostgresSettings {
	d := DefaultPostgresSettings()
	if s.SynchronousCommit == "" {
		s.SynchronousCommit = d.SynchronousCommit
	}
	if s.WALLevel == "" {
		s.WALLevel = d.WALLevel
	}
	if s.MaxConnections == 0 {
		s.MaxConnections = d.MaxConnections
	}
	return s
}

// withDefaults returns s with its empty fields set to the defaults.
func (s RedisSettings) withDefaults() RedisSettings {
	d := DefaultRedisSettings()
	if s.MaxMemory == "" {
		s.MaxMemory = d.MaxMemory
	}
	if s.MaxMemoryPolicy == "" {
		s.MaxMemoryPolicy = d.MaxMemoryPolicy
	}
	return s
}

// validate reports the first invalid setting, naming it. It expects
// defaults applied.
func (s PostgresSettings) validate() error {
	switch s.SynchronousCommit {
	case "on", "off", "local", "remote_write", "remote_apply":
	default:
		return fmt.Errorf("postgres synchronous_commit: invalid value %q (want on, off, local, remote_write or remote_apply)", s.SynchronousCommit)
	}
	switch s.WALLevel {
	case "minimal", "replica", "logical":
	default:
		return fmt.Errorf("postgres wal_level: invalid value %q (want minimal, replica or logical)", s.WALLevel)
	}
	if s.MaxConnections < 1 || s.MaxConnections > 10000 {
		return fmt.Errorf("postgres max_connections: invalid value %d (want 1 to 10000)", s.MaxConnections)
	}
	return nil
}

// walSenders is the number of WAL senders and replication slots configured
// with wal_level replica or logical; wal_level minimal requires zero.
func (s PostgresSettings) walSenders() int {
	if s.WALLevel == "minimal" {
		return 0
	}
	return 10
}

// args returns the settings as name=value pairs for "postgres -c", in a
// fixed order.
func (s PostgresSettings) args() []string {
	fsync := "off"
	if s.Fsync {
		fsync = "on"
	}
	n := strconv.Itoa(s.walSenders())
	return []string{
		"fsync=" + fsync,
		"synchronous_commit=" + s.SynchronousCommit,
		"wal_level=" + s.WALLevel,
		"max_wal_senders=" + n,
		"max_replication_slots=" + n,
		"max_connections=" + strconv.Itoa(s.MaxConnections),
	}
}

var memoryRE = regexp.MustCompile(`^(?i)[0-9]+(b|k|kb|m|mb|g|gb)?$`)

// validate reports the first invalid setting, naming it. It expects
// defaults applied.
func (s RedisSettings) validate() error {
	if !memoryRE.MatchString(s.MaxMemory) {
		return fmt.Errorf("redis maxmemory: invalid value %q (want a size such as 1gb, 256mb or 0)", s.MaxMemory)
	}
	switch s.MaxMemoryPolicy {
	case "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
		"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl":
	default:
		return fmt.Errorf("redis maxmemory-policy: invalid value %q (want noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random or volatile-ttl)", s.MaxMemoryPolicy)
	}
	return nil
}

// args returns the settings as redis-server command-line arguments.
func (s RedisSettings) args() []string {
	return []string{"--maxmemory", strings.ToLower(s.MaxMemory), "--maxmemory-policy", s.MaxMemoryPolicy}
}

// ConfigFromEnv returns a Config read from GHOSTBENCH_PROVIDER,
// GHOSTBENCH_POSTGRES_URL and GHOSTBENCH_REDIS_URL, with default server
// settings. It does not validate: Provision does.
func ConfigFromEnv() Config {
	c := Config{
		Provider:    strings.TrimSpace(os.Getenv(EnvProvider)),
		PostgresURL: strings.TrimSpace(os.Getenv(EnvPostgresURL)),
		RedisURL:    strings.TrimSpace(os.Getenv(EnvRedisURL)),
		Postgres:    DefaultPostgresSettings(),
		Redis:       DefaultRedisSettings(),
	}
	c.origin = map[string]string{}
	if c.Provider != "" {
		c.origin["provider"] = EnvProvider
	}
	if c.PostgresURL != "" {
		c.origin["postgres-url"] = EnvPostgresURL
	}
	if c.RedisURL != "" {
		c.origin["redis-url"] = EnvRedisURL
	}
	c.dockerFromEnv()
	c.topologyFromEnv()
	return c
}

// External reports whether c selects external servers: the external
// provider forced, or "auto" (the default) with a PostgreSQL or Redis URL
// set. Such servers are the user's own; the harness neither stops nor
// reconfigures them. It is the rule Provision applies, without provisioning.
func (c *Config) External() bool {
	switch c.Provider {
	case ProviderExternal:
		return true
	case "", ProviderAuto:
		return c.PostgresURL != "" || c.RedisURL != ""
	}
	return false
}

// settingName returns how the user named a setting, for error messages:
// the flag if a flag set it, the environment variable if the value came
// from there, else the Config field.
func (c *Config) settingName(key string) string {
	if n, ok := c.origin[key]; ok {
		return n
	}
	env, field, value := "", "", ""
	switch key {
	case "provider":
		env, field, value = EnvProvider, "Config.Provider", c.Provider
	case "postgres-url":
		env, field, value = EnvPostgresURL, "Config.PostgresURL", c.PostgresURL
	case "redis-url":
		env, field, value = EnvRedisURL, "Config.RedisURL", c.RedisURL
	case "postgres-image":
		env, field, value = EnvPostgresImage, "Config.PostgresImage", c.PostgresImage
	case "redis-image":
		env, field, value = EnvRedisImage, "Config.RedisImage", c.RedisImage
	case "pull-timeout":
		env, field, value = EnvPullTimeout, "Config.PullTimeout", c.PullTimeout.String()
	default:
		return key
	}
	if value == "" || strings.TrimSpace(os.Getenv(env)) == value {
		return env // an unset setting is best set through the environment
	}
	return field
}

// RegisterFlags defines on fs the flags -provider, -postgres-url,
// -redis-url, -pg-fsync, -pg-synchronous-commit, -pg-wal-level,
// -pg-max-connections, -redis-maxmemory, -redis-maxmemory-policy,
// -postgres-image, -redis-image and -pull-timeout. Their
// defaults are c's current values (call it on ConfigFromEnv() so that the
// environment gives the defaults), and parsing fs sets c's fields. URL
// defaults are shown redacted in the usage text.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.Postgres = c.Postgres.withDefaults()
	c.Redis = c.Redis.withDefaults()
	if c.origin == nil {
		c.origin = map[string]string{}
	}
	fs.Var(&stringFlag{p: &c.Provider, key: "provider", origin: c.origin}, "provider",
		"server provider: auto, external, docker or local (default from "+EnvProvider+", else auto)")
	fs.Var(&stringFlag{p: &c.PostgresURL, key: "postgres-url", origin: c.origin, secret: true}, "postgres-url",
		"PostgreSQL URL of a server you run (default from "+EnvPostgresURL+")")
	fs.Var(&stringFlag{p: &c.RedisURL, key: "redis-url", origin: c.origin, secret: true}, "redis-url",
		"Redis URL of a server you run (default from "+EnvRedisURL+")")
	c.registerTopologyFlags(fs)
	fs.BoolVar(&c.Postgres.Fsync, "pg-fsync", c.Postgres.Fsync, "PostgreSQL fsync for servers the harness starts")
	fs.StringVar(&c.Postgres.SynchronousCommit, "pg-synchronous-commit", c.Postgres.SynchronousCommit,
		"PostgreSQL synchronous_commit: on, off, local, remote_write or remote_apply")
	fs.StringVar(&c.Postgres.WALLevel, "pg-wal-level", c.Postgres.WALLevel, "PostgreSQL wal_level: minimal, replica or logical")
	fs.IntVar(&c.Postgres.MaxConnections, "pg-max-connections", c.Postgres.MaxConnections, "PostgreSQL max_connections")
	fs.StringVar(&c.Redis.MaxMemory, "redis-maxmemory", c.Redis.MaxMemory, "Redis maxmemory (e.g. 1gb, 256mb, 0 for no limit)")
	fs.StringVar(&c.Redis.MaxMemoryPolicy, "redis-maxmemory-policy", c.Redis.MaxMemoryPolicy, "Redis maxmemory-policy")
	c.registerDockerFlags(fs)
}

// stringFlag is a string flag that records that the user set it, and whose
// shown value is redacted when it may hold a password.
type stringFlag struct {
	p      *string
	key    string
	origin map[string]string
	secret bool
}

func (f *stringFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	if f.secret {
		return redactURL(*f.p)
	}
	return *f.p
}

func (f *stringFlag) Set(v string) error {
	*f.p = strings.TrimSpace(v)
	f.origin[f.key] = "-" + f.key
	return nil
}
