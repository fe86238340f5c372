package reproduce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// Defaults of Options.
const (
	DefaultTTL          = time.Minute
	DefaultRedisTimeout = 500 * time.Millisecond
	DefaultCheckTimeout = 10 * time.Second
	DefaultSchema       = "ghostbench_reproduce"
	DefaultPrefix       = "gb:reproduce:"
	// scriptBound bounds one case's script.
	scriptBound = 2 * time.Minute
)

// Options configures Run.
type Options struct {
	// Servers are the real servers; required. Cases with network faults
	// connect through in-process proxies in front of them (faults.Prepare).
	Servers *docker.Servers
	// Strategy runs the case's interleaving against another strategy
	// (default: the case's own). Params override the case's parameters.
	Strategy string
	Params   strategies.Params
	// Registry finds strategies; default strategies.Default().
	Registry *strategies.Registry
	// TTL is put on every cache entry; default DefaultTTL. The anomalies
	// last until it expires.
	TTL time.Duration
	// RedisTimeout is the Redis client's dial, read and write timeout:
	// how long a lost reply or a partition takes to surface; default
	// DefaultRedisTimeout (the scenarios' default). Every cache command
	// has it, so it must stay well above what a loaded machine takes to
	// answer, or a spurious timeout changes the interleaving.
	RedisTimeout time.Duration
	// CheckTimeout bounds porcupine; default DefaultCheckTimeout.
	CheckTimeout time.Duration
	// Faults are the options of faults.Prepare (AllowServerChanges).
	Faults faults.Options
	// Schema and Prefix isolate the case's data; defaults DefaultSchema
	// and DefaultPrefix.
	Schema, Prefix string
	// Tracer is runner.Config's: it sees every statement on the session's
	// PostgreSQL pool (a replayed schedule parks actors there).
	Tracer pgx.QueryTracer
	// Keep and IgnoreServerLock are runner.Config's: leave the case's
	// tables and keys on servers given by URL; inject whole-server faults
	// beside another run.
	Keep, IgnoreServerLock bool
	// Log receives debug messages; default discards.
	Log *slog.Logger
}

// Result is one run of a case.
type Result struct {
	Case     string            `json:"case"`
	Summary  string            `json:"summary"`
	Strategy string            `json:"strategy"`
	Params   strategies.Params `json:"params,omitempty"`
	Started  time.Time         `json:"started"`
	TTL      string            `json:"ttl"`
	Key      gb.Key            `json:"key"`
	// Timeline is every event, by time.
	Timeline []Event `json:"timeline"`
	// Faults are the fault windows.
	Faults  []FaultWindow `json:"faults,omitempty"`
	Verdict Verdict       `json:"verdict"`
	// Run is the session's run record, with the full history.
	Run *record.Run `json:"-"`

	lin *lincheck
	col *collector
}

// Run runs case c once against real servers and returns its result. A
// run whose verdict is an anomaly is not an error: the error is for a
// harness that could not run or finish the script (servers unreachable, a
// fault that could not be injected or healed, ctx cancelled). When the
// script stopped midway the session is still closed and audited, and Run
// returns the partial result with the error (write it: it is what was
// measured); when nothing ran the result is nil. It returns a *UsageError
// for an unknown strategy or parameter and for a fault the servers do not
// allow (faults.Check's message names the flag that would).
func Run(ctx context.Context, c Case, o Options) (*Result, error) {
	if c.run == nil {
		return nil, &UsageError{fmt.Errorf("case %q: unknown; allowed: %v", c.Name, Names())}
	}
	if o.Servers == nil {
		return nil, errors.New("reproduce: no servers")
	}
	if o.Registry == nil {
		o.Registry = strategies.Default()
	}
	info, params, err := c.Resolve(o.Registry, o.Strategy, o.Params)
	if err != nil {
		return nil, err
	}
	o.defaults()

	sc := &scenarios.Scenario{
		Name: "reproduce-" + c.Name, Description: c.Summary, Keys: max(1, c.Keys), Readers: 1,
		Duration: scenarios.Duration(time.Hour), TTL: scenarios.Duration(o.TTL), Seed: 1,
		Instances: c.Instances,
	}
	sc.Timeouts.Redis = scenarios.Duration(o.RedisTimeout)
	for i, f := range c.Faults {
		// Steps far apart: the script injects and heals them itself; the
		// schedule only has to pass faults.Check.
		sc.Faults = append(sc.Faults, scenarios.FaultStep{At: scenarios.Duration(time.Duration(i) * time.Hour),
			For: scenarios.Duration(time.Minute), Fault: f.Fault, Params: f.Params})
	}
	sc.Defaults()
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	servers := o.Servers
	var setup *faults.Setup
	if len(sc.Faults) > 0 {
		if err := faults.Check(sc, faults.TargetOf(o.Servers), o.Faults); err != nil {
			return nil, &UsageError{err}
		}
		if setup, err = faults.Prepare(ctx, sc, o.Servers, o.Faults); err != nil {
			return nil, err
		}
		defer setup.Close()
		servers = setup.Servers()
	}

	col := newCollector(o.Prefix)
	sess, err := runner.Open(ctx, runner.Config{
		Scenario: sc, Strategy: info.Name, Params: params, Registry: tappedRegistry(o.Registry, col),
		Servers: servers, Schema: o.Schema, Prefix: o.Prefix, Keep: o.Keep, IgnoreServerLock: o.IgnoreServerLock,
		Tap: col, LazyPool: true, Log: o.Log, Tracer: o.Tracer,
		ID: runner.DefaultID(time.Now(), info.Name, sc.Name),
	})
	if err != nil {
		return nil, err
	}
	s := &Script{sess: sess, info: info, key: 0, col: col, faults: map[string]fault.Fault{}, injected: map[string]time.Duration{}}
	closed := false
	closeSession := func() *record.Run {
		closed = true
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		return sess.Close(cctx)
	}
	defer func() {
		if !closed {
			col.stop()
			closeSession()
		}
	}()
	if setup != nil {
		steps, err := setup.BuildFaults(ctx, sess.FaultEnv())
		if err != nil {
			return nil, err
		}
		for _, st := range steps {
			s.faults[st.Fault.Name()] = st.Fault
		}
	}
	col.start(sess.Now)
	sctx, cancel := context.WithTimeout(ctx, scriptBound)
	serr := c.run(sctx, s)
	cancel()
	if serr != nil {
		s.healAll()
	}
	col.stop()
	auditAt := int64(sess.Now())
	run := closeSession()
	if run.Status == record.StatusError {
		return nil, fmt.Errorf("case %s on %s: session ended with status %s: %s", c.Name, info.Name, run.Status, run.Error)
	}

	res := &Result{
		Case: c.Name, Summary: c.Summary, Strategy: info.Name, Params: params, Started: run.Started,
		TTL: o.TTL.String(), Key: s.key, Run: run, col: col,
	}
	col.mu.Lock()
	res.Faults = append(res.Faults, col.windows...)
	owners := make(map[gb.Token]string, len(col.owners))
	for t, a := range col.owners {
		owners[t] = a
	}
	col.mu.Unlock()
	names := map[int]string{}
	for _, so := range s.ops {
		names[so.op.Client] = ActorName(so.actor)
	}
	var lin Linearizability
	if run.Metrics != nil {
		lin, res.lin = checkHistory(run.Metrics.History, names, o.CheckTimeout)
	} else {
		lin = Linearizability{Result: LinUnknown, Error: "no history"}
	}
	res.Verdict = judge(c, run, names, owners, lin)
	res.Timeline = buildTimeline(col, s.ops, run, auditAt, s.key)
	if serr != nil {
		// What ran is still worth writing (an interrupted case, a fault
		// that could not be healed): the result comes with the error.
		return res, fmt.Errorf("case %s on %s: %w", c.Name, info.Name, serr)
	}
	return res, nil
}

func (o *Options) defaults() {
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.RedisTimeout == 0 {
		o.RedisTimeout = DefaultRedisTimeout
	}
	if o.CheckTimeout == 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// faultDescription returns the fault kind's one-line description.
func faultDescription(name string) string {
	if k, ok := faults.Default().Lookup(name); ok {
		return k.Description
	}
	return name
}
