package docker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Servers is a provisioned pair of servers. Close tears down whatever the
// provider started.
type Servers struct {
	// Provider is the provider used: "external", "docker" or "local".
	Provider string
	// Reason says why that provider was chosen, for doctor and run records.
	Reason string
	// Postgres and Redis are the two servers.
	Postgres *Server
	Redis    *Server
	// Topology describes the servers beyond one of each (see
	// Config.Topology); its Name is empty for a single pair.
	Topology Topology

	sentinelOpts *redis.FailoverOptions // external Sentinel URL, parsed

	teardown  func(ctx context.Context) error // nil for external servers
	footprint func() Footprint

	closeOnce sync.Once
	closeErr  error
}

// Server is one provisioned server.
type Server struct {
	// Name is "postgres" or "redis".
	Name string
	// Addr is the server's host:port, "127.0.0.1:port" for servers the
	// harness starts.
	Addr string
	// URL is the full URL including credentials, e.g.
	// postgres://user:pw@127.0.0.1:port/db?sslmode=disable or
	// redis://127.0.0.1:port/0. Print Redacted instead.
	URL string
	// Version is the server version as the server reports it (SHOW
	// server_version, INFO server).
	Version string
	// Settings are the effective values of the settings that change
	// results, as read back from the server.
	Settings map[string]string
	// Control stops, starts, kills and pauses the server. It is nil for
	// external servers, which the harness must not disturb.
	Control Control

	redisOpts *redis.Options // parsed URL, for Redis servers
}

// Redacted returns the server's URL with any password replaced by "xxxxx".
func (s *Server) Redacted() string {
	if s == nil {
		return ""
	}
	return redactURL(s.URL)
}

// Control drives a server the harness started. Every method honours ctx
// and returns an error naming the server when it fails. Methods are safe to
// call from several goroutines.
type Control interface {
	// Stop stops the server gracefully. Start brings it back. Stopping a
	// stopped server does nothing.
	Stop(ctx context.Context) error
	// Start starts the server after Stop or Kill, on the same port, and
	// waits until it accepts connections. PostgreSQL keeps its data; Redis
	// starts empty (it has no persistence). Starting a running server does
	// nothing.
	Start(ctx context.Context) error
	// Kill kills the server at once (SIGKILL; container kill) and waits
	// until it is gone.
	Kill(ctx context.Context) error
	// Pause freezes the server (SIGSTOP; container pause): connections stay
	// open and commands hang. It fails on a stopped server.
	Pause(ctx context.Context) error
	// Resume thaws a paused server (SIGCONT; container unpause).
	Resume(ctx context.Context) error
	// Restart kills then starts the server; Redis data is lost.
	Restart(ctx context.Context) error
	// Running reports whether the server is up, paused or not.
	Running() bool
}

// Footprint lists what a provider started for a pair of servers: server
// process ids, temporary directories and container ids. Tests use it to
// check that teardown leaves nothing behind.
type Footprint struct {
	PIDs       []int
	Dirs       []string
	Containers []string
}

// Footprint returns what the provider started and has not yet removed. It
// is empty for external servers and after Close.
func (s *Servers) Footprint() Footprint {
	if s == nil || s.footprint == nil {
		return Footprint{}
	}
	return s.footprint()
}

// teardownTimeout bounds Close.
const teardownTimeout = time.Minute

// Close tears down what the provider started: it stops server processes
// and containers and removes temporary directories. For external servers
// it does nothing. Close is idempotent and safe to call on a nil *Servers;
// later calls return the first call's error.
func (s *Servers) Close() error {
	if s == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		if s.teardown == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), teardownTimeout)
		defer cancel()
		s.closeErr = scrubError(s.teardown(ctx))
	})
	return s.closeErr
}

// Provision starts or connects to a PostgreSQL server and a Redis server as
// cfg says, and returns them ready to accept connections. The provider is
// cfg.Provider, or under "auto" (or "") the first available of external
// (when a URL is given), docker (when an engine answers) and local (when
// the binaries are installed); when the chosen Docker engine cannot run the
// servers, "auto" falls back to local, and Reason says why. Provision does
// not read the environment itself: use ConfigFromEnv for that.
//
// The error names the setting at fault when one is (for example
// GHOSTBENCH_REDIS_URL), and never contains a password. When Provision fails
// or ctx is cancelled while servers start, it tears down what it started
// before returning.
func Provision(ctx context.Context, cfg Config) (*Servers, error) {
	if cfg.Logf != nil {
		logf := cfg.Logf
		cfg.Logf = func(format string, args ...any) { logf("%s", scrub(fmt.Sprintf(format, args...))) }
	} else {
		cfg.Logf = func(string, ...any) {}
	}
	s, err := provision(ctx, &cfg)
	if err != nil {
		return nil, scrubError(err)
	}
	return s, nil
}

func provision(ctx context.Context, cfg *Config) (*Servers, error) {
	cfg.Postgres = cfg.Postgres.withDefaults()
	cfg.Redis = cfg.Redis.withDefaults()
	if err := cfg.Postgres.validate(); err != nil {
		return nil, err
	}
	if err := cfg.Redis.validate(); err != nil {
		return nil, err
	}
	cfg.withDockerDefaults()
	if err := cfg.validateDocker(); err != nil {
		return nil, err
	}
	if err := CheckTopology(cfg.Topology); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.settingName("topology"), err)
	}
	if cfg.Topology == TopologySingle {
		cfg.Topology = ""
	}
	cfg.deriveClusterRedisURL()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	ch, err := choose(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cfg.Logf("provider %s: %s", ch.name, ch.reason)
	var s *Servers
	switch ch.name {
	case ProviderExternal:
		s, err = provisionExternal(ctx, cfg)
	case ProviderDocker:
		if cfg.Topology != "" {
			// Not built yet: containers of a topology need a network of
			// their own; the local provider runs every topology.
			err = fmt.Errorf("topology %s is not supported by the docker provider yet; use -provider local", cfg.Topology)
			break
		}
		s, err = provisionDocker(ctx, cfg, ch.engine, ch.auto)
	case ProviderLocal:
		s, err = provisionLocal(ctx, cfg, ch.local)
	}
	if err != nil && ch.name == ProviderDocker && ch.auto && ctx.Err() == nil {
		// An engine that answers a ping may still be unable to run the
		// images (no registry access, no space). Under "auto" the local
		// provider is the next choice, and the reason says why.
		why := dockerFailure(err, ch.engine.endpoint)
		if bins, lerr := findLocal(); lerr == nil {
			cfg.Logf("docker provider: %s; falling back to the local provider", why)
			ch = choice{name: ProviderLocal, reason: fmt.Sprintf("%s; %s", why, bins), local: bins}
			s, err = provisionLocal(ctx, cfg, bins)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s provider: %w", ch.name, err)
	}
	s.Provider = ch.name
	s.Reason = ch.reason
	return s, nil
}

// dockerFailure says in one line why the docker provider could not run
// the servers: for an image the engine lacks and cannot pull, which image
// and the last cause, not the whole pull error.
func dockerFailure(err error, endpoint string) string {
	return "the Docker engine at " + endpoint + " answered, but " + dockerProblem(err)
}

// dockerProblem is dockerFailure without the engine.
func dockerProblem(err error) string {
	var pe *pullError
	if errors.As(err, &pe) {
		return fmt.Sprintf("it has no image %s and cannot pull it (%s)", pe.image, oneLine(pe.cause))
	}
	return oneLine(err.Error())
}

// choice is the provider chosen, why, and what was found while choosing.
type choice struct {
	name   string
	reason string
	auto   bool // chosen under "auto", not forced
	engine *dockerEngine
	local  *localBinaries
}

// choose picks the provider as Provision documents.
func choose(ctx context.Context, cfg *Config) (choice, error) {
	provider := cfg.Provider
	if provider == "" {
		provider = ProviderAuto
	}
	forced := cfg.settingName("provider") + "=" + provider
	switch provider {
	case ProviderExternal:
		if err := cfg.checkExternal(); err != nil {
			return choice{}, fmt.Errorf("%s: %w", forced, err)
		}
		return choice{name: ProviderExternal, reason: "forced by " + forced}, nil
	case ProviderDocker:
		eng, err := pingDocker(ctx)
		if err != nil {
			return choice{}, fmt.Errorf("%s: %w", forced, err) // the error says what to do
		}
		return choice{name: ProviderDocker, reason: "forced by " + forced, engine: eng}, nil
	case ProviderLocal:
		bins, err := findLocal()
		if err != nil {
			return choice{}, fmt.Errorf("%s: %w", forced, err)
		}
		return choice{name: ProviderLocal, reason: "forced by " + forced + "; " + bins.String(), local: bins}, nil
	case ProviderAuto:
	default:
		return choice{}, fmt.Errorf("%s: unknown provider %q (want auto, external, docker or local)", cfg.settingName("provider"), cfg.Provider)
	}

	if cfg.External() {
		if err := cfg.checkExternal(); err != nil {
			return choice{}, err
		}
		return choice{name: ProviderExternal, reason: fmt.Sprintf("%s and %s are set", cfg.settingName("postgres-url"), cfg.settingName("redis-url"))}, nil
	}
	eng, derr := pingDocker(ctx)
	if derr == nil {
		return choice{name: ProviderDocker, reason: "no URLs given; a Docker engine answered at " + eng.endpoint, engine: eng, auto: true}, nil
	}
	if err := ctx.Err(); err != nil {
		return choice{}, fmt.Errorf("choose provider: %w", err)
	}
	bins, lerr := findLocal()
	if lerr == nil {
		return choice{name: ProviderLocal, reason: fmt.Sprintf("no URLs given; %v; %s", derr, bins), local: bins}, nil
	}
	return choice{}, fmt.Errorf("no server provider available: external: %s and %s not set; docker: %v; local: %w",
		EnvPostgresURL, EnvRedisURL, derr, lerr)
}

// checkExternal checks that both URLs are given when one is.
func (c *Config) checkExternal() error {
	switch {
	case c.PostgresURL == "" && c.RedisURL == "":
		return fmt.Errorf("%s and %s are not set", c.settingName("postgres-url"), c.settingName("redis-url"))
	case c.PostgresURL == "":
		return fmt.Errorf("%s is not set: the external provider needs both servers (%s is set)", c.settingName("postgres-url"), c.settingName("redis-url"))
	case c.RedisURL == "":
		return fmt.Errorf("%s is not set: the external provider needs both servers (%s is set)", c.settingName("redis-url"), c.settingName("postgres-url"))
	}
	return nil
}

// redisServer builds the Server value of a Redis server at url.
func redisServer(url string) (*Server, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return &Server{Name: "redis", Addr: opts.Addr, URL: url, redisOpts: opts}, nil
}

// describe fills in the Version and Settings of both servers.
func (s *Servers) describe(ctx context.Context) error {
	var err1, err2 error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.Postgres.Version, s.Postgres.Settings, err1 = describePostgres(ctx, s.Postgres.URL)
		if err1 != nil {
			err1 = fmt.Errorf("postgres at %s: %w", s.Postgres.Redacted(), err1)
		}
	}()
	go func() {
		defer wg.Done()
		s.Redis.Version, s.Redis.Settings, err2 = describeRedis(ctx, s.Redis.redisOpts)
		if err2 != nil {
			err2 = fmt.Errorf("redis at %s: %w", s.Redis.Redacted(), err2)
		}
	}()
	wg.Wait()
	return joinErrors(err1, err2)
}

// loopbackURLs returns the URLs of servers the harness starts on loopback.
func loopbackURLs(pgPort, redisPort int, user, password, db string) (pgURL, redisURL string) {
	u := url.URL{Scheme: "postgres", Host: fmt.Sprintf("127.0.0.1:%d", pgPort), Path: "/" + db, RawQuery: "sslmode=disable"}
	if password != "" {
		u.User = url.UserPassword(user, password)
	} else {
		u.User = url.User(user)
	}
	return u.String(), fmt.Sprintf("redis://127.0.0.1:%d/0", redisPort)
}
