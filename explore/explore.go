package explore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/process"
)

// Search modes.
const (
	// ModeExhaustive runs every schedule with at most Bound preemptions
	// and MaxFaults faults (after reduction), depth first.
	ModeExhaustive = "exhaustive"
	// ModeRandom runs schedules chosen by PCT (random priorities with
	// Depth-1 change points), seeded.
	ModeRandom = "random"
)

// Defaults of Options.
const (
	DefaultBound     = 2
	DefaultMaxFaults = 1
	DefaultDepth     = 3
	DefaultRandom    = 1000
	DefaultStepBound = 10 * time.Second
	DefaultMaxSteps  = 200
	DefaultBatch     = 100
	DefaultTTL       = time.Hour
	DefaultSchema    = "ghostbench_explore"
	DefaultPrefix    = "gb:explore:"
)

// Options configures Run.
type Options struct {
	// Servers are the real servers; required.
	Servers *docker.Servers
	// Strategy and Params name what is explored; Registry finds it
	// (default strategies.Default()).
	Strategy string
	Params   strategies.Params
	Registry *strategies.Registry
	// Exec, when set, is the command line of a strategy process (the
	// process protocol, docs/protocol.md), explored instead of a
	// registered strategy; Strategy is then its name (default
	// exec-<script>), and ExecLog the file its stderr is appended to
	// (default: discarded).
	Exec    string
	ExecLog string
	// Workload is what the actors do; default DefaultWorkload().
	Workload Workload
	// Starts are the initial cache states; default both (Starts()).
	Starts []string
	// Mode is ModeExhaustive (default) or ModeRandom.
	Mode string
	// Bound is the preemption bound of the exhaustive mode: default
	// DefaultBound; NoPreemptions for none, Unbounded for no bound.
	Bound int
	// MaxFaults bounds the faults of one schedule (default
	// DefaultMaxFaults; NoFaults for none); Faults are the kinds the
	// scheduler may choose (default every kind that applies).
	MaxFaults int
	Faults    []string
	// NoWire turns the server commands off as scheduling points: only
	// the strategy's declared points remain.
	NoWire bool
	// NoReduce turns the partial-order reduction off.
	NoReduce bool
	// Seed and Depth drive the random mode (PCT's d); Schedules bounds the
	// number of schedules (random default DefaultRandom; exhaustive: no
	// bound) and Time the wall time (0: none).
	Seed      int64
	Depth     int
	Schedules int
	Time      time.Duration
	// StepBound bounds one step (a step that reaches no point, no lock
	// wait and no end by then makes the schedule unknown); MaxSteps
	// bounds the steps of one schedule.
	StepBound time.Duration
	MaxSteps  int
	// Batch is the number of schedules run on one session's keys.
	Batch int
	// TTL is put on every cache entry (default DefaultTTL): the audit
	// runs long before it expires.
	TTL time.Duration
	// Schema and Prefix isolate the exploration's data.
	Schema, Prefix string
	// Log receives debug messages; Progress, when set, is called after
	// every batch.
	Log      *slog.Logger
	Progress func(Progress)
}

// NoFaults is the MaxFaults of an exploration without faults.
const NoFaults = -1

// Values of Options.Bound besides a positive bound.
const (
	NoPreemptions = -1
	Unbounded     = -2
)

// Progress is a live view of an exploration.
type Progress struct {
	Schedules int
	Anomalous int
	Pending   int
	Elapsed   time.Duration
}

func (o *Options) defaults() error {
	if o.Servers == nil {
		return errors.New("explore: no servers")
	}
	if o.Registry == nil {
		o.Registry = strategies.Default()
	}
	if o.Workload == (Workload{}) {
		o.Workload = DefaultWorkload()
	}
	if err := o.Workload.Validate(); err != nil {
		return &UsageError{err}
	}
	if len(o.Starts) == 0 {
		o.Starts = Starts()
	}
	for _, s := range o.Starts {
		if !slices.Contains(Starts(), s) {
			return &UsageError{fmt.Errorf("start %q: want %s", s, strings.Join(Starts(), " or "))}
		}
	}
	switch o.Mode {
	case "":
		o.Mode = ModeExhaustive
	case ModeExhaustive, ModeRandom:
	default:
		return &UsageError{fmt.Errorf("mode %q: want %s or %s", o.Mode, ModeExhaustive, ModeRandom)}
	}
	switch {
	case o.Bound == 0:
		o.Bound = DefaultBound
	case o.Bound == NoPreemptions:
		o.Bound = 0
	case o.Bound == Unbounded:
		o.Bound = math.MaxInt32
	case o.Bound < 0:
		return &UsageError{fmt.Errorf("bound %d: want 0 or more preemptions", o.Bound)}
	}
	switch {
	case o.MaxFaults == 0:
		o.MaxFaults = DefaultMaxFaults
	case o.MaxFaults == NoFaults:
		o.MaxFaults = 0
	case o.MaxFaults < 0:
		return &UsageError{fmt.Errorf("faults per schedule %d: want 0 or more", o.MaxFaults)}
	}
	if o.Faults == nil {
		o.Faults = FaultKinds()
	}
	if o.Exec == "" {
		o.Faults = slices.DeleteFunc(slices.Clone(o.Faults), func(f string) bool { return f == FaultAppCrash })
	}
	if o.Depth == 0 {
		o.Depth = DefaultDepth
	}
	if o.Depth < 1 {
		return &UsageError{fmt.Errorf("depth %d: want 1 or more", o.Depth)}
	}
	if o.Schedules == 0 && o.Mode == ModeRandom {
		o.Schedules = DefaultRandom
	}
	if o.Schedules < 0 {
		return &UsageError{fmt.Errorf("schedules %d: want 0 (no bound) or more", o.Schedules)}
	}
	if o.StepBound == 0 {
		o.StepBound = DefaultStepBound
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = DefaultMaxSteps
	}
	if o.Batch == 0 {
		o.Batch = DefaultBatch
	}
	// The audit keeps check.MaxAuditExamples examples: every key of a
	// batch must fit.
	if o.Batch*o.Workload.Keys > check.MaxAuditExamples {
		o.Batch = check.MaxAuditExamples / o.Workload.Keys
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
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
	return nil
}

// UsageError is a problem with what the caller asked for.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *UsageError) Unwrap() error { return e.Err }

// exploration is one Run: its options, the strategy, the engine its
// sessions route passages through, and the trials waiting for their
// batch's verdict.
type exploration struct {
	opts   Options
	info   strategies.Info
	params strategies.Params
	sched  Schedule // the template of every schedule (no choices)
	reduce bool
	e      *engine
	reg    *strategies.Registry

	sess    *runner.Session
	slot    int
	pending []*trial
	results []*trialResult
}

// trialResult is what one schedule showed.
type trialResult struct {
	sched    Schedule
	end      string
	endWhy   string
	classes  []string
	evidence []string
	unknown  bool
}

// Run explores opts.Strategy and returns what it found. A found anomaly is
// not an error; the error is for a harness that could not run (servers,
// a cancelled context: then the partial result comes with it).
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	x, stop, err := start(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer stop()
	defer x.closeSession(context.WithoutCancel(ctx))

	start := time.Now()
	var deadline time.Time
	if opts.Time > 0 {
		deadline = start.Add(opts.Time)
	}
	budget := func() bool {
		if opts.Schedules > 0 && len(x.results)+len(x.pending) >= opts.Schedules {
			return false
		}
		return deadline.IsZero() || time.Now().Before(deadline)
	}
	exhausted := false
	var runErr error
	switch opts.Mode {
	case ModeExhaustive:
		exhausted, runErr = x.exhaustive(ctx, budget)
	case ModeRandom:
		runErr = x.random(ctx, budget)
	}
	if err := x.closeSession(context.WithoutCancel(ctx)); err != nil && runErr == nil {
		runErr = err
	}
	res := x.result(time.Since(start), exhausted)
	return res, runErr
}

// start makes the exploration of opts (defaults applied) and opens what
// its trials need beside the sessions: the connection that asks
// PostgreSQL for lock waits and, for a strategy process, the proxies.
// stop closes them.
func start(ctx context.Context, opts Options) (x *exploration, stop func(), err error) {
	if x, err = newExploration(opts); err != nil {
		return nil, nil, err
	}
	lock, err := x.openLockConn(ctx)
	if err != nil {
		return nil, nil, err
	}
	x.e.lock = lock
	stopProxies := func() {}
	if opts.Exec != "" && !opts.NoWire {
		if stopProxies, err = x.startProxies(ctx); err != nil {
			lock.Close(context.WithoutCancel(ctx))
			return nil, nil, err
		}
	}
	return x, func() { stopProxies(); lock.Close(context.WithoutCancel(ctx)) }, nil
}

func newExploration(opts Options) (*exploration, error) {
	x := &exploration{opts: opts, e: &engine{}}
	reg := opts.Registry
	if opts.Exec != "" {
		argv, err := process.ParseCommand(opts.Exec)
		if err != nil {
			return nil, &UsageError{err}
		}
		if opts.Strategy == "" {
			opts.Strategy = process.DefaultName(argv)
			x.opts.Strategy = opts.Strategy
		}
		if _, ok := reg.Lookup(opts.Strategy); ok {
			return nil, &UsageError{fmt.Errorf("exec name %q: a registered strategy has that name; choose another", opts.Strategy)}
		}
		reg = withStrategy(reg, process.Info(process.Config{Command: argv, Name: opts.Strategy, StderrPath: opts.ExecLog}))
	}
	info, ok := reg.Lookup(opts.Strategy)
	if !ok {
		return nil, &UsageError{fmt.Errorf("strategy %q: unknown; allowed: %s", opts.Strategy, strings.Join(opts.Registry.Names(), ", "))}
	}
	params := strategies.Params{}
	for k, v := range opts.Params {
		params[k] = v
	}
	// Time is the scheduler's: a background worker's delay only makes
	// every schedule wait, while the scheduler can hold the worker as
	// long as any lag would.
	for _, p := range info.Params {
		if (p.Name == "lag" || p.Name == "delay") && params[p.Name] == "" {
			params[p.Name] = "0s"
		}
	}
	if err := info.CheckParams(params); err != nil {
		return nil, &UsageError{err}
	}
	x.info, x.params = info, params
	x.sched = Schedule{Strategy: info.Name, Params: params, Exec: opts.Exec, Workload: opts.Workload, Wire: !opts.NoWire}
	x.reduce = !opts.NoReduce && !opts.NoWire && !ownClients(info.Name)
	x.reg = hookedRegistry(reg, x.e, !opts.NoWire)
	return x, nil
}

// ownClients reports strategies that open Redis connections of their own
// (rueidis), whose commands the go-redis hook does not see: their steps
// are never taken for silent.
func ownClients(name string) bool { return strings.HasPrefix(name, "rueidis-") }

// withStrategy returns a registry of base's strategies and info.
func withStrategy(base *strategies.Registry, info strategies.Info) *strategies.Registry {
	r := &strategies.Registry{}
	for _, i := range base.All() {
		r.Register(i)
	}
	r.Register(info)
	return r
}

// hookedRegistry wraps every factory of base so that the strategy's Redis
// client passes its commands through the engine.
func hookedRegistry(base *strategies.Registry, e *engine, wire bool) *strategies.Registry {
	r := &strategies.Registry{}
	for _, info := range base.All() {
		orig := info.New
		info.New = func(env strategies.Env) (gb.Strategy, error) {
			if wire && env.Redis != nil {
				env.Redis.AddHook(redisHook{e})
			}
			if e.pgURL != "" {
				env.PostgresURL, env.RedisURL = e.pgURL, e.redisURL
			}
			return orig(env)
		}
		r.Register(info)
	}
	return r
}

func (x *exploration) openLockConn(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(x.opts.Servers.Postgres.URL)
	if err != nil {
		return nil, fmt.Errorf("explore: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "ghostbench-explore-locks"
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("explore: connect to PostgreSQL %s: %w", x.opts.Servers.Postgres.Redacted(), err)
	}
	return c, nil
}

// scenario is the session's: keys for one batch, nothing else running.
func (x *exploration) scenario(keys int) (*scenarios.Scenario, error) {
	sc := &scenarios.Scenario{
		Name: "explore-" + x.info.Name, Description: "explore " + x.info.Name, Keys: keys, Readers: 1,
		Duration: scenarios.Duration(time.Hour), TTL: scenarios.Duration(x.opts.TTL), Seed: 1,
		Instances: x.opts.Workload.Instances,
	}
	sc.Defaults()
	sc.Probe.PerSecond = 0
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

// openSession prepares a session for a batch of schedules.
func (x *exploration) openSession(ctx context.Context) error {
	sc, err := x.scenario(x.opts.Batch * x.opts.Workload.Keys)
	if err != nil {
		return err
	}
	cfg := runner.Config{
		Scenario: sc, Strategy: x.info.Name, Params: x.params, Registry: x.reg, Servers: x.opts.Servers,
		Schema: x.opts.Schema, Prefix: x.opts.Prefix, LazyPool: true, Log: x.opts.Log,
		ID: runner.DefaultID(time.Now(), x.info.Name, "explore"),
	}
	cfg.Tracer = x.tracer()
	sess, err := runner.Open(ctx, cfg)
	if err != nil {
		return err
	}
	x.attach(sess)
	x.sess, x.slot = sess, 0
	return nil
}

// tracer is the pgx tracer of the exploration's sessions (nil without
// wire points).
func (x *exploration) tracer() pgx.QueryTracer {
	if x.opts.NoWire {
		return nil
	}
	return pgTracer{x.e}
}

// attach routes a session's points and commit failures through the
// engine.
func (x *exploration) attach(sess *runner.Session) {
	sess.Hooks().Set(x.e.hook)
	if st := sess.FaultEnv().Store; st != nil {
		st.SetFailCommit(x.e.failing)
	}
}

// closeSession closes the batch's session and judges its schedules.
func (x *exploration) closeSession(ctx context.Context) error {
	if x.sess == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	run := x.sess.Close(cctx)
	x.sess = nil
	pend := x.pending
	x.pending = nil
	if run.Status == record.StatusError {
		for _, t := range pend {
			r := t.resultOf()
			r.unknown = true
			r.evidence = append(r.evidence, "the session ended with an error: "+run.Error)
			x.results = append(x.results, r)
		}
		return fmt.Errorf("explore: session ended with status %s: %s", run.Status, run.Error)
	}
	for _, t := range pend {
		x.results = append(x.results, judgeTrial(t, run))
	}
	if x.opts.Progress != nil {
		x.opts.Progress(Progress{Schedules: len(x.results), Anomalous: x.anomalous()})
	}
	return nil
}

func (x *exploration) anomalous() int {
	n := 0
	for _, r := range x.results {
		if anomalous(r.classes) {
			n++
		}
	}
	return n
}

// runTrial runs one schedule (prefix, then pol) from start on the next
// free keys of the current session.
func (x *exploration) runTrial(ctx context.Context, start string, prefix []Choice, pol policy) (*trial, error) {
	if x.sess != nil && x.slot >= x.opts.Batch {
		if err := x.closeSession(ctx); err != nil {
			return nil, err
		}
	}
	if x.sess == nil {
		if err := x.openSession(ctx); err != nil {
			return nil, err
		}
	}
	t := x.newTrial(x.sess, x.slot, start, prefix, pol)
	x.slot++
	if err := t.prepare(ctx); err != nil {
		return nil, err
	}
	if err := t.run(ctx); err != nil {
		return nil, err
	}
	t.conclude(ctx)
	x.pending = append(x.pending, t)
	return t, nil
}

func (x *exploration) newTrial(sess *runner.Session, slot int, start string, prefix []Choice, pol policy) *trial {
	w := x.opts.Workload
	t := &trial{e: x.e, sess: sess, ex: x, slot: slot, prefix: prefix, pol: pol, start: start}
	for i := 0; i < w.Keys; i++ {
		t.keys = append(t.keys, gb.Key(slot*w.Keys+i))
	}
	return t
}

// prepare brings the trial's keys to the initial state.
func (t *trial) prepare(ctx context.Context) error {
	if t.start != StartCached {
		return nil
	}
	setup := gb.Actor{Kind: "setup", ID: setupID}
	for i := 0; i < t.ex.opts.Workload.Instances; i++ {
		setup.Instance = i
		for _, k := range t.keys {
			for n := 0; n < 2; n++ {
				if op := t.sess.Read(ctx, setup, k); op.Err != nil {
					return fmt.Errorf("explore: fill key %d before the schedule: %w", k, op.Err)
				}
			}
		}
	}
	return nil
}

// conclude reads every key once more after the actors finished (the
// final read the checker classifies like any other).
func (t *trial) conclude(ctx context.Context) {
	if t.end != EndDone {
		return
	}
	final := gb.Actor{Kind: "final", ID: finalID}
	for i := 0; i < t.ex.opts.Workload.Instances; i++ {
		final.Instance = i
		for _, k := range t.keys {
			t.read(ctx, final, k)
		}
	}
}

// schedule returns the trial's schedule: its choices as made.
func (t *trial) schedule() Schedule {
	s := t.ex.sched
	s.Start = t.start
	s.Choices = make([]Choice, len(t.decisions))
	for i, d := range t.decisions {
		s.Choices[i] = d.chosen
	}
	s.Steps = slices.Clone(t.steps)
	s.Preemptions, s.Faults = t.pre, t.faults
	return s
}

func (t *trial) resultOf() *trialResult {
	return &trialResult{sched: t.schedule(), end: t.end, endWhy: t.endWhy}
}

// Classes explore reports, in report order: the checker's and the
// audit's (DESIGN.md section 4), and write-failed, a write that a Redis
// fault made fail. early-read is informational, as in a run: it makes no
// anomaly alone, but it tells a dirty read from a late one.
const (
	ClassStaleRead     = "stale-read"
	ClassGhostRead     = "ghost-read"
	ClassEarlyRead     = "early-read"
	ClassStaleUntilTTL = "stale-until-ttl"
	ClassGhostUntilTTL = "ghost-until-ttl"
	ClassWriteFailed   = "write-failed"
)

// Classes returns the classes in report order.
func Classes() []string {
	return []string{ClassStaleRead, ClassGhostRead, ClassEarlyRead, ClassStaleUntilTTL, ClassGhostUntilTTL, ClassWriteFailed}
}

// anomalous reports whether classes make an anomaly (early reads alone do
// not).
func anomalous(classes []string) bool {
	return slices.ContainsFunc(classes, func(c string) bool { return c != ClassEarlyRead })
}

// judgeTrial classifies a trial's operations and audit from the
// session's run, exactly as a run's are classified.
func judgeTrial(t *trial, run *record.Run) *trialResult {
	r := t.resultOf()
	m := run.Metrics
	if m == nil {
		r.unknown = true
		return r
	}
	if r.end != EndDone {
		// The scheduler aborted what was left of it (a deadlock, a
		// diverged prefix, a stuck step): what the servers hold then is
		// the abort's doing, not the strategy's, and proves nothing.
		r.unknown = r.end != EndDeadlock
		return r
	}
	keys := map[gb.Key]bool{}
	for _, k := range t.keys {
		keys[k] = true
	}
	found := map[string]bool{}
	for _, e := range m.History {
		if !keys[e.Key] || e.Client == setupID {
			continue
		}
		who := actorName(e.Client)
		switch e.Kind {
		case gb.OpRead.String():
			if e.Unknown {
				r.unknown = true
			}
			if e.Stale {
				found[ClassStaleRead] = true
				r.evidence = append(r.evidence, fmt.Sprintf("%s read %s, stale (age %.2fms, version lag %d)", who, e.Value, float64(e.AgeNs)/1e6, e.Lag))
			}
			if e.Ghost {
				found[ClassGhostRead] = true
				r.evidence = append(r.evidence, fmt.Sprintf("%s read %s, never committed (ghost)", who, e.Value))
			}
			if e.Early {
				found[ClassEarlyRead] = true
				r.evidence = append(r.evidence, fmt.Sprintf("%s read %s before its COMMIT was sent (early)", who, e.Value))
			}
		case gb.OpWrite.String():
			if e.Outcome == check.OutcomeUnknown {
				r.unknown = true
			}
			if e.Outcome != check.OutcomeCommitted && t.redisFault[who] {
				found[ClassWriteFailed] = true
				r.evidence = append(r.evidence, fmt.Sprintf("%s's write (token %d) did not commit: %s", who, e.Token, e.Error))
			}
		}
	}
	for _, x := range m.Audit.Examples {
		if !keys[x.Key] {
			continue
		}
		switch x.Kind {
		case check.AuditStale:
			found[ClassStaleUntilTTL] = true
			r.evidence = append(r.evidence, fmt.Sprintf("audit: key %d's cache holds %s, the database %s: stale until TTL", x.Key, x.Cache, x.DB))
		case check.AuditGhost:
			found[ClassGhostUntilTTL] = true
			r.evidence = append(r.evidence, fmt.Sprintf("audit: key %d's cache holds %s, never committed: ghost until TTL", x.Key, x.Cache))
		default:
			r.unknown = true
		}
	}
	for _, c := range Classes() {
		if found[c] {
			r.classes = append(r.classes, c)
		}
	}
	r.sched.Classes = r.classes
	r.sched.Shape = strings.Join(r.classes, "+")
	return r
}

func actorName(id int) string {
	switch {
	case id == finalID:
		return "final read"
	case id >= writerBase:
		return fmt.Sprintf("writer-%d", id)
	default:
		return fmt.Sprintf("reader-%d", id)
	}
}

// defaultPolicy runs the current actor on while it can, then the first
// parked actor in actor order: no preemption, no fault.
type defaultPolicy struct{}

func (defaultPolicy) choose(t *trial, d *decision, en []*actor) Choice {
	if d.current != "" {
		return Choice{Actor: d.current}
	}
	return Choice{Actor: en[0].name}
}

// exhaustive explores every schedule within the bounds, depth first, one
// initial state after the other. It returns whether the space was
// exhausted.
func (x *exploration) exhaustive(ctx context.Context, budget func() bool) (bool, error) {
	for _, start := range x.opts.Starts {
		stack := [][]Choice{nil}
		for len(stack) > 0 {
			if !budget() {
				return false, nil
			}
			prefix := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			t, err := x.runTrial(ctx, start, prefix, defaultPolicy{})
			if err != nil {
				return false, err
			}
			if t.end == EndDiverged {
				continue
			}
			stack = append(stack, x.children(t, len(prefix))...)
		}
	}
	return true, nil
}

// children returns the prefixes that branch off t's schedule at or after
// position from, within the bounds, in the order they are to be run
// (pushed in reverse: the earliest branch runs first).
func (x *exploration) children(t *trial, from int) [][]Choice {
	var out [][]Choice
	made := make([]Choice, len(t.decisions))
	for i, d := range t.decisions {
		made[i] = d.chosen
	}
	for i := len(t.decisions) - 1; i >= from; i-- {
		d := t.decisions[i]
		alts := x.alternatives(d)
		for j := len(alts) - 1; j >= 0; j-- {
			p := make([]Choice, i+1)
			copy(p, made[:i])
			p[i] = alts[j]
			out = append(out, p)
		}
	}
	return out
}

// alternatives returns the other choices at d within the bounds.
func (x *exploration) alternatives(d decision) []Choice {
	var out []Choice
	for _, name := range d.enabled {
		pre := d.pre
		if d.current != "" && name != d.current {
			pre++
			if d.silent {
				// The current actor's step reaches no server: switching
				// after it is the same schedule as switching before.
				continue
			}
		}
		if pre > x.opts.Bound {
			continue
		}
		if name != d.chosen.Actor || d.chosen.Fault != "" {
			out = append(out, Choice{Actor: name})
		}
		if d.faults < x.opts.MaxFaults {
			for _, f := range d.faultOpts[name] {
				if name == d.chosen.Actor && f == d.chosen.Fault {
					continue
				}
				out = append(out, Choice{Actor: name, Fault: f})
			}
		}
	}
	return out
}

// pctPolicy is PCT: actors run by priority; at each of Depth-1 change
// points, the running actor's priority drops below every other.
type pctPolicy struct {
	rng     *rand.Rand
	prio    map[string]float64
	changes map[int]bool
	low     float64
	faultP  float64
}

func newPCT(rng *rand.Rand, depth, steps int, faultP float64) *pctPolicy {
	p := &pctPolicy{rng: rng, prio: map[string]float64{}, changes: map[int]bool{}, faultP: faultP}
	for i := 0; i < depth-1 && steps > 0; i++ {
		p.changes[1+rng.IntN(steps)] = true
	}
	return p
}

func (p *pctPolicy) choose(t *trial, d *decision, en []*actor) Choice {
	i := len(t.decisions)
	if p.changes[i] && d.current != "" {
		p.low--
		p.prio[d.current] = p.low
	}
	best := en[0]
	for _, a := range en {
		if _, ok := p.prio[a.name]; !ok {
			p.prio[a.name] = 1 + p.rng.Float64()
		}
		if p.prio[a.name] > p.prio[best.name] {
			best = a
		}
	}
	c := Choice{Actor: best.name}
	if fo := d.faultOpts[best.name]; len(fo) > 0 && p.rng.Float64() < p.faultP {
		c.Fault = fo[p.rng.IntN(len(fo))]
	}
	return c
}

// random runs PCT schedules until the budget is spent.
func (x *exploration) random(ctx context.Context, budget func() bool) error {
	rng := rand.New(rand.NewPCG(uint64(x.opts.Seed), 0x9e3779b97f4a7c15))
	steps := 0
	for i := 0; budget(); i++ {
		start := x.opts.Starts[i%len(x.opts.Starts)]
		est := max(steps, 8)
		faultP := 0.0
		if x.opts.MaxFaults > 0 {
			faultP = math.Min(1, float64(x.opts.MaxFaults)/float64(est))
		}
		t, err := x.runTrial(ctx, start, nil, newPCT(rng, x.opts.Depth, est, faultP))
		if err != nil {
			return err
		}
		steps = max(steps, len(t.decisions))
	}
	return nil
}

// sortResults orders results smallest first: fewest preemptions, then
// faults, then steps.
func sortResults(rs []*trialResult) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i].sched, rs[j].sched
		if a.Preemptions != b.Preemptions {
			return a.Preemptions < b.Preemptions
		}
		if a.Faults != b.Faults {
			return a.Faults < b.Faults
		}
		return len(a.Choices) < len(b.Choices)
	})
}
