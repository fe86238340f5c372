// Package runner executes a scenario against a strategy on real servers:
// it prepares the schema and the cache, starts readers and writers (closed
// loop) or paces operations at a target rate (open loop), times every call
// at the boundary around the strategy, feeds the checker, runs the fault
// schedule and the convergence prober, then drains background work, audits
// every key and returns what was measured.
//
// A cancelled context (Ctrl-C) stops the load at once; the runner still
// heals every fault, audits and returns the partial result with Status
// record.StatusInterrupted.
package runner

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/store"
	"github.com/ghostbench/ghostbench/strategies"
)

// Config is one run.
type Config struct {
	// Scenario is the workload; it must be valid (Defaults applied).
	Scenario *scenarios.Scenario
	// Strategy is the registered name; Params its parameters.
	Strategy string
	Params   strategies.Params
	// Registry finds the strategy; default strategies.Default().
	Registry *strategies.Registry
	// Servers are the PostgreSQL and Redis to run against.
	Servers *docker.Servers
	// Schema and Prefix isolate the run's data; defaults "ghostbench" and
	// "gb:". On external servers a schema or prefix that ghostbench did
	// not make is refused (RefusedError), and one another run is using
	// too (see claim.go).
	Schema string
	Prefix string
	// Keep leaves the run's tables and keys on external servers after the
	// run; by default they are removed. Servers the harness started are
	// torn down anyway.
	Keep bool
	// IgnoreServerLock lets a run whose faults act on a whole server
	// (WholeServer) start while another run uses the same external
	// server, and a run start beside one that injects such faults.
	IgnoreServerLock bool
	// Hooks are handed to the strategy; a caller (a reproduce case) may
	// install a hook on them. Default: a fresh, empty Hooks.
	Hooks *gb.Hooks
	// FullHistory keeps every classified operation in the metrics.
	FullHistory bool
	// Tap, when set, also receives every write attempt the store reports,
	// after the checker does (a reproduce case builds its timeline from
	// it). Like any Recorder it must be fast and safe for concurrent use.
	Tap gb.Recorder
	// Tracer, when set, sees every statement sent on the run's
	// PostgreSQL pool (the one the store and the strategy use) before it
	// is sent: explore parks an actor there.
	Tracer pgx.QueryTracer
	// LazyPool opens PostgreSQL connections on demand instead of keeping
	// a warm minimum: for short scripted sessions (reproduce cases run
	// many), where opening eight connections costs more than the script.
	LazyPool bool
	// OnAnomaly is called for every stale, ghost or early read.
	OnAnomaly func(check.Anomaly)
	// Progress, when set, is called about once a second with live numbers.
	Progress func(Progress)
	// Faults is the scenario's fault schedule, prepared (faults.Prepare
	// returns one); the runner builds its steps once the run's clients
	// exist. Nil with a non-empty schedule is an error.
	Faults fault.Schedule
	// ID names the run (default: strategy and scenario with a time stamp).
	ID string
	// Log receives debug messages; default discards.
	Log *slog.Logger
}

// Progress is a live view of a run.
type Progress struct {
	Elapsed   time.Duration
	Ops       int64
	OpsPerSec float64 // over the last interval
	Errors    int64
	Stale     int64
	Ghost     int64
}

// DefaultPrefix is the key prefix of a run that names none.
const DefaultPrefix = "gb:"

// drainBound bounds the end-of-run drain of background work.
const drainBound = 30 * time.Second

// cleanupBound bounds healing, audit and finish after an interruption.
const cleanupBound = 60 * time.Second

// Run executes cfg. It returns the run record, also when ctx was cancelled
// (Status record.StatusInterrupted, partial metrics) and when the strategy
// could not be started (Status record.StatusError, no metrics, Error
// "start strategy: ..."). It returns an error, with a nil run, only when
// nothing could be measured (bad configuration, servers unreachable).
func Run(ctx context.Context, cfg Config) (*record.Run, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	sc := cfg.Scenario
	if len(sc.Faults) > 0 && cfg.Faults == nil {
		return nil, fmt.Errorf("scenario %s has a fault schedule but the runner was given no fault builder (Config.Faults)", sc.Name)
	}
	r := &run{cfg: cfg, sc: sc}
	return r.execute(ctx)
}

type run struct {
	cfg Config
	sc  *scenarios.Scenario

	clock *gb.Clock
	db    *pgxpool.Pool
	rdb   redis.UniversalClient
	// replicaDB is the pool on the PostgreSQL read replica (pg-replica).
	replicaDB *pgxpool.Pool
	store     *store.Store
	checker   *check.Checker
	// owner is the run's id in its markers and application_name;
	// backends the backend pids of its pool (what pg-conn-kill may kill);
	// claim its locks on external servers; made is set once the schema
	// and prefix are the run's own (what removeOwned may delete).
	owner    string
	external bool
	backends *docker.Backends
	claim    *claim
	made     bool
	strat    gb.Strategy // instance 0
	fleet    *fleet      // every instance, strat included
	ryw      *check.RYWChecker
	dbload   *check.DBLoadChecker
	prober   *prober
	touched  *touchedKeys // the keys operations named: what the audit peeks

	out *record.Run

	ops, errs, stale, ghost atomic.Int64
	stopping                atomic.Bool
	warmupEnd, end          time.Duration
	measuredEnd             time.Duration
}

// normalize validates cfg (scenario, servers, strategy and parameters) and
// fills its defaults.
func (cfg *Config) normalize() error {
	sc := cfg.Scenario
	if sc == nil {
		return errors.New("runner: no scenario")
	}
	if err := sc.Validate(); err != nil {
		return err
	}
	if cfg.Servers == nil || cfg.Servers.Postgres == nil || cfg.Servers.Redis == nil {
		return errors.New("runner: no servers")
	}
	if cfg.Registry == nil {
		cfg.Registry = strategies.Default()
	}
	info, ok := cfg.Registry.Lookup(cfg.Strategy)
	if !ok {
		return fmt.Errorf("strategy %q: unknown; allowed: %s", cfg.Strategy, strings.Join(cfg.Registry.Names(), ", "))
	}
	if err := info.CheckParams(cfg.Params); err != nil {
		return err
	}
	if cfg.Schema == "" {
		cfg.Schema = store.DefaultSchema
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.Hooks == nil {
		cfg.Hooks = &gb.Hooks{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// prepare connects, seeds the schema, clears the prefix and builds the
// checker, the store and the strategy. On error everything it opened is
// closed.
func (r *run) prepare(ctx context.Context, workers int) (err error) {
	sc := r.sc
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	cc := docker.DefaultClientConfig()
	cc.DialTimeout = sc.Timeouts.Redis.D()
	cc.ReadTimeout = sc.Timeouts.Redis.D()
	cc.WriteTimeout = sc.Timeouts.Redis.D()
	cc.PoolSize = workers + 16
	r.rdb = r.cfg.Servers.RedisClient(cc)
	r.owner = newOwnerID()
	r.external = r.cfg.Servers.Provider == docker.ProviderExternal
	if r.external {
		var wholePG, wholeRedis []string
		if ws, ok := r.cfg.Faults.(WholeServer); ok {
			wholePG, wholeRedis = ws.WholeServer()
		}
		if r.claim, err = acquireClaim(ctx, r.cfg.Servers, r.rdb, r.owner, r.cfg.Schema, r.cfg.Prefix, wholePG, wholeRedis, r.cfg.IgnoreServerLock); err != nil {
			return err
		}
	}
	r.backends = docker.NewBackends()
	dbOpts := []docker.PoolOption{docker.TrackBackends(r.backends)}
	if r.cfg.Tracer != nil {
		dbOpts = append(dbOpts, docker.WithTracer(r.cfg.Tracer))
	}
	if r.db, err = r.openDB(ctx, workers+8, dbOpts...); err != nil {
		return err
	}
	if err := checkConnections(ctx, r.db, r.cfg.Servers.Postgres.Addr, workers, int(r.db.Stat().TotalConns())); err != nil {
		return err
	}
	setup, err := store.New(r.db, store.Options{Schema: r.cfg.Schema, Owner: r.owner})
	if err != nil {
		return err
	}
	if err := setup.Setup(ctx, sc.Keys); err != nil {
		if no := (*store.NotOwnedError)(nil); errors.As(err, &no) {
			return refusef("%v on PostgreSQL %s; choose another schema with -schema NAME", err, r.cfg.Servers.Postgres.Addr)
		}
		return err
	}
	// From here on close removes what the run made (on external servers,
	// without Keep): the schema now, the prefix's keys once its marker is
	// the run's.
	r.made = true
	if err := claimPrefix(ctx, r.rdb, r.cfg.Prefix, r.owner, r.cfg.Servers.Redis.Addr, r.external); err != nil {
		return err
	}
	offsets := make([]time.Duration, len(sc.Probe.Offsets))
	for i, o := range sc.Probe.Offsets {
		offsets[i] = o.D()
	}
	onAnomaly := func(a check.Anomaly) {
		if a.Stale {
			r.stale.Add(1)
		}
		if a.Ghost {
			r.ghost.Add(1)
		}
		if r.cfg.OnAnomaly != nil {
			r.cfg.OnAnomaly(a)
		}
	}
	r.checker, err = check.NewChecker(check.CheckerConfig{
		Keys: sc.Keys, OpenLoop: sc.OpenLoop(), FullHistory: r.cfg.FullHistory,
		ProbeOffsets: offsets, OnAnomaly: onAnomaly,
	})
	if err != nil {
		return err
	}
	r.clock = gb.NewClock()
	r.touched = newTouchedKeys(sc.Keys)
	r.prober = newProber(r, offsets, sc.Probe.PerSecond)
	r.ryw = check.NewRYWChecker()
	rec := gb.Recorder(teeRecorder{r.prober.wrap(r.checker), r.ryw})
	if r.cfg.Tap != nil {
		rec = teeRecorder{rec, r.cfg.Tap}
	}
	r.dbload = check.NewDBLoadChecker(0)
	rec = dbReadRecorder{Recorder: rec, load: r.dbload}
	r.store, err = store.New(r.db, store.Options{
		Schema: r.cfg.Schema, Recorder: rec, Clock: r.clock, Hooks: r.cfg.Hooks,
	})
	if err != nil {
		return err
	}
	replica, err := r.openReplica(ctx, workers)
	if err != nil {
		return err
	}
	err = r.buildFleet(strategies.Env{
		DB: r.db, Redis: r.rdb, Sentinel: r.cfg.Servers.RedisFailoverOptions(cc), Store: r.store, Replica: replica, TTL: sc.TTL.D(), Prefix: r.cfg.Prefix,
		Hooks: r.cfg.Hooks, Params: r.cfg.Params, Warn: r.checker.Warn, Log: r.cfg.Log,
		PostgresURL: r.cfg.Servers.Postgres.URL, RedisURL: r.cfg.Servers.Redis.URL,
		PostgresTimeout: sc.Timeouts.Postgres.D(), RedisTimeout: sc.Timeouts.Redis.D(),
	}, func() redis.UniversalClient { return r.cfg.Servers.RedisClient(cc) })
	if err != nil {
		return &startError{err}
	}
	r.strat = r.fleet.strats[0]
	r.prober.on = r.fleet.inspectable()
	r.out = &record.Run{
		Schema: record.SchemaVersion, ID: r.cfg.ID, Strategy: r.cfg.Strategy, Params: r.cfg.Params,
		Scenario: sc.Name, Seed: sc.Seed, Env: environment(r.cfg.Servers), Status: record.StatusOK,
	}
	if r.out.ID == "" {
		r.out.ID = DefaultID(time.Now(), r.cfg.Strategy, sc.Name)
	}
	r.out.Config, _ = json.Marshal(sc)
	return nil
}

// close releases the strategy and the clients; it is safe on a partly
// prepared run and idempotent.
func (r *run) close() error {
	var err error
	if r.fleet != nil {
		strats := slices.Clone(r.fleet.strats)
		err = r.fleet.close()
		for _, s := range strats {
			if n, ok := s.(Noter); ok && r.out != nil {
				r.out.Notes = append(r.out.Notes, n.Notes()...)
			}
		}
		r.fleet, r.strat = nil, nil
	}
	if r.made && r.external && !r.cfg.Keep && r.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupBound)
		st, _ := store.New(r.db, store.Options{Schema: r.cfg.Schema})
		if rerr := removeOwned(ctx, r.rdb, st, r.cfg.Prefix, r.owner); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove the run's data: %w", rerr))
		}
		cancel()
		r.made = false
	}
	r.claim.release()
	r.claim = nil
	if r.db != nil {
		r.db.Close()
		r.db = nil
	}
	if r.replicaDB != nil {
		r.replicaDB.Close()
		r.replicaDB = nil
	}
	if r.rdb != nil {
		r.rdb.Close()
		r.rdb = nil
	}
	return err
}

func (r *run) faultEnv() fault.Env {
	return fault.Env{
		Servers: r.cfg.Servers, Store: r.store, DB: r.db, Redis: r.rdb, Hooks: r.cfg.Hooks,
		Clock: r.clock, Prefix: r.cfg.Prefix, Keys: r.sc.Keys, Log: r.cfg.Log, Strategy: r.strat,
		Backends: r.backends,
	}
}

func (r *run) execute(ctx context.Context) (*record.Run, error) {
	sc := r.sc
	workers := sc.Readers + sc.Writers
	if sc.OpenLoop() {
		workers = sc.Concurrency
	}
	if err := r.prepare(ctx, workers); err != nil {
		var se *startError
		if errors.As(err, &se) && ctx.Err() == nil {
			// The strategy did not start (a foreign process that does
			// not start or answer init): a run with status error that
			// says so, recorded like any other.
			out := &record.Run{
				Schema: record.SchemaVersion, ID: cmp.Or(r.cfg.ID, DefaultID(time.Now(), r.cfg.Strategy, sc.Name)), Strategy: r.cfg.Strategy,
				Params: r.cfg.Params, Scenario: sc.Name, Seed: sc.Seed, Env: environment(r.cfg.Servers),
				Status: record.StatusError, Error: "start strategy: " + se.err.Error(),
			}
			out.Config, _ = json.Marshal(sc)
			return out, nil
		}
		return nil, err
	}
	defer r.close()
	var steps []fault.Step
	if len(sc.Faults) > 0 {
		var err error
		if steps, err = r.cfg.Faults.BuildFaults(ctx, r.faultEnv()); err != nil {
			return nil, err
		}
	}

	// Load.
	r.warmupEnd = sc.Warmup.D()
	r.end = sc.Duration.D()
	r.dbload.SetWindow(r.warmupEnd, r.end)
	r.clock.Reset() // zero at load start; nothing has read it yet
	r.out.Started = r.clock.Start()

	loadCtx, cancelLoad := context.WithCancel(ctx)
	defer cancelLoad()
	var faultWG sync.WaitGroup
	windows := make([]record.FaultWindow, len(steps))
	faultWG.Add(1)
	go func() {
		defer faultWG.Done()
		r.runFaults(loadCtx, steps, windows)
	}()
	proberDone := r.prober.start(loadCtx)
	stopProgress := r.startProgress(loadCtx)

	var wg sync.WaitGroup
	if sc.OpenLoop() {
		r.openLoop(loadCtx, &wg)
	} else {
		r.closedLoop(loadCtx, &wg)
	}
	timer := time.NewTimer(r.end)
	interrupted := false
	select {
	case <-timer.C:
	case <-ctx.Done():
		interrupted = true
	case <-failed(r.strat):
		// The strategy broke for good (a foreign process died): stop
		// now; Close reports why and the status says error.
	}
	timer.Stop()
	r.stopping.Store(true)
	wg.Wait()
	measuredEnd := min(r.clock.Now(), r.end)
	r.measuredEnd = measuredEnd
	cancelLoad() // stops the fault scheduler, which heals what it injected
	faultWG.Wait()
	stopProgress()
	r.out.Faults = windows
	r.out.MeasuredSeconds = max(0, (measuredEnd - r.warmupEnd).Seconds())
	return r.finish(ctx, proberDone, interrupted), nil
}

// finish drains background work, stops the prober, audits every key,
// resolves indeterminate commits from the ledger and fills r.out. It uses a
// bounded context of its own, so that a cancelled run (ctx done) still
// writes what it measured.
func (r *run) finish(ctx context.Context, proberDone <-chan struct{}, interrupted bool) *record.Run {
	out := r.out
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupBound)
	defer cancel()
	if ds := r.fleet.drainers(); len(ds) > 0 {
		t0 := time.Now()
		dctx, dcancel := context.WithTimeout(cctx, drainBound)
		var err error
		for _, d := range ds {
			err = errors.Join(err, d.Drain(dctx))
		}
		dcancel()
		out.Drain = record.DrainResult{Needed: true, Seconds: time.Since(t0).Seconds()}
		if err != nil {
			out.Drain.Error = err.Error()
		}
	}
	if lags, ok := r.fleet.lags(); ok {
		out.InvalidationLag, out.InvalidationLagNegative = check.DurationHistogram(lags)
		out.InvalidationLagStages = r.fleet.lagStages()
		if lc, ok := r.strat.(strategies.LagConfigurer); ok {
			out.InvalidationLagConfiguredUs = lc.ConfiguredLag().Microseconds()
		}
	}
	out.Notices = r.fleet.notices()
	r.prober.stop()
	if proberDone != nil {
		<-proberDone
	}
	if err := r.audit(cctx); err != nil {
		label := "audit: "
		if broke(r.strat) {
			// The strategy broke during the run (a foreign process
			// failed): the audit only met its error again.
			label = "strategy: "
		}
		out.Status, out.Error = record.StatusError, label+err.Error()
	}
	out.Instances = r.fleet.instancesRecord(r.sc)
	out.RYW = r.ryw.Result()
	out.DBLoad = r.dbload.Result(r.measuredEnd, faultSpans(out.Faults))
	m, err := r.checker.Finish(cctx, r.store.Committed)
	if err != nil && out.Error == "" {
		out.Status, out.Error = record.StatusError, "finish: "+err.Error()
	}
	if err := r.claim.lostErr(); err != nil && out.Error == "" {
		out.Status, out.Error = record.StatusError, "lock: "+err.Error()
	}
	if err := r.close(); err != nil && out.Error == "" {
		out.Status, out.Error = record.StatusError, "close strategy: "+err.Error()
	}
	out.Metrics = m
	out.ElapsedSeconds = r.clock.Now().Seconds()
	if interrupted {
		out.Status = record.StatusInterrupted
		if out.Error == "" {
			out.Error = "interrupted: " + context.Cause(ctx).Error()
		}
	}
	return out
}

// openDB opens the run's pool: conns connections at most (a warm minimum
// unless LazyPool), the scenario's PostgreSQL timeout as connect and
// statement timeout, its synchronous_commit, and fault.HarnessAppName with
// the run's owner id as application_name (for people reading
// pg_stat_activity; pg-conn-kill goes by the backend pids in r.backends).
//
// extra options go last (docker.OnServer opens it on the read replica).
func (r *run) openDB(ctx context.Context, conns int, extra ...docker.PoolOption) (*pgxpool.Pool, error) {
	cc := docker.DefaultClientConfig()
	cc.DialTimeout = r.sc.Timeouts.Postgres.D()
	cc.PoolSize = conns
	opts := []docker.PoolOption{
		docker.PingTimeout(5 * time.Second),
		docker.RuntimeParam("synchronous_commit", r.sc.Postgres.SynchronousCommit),
		docker.RuntimeParam("application_name", appName(r.owner)),
	}
	if !r.cfg.LazyPool {
		opts = append(opts, docker.WarmConns(min(conns, 8)))
	}
	if t := r.sc.Timeouts.Postgres.D(); t > 0 {
		opts = append(opts,
			docker.RuntimeParam("statement_timeout", fmt.Sprint(t.Milliseconds())),
			docker.RuntimeParam("idle_in_transaction_session_timeout", fmt.Sprint((10*t).Milliseconds())))
	}
	return r.cfg.Servers.PostgresPool(ctx, cc, append(opts, extra...)...)
}

// DefaultID returns a run id: time stamp, strategy and scenario.
func DefaultID(t time.Time, strategy, scenario string) string {
	return t.UTC().Format("20060102-150405") + "-" + strategy + "-" + sanitize(scenario)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func environment(s *docker.Servers) record.Environment {
	env := record.Environment{
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(),
		Provider: s.Provider, ProviderReason: s.Reason,
		PostgresVersion: s.Postgres.Version, RedisVersion: s.Redis.Version,
		PostgresAddr: s.Postgres.Addr, RedisAddr: s.Redis.Addr,
		Settings: map[string]string{},
		Topology: s.TopologyName(), TopologyAddrs: s.Topology.Addrs(),
	}
	if len(env.TopologyAddrs) == 0 {
		env.TopologyAddrs = nil
	}
	for k, v := range s.Postgres.Settings {
		env.Settings["postgres."+k] = v
	}
	for k, v := range s.Redis.Settings {
		env.Settings["redis."+k] = v
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" {
				env.GitCommit = st.Value
			}
		}
	}
	if env.GitCommit == "" {
		env.GitCommit = os.Getenv("GHOSTBENCH_GIT_COMMIT")
	}
	return env
}

// startError is a strategy that could not be made (its New failed).
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// Noter is implemented by strategies that have something to say in the
// run's summary beyond its metrics (a foreign process's stderr log that
// was cut); Notes is called after Close.
type Noter interface {
	Notes() []string
}

// Failer is implemented by strategies that can break for good mid-run (a
// foreign process that exited or stopped answering): Failed is closed then,
// the run stops early, and Close returns the reason.
type Failer interface {
	Failed() <-chan struct{}
}

// broke reports whether s is a Failer that has broken.
func broke(s gb.Strategy) bool {
	select {
	case <-failed(s):
		return true
	default:
		return false
	}
}

// failed returns s's Failed channel, nil (never ready) when s is no Failer.
func failed(s gb.Strategy) <-chan struct{} {
	if f, ok := s.(Failer); ok {
		return f.Failed()
	}
	return nil
}

// teeRecorder forwards every event to a, then to b (Config.Tap).
type teeRecorder struct{ a, b gb.Recorder }

func (t teeRecorder) Began(k gb.Key, tok gb.Token, v int64) {
	t.a.Began(k, tok, v)
	t.b.Began(k, tok, v)
}

func (t teeRecorder) CommitSending(k gb.Key, tok gb.Token, v int64, sent time.Duration) {
	t.a.CommitSending(k, tok, v, sent)
	t.b.CommitSending(k, tok, v, sent)
}

func (t teeRecorder) Committed(k gb.Key, tok gb.Token, v int64, sent, ack time.Duration) {
	t.a.Committed(k, tok, v, sent, ack)
	t.b.Committed(k, tok, v, sent, ack)
}

func (t teeRecorder) Aborted(k gb.Key, tok gb.Token, v int64, sent time.Duration) {
	t.a.Aborted(k, tok, v, sent)
	t.b.Aborted(k, tok, v, sent)
}

func (t teeRecorder) Indeterminate(k gb.Key, tok gb.Token, v int64, sent time.Duration) {
	t.a.Indeterminate(k, tok, v, sent)
	t.b.Indeterminate(k, tok, v, sent)
}
