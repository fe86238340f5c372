package explore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/runner"
)

// How a trial ended, apart from what the checker says of its history.
const (
	// EndDone: every actor finished and background work was drained.
	EndDone = "done"
	// EndDeadlock: actors remained, none could run (each waits for a lock
	// another holds). Reported, never an anomaly.
	EndDeadlock = "deadlock"
	// EndDiverged: a replayed choice named an actor that was not parked
	// where the schedule says: the harness or the strategy is not
	// deterministic under this schedule. Counted, never an anomaly.
	EndDiverged = "diverged"
	// EndStuck: a step did not reach its next point, a lock wait or its
	// end within the step bound. Unknown, never an anomaly.
	EndStuck = "stuck"
	// EndTooLong: the schedule took more steps than the step bound (a
	// retry loop that waits for a parked actor). Unknown.
	EndTooLong = "step-bound"
)

// Actor states, as the scheduler sees them.
type actorState int

const (
	stateRunning actorState = iota // released, between two points
	stateParked                    // waiting at a point for the scheduler
	stateBlocked                   // waiting for a lock another actor holds
	stateDone                      // finished its operations
)

// The actors' ids, as in the reproduce cases: readers from 1, writers
// from 10; the harness's own reads before and after the schedule.
const (
	writerBase = 10
	setupID    = 90
	finalID    = 98
)

// Points after which something changes without a server command: the
// process's own state (a local cache, a queue) or what the checker is
// told (the store stamps commit-sent right after before-commit, and a
// read that completes before that instant is early). A step from one of
// them is never treated as silent.
var effectPoints = []gb.Point{gb.PointBeforeLocalSet, gb.PointBeforeInvalidate, gb.PointBeforeApply, gb.PointBeforeCommit}

// pointStart is the synthetic point where an actor waits before each of
// its operations.
const pointStart = "start"

type actor struct {
	name  string
	act   gb.Actor
	bg    bool
	order int

	state    actorState
	at       string     // the point it is parked at
	wire     *wirePoint // the command it is parked before, if any
	declared bool       // parked at a declared point of the strategy
	resume   chan resumeMsg
	pid      uint32
	op       int  // operation index (scheduled actors)
	cut      bool // Redis unreachable until the end of this operation
	ops      int
	gid      atomic.Int64 // the goroutine that runs its operations
	// waits counts the checks in a row that found its goroutine waiting
	// for another goroutine: a lock taken for a moment is not a block.
	waits int
}

// resumeMsg lets a parked actor go on, with the fault chosen for its step.
type resumeMsg struct {
	fault string
	abort bool
}

func (r resumeMsg) redisError() error {
	switch {
	case r.abort:
		return errAborted
	case r.fault == FaultLostReply:
		return errLostReply
	case r.fault == FaultRefused:
		return oomError{}
	case r.fault == FaultUnreachable:
		return errUnreachable
	}
	return nil
}

var errAborted = errors.New("explore: schedule aborted")

// event is what an actor's passage tells the scheduler.
type event struct {
	kind   eventKind
	who    gb.Actor
	hasWho bool
	point  string
	wire   *wirePoint
	resume chan resumeMsg
	name   string // done: the scheduled actor's name
	err    error  // drained: Drain's error
	proxy  bool   // a command at a proxy: the running actor's, if any
}

type eventKind int

const (
	evPark eventKind = iota
	evDone
	evDrained
)

// decision is one choice the scheduler made, with what it chose among.
type decision struct {
	enabled   []string
	faultOpts map[string][]string
	current   string // the actor of the previous step, when it could go on
	chosen    Choice
	silent    bool // chosen == current, from a point after which nothing reaches a server
	pre       int  // preemptions before this decision
	faults    int  // faults before this decision
}

// policy chooses the next step where the schedule's prefix ends.
type policy interface {
	choose(t *trial, d *decision, enabled []*actor) Choice
}

// trial runs one schedule on one session's keys.
type trial struct {
	e      *engine
	sess   *runner.Session
	ex     *exploration
	slot   int
	keys   []gb.Key
	start  string
	prefix []Choice
	pol    policy
	note   func(actor, text string)

	events  chan event
	actors  []*actor
	byName  map[string]*actor
	current *actor

	drainer       gb.Drainer
	drainInFlight bool
	needDrain     bool
	drainCancel   context.CancelFunc

	decisions  []decision
	steps      []Step
	pre        int
	faults     int
	end        string
	endWhy     string
	redisFault map[string]bool // actors whose step got a Redis fault (their failed write is a finding)
	opsWG      sync.WaitGroup

	// read and write run an actor's operation (default: the session's
	// Read and Write; a replay records them in its script).
	read  func(ctx context.Context, a gb.Actor, k gb.Key)
	write func(ctx context.Context, a gb.Actor, k gb.Key, tok gb.Token, delta int64)
}

// engine is the hook, the go-redis hook and the pgx tracer of one
// session: they route the passages of the current trial's actors to its
// scheduler, and let everything else pass.
type engine struct {
	cur  atomic.Pointer[trial]
	lock *pgx.Conn // for lock-wait queries; owned by the exploration
	lmu  sync.Mutex

	fmu  sync.Mutex
	fail map[gb.Token]bool // writes whose COMMIT must fail

	// redisURL and pgURL are the proxies a strategy process is pointed
	// at (empty without proxies).
	redisURL, pgURL string
}

// failCommit makes the COMMIT of tok's write fail.
func (e *engine) failCommit(tok gb.Token) {
	e.fmu.Lock()
	if e.fail == nil {
		e.fail = map[gb.Token]bool{}
	}
	e.fail[tok] = true
	e.fmu.Unlock()
}

// resetFail forgets the commit failures of the trials before: tokens
// repeat from one session to the next.
func (e *engine) resetFail() {
	e.fmu.Lock()
	e.fail = nil
	e.fmu.Unlock()
}

// failing is the store's FailCommit decision.
func (e *engine) failing(_ gb.Key, tok gb.Token) bool {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	return e.fail[tok]
}

func (e *engine) hook(ctx context.Context, p gb.Point, _ gb.Key) error {
	t := e.cur.Load()
	if t == nil {
		return nil
	}
	a, ok := gb.ActorFrom(ctx)
	if ok && (a.ID == setupID || a.ID == finalID) {
		return nil
	}
	ch := make(chan resumeMsg, 1)
	t.events <- event{kind: evPark, who: a, hasWho: ok, point: string(p), resume: ch}
	select {
	case r := <-ch:
		if r.abort {
			return errAborted
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wire parks a scheduled actor before a server command. parked is false
// when the command is not a scheduled actor's (it passes at once).
func (e *engine) wire(ctx context.Context, wp *wirePoint) (resumeMsg, bool) {
	t := e.cur.Load()
	if t == nil {
		return resumeMsg{}, false
	}
	a, ok := gb.ActorFrom(ctx)
	if !ok || a.ID == setupID || a.ID == finalID || (a.Kind != "reader" && a.Kind != "writer") {
		return resumeMsg{}, false
	}
	ch := make(chan resumeMsg, 1)
	t.events <- event{kind: evPark, who: a, hasWho: true, point: wp.String(), wire: wp, resume: ch}
	select {
	case r := <-ch:
		return r, true
	case <-ctx.Done():
		return resumeMsg{abort: true}, true
	}
}

// newActors makes the workload's scheduled actors, readers first.
func (t *trial) newActors() {
	w := t.ex.sched.Workload
	t.byName = map[string]*actor{}
	add := func(kind string, id, inst int) {
		a := &actor{act: gb.Actor{Kind: kind, ID: id, Instance: inst}, order: len(t.actors), ops: w.Ops, op: -1}
		a.name = fmt.Sprintf("%s-%d", kind, id)
		a.state = stateRunning
		t.actors = append(t.actors, a)
		t.byName[a.name] = a
	}
	n := 0
	for i := 0; i < w.Readers; i++ {
		add("reader", i+1, n%w.Instances)
		n++
	}
	for i := 0; i < w.Writers; i++ {
		add("writer", writerBase+i, n%w.Instances)
		n++
	}
}

// keyOf is the key of actor a's operation op.
func (t *trial) keyOf(a *actor, op int) gb.Key {
	return t.keys[(a.order+op)%len(t.keys)]
}

// tokenOf is the token of writer a's operation op: unique in the session.
func (t *trial) tokenOf(a *actor, op int) gb.Token {
	return gb.Token(int64(t.slot)*1000 + int64(a.act.ID)*10 + int64(op) + 1)
}

// startActors starts every scheduled actor's goroutine; each parks at
// "start" before each of its operations.
func (t *trial) startActors(ctx context.Context) {
	for _, a := range t.actors {
		t.opsWG.Add(1)
		go func(a *actor) {
			defer t.opsWG.Done()
			a.gid.Store(goid())
			actx := gb.WithActor(ctx, a.act)
			for op := 0; op < a.ops; op++ {
				ch := make(chan resumeMsg, 1)
				select {
				case t.events <- event{kind: evPark, who: a.act, hasWho: true, point: pointStart, resume: ch}:
				case <-ctx.Done():
					return
				}
				var r resumeMsg
				select {
				case r = <-ch:
				case <-ctx.Done():
					return
				}
				if r.abort {
					break
				}
				key := t.keyOf(a, op)
				if a.act.Kind == "reader" {
					t.read(actx, a.act, key)
				} else {
					t.write(actx, a.act, key, t.tokenOf(a, op), int64(a.act.ID+op))
				}
			}
			select {
			case t.events <- event{kind: evDone, name: a.name}:
			case <-ctx.Done():
			}
		}(a)
	}
}

// run runs the trial to its end. It returns an error only when the
// harness cannot go on (ctx cancelled).
func (t *trial) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t.events = make(chan event, 64)
	if t.read == nil {
		t.read = func(ctx context.Context, a gb.Actor, k gb.Key) { t.sess.Read(ctx, a, k) }
		t.write = func(ctx context.Context, a gb.Actor, k gb.Key, tok gb.Token, d int64) {
			t.sess.Write(ctx, a, k, tok, d)
		}
	}
	t.newActors()
	t.e.resetFail()
	if t.sess.Background() {
		t.drainer = t.sess
	}
	t.e.cur.Store(t)
	defer t.e.cur.Store(nil)
	t.startActors(ctx)
	defer t.finish()
	for {
		if err := t.settle(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			t.end, t.endWhy = EndStuck, err.Error()
			return nil
		}
		en := t.enabled()
		if len(en) == 0 {
			if t.allDone() {
				t.end = EndDone
			} else {
				t.end = EndDeadlock
				t.endWhy = t.blockedText()
			}
			return nil
		}
		if len(t.decisions) >= t.ex.opts.MaxSteps {
			t.end, t.endWhy = EndTooLong, fmt.Sprintf("more than %d steps", t.ex.opts.MaxSteps)
			return nil
		}
		c, ok := t.choose(en)
		if !ok {
			t.end = EndDiverged
			return nil
		}
		t.release(c)
	}
}

// finish lets every parked actor go (aborting what did not end), waits
// for the actors' goroutines and for any drain in flight.
func (t *trial) finish() {
	t.e.cur.Store(nil)
	abort := resumeMsg{abort: t.end != EndDone}
	for _, a := range t.actors {
		if a.state == stateParked {
			a.resume <- abort
			a.state = stateRunning
		}
	}
	done := make(chan struct{})
	go func() { t.opsWG.Wait(); close(done) }()
	for {
		select {
		case <-done:
			if t.drainCancel != nil && t.drainInFlight {
				t.drainCancel()
			}
			return
		case ev := <-t.events:
			if ev.kind == evPark && ev.resume != nil {
				ev.resume <- abort
			}
		}
	}
}

// settle waits until no actor is running: each is parked, blocked on a
// lock, or done, and background work has either parked its worker or
// drained.
func (t *trial) settle(ctx context.Context) error {
	bound := time.NewTimer(t.ex.opts.StepBound)
	defer bound.Stop()
	poll := time.Millisecond
	tick := time.NewTimer(poll)
	defer tick.Stop()
	checkedBlocked := false
	for {
		running := t.running()
		if running == 0 {
			if t.anyBlocked() && !checkedBlocked {
				// A step may have released the lock a blocked actor
				// waits for: the releasing COMMIT returned only after
				// the server granted the lock, so pg_locks says so now.
				checkedBlocked = true
				if err := t.refreshBlocked(ctx); err != nil {
					return err
				}
				continue
			}
			if t.drainer != nil && t.needDrain && !t.drainInFlight {
				t.startDrain(ctx)
			}
			if !t.drainInFlight || t.bgParked() {
				return nil
			}
		}
		select {
		case ev := <-t.events:
			t.apply(ev)
			checkedBlocked = false
		case <-tick.C:
			if running > 0 {
				if err := t.refreshBlocked(ctx); err != nil {
					return err
				}
			}
			poll = min(2*poll, 10*time.Millisecond)
			tick.Reset(poll)
		case <-bound.C:
			return fmt.Errorf("no point, lock wait or end within %v after %s", t.ex.opts.StepBound, t.lastStepText())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (t *trial) startDrain(ctx context.Context) {
	t.needDrain = false
	t.drainInFlight = true
	dctx, cancel := context.WithCancel(ctx)
	t.drainCancel = cancel
	d := t.drainer
	ev := t.events
	go func() {
		err := d.Drain(dctx)
		select {
		case ev <- event{kind: evDrained, err: err}:
		case <-dctx.Done():
		}
	}()
}

// apply updates the actors from one event.
func (t *trial) apply(ev event) {
	switch ev.kind {
	case evDone:
		if a := t.byName[ev.name]; a != nil {
			a.state = stateDone
		}
	case evDrained:
		t.drainInFlight = false
		t.drainCancel = nil
		for _, a := range t.actors {
			if a.bg && a.state == stateRunning {
				a.state = stateDone
			}
		}
	case evPark:
		a := t.resolve(ev)
		if a == nil {
			ev.resume <- resumeMsg{}
			return
		}
		if a.cut && ev.wire != nil && ev.wire.server == "redis" {
			// Redis stays unreachable for the rest of the operation:
			// the command fails at once, without a decision.
			ev.resume <- resumeMsg{fault: FaultUnreachable}
			t.steps[len(t.steps)-1].Sent = append(t.steps[len(t.steps)-1].Sent, ev.wire.text+" (unreachable)")
			return
		}
		if ev.point == pointStart {
			a.op++
			a.cut = false
		}
		a.state = stateParked
		a.at = ev.point
		a.wire = ev.wire
		a.declared = ev.wire == nil && ev.point != pointStart
		a.resume = ev.resume
		if ev.wire != nil && ev.wire.pid != 0 {
			a.pid = ev.wire.pid
		}
	}
}

// resolve finds the actor of a passage: a scheduled actor by its id; a
// passage without one at a background point (or by a worker) is the
// strategy's background worker; any other passage without one belongs
// to the one actor running (exactly one runs at a time).
func (t *trial) resolve(ev event) *actor {
	if ev.proxy {
		var run []*actor
		for _, a := range t.actors {
			if a.state == stateRunning && !a.bg {
				run = append(run, a)
			}
		}
		if len(run) == 1 {
			return run[0]
		}
		return nil
	}
	if ev.hasWho && (ev.who.Kind == "reader" || ev.who.Kind == "writer") {
		if a := t.byName[fmt.Sprintf("%s-%d", ev.who.Kind, ev.who.ID)]; a != nil {
			return a
		}
	}
	bgPoint := ev.point == string(gb.PointBeforeApply) || ev.point == string(gb.PointBeforeInvalidate)
	if !bgPoint && !(ev.hasWho && ev.who.Kind == "worker") {
		var run []*actor
		for _, a := range t.actors {
			if a.state == stateRunning && !a.bg {
				run = append(run, a)
			}
		}
		if len(run) == 1 {
			return run[0]
		}
	}
	for _, a := range t.actors {
		if a.bg && a.state != stateParked {
			return a
		}
	}
	n := 0
	for _, a := range t.actors {
		if a.bg {
			n++
		}
	}
	a := &actor{name: "worker", bg: true, order: len(t.actors), state: stateRunning}
	if n > 0 {
		a.name = fmt.Sprintf("worker-%d", n+1)
	}
	t.actors = append(t.actors, a)
	t.byName[a.name] = a
	return a
}

func (t *trial) running() int {
	n := 0
	for _, a := range t.actors {
		if a.state == stateRunning {
			n++
		}
	}
	return n
}

func (t *trial) anyBlocked() bool {
	return slices.ContainsFunc(t.actors, func(a *actor) bool { return a.state == stateBlocked })
}

func (t *trial) bgParked() bool {
	return slices.ContainsFunc(t.actors, func(a *actor) bool { return a.bg && a.state == stateParked })
}

func (t *trial) allDone() bool {
	for _, a := range t.actors {
		if !a.bg && a.state != stateDone {
			return false
		}
	}
	return true
}

func (t *trial) enabled() []*actor {
	var out []*actor
	for _, a := range t.actors {
		if a.state == stateParked {
			out = append(out, a)
		}
	}
	return out
}

// refreshBlocked finds which actors wait for what another actor holds:
// PostgreSQL says which of the actors' backends wait for a lock
// (pg_locks), and the Go runtime which of their goroutines wait for
// another goroutine (a mutex or a singleflight in the strategy). A running
// actor that waits is blocked; a blocked actor that no longer waits runs
// again. The answer comes from the server and the runtime, never from how
// long a step took.
func (t *trial) refreshBlocked(ctx context.Context) error {
	var pids []uint32
	gids := map[int64]bool{}
	for _, a := range t.actors {
		if a.state == stateRunning || a.state == stateBlocked {
			if a.pid != 0 {
				pids = append(pids, a.pid)
			}
			if g := a.gid.Load(); g != 0 {
				gids[g] = true
			}
		}
	}
	if len(pids) == 0 && len(gids) == 0 {
		return nil
	}
	waiting := map[uint32]bool{}
	if len(pids) > 0 {
		var err error
		if waiting, err = t.e.waiting(ctx, pids); err != nil {
			return err
		}
	}
	inProc := waitingGoroutines(gids)
	for _, a := range t.actors {
		if inProc[a.gid.Load()] {
			a.waits++
		} else {
			a.waits = 0
		}
		w := (a.pid != 0 && waiting[a.pid]) || a.waits >= 2 || (a.state == stateBlocked && a.waits > 0)
		switch {
		case a.state == stateRunning && w:
			a.state = stateBlocked
		case a.state == stateBlocked && !w:
			a.state = stateRunning
		}
	}
	return nil
}

// waiting returns which of pids wait for a lock not granted yet.
func (e *engine) waiting(ctx context.Context, pids []uint32) (map[uint32]bool, error) {
	e.lmu.Lock()
	defer e.lmu.Unlock()
	ids := make([]int64, len(pids))
	for i, p := range pids {
		ids[i] = int64(p)
	}
	rows, err := e.lock.Query(ctx, `SELECT DISTINCT pid FROM pg_locks WHERE NOT granted AND pid = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("explore: lock waits: %w", err)
	}
	defer rows.Close()
	out := map[uint32]bool{}
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out[uint32(p)] = true
	}
	return out, rows.Err()
}

func (t *trial) blockedText() string {
	var names []string
	for _, a := range t.actors {
		if a.state == stateBlocked {
			names = append(names, a.name)
		}
	}
	return fmt.Sprintf("%v wait for locks held by parked actors, and no actor can run", names)
}

func (t *trial) lastStepText() string {
	if len(t.steps) == 0 {
		return "the start"
	}
	s := t.steps[len(t.steps)-1]
	return fmt.Sprintf("%s's step from %s", s.Actor, s.At)
}

// faultOptions returns the faults the scheduler may choose for a's next
// step.
func (t *trial) faultOptions(a *actor) []string {
	kinds := t.ex.opts.Faults
	if len(kinds) == 0 || t.faults >= t.ex.opts.MaxFaults {
		return nil
	}
	var out []string
	switch {
	case a.at == pointStart && a.act.Kind == "writer" && t.ex.sched.Exec == "":
		if slices.Contains(kinds, FaultCommitFail) {
			out = append(out, FaultCommitFail)
		}
	case a.wire != nil && a.wire.server == "redis":
		out = redisFaults(a.wire.name, kinds)
	case a.wire != nil && a.wire.server == "postgres" && a.wire.name == "COMMIT" && t.ex.sched.Exec != "":
		if slices.Contains(kinds, FaultCommitFail) {
			out = append(out, FaultCommitFail)
		}
	}
	if t.ex.sched.Exec != "" && !a.bg && a.at != pointStart && slices.Contains(kinds, FaultAppCrash) && a.declared {
		out = append(out, FaultAppCrash)
	}
	return out
}

// choose makes the next decision: the prefix's, then the policy's.
func (t *trial) choose(en []*actor) (Choice, bool) {
	d := decision{faultOpts: map[string][]string{}, pre: t.pre, faults: t.faults}
	for _, a := range en {
		d.enabled = append(d.enabled, a.name)
		if fo := t.faultOptions(a); len(fo) > 0 {
			d.faultOpts[a.name] = fo
		}
	}
	if t.current != nil && t.current.state == stateParked {
		d.current = t.current.name
	}
	var c Choice
	i := len(t.decisions)
	if i < len(t.prefix) {
		c = t.prefix[i]
		a := t.byName[c.Actor]
		if a == nil || a.state != stateParked || (c.Fault != "" && !slices.Contains(d.faultOpts[c.Actor], c.Fault)) {
			t.endWhy = fmt.Sprintf("choice %d (%s): enabled were %v", i+1, c, d.enabled)
			return c, false
		}
	} else {
		c = t.pol.choose(t, &d, en)
	}
	d.chosen = c
	a := t.byName[c.Actor]
	d.silent = d.current == c.Actor && c.Fault == "" && t.ex.reduce && a.declared && !slices.Contains(effectPoints, gb.Point(a.at))
	t.decisions = append(t.decisions, d)
	return c, true
}

// release lets the chosen actor take its step.
func (t *trial) release(c Choice) {
	a := t.byName[c.Actor]
	d := t.decisions[len(t.decisions)-1]
	st := Step{Actor: a.name, At: a.at, Fault: c.Fault}
	if d.current != "" && d.current != a.name {
		st.Preemption = true
		t.pre++
	}
	if c.Fault != "" {
		t.faults++
	}
	if a.wire != nil {
		st.Sent = []string{a.wire.String()}
	}
	msg := resumeMsg{fault: c.Fault}
	switch c.Fault {
	case FaultCommitFail:
		if t.ex.sched.Exec == "" {
			// Armed where the write starts; the store raises at COMMIT.
			t.e.failCommit(t.tokenOf(a, a.op))
			msg.fault = ""
		}
	case FaultUnreachable:
		a.cut = true
		t.faulted(a)
	case FaultLostReply, FaultRefused:
		t.faulted(a)
	}
	if c.Fault == FaultAppCrash {
		t.crash(a)
	}
	if t.note != nil {
		t.note(a.name, stepText(st))
	}
	t.steps = append(t.steps, st)
	t.current = a
	a.state = stateRunning
	t.needDrain = true
	a.resume <- msg
}

// faulted records that a's step got a Redis fault: a write of a that then
// fails is a finding (write availability), not the injected fault itself.
func (t *trial) faulted(a *actor) {
	if t.redisFault == nil {
		t.redisFault = map[string]bool{}
	}
	t.redisFault[a.name] = true
}

func stepText(s Step) string {
	txt := "scheduler: runs from " + s.At
	if s.Preemption {
		txt += " (preemption)"
	}
	if s.Fault != "" {
		txt += ", fault " + s.Fault
	}
	return txt
}

// crasher is a strategy process that can be killed and started again
// (package strategies/process).
type crasher interface {
	Crash(why string) error
	Restart(ctx context.Context) error
}

// crash kills the application process a runs in at the point a is
// parked at (app-crash), then starts it again for the steps that follow:
// a's operation fails as a crashed request does.
func (t *trial) crash(a *actor) {
	c, ok := t.sess.Strategy(a.act.Instance).(crasher)
	if !ok {
		return
	}
	_ = c.Crash("app-crash at " + a.at + " (explore)")
	ctx, cancel := context.WithTimeout(context.Background(), t.ex.opts.StepBound)
	defer cancel()
	_ = c.Restart(ctx)
}
