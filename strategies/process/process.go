// Package process runs a caching strategy written in any language as a
// separate process that speaks the newline-delimited JSON protocol of
// docs/protocol.md on its stdin and stdout, in the spirit of Jepsen's
// Maelstrom. The harness starts the command, hands it the servers, schema,
// key prefix, TTL and parameters in an init message, and then sends it
// read, write, peek and drain requests, several at once; the process sends
// point messages at its interleaving points and the harness answers them
// when the run's hooks let it go on.
//
// The harness still owns time: the runner stamps invoke and complete around
// every call. A process cannot tell the store's recorder its commit
// instants, so this package reports them for it: commit-sent is bounded by
// the request's send and commit-ack by its reply, unless the process sends
// its own CLOCK_MONOTONIC instants (which are used when they fall inside
// that interval). A write whose outcome the process could not learn is
// settled from the ledger once no transaction of it can still be open.
//
// A process that misbehaves (does not start, exits, sends a malformed,
// oversized or unknown line, replies to an id never sent, does not answer
// within Config.RequestTimeout) breaks the strategy for good: every call
// fails, Failed is closed, the process group is killed, and Close returns
// one line naming the process, the problem and the last lines of its
// stderr.
package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/strategies"
)

// Defaults of Config.
const (
	DefaultRequestTimeout = 10 * time.Second
	DefaultInitTimeout    = 30 * time.Second
	DefaultMaxLine        = 1 << 20
	// settleBound bounds the wait for a write's transaction to end before
	// the ledger is asked about it.
	settleBound = 10 * time.Second
	// stopGrace is how long Close waits for the process to exit after its
	// stdin is closed, before killing its group.
	stopGrace = 2 * time.Second
	tailLines = 5
)

// Config says how to run the process.
type Config struct {
	// Command is the program and its arguments (no shell).
	Command []string
	// Name is the strategy's registered name; default DefaultName(Command).
	Name string
	// Dir is the working directory; default the harness's.
	Dir string
	// StderrPath is the file the process's stderr is appended to (its
	// directory is created); empty keeps only the tail for errors.
	StderrPath string
	// RequestTimeout bounds every request after init: a process that
	// does not answer in time is broken. Default DefaultRequestTimeout. It
	// must exceed what the process's own client timeouts let a request
	// take, and an app-freeze fault's duration.
	RequestTimeout time.Duration
	// InitTimeout bounds the start and the init handshake (an interpreter
	// importing its libraries on a loaded machine takes a while); default
	// DefaultInitTimeout, and never less than RequestTimeout.
	InitTimeout time.Duration
	// MaxLine bounds one line from the process; default DefaultMaxLine.
	MaxLine int
	// MaxLog bounds the stderr log of one strategy (head and tail kept);
	// default DefaultMaxLog.
	MaxLog int64

	// noLedgerCheck skips the check of write_ok versions (benchmarks of
	// the protocol alone, whose fake commits nothing).
	noLedgerCheck bool
}

// DefaultName derives a strategy name from a command: "exec-" and the base
// name of its last argument without extension, underscores as dashes
// ("python3 examples/python/write_through.py" is "exec-write-through").
func DefaultName(command []string) string {
	if len(command) == 0 {
		return "exec"
	}
	b := filepath.Base(command[len(command)-1])
	b = strings.TrimSuffix(b, filepath.Ext(b))
	return "exec-" + strings.ReplaceAll(strings.ToLower(b), "_", "-")
}

// ParseCommand splits a command line on spaces (no shell quoting: wrap
// anything fancier in a script). It returns an error for an empty one.
func ParseCommand(s string) ([]string, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil, errors.New(`-exec "": want a command such as '/usr/bin/python3 examples/python/cache_aside.py'`)
	}
	return f, nil
}

// Info returns the registry entry of the process strategy. Its parameters
// are passed to the process, which checks them (AnyParams). Points is
// left empty: the process announces its points when it starts.
func Info(cfg Config) strategies.Info {
	if cfg.Name == "" {
		cfg.Name = DefaultName(cfg.Command)
	}
	return strategies.Info{
		Name:        cfg.Name,
		Description: "foreign process: " + strings.Join(cfg.Command, " "),
		AnyParams:   true,
		New:         func(env strategies.Env) (gb.Strategy, error) { return New(context.Background(), cfg, env) },
	}
}

// Strategy drives one process. It implements ghostbench.Strategy, and
// Inspector and Drainer when the process offers peek and drain (New
// returns a type with exactly the abilities the process announced).
type Strategy struct {
	cfg   Config
	env   strategies.Env
	rec   gb.Recorder
	clock *gb.Clock
	tail  *tail
	errW  io.Writer
	// verify checks write_ok versions against the ledger.
	verify *verifier
	errF   *capLog

	nextID atomic.Int64
	starts atomic.Int64

	mu      sync.Mutex
	ch      *child // nil while down (crashed by a fault, or closed)
	calls   map[int64]*call
	hello   msg
	down    string        // why ch is nil
	up      chan struct{} // closed while ch is set; requests wait on it while down
	closing bool

	crashAt string // app-crash: kill the process when it reaches this point

	fatal      error
	notes      []string // said in the run's summary
	failed     chan struct{}
	failedOnce sync.Once
	bg         sync.WaitGroup // point handlers
}

// call is one request in flight.
type call struct {
	id    int64
	ctx   context.Context // carries the actor, for points
	key   gb.Key
	child *child
	reply chan *msg // gets exactly one message
}

// errGone is the synthetic reply of a call whose process ended.
type errGone struct{ why string }

func (e errGone) Error() string { return e.why }

// New starts the process, initializes it and returns the strategy. It
// returns an error (naming the process, the problem and its stderr tail)
// when the process does not start or does not answer init properly.
func New(ctx context.Context, cfg Config, env strategies.Env) (gb.Strategy, error) {
	if len(cfg.Command) == 0 {
		return nil, errors.New("process strategy: no command")
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName(cfg.Command)
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = DefaultMaxLine
	}
	if cfg.MaxLog <= 0 {
		cfg.MaxLog = DefaultMaxLog
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	cfg.InitTimeout = max(cfg.InitTimeout, cfg.RequestTimeout)
	if env.Store == nil || env.PostgresURL == "" || env.RedisURL == "" {
		return nil, errors.New("process strategy: the environment lacks the store or the server URLs")
	}
	s := &Strategy{
		cfg: cfg, env: env, rec: env.Store.Recorder(), clock: env.Store.Clock(),
		tail: &tail{max: 8 << 10}, calls: map[int64]*call{}, failed: make(chan struct{}),
	}
	s.errW = s.tail
	if cfg.StderrPath != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.StderrPath), 0o755); err != nil {
			return nil, fmt.Errorf("process %s: stderr log: %w", cfg.Name, err)
		}
		// O_NOFOLLOW: a link planted in the results folder is refused,
		// not written through.
		f, err := os.OpenFile(cfg.StderrPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0o644)
		if err != nil {
			return nil, fmt.Errorf("process %s: stderr log: %w", cfg.Name, err)
		}
		s.errF = newCapLog(f, cfg.MaxLog)
		s.errW = io.MultiWriter(s.errF, s.tail)
	}
	s.verify = newVerifier(s)
	if err := s.launch(ctx); err != nil {
		s.shutdown()
		return nil, err
	}
	switch {
	case s.hello.Peek && s.hello.Drain:
		return &peekDrain{s}, nil
	case s.hello.Peek:
		return &peeker{s}, nil
	case s.hello.Drain:
		return &drainer{s}, nil
	}
	return s, nil
}

// Strategy variants by the abilities the process announced.
type (
	peeker    struct{ *Strategy }
	drainer   struct{ *Strategy }
	peekDrain struct{ *Strategy }
)

// Peek implements ghostbench.Inspector.
func (p *peeker) Peek(ctx context.Context, k gb.Key) (gb.Value, time.Duration, bool, error) {
	return p.peek(ctx, k)
}

// Drain implements ghostbench.Drainer.
func (d *drainer) Drain(ctx context.Context) error { return d.drain(ctx) }

// Peek implements ghostbench.Inspector.
func (p *peekDrain) Peek(ctx context.Context, k gb.Key) (gb.Value, time.Duration, bool, error) {
	return p.peek(ctx, k)
}

// Drain implements ghostbench.Drainer.
func (p *peekDrain) Drain(ctx context.Context) error { return p.drain(ctx) }

// Process returns the strategy behind any variant New returns, nil for
// another strategy. Faults use it to crash and freeze the process.
func Process(st gb.Strategy) *Strategy {
	switch v := st.(type) {
	case *Strategy:
		return v
	case *peeker:
		return v.Strategy
	case *drainer:
		return v.Strategy
	case *peekDrain:
		return v.Strategy
	}
	return nil
}

// Hello returns the process's init_ok: its name, points, abilities.
func (s *Strategy) Hello() (name string, points []gb.Point) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.hello.Points {
		points = append(points, gb.Point(p))
	}
	return s.hello.Name, points
}

// describe names the process in errors: its name, command and pid.
func (s *Strategy) describe(c *child) string {
	d := fmt.Sprintf("process %s (%s", s.cfg.Name, strings.Join(s.cfg.Command, " "))
	if c != nil {
		d += fmt.Sprintf(", pid %d", c.pid)
	}
	return d + ")"
}

// launch starts a child and runs the init handshake.
func (s *Strategy) launch(ctx context.Context) error {
	appName := s.appName(s.starts.Add(1))
	dsn, err := withAppName(s.env.PostgresURL, appName)
	if err != nil {
		return fmt.Errorf("%s: postgres URL: %w", s.describe(nil), err)
	}
	c, err := start(s.cfg.Command, s.cfg.Dir, os.Environ(), s.errW, s.cfg.MaxLine, s.onLine, func(c *child, err error) { s.failWith(c, err) }, s.onEnd)
	if err != nil {
		return fmt.Errorf("%s: %w", s.describe(nil), err)
	}
	c.appName = appName
	s.mu.Lock()
	s.ch, s.down = c, ""
	s.mu.Unlock()
	defer func() {
		// Up (or broken for good): let waiting requests go.
		s.mu.Lock()
		if s.up != nil {
			close(s.up)
			s.up = nil
		}
		s.mu.Unlock()
	}()
	ttl := s.env.TTL.Milliseconds()
	redisAddr := ""
	if u, err := url.Parse(s.env.RedisURL); err == nil {
		redisAddr = u.Host
	}
	init := &msg{
		Type: typeInit, Protocol: Version, Name: s.cfg.Name,
		PostgresDSN: dsn, RedisURL: s.env.RedisURL, RedisAddr: redisAddr,
		Schema: s.env.Store.Schema(), Table: s.env.Store.Schema() + ".rows",
		KeyPrefix: s.env.Prefix, KeyFormat: s.env.Prefix + "row:{key}", TTLMs: &ttl,
		PostgresTimeoutMs: s.env.PostgresTimeout.Milliseconds(), RedisTimeoutMs: s.env.RedisTimeout.Milliseconds(),
		Params: s.env.Params,
	}
	r, err := s.request(ctx, c, init, -1, s.cfg.InitTimeout)
	if err != nil {
		return s.failWith(c, fmt.Errorf("init: %w", err))
	}
	if r.Type != typeInitOK {
		return s.failWith(c, fmt.Errorf("init answered with %s, want init_ok%s", r.Type, errText(r)))
	}
	if r.Protocol != Version {
		return s.failWith(c, fmt.Errorf("init_ok protocol %d, want %d", r.Protocol, Version))
	}
	for _, p := range r.Points {
		if p == "" {
			return s.failWith(c, errors.New("init_ok lists an empty point name"))
		}
	}
	s.mu.Lock()
	s.hello = *r
	s.mu.Unlock()
	return nil
}

var pidSelf = os.Getpid()

// appName is the application_name of the sessions of the n-th start
// (PostgreSQL keeps 63 bytes of it).
func (s *Strategy) appName(n int64) string {
	a := fmt.Sprintf("gbproc-%d-%s-%d", pidSelf, s.env.Store.Schema(), n)
	if len(a) > 63 {
		a = a[:63]
	}
	return a
}

func (s *Strategy) warn(key gb.Key, err error) {
	if s.env.Warn != nil {
		s.env.Warn(key, err)
	}
}

func errText(r *msg) string {
	if r.Type == typeError && r.Text != "" {
		return ": " + r.Text
	}
	return ""
}

// withAppName adds application_name to a PostgreSQL URL, so that the
// harness can tell the process's sessions apart (to end them after a
// crash).
func withAppName(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// onLine handles one line from child c (the reader goroutine).
func (s *Strategy) onLine(c *child, line []byte) error {
	m, err := decode(line)
	if err != nil {
		return err
	}
	if m.Type == typePoint {
		s.mu.Lock()
		parent := s.calls[m.Request]
		s.mu.Unlock()
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.point(c, m, parent)
		}()
		return nil
	}
	s.mu.Lock()
	cl := s.calls[m.InReplyTo]
	if cl != nil && cl.child == c {
		delete(s.calls, m.InReplyTo)
	}
	s.mu.Unlock()
	if cl == nil || cl.child != c {
		return fmt.Errorf("%s for id %d, which the harness never sent or already has an answer for", m.Type, m.InReplyTo)
	}
	cl.reply <- m
	return nil
}

// point answers a point message once the hooks let the actor go on.
func (s *Strategy) point(c *child, m *msg, parent *call) {
	ctx := gb.WithActor(context.Background(), gb.Actor{Kind: "worker"})
	if parent != nil {
		ctx = parent.ctx
	}
	s.mu.Lock()
	crash := s.crashAt != "" && s.crashAt == m.Point
	if crash {
		s.crashAt = ""
	}
	s.mu.Unlock()
	if crash {
		// Dies waiting at the point: between COMMIT and DEL for
		// after-commit. No answer.
		c.kill("app-crash at " + m.Point)
		return
	}
	reply := &msg{Type: typePointOK, InReplyTo: m.ID}
	if err := s.env.Hooks.At(ctx, gb.Point(m.Point), gb.Key(*m.Key)); err != nil {
		reply = &msg{Type: typeError, InReplyTo: m.ID, Class: "other", Definite: ptr(true), Text: err.Error()}
	}
	_ = c.send(reply) // a dead child's end is handled by onEnd
}

// onEnd runs when child c has exited; rerr is the protocol error that
// ended its reading, if any.
func (s *Strategy) onEnd(c *child, rerr error) {
	why := c.killedOnPurpose()
	s.mu.Lock()
	closing := s.closing
	var gone []*call
	for id, cl := range s.calls {
		if cl.child == c {
			gone = append(gone, cl)
			delete(s.calls, id)
		}
	}
	if s.ch == c {
		s.ch = nil
		s.down = why
		if why != "" && !closing && s.up == nil {
			s.up = make(chan struct{}) // a crash: Restart closes it
		}
	}
	s.mu.Unlock()
	var problem error
	switch {
	case rerr != nil:
		problem = rerr
	case why != "":
		problem = errGone{why}
	case closing:
		problem = errGone{"closed"}
	default:
		problem = fmt.Errorf("exited (%v)", exitStatus(c.exit))
	}
	if left := c.leftBehind(); len(left) > 0 && why == "" && !closing {
		problem = fmt.Errorf("%v; %v", problem, leftError(left))
	}
	if why == "" && !closing {
		s.failWith(c, problem)
	}
	for _, cl := range gone {
		cl.reply <- &msg{Type: typeError, Class: "other", Text: problem.Error()}
	}
}

// leftError says which processes a process left running when it ended
// (killed by the harness).
func leftError(left []string) error {
	return fmt.Errorf("left %d process(es) running after it ended, killed by the harness: %s", len(left), strings.Join(left, ", "))
}

func exitStatus(err error) string {
	if err == nil {
		return "status 0"
	}
	var ee interface{ ExitCode() int }
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return fmt.Sprintf("status %d", ee.ExitCode())
	}
	return err.Error()
}

// failWith breaks the strategy for good with problem (the first one
// wins), kills the process group of c (nil: the current child), and
// returns the one-line error.
func (s *Strategy) failWith(c *child, problem error) error {
	if c == nil {
		s.mu.Lock()
		c = s.ch
		s.mu.Unlock()
	}
	err := fmt.Errorf("%s: %v; stderr: %s", s.describe(c), problem, s.tail.lines(tailLines))
	s.failedOnce.Do(func() {
		s.mu.Lock()
		s.fatal = err
		s.mu.Unlock()
		close(s.failed)
	})
	if c != nil {
		c.kill("")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatal
}

// Failed is closed when the strategy broke for good (runner.Failer).
func (s *Strategy) Failed() <-chan struct{} { return s.failed }

// Err returns why the strategy broke, nil if it did not.
func (s *Strategy) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatal
}

// errDown is returned for requests while the process is down on purpose.
type errDown struct{ why string }

func (e errDown) Error() string { return "application process down: " + e.why }

// request sends m to child c (the current child when c is nil) and waits
// for its reply, up to the request timeout. key is the request's key (-1:
// none). A dead or broken process gives an error.
func (s *Strategy) request(ctx context.Context, c *child, m *msg, key gb.Key, timeout ...time.Duration) (*msg, error) {
	to := s.cfg.RequestTimeout
	if len(timeout) > 0 {
		to = timeout[0]
	}
	r, _, err := s.requestWithin(ctx, c, m, key, to)
	return r, err
}

// requestOn is request, also returning the child that got it.
func (s *Strategy) requestOn(ctx context.Context, c *child, m *msg, key gb.Key) (*msg, *child, error) {
	return s.requestWithin(ctx, c, m, key, s.cfg.RequestTimeout)
}

func (s *Strategy) requestWithin(ctx context.Context, c *child, m *msg, key gb.Key, timeout time.Duration) (*msg, *child, error) {
	s.mu.Lock()
	if s.fatal != nil {
		err := s.fatal
		s.mu.Unlock()
		return nil, nil, err
	}
	if c == nil {
		c = s.ch
	}
	if c == nil {
		// Down after a crash: wait for the restart, as clients queue
		// behind a restarting application server, up to the timeout.
		why, up, closing := s.down, s.up, s.closing
		s.mu.Unlock()
		if up == nil || closing {
			return nil, nil, errDown{why}
		}
		t := time.NewTimer(s.cfg.RequestTimeout)
		defer t.Stop()
		select {
		case <-up:
			return s.requestOn(ctx, nil, m, key)
		case <-t.C:
		case <-ctx.Done():
		}
		return nil, nil, errDown{why}
	}
	cl := &call{id: s.nextID.Add(1), ctx: ctx, key: key, child: c, reply: make(chan *msg, 1)}
	m.ID = cl.id
	s.calls[cl.id] = cl
	s.mu.Unlock()
	if err := c.send(m); err != nil {
		s.mu.Lock()
		delete(s.calls, cl.id)
		s.mu.Unlock()
		// Its end (onEnd) says why; a write that failed here was not sent.
		return nil, c, errDown{err.Error()}
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-cl.reply:
		return r, c, nil
	case <-t.C:
		s.failWith(c, fmt.Errorf("no reply to %s id %d within %v", m.Type, cl.id, timeout))
		// The kill ends the reader, which answers every call in flight.
		return <-cl.reply, c, nil
	}
}

// remoteErr turns an error reply into a classified error.
func (s *Strategy) remoteErr(r *msg, what string) error {
	cls, ok := errClass(r.Class)
	if !ok {
		cls = gb.ClassOther
	}
	text := r.Text
	if text == "" {
		text = "(no text)"
	}
	return &gb.ClassError{Class: cls, Err: fmt.Errorf("%s: %s", what, text)}
}

// Read implements ghostbench.Strategy.
func (s *Strategy) Read(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	r, err := s.request(ctx, nil, &msg{Type: typeRead, Key: ptr(int64(key))}, key)
	if err != nil {
		return gb.ReadResult{}, &gb.ClassError{Class: gb.ClassOther, Err: err}
	}
	switch {
	case r.Type == typeError:
		return gb.ReadResult{}, s.remoteErr(r, fmt.Sprintf("read key %d", key))
	case r.Type != typeReadOK || r.Value == nil:
		return gb.ReadResult{}, s.failWith(nil, fmt.Errorf("read key %d answered with %s (value %v), want read_ok with a value", key, r.Type, r.Value))
	case r.Value.Version < 0:
		// No write makes a negative version: the checker would count
		// every such read as unknown rather than say the process lies.
		return gb.ReadResult{}, s.failWith(nil, fmt.Errorf("read key %d answered with version %d, want a version >= 0", key, r.Value.Version))
	}
	return gb.ReadResult{Value: *r.Value, Hit: r.Hit}, nil
}

// peek asks for the raw cache entry of key.
func (s *Strategy) peek(ctx context.Context, key gb.Key) (gb.Value, time.Duration, bool, error) {
	r, err := s.request(ctx, nil, &msg{Type: typePeek, Key: ptr(int64(key))}, key)
	if err != nil {
		return gb.Value{}, 0, false, err
	}
	switch {
	case r.Type == typeError:
		return gb.Value{}, 0, false, s.remoteErr(r, fmt.Sprintf("peek key %d", key))
	case r.Type != typePeekOK || (r.Present && r.Value == nil):
		return gb.Value{}, 0, false, s.failWith(nil, fmt.Errorf("peek key %d answered with %s, want peek_ok (with a value when present)", key, r.Type))
	case !r.Present:
		return gb.Value{}, 0, false, nil
	}
	ttl := time.Duration(-1)
	if r.TTLLeft != nil && *r.TTLLeft >= 0 {
		ttl = time.Duration(*r.TTLLeft) * time.Millisecond
	}
	return *r.Value, ttl, true, nil
}

// drain asks the process to finish its background work.
func (s *Strategy) drain(ctx context.Context) error {
	r, err := s.request(ctx, nil, &msg{Type: typeDrain}, -1)
	if err != nil {
		return err
	}
	if r.Type == typeError {
		return s.remoteErr(r, "drain")
	}
	if r.Type != typeDrainOK {
		return s.failWith(nil, fmt.Errorf("drain answered with %s, want drain_ok", r.Type))
	}
	return nil
}

// Close asks the process to exit (its stdin closes), kills its group after
// a grace period, waits for the point handlers, and returns why the
// strategy broke, if it did.
func (s *Strategy) Close() error {
	s.shutdown()
	return s.Err()
}

func (s *Strategy) shutdown() {
	s.mu.Lock()
	s.closing = true
	c := s.ch
	if s.up != nil {
		close(s.up)
		s.up = nil
	}
	s.mu.Unlock()
	if c != nil {
		c.stop(stopGrace)
		if left := c.leftBehind(); len(left) > 0 {
			s.failWith(c, leftError(left))
		}
	}
	s.verify.finish()
	s.bg.Wait()
	if s.errF != nil {
		if n := s.errF.Truncated(); n > 0 {
			note := fmt.Sprintf("%s: its stderr log %s was cut: %d bytes left out between the first and the last %d bytes",
				s.describe(nil), s.cfg.StderrPath, n, s.cfg.MaxLog/2)
			s.mu.Lock()
			s.notes = append(s.notes, note)
			s.mu.Unlock()
		}
		_ = s.errF.Close()
		s.errF = nil
	}
}

// Notes returns what the run's summary should say about the process
// beyond its metrics (a stderr log that was cut); call it after Close.
func (s *Strategy) Notes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notes)
}

// Crash kills the process group with SIGKILL (the app-crash fault). Calls
// in flight fail; writes among them are settled from the ledger. The
// process stays down until Restart.
func (s *Strategy) Crash(why string) error {
	s.mu.Lock()
	c := s.ch
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	c.kill(why)
	<-c.done
	return nil
}

// CrashAt arms a crash: the first time the process waits at point p, its
// group is killed instead of answered. An empty p disarms.
func (s *Strategy) CrashAt(p gb.Point) {
	s.mu.Lock()
	s.crashAt = string(p)
	s.mu.Unlock()
}

// Restart starts the process again after a Crash (a no-op while it runs).
func (s *Strategy) Restart(ctx context.Context) error {
	s.mu.Lock()
	up := s.ch != nil
	fatal := s.fatal
	s.mu.Unlock()
	if fatal != nil {
		return fatal
	}
	if up {
		return nil
	}
	return s.launch(ctx)
}

// Freeze stops the process group with SIGSTOP (app-freeze); Thaw continues
// it. Requests in flight wait (up to the request timeout).
func (s *Strategy) Freeze() error { return s.signal(syscall.SIGSTOP) }

// Thaw continues a frozen process with SIGCONT.
func (s *Strategy) Thaw() error { return s.signal(syscall.SIGCONT) }

func (s *Strategy) signal(sig syscall.Signal) error {
	s.mu.Lock()
	c := s.ch
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	if err := c.signal(sig); err != nil {
		return fmt.Errorf("%s: %v: %w", s.describe(c), sig, err)
	}
	return nil
}
