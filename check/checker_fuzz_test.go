package check

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench"
)

// The fuzz test generates random histories that a correct harness could
// record (per key, writes serialized by the row lock; acks measured late;
// recorder events and observations delivered late, in any order the
// harness contract allows), feeds them to a Checker, and compares every
// read's verdict and the stale windows with a brute-force reference that
// applies the definitions of DESIGN.md section 4 literally.

// Write outcomes of a generated attempt.
const (
	fzCommit      = iota // COMMIT succeeded
	fzAbortBefore        // rolled back before COMMIT was sent
	fzAbortAfter         // COMMIT failed with a proven rollback
	fzIndetCommit        // COMMIT indeterminate; it did commit
	fzIndetAbort         // COMMIT indeterminate; it did not
)

type fzAttempt struct {
	key        ghostbench.Key
	token      ghostbench.Token
	version    int64
	outcome    int
	began      int64
	sent       int64 // -1 when never sent
	release    int64 // the row lock is released (commit or rollback point)
	ack        int64 // Committed's ack
	outAt      int64 // delivery of the outcome event
	opInvoke   int64
	opComplete int64
	committed  bool
	ackEff     int64 // ack as the contract defines it: op.Complete for an indeterminate commit
	measured   bool
}

type fzRead struct {
	id               int
	key              ghostbench.Key
	v                int64
	t                ghostbench.Token
	invoke, complete int64
	measured         bool
	stale, ghost     bool
	early            bool
	age, lag         int64
}

type fzEvent struct {
	at  int64
	seq int
	fn  func(c *Checker)
}

type fzHistory struct {
	keys      int
	attempts  []*fzAttempt
	reads     []*fzRead
	events    []fzEvent
	ledger    map[ghostbench.Token]bool
	maxWindow int64
	windows   int64 // committed measured writes, and warm-up ones with a window
	withWin   int64
}

// ckGenHistory generates a history from seed (see FuzzChecker).
func ckGenHistory(seed uint64, nKeys, nOps uint8) *fzHistory {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	h := &fzHistory{keys: 1 + int(nKeys%3), ledger: map[ghostbench.Token]bool{}}
	warmupEnd := rng.Int64N(40)
	small := func(n int64) int64 { return rng.Int64N(n) }
	// late returns a delay that is usually short, sometimes long (a
	// descheduled goroutine).
	late := func() int64 {
		if rng.IntN(4) == 0 {
			return small(200)
		}
		return small(10)
	}
	tok := ghostbench.Token(1)
	horizon := int64(0)
	byKey := make([][]*fzAttempt, h.keys)
	for k := range h.keys {
		cursor := small(20)
		ver := int64(0)
		attempts := rng.IntN(2 + int(nOps%8))
		if nKeys&0x80 != 0 {
			// Long histories: hundreds of versions, so that reads lag
			// across whole 64-version blocks.
			attempts = rng.IntN(300)
		}
		for range attempts {
			a := &fzAttempt{key: ghostbench.Key(k), token: tok, version: ver + 1}
			tok++
			a.began = cursor + 1 + small(20)
			a.opInvoke = max(0, a.began-small(10))
			a.outcome = rng.IntN(10)
			switch {
			case a.outcome < 6:
				a.outcome = fzCommit
			case a.outcome == 6:
				a.outcome = fzAbortBefore
			case a.outcome == 7:
				a.outcome = fzAbortAfter
			case a.outcome == 8:
				a.outcome = fzIndetCommit
			default:
				a.outcome = fzIndetAbort
			}
			if a.outcome == fzAbortBefore {
				a.sent = -1
				a.release = a.began + small(10)
				a.outAt = a.release + late()
			} else {
				a.sent = a.began + small(20)
				a.release = a.sent + 1 + small(10)
				a.ack = a.release + late()
				a.outAt = a.ack + late()
			}
			a.opComplete = a.outAt + small(10)
			switch a.outcome {
			case fzCommit:
				a.committed, a.ackEff = true, a.ack
			case fzIndetCommit:
				a.committed, a.ackEff = true, a.opComplete
			}
			a.measured = a.opInvoke >= warmupEnd
			if a.committed {
				ver++
			}
			h.ledger[a.token] = a.committed
			cursor = a.release
			horizon = max(horizon, a.opComplete)
			h.attempts = append(h.attempts, a)
			byKey[k] = append(byKey[k], a)
		}
	}

	seq := 0
	add := func(at int64, fn func(c *Checker)) {
		h.events = append(h.events, fzEvent{at: at, seq: seq, fn: fn})
		seq++
	}
	for _, a := range h.attempts {
		a := a
		add(a.began, func(c *Checker) { c.Began(a.key, a.token, a.version) })
		if a.sent >= 0 {
			add(a.sent, func(c *Checker) { c.CommitSending(a.key, a.token, a.version, time.Duration(a.sent)) })
		}
		switch a.outcome {
		case fzCommit:
			add(a.outAt, func(c *Checker) {
				c.Committed(a.key, a.token, a.version, time.Duration(a.sent), time.Duration(a.ack))
			})
		case fzAbortBefore, fzAbortAfter:
			add(a.outAt, func(c *Checker) { c.Aborted(a.key, a.token, a.version, time.Duration(a.sent)) })
		default:
			add(a.outAt, func(c *Checker) { c.Indeterminate(a.key, a.token, a.version, time.Duration(a.sent)) })
		}
		op := &ghostbench.Op{
			Kind: ghostbench.OpWrite, Key: a.key, Token: a.token, Measured: a.measured,
			Intended: time.Duration(a.opInvoke), Invoke: time.Duration(a.opInvoke), Complete: time.Duration(a.opComplete),
		}
		switch a.outcome {
		case fzAbortBefore, fzAbortAfter:
			op.Err, op.Class = fmt.Errorf("rolled back"), ghostbench.ClassPostgres
		case fzIndetCommit, fzIndetAbort:
			op.Err, op.Class = fmt.Errorf("commit outcome unknown"), ghostbench.ClassIndeterminate
		}
		add(a.opComplete+small(30), func(c *Checker) { c.Observe(op) })
	}

	// Reads: a committed value visible by the read's completion (the
	// latest, or any older one), or a value some attempt wrote to the cache
	// after its UPDATE (dirty, maybe never committed).
	nReads := 1 + int(nOps)
	for i := range nReads {
		k := rng.IntN(h.keys)
		r := &fzRead{id: i + 1, key: ghostbench.Key(k)}
		r.invoke = small(horizon + 50)
		r.complete = r.invoke + 1 + small(50)
		r.measured = r.invoke >= warmupEnd
		visible := []*fzAttempt{nil} // nil: the seed row
		var dirty []*fzAttempt
		for _, a := range byKey[k] {
			if a.committed && a.release <= r.complete {
				visible = append(visible, a)
			}
			if a.began <= r.complete {
				dirty = append(dirty, a)
			}
		}
		var pick *fzAttempt
		switch x := rng.IntN(20); {
		case x < 12:
			pick = visible[len(visible)-1]
		case x < 17 || len(dirty) == 0:
			pick = visible[rng.IntN(len(visible))]
		default:
			pick = dirty[rng.IntN(len(dirty))]
		}
		if pick != nil {
			r.v, r.t = pick.version, pick.token
		}
		h.reads = append(h.reads, r)
		op := &ghostbench.Op{
			Kind: ghostbench.OpRead, Key: r.key, Client: r.id, Measured: r.measured, Hit: true,
			Intended: time.Duration(r.invoke), Invoke: time.Duration(r.invoke), Complete: time.Duration(r.complete),
			Value: ghostbench.Value{Version: r.v, Token: r.t},
		}
		add(r.complete+small(30), func(c *Checker) { c.Observe(op) })
	}
	sort.SliceStable(h.events, func(i, j int) bool { return h.events[i].at < h.events[j].at })
	h.reference(byKey)
	return h
}

// reference computes every verdict from the definitions, by brute force.
func (h *fzHistory) reference(byKey [][]*fzAttempt) {
	for _, r := range h.reads {
		ghost := true
		sent := int64(0) // the seed row: sent at 0
		if r.t == 0 && r.v == 0 {
			ghost = false
		}
		for _, a := range byKey[r.key] {
			if a.token == r.t {
				sent = a.sent
				if a.committed && a.version == r.v {
					ghost = false
				}
			}
		}
		r.ghost = ghost
		r.early = sent == -1 || r.complete < sent
		minAck, latest := int64(-1), int64(-1)
		for _, a := range byKey[r.key] {
			if !a.committed || a.version <= r.v {
				continue
			}
			if a.ackEff < r.invoke {
				r.stale = true
				latest = max(latest, a.version)
			}
			if minAck < 0 || a.ackEff < minAck {
				minAck = a.ackEff
			}
		}
		if r.stale {
			r.age = r.invoke - minAck
			r.lag = latest - r.v
		}
	}
	for _, w := range h.attempts {
		if !w.committed {
			continue
		}
		win := int64(0)
		for _, r := range h.reads {
			if r.measured && r.key == w.key && r.v < w.version {
				win = max(win, r.invoke-w.ackEff)
			}
		}
		// A write of the warm-up counts when a measured read still saw an
		// older version after its ack.
		if !w.measured && win <= 0 {
			continue
		}
		h.windows++
		if win > 0 {
			h.withWin++
		}
		h.maxWindow = max(h.maxWindow, win)
	}
}

// ckGenerated runs h through a Checker and compares with the reference.
func ckGenerated(t *testing.T, h *fzHistory) {
	t.Helper()
	c, err := NewChecker(CheckerConfig{Keys: h.keys, FullHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h.events {
		e.fn(c)
	}
	ckCompare(t, h, c)
}

// ckCompare finishes c, which was fed h (with FullHistory), compares its
// verdicts with the reference ones in h, and returns the metrics.
func ckCompare(t *testing.T, h *fzHistory, c *Checker) *Metrics {
	t.Helper()
	m, err := c.Finish(context.Background(), func(_ context.Context, tokens []ghostbench.Token) (map[ghostbench.Token]bool, error) {
		out := map[ghostbench.Token]bool{}
		for _, tk := range tokens {
			out[tk] = h.ledger[tk]
		}
		return out, nil
	})
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if m.HarnessErrors != 0 {
		t.Errorf("harness errors: got %d, want 0", m.HarnessErrors)
	}
	if len(m.Violations) > 0 {
		t.Errorf("invariants broken: %v", m.Violations)
	}
	got := map[int]HistoryEntry{}
	for _, e := range m.History {
		if e.Kind == "read" {
			got[e.Client] = e
		}
	}
	var stale, ghost, early int64
	for _, r := range h.reads {
		e, ok := got[r.id]
		if !ok {
			t.Fatalf("read %d: no verdict", r.id)
		}
		type v struct {
			Stale, Ghost, Early, Unknown bool
			Age, Lag                     int64
		}
		g := v{e.Stale, e.Ghost, e.Early, e.Unknown, e.AgeNs, e.Lag}
		w := v{r.stale, r.ghost, r.early, false, r.age, r.lag}
		if g != w {
			t.Errorf("read %d (key %d v%d/t%d [%d,%d]): got %+v, want %+v", r.id, r.key, r.v, r.t, r.invoke, r.complete, g, w)
		}
		if r.measured {
			if r.stale {
				stale++
			}
			if r.ghost {
				ghost++
			}
			if r.early {
				early++
			}
		}
	}
	type counts struct{ Stale, Ghost, Early, Unknown, Writes, WithWindow, MaxUs int64 }
	gotC := counts{m.Reads.Stale, m.Reads.Ghost, m.Reads.Early, m.Reads.Unknown,
		m.StaleWindow.Writes, m.StaleWindow.WithWindow, m.StaleWindow.MaxUs}
	wantC := counts{stale, ghost, early, 0, h.windows, h.withWin, ceilMicros(h.maxWindow)}
	if gotC != wantC {
		t.Errorf("totals: got %+v, want %+v", gotC, wantC)
	}
	if t.Failed() && len(h.attempts) < 100 {
		for _, a := range h.attempts {
			t.Logf("attempt %+v", *a)
		}
	}
	return m
}

func FuzzChecker(f *testing.F) {
	for _, s := range []struct {
		seed      uint64
		keys, ops uint8
	}{
		{1, 0, 10}, {2, 1, 30}, {3, 2, 60}, {4, 0, 100}, {5, 2, 7},
		{42, 1, 200}, {7, 0, 255}, {99, 2, 15}, {1234, 0, 40}, {777, 1, 90},
		{8, 0x80, 255}, {9, 0x81, 120},
	} {
		f.Add(s.seed, s.keys, s.ops)
	}
	f.Fuzz(func(t *testing.T, seed uint64, keys, ops uint8) {
		ckGenerated(t, ckGenHistory(seed, keys, ops))
	})
}

// TestCheckerRandomHistories runs more generated histories than the fuzz
// seed corpus on every `go test`.
func TestCheckerRandomHistories(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 50
	}
	for i := range n {
		keys := uint8(i % 3)
		if i%10 == 0 {
			keys |= 0x80 // one in ten with long histories
		}
		h := ckGenHistory(uint64(i)*2654435761, keys, uint8(i*7))
		t.Run(fmt.Sprint(i), func(t *testing.T) { ckGenerated(t, h) })
		if t.Failed() {
			return
		}
	}
}
