package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/scenarios"
)

// randStream is the first random stream number of fault steps; the
// runner's workers use small numbers and its open-loop generator 1<<20.
const randStream = 1 << 40

// closeHealBound bounds each heal Close runs for a fault left unhealed.
const closeHealBound = 30 * time.Second

// Setup is a validated fault schedule ready to run: the proxies it needs
// are listening. It is a fault.Schedule: give Servers and the Setup itself
// to runner.Config (Servers, Faults), and Close it when the run is over.
type Setup struct {
	steps   []step
	seed    int64
	opts    Options
	real    *docker.Servers
	servers *docker.Servers

	redisProxy, pgProxy *Proxy

	mu     sync.Mutex
	built  []*tracked
	admin  redis.UniversalClient
	closed bool
}

// Prepare validates sc's fault schedule against srv as Check does, then
// starts the proxies the schedule needs (only those: a scenario without
// network faults gets none) in front of the real servers. The Setup's
// Servers are srv itself when no proxy was started, else a copy whose
// Redis and/or PostgreSQL Addr and URL point at the proxies and whose
// Control is the real servers' own.
//
// Errors name the step, the field, the value and what is allowed; nothing
// has been changed on any server when Prepare returns one.
func Prepare(ctx context.Context, sc *scenarios.Scenario, srv *docker.Servers, opts Options) (_ *Setup, err error) {
	opts.defaults()
	if srv == nil || srv.Redis == nil || srv.Postgres == nil {
		return nil, errors.New("faults: no servers")
	}
	steps, err := plan(sc, TargetOf(srv), opts)
	if err != nil {
		return nil, err
	}
	s := &Setup{steps: steps, seed: sc.Seed, opts: opts, real: srv, servers: srv}
	defer func() {
		if err != nil {
			s.closeProxies()
		}
	}()
	var needs Needs
	for _, st := range steps {
		needs |= st.needs
	}
	if needs&(NeedsRedisProxy|NeedsPostgresProxy) == 0 {
		return s, nil
	}
	api := newToxiproxyServer()
	if needs&NeedsRedisProxy != 0 {
		if s.redisProxy, err = startProxy(api, "redis", srv.Redis.Addr); err != nil {
			return nil, err
		}
	}
	if needs&NeedsPostgresProxy != 0 {
		if s.pgProxy, err = startProxy(api, "postgres", srv.Postgres.Addr); err != nil {
			return nil, err
		}
	}
	if s.servers, err = proxied(ctx, srv, s.redisProxy, s.pgProxy); err != nil {
		return nil, err
	}
	opts.Log.Debug("fault proxies started", "redis", proxyAddr(s.redisProxy), "postgres", proxyAddr(s.pgProxy))
	return s, nil
}

// proxied returns the servers as seen through the proxies. It provisions
// them as "external" servers at the proxied URLs (which checks that both
// answer through the proxies and fills in the client options), then gives
// them the real servers' Control, versions and provenance.
func proxied(ctx context.Context, srv *docker.Servers, rp, pp *Proxy) (*docker.Servers, error) {
	redisURL, pgURL := srv.Redis.URL, srv.Postgres.URL
	var err error
	if rp != nil {
		if redisURL, err = withHost(redisURL, rp.Addr()); err != nil {
			return nil, fmt.Errorf("redis URL %s: %w", srv.Redis.Redacted(), err)
		}
	}
	if pp != nil {
		if pgURL, err = withHost(pgURL, pp.Addr()); err != nil {
			return nil, fmt.Errorf("postgres URL %s: %w", srv.Postgres.Redacted(), err)
		}
	}
	out, err := docker.Provision(ctx, docker.Config{Provider: docker.ProviderExternal, PostgresURL: pgURL, RedisURL: redisURL})
	if err != nil {
		return nil, fmt.Errorf("connect through the fault proxies: %w", err)
	}
	out.Provider = srv.Provider
	out.Topology = srv.Topology
	out.Reason = srv.Reason + "; clients connect through in-process fault proxies"
	for _, pair := range []struct {
		dst, src *docker.Server
		p        *Proxy
	}{{out.Redis, srv.Redis, rp}, {out.Postgres, srv.Postgres, pp}} {
		pair.dst.Control = pair.src.Control
		pair.dst.Version = pair.src.Version
		pair.dst.Settings = pair.src.Settings
		if pair.p != nil {
			out.Reason += fmt.Sprintf(" (%s %s -> %s)", pair.p.Name(), pair.p.Addr(), pair.p.Upstream())
		}
	}
	return out, nil
}

// withHost returns raw with its host:port replaced by addr.
func withHost(raw, addr string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("malformed URL")
	}
	if u.Query().Has("host") {
		return "", errors.New("a host given as a query parameter cannot be proxied")
	}
	u.Host = addr
	return u.String(), nil
}

// Servers returns the servers the runner must connect to: the real ones,
// or copies pointing at the proxies (with the real Control).
func (s *Setup) Servers() *docker.Servers { return s.servers }

// Real returns the servers as provisioned.
func (s *Setup) Real() *docker.Servers { return s.real }

// WholeServer returns the names of the schedule's faults that act on the
// whole PostgreSQL or Redis server (Kind.WholeServer): runner.WholeServer.
func (s *Setup) WholeServer() (postgres, redis []string) {
	for _, st := range s.steps {
		switch st.kind.WholeServer {
		case "postgres":
			postgres = append(postgres, st.kind.Name)
		case "redis":
			redis = append(redis, st.kind.Name)
		}
	}
	return postgres, redis
}

// BuildFaults builds the schedule's faults for one run (it implements
// fault.Schedule, which the runner calls). It installs the application faults' hook on
// env.Hooks when the schedule has any (replacing a hook set there), and
// opens a direct Redis client when a fault needs one. Steps come back in
// the schedule's order, with the effective parameters (defaults filled
// in) as Params.
func (s *Setup) BuildFaults(ctx context.Context, env fault.Env) ([]fault.Step, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("faults: BuildFaults after Close")
	}
	var points *Points
	out := make([]fault.Step, 0, len(s.steps))
	for _, st := range s.steps {
		e := Env{
			Env: env, Real: s.real, RedisProxy: s.redisProxy, PostgresProxy: s.pgProxy,
			Rand: scenarios.NewRand(s.seed, randStream+uint64(st.index)), Step: st.index,
		}
		if st.needs&NeedsAdminRedis != 0 {
			if s.admin == nil {
				cc := docker.DefaultClientConfig()
				cc.PoolSize = 2
				s.admin = s.real.RedisClient(cc)
			}
			e.Admin = s.admin
		}
		if st.needs&NeedsHooks != 0 {
			if env.Hooks == nil {
				return nil, fmt.Errorf("faults[%d] %s: the run has no hooks", st.index, st.kind.Name)
			}
			if points == nil {
				points = &Points{}
				env.Hooks.Set(points.Hook)
			}
			e.Points = points
		}
		f, err := st.kind.New(ctx, e, st.params)
		if err != nil {
			// What the steps built so far opened is released by Close.
			return nil, fmt.Errorf("faults[%d] %s: %w", st.index, st.kind.Name, err)
		}
		t := &tracked{Fault: f, log: s.opts.Log}
		if env.Log != nil {
			t.log = env.Log
		}
		s.built = append(s.built, t)
		out = append(out, fault.Step{At: st.fs.At.D(), For: st.fs.For.D(), Fault: t, Params: maps.Clone(map[string]string(st.params))})
	}
	return out, nil
}

// Close heals every fault that was injected and not healed (the runner
// heals them all; this is for a run that never got that far), releases
// what the faults opened (their own sessions, the direct Redis client) and
// stops the proxies, closing every connection through them. It is
// idempotent and returns the heal errors.
func (s *Setup) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, t := range s.built {
		if !t.needsHeal() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), closeHealBound)
		if err := t.Heal(ctx); err != nil {
			errs = append(errs, fmt.Errorf("heal %s: %w", t.Name(), err))
		}
		cancel()
	}
	for _, t := range s.built {
		if c, ok := t.Fault.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", t.Name(), err))
			}
		}
	}
	if s.admin != nil {
		_ = s.admin.Close()
	}
	s.closeProxies()
	return errors.Join(errs...)
}

func (s *Setup) closeProxies() {
	for _, p := range []*Proxy{s.redisProxy, s.pgProxy} {
		if p != nil {
			p.Close()
		}
	}
}

// tracked remembers whether a fault was injected and healed, so that Close
// heals what the runner did not.
// It logs how long each Inject and Heal took to confirm (at debug level).
type tracked struct {
	fault.Fault
	log              *slog.Logger
	mu               sync.Mutex
	injected, healed bool
}

func (t *tracked) Inject(ctx context.Context) error {
	t.mu.Lock()
	t.injected, t.healed = true, false
	t.mu.Unlock()
	t0 := time.Now()
	err := t.Fault.Inject(ctx)
	t.log.Debug("fault inject", "fault", t.Name(), "took", time.Since(t0), "err", err)
	return err
}

func (t *tracked) Heal(ctx context.Context) error {
	t0 := time.Now()
	err := t.Fault.Heal(ctx)
	t.log.Debug("fault heal", "fault", t.Name(), "took", time.Since(t0), "err", err)
	if err == nil {
		t.mu.Lock()
		t.healed = true
		t.mu.Unlock()
	}
	return err
}

// Events forwards the wrapped fault's events (see eventLog).
func (t *tracked) Events() []record.FaultEvent {
	if e, ok := t.Fault.(interface{ Events() []record.FaultEvent }); ok {
		return e.Events()
	}
	return nil
}

func (t *tracked) needsHeal() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.injected && !t.healed
}
