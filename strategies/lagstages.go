package strategies

import (
	"sync"
	"time"

	gb "github.com/ghostbench/ghostbench"
)

// LagStage is one stage of the invalidation lag: the time from one
// instant of a change's way to its DEL to the next. The stages of a
// strategy cover its whole lag, in order, and are measured on the same
// changes as the lag itself: from commit-ack, through the instants only
// the pipeline sees (PostgreSQL sent the change, the consumer received
// it, the DEL fell due), to the DEL's reply.
type LagStage struct {
	// Name is the stage's stable name, "<from>-to-<to>" (for example
	// commit-to-sent, received-to-applied).
	Name string
	// Did and After say in words what ended the stage and what began it,
	// so that a report can write "<Did> <duration> after <After>"
	// ("PostgreSQL's walsender sent the change 410ms after COMMIT").
	Did, After string
	// Lags are the stage's durations, oldest first, at most the newest
	// lagSamples. One may be negative when its two instants come from
	// different clocks or threads (the walsender can send a change before
	// the writer sees its COMMIT return).
	Lags []time.Duration
}

// LagStageReporter is implemented by a LagReporter that also reports its
// lag stage by stage, so that a report can say which part of the pipeline
// a lag comes from (PostgreSQL, the consumer, a queue).
type LagStageReporter interface {
	// InvalidationLagStages returns the stages in their order on a
	// change's way to its DEL.
	InvalidationLagStages() []LagStage
}

// stageDef names one stage (see LagStage).
type stageDef struct{ name, did, after string }

// The stages of the three built-in pipelines. The instants between
// commit-ack and the DEL's reply are the ones each pipeline can observe.
var (
	// cdcStages: the XLogData message's send time (taken by the
	// walsender as it writes the message to its socket, PostgreSQL's
	// clock: the same host's clock here), the reader's receipt, the DEL.
	cdcStages = []stageDef{
		{"commit-to-sent", "PostgreSQL's walsender sent the change", "COMMIT"},
		{"sent-to-received", "the consumer read it off the socket", "it was sent"},
		{"received-to-applied", "the consumer applied it", "receipt"},
	}
	// notifyStages: a notification carries no send time, so its arrival
	// at the listener ends PostgreSQL's stage.
	notifyStages = []stageDef{
		{"commit-to-received", "PostgreSQL delivered the notification", "COMMIT"},
		{"received-to-applied", "the listener applied it", "receipt"},
	}
	// asyncStages: enqueued after the after-commit point, due lag after
	// the commit-ack, applied when the pipeline returned.
	asyncStages = []stageDef{
		{"commit-to-enqueued", "the writer enqueued the DEL", "COMMIT"},
		{"enqueued-to-due", "the DEL fell due", "it was enqueued"},
		{"due-to-applied", "the worker applied it", "it was due"},
	}
)

// stampsMax is the most instants a pipeline observes between a change's
// commit-ack and its DEL's reply.
const stampsMax = 2

// stamps are the instants a pipeline observed between commit-ack and the
// DEL's reply, in order (the inner boundaries of its stages).
type stamps struct {
	n  int
	at [stampsMax]time.Time
}

// with returns s with t appended.
func (s stamps) with(t time.Time) stamps {
	if s.n < stampsMax {
		s.at[s.n] = t
		s.n++
	}
	return s
}

// ring keeps the newest lagSamples durations.
type ring struct {
	samples []time.Duration
	next    int
}

func (r *ring) add(d time.Duration) {
	if len(r.samples) < lagSamples {
		r.samples = append(r.samples, d)
		return
	}
	r.samples[r.next] = d
	r.next = (r.next + 1) % lagSamples
}

// oldestFirst returns a copy of the samples, oldest first.
func (r *ring) oldestFirst() []time.Duration {
	out := make([]time.Duration, 0, len(r.samples))
	out = append(out, r.samples[r.next:]...)
	return append(out, r.samples[:r.next]...)
}

// lagRecorder pairs commit-acks with DELs by token and records the lag of
// each pair, and its stages when the strategy defined them (setStages)
// and the DEL came with one stamp per inner boundary. Its zero value is
// ready (without stages).
type lagRecorder struct {
	mu      sync.Mutex
	acked   map[gb.Token]time.Time
	deleted map[gb.Token]applied
	total   ring
	count   uint64 // lags ever recorded
	defs    []stageDef
	stages  []ring // one per def
}

// applied is a DEL's reply instant and what its change went through.
type applied struct {
	at  time.Time
	mid stamps
}

// setStages defines the recorder's stages; call it before any lag is
// recorded.
func (l *lagRecorder) setStages(defs []stageDef) {
	l.defs = defs
	l.stages = make([]ring, len(defs))
}

// ack records that the write with token t saw COMMIT return at now.
func (l *lagRecorder) ack(t gb.Token, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, ok := l.deleted[t]; ok {
		delete(l.deleted, t)
		l.pairLocked(now, d.mid, d.at)
		return
	}
	if l.acked == nil {
		l.acked = map[gb.Token]time.Time{}
	}
	trim(l.acked)
	l.acked[t] = now
}

// appliedLocked records that the invalidation of the write with token t,
// which went through mid, returned at now; l.mu must be held (appliedAll
// takes it once per batch).
func (l *lagRecorder) appliedLocked(t gb.Token, mid stamps, now time.Time) {
	if a, ok := l.acked[t]; ok {
		delete(l.acked, t)
		l.pairLocked(a, mid, now)
		return
	}
	if l.deleted == nil {
		l.deleted = map[gb.Token]applied{}
	}
	trim(l.deleted)
	l.deleted[t] = applied{at: now, mid: mid}
}

// pairLocked records the lag from ack to del and, when mid has one
// instant per inner boundary of the stages, every stage; l.mu held.
func (l *lagRecorder) pairLocked(ack time.Time, mid stamps, del time.Time) {
	l.add(del.Sub(ack))
	if len(l.defs) == 0 || mid.n != len(l.defs)-1 {
		return
	}
	prev := ack
	for i := range l.defs {
		next := del
		if i < mid.n {
			next = mid.at[i]
		}
		l.stages[i].add(next.Sub(prev))
		prev = next
	}
}

func trim[V any](m map[gb.Token]V) {
	if len(m) >= lagPending {
		clear(m) // forget them all: cheap, and only costs samples
	}
}

func (l *lagRecorder) add(d time.Duration) {
	l.count++
	l.total.add(d)
}

// lagCount returns how many lags have been recorded so far (the ring keeps
// only the newest lagSamples of them).
func (l *lagRecorder) lagCount() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}

// InvalidationLag implements LagReporter.
func (l *lagRecorder) InvalidationLag() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total.oldestFirst()
}

// InvalidationLagStages implements LagStageReporter; nil without stages.
func (l *lagRecorder) InvalidationLagStages() []LagStage {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []LagStage
	for i, d := range l.defs {
		out = append(out, LagStage{Name: d.name, Did: d.did, After: d.after, Lags: l.stages[i].oldestFirst()})
	}
	return out
}
