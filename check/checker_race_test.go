package check

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench"
)

// TestCheckerConcurrent drives a Checker from many goroutines the way a
// real run does: writers serialized per key by a row lock, measuring their
// instants on one clock and sometimes descheduled between COMMIT and the
// Committed call; readers returning the committed value, a dirty value
// (write-through before COMMIT) or a value they cached earlier. Every
// instant is logged, and the checker's online verdicts must equal the
// brute-force reference computed from the complete log afterwards. Run it
// under -race.
func TestCheckerConcurrent(t *testing.T) {
	const keys, writers, readers = 8, 6, 6
	ops := 1500
	if testing.Short() {
		ops = 300
	}
	clock := ghostbench.NewClock()
	now := func() int64 { return int64(clock.Now()) }
	c := ckNew(t, CheckerConfig{Keys: keys, FullHistory: true, ProbeOffsets: []time.Duration{time.Millisecond}})

	type row struct {
		mu        sync.Mutex // the row lock
		committed atomic.Pointer[ghostbench.Value]
		dirty     atomic.Pointer[ghostbench.Value] // a value written to the cache before COMMIT
	}
	rows := make([]row, keys)
	for i := range rows {
		rows[i].committed.Store(&ghostbench.Value{})
	}
	var nextToken, nextRead atomic.Int64
	var logMu sync.Mutex
	var attempts []*fzAttempt
	var reads []*fzRead
	yield := func(rng *rand.Rand) {
		if rng.IntN(8) == 0 {
			runtime.Gosched() // a writer descheduled between its ack and its Committed call
		}
	}

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			var mine []*fzAttempt
			for range ops {
				k := rng.IntN(keys)
				r := &rows[k]
				a := &fzAttempt{key: ghostbench.Key(k), token: ghostbench.Token(nextToken.Add(1)), measured: true}
				a.opInvoke = now()
				r.mu.Lock()
				a.version = r.committed.Load().Version + 1
				c.Began(a.key, a.token, a.version)
				val := &ghostbench.Value{Version: a.version, Token: a.token}
				if rng.IntN(4) == 0 {
					r.dirty.Store(val)
				}
				op := &ghostbench.Op{Kind: ghostbench.OpWrite, Key: a.key, Token: a.token, Measured: true}
				switch x := rng.IntN(10); {
				case x == 0:
					r.mu.Unlock()
					a.outcome, a.sent = fzAbortBefore, -1
					c.Aborted(a.key, a.token, a.version, -1)
					op.Err, op.Class = errors.New("rolled back"), ghostbench.ClassPostgres
				case x == 1:
					a.sent = now()
					c.CommitSending(a.key, a.token, a.version, time.Duration(a.sent))
					a.committed = rng.IntN(2) == 0
					a.outcome = fzIndetAbort
					if a.committed {
						a.outcome = fzIndetCommit
						r.committed.Store(val)
					}
					r.mu.Unlock()
					yield(rng)
					c.Indeterminate(a.key, a.token, a.version, time.Duration(a.sent))
					op.Err, op.Class = errors.New("commit outcome unknown"), ghostbench.ClassIndeterminate
				default:
					a.sent = now()
					c.CommitSending(a.key, a.token, a.version, time.Duration(a.sent))
					r.committed.Store(val)
					r.mu.Unlock()
					yield(rng)
					a.ack = now()
					yield(rng)
					c.Committed(a.key, a.token, a.version, time.Duration(a.sent), time.Duration(a.ack))
					a.outcome, a.committed, a.ackEff = fzCommit, true, a.ack
				}
				a.opComplete = now()
				if a.outcome == fzIndetCommit {
					a.ackEff = a.opComplete
				}
				op.Intended, op.Invoke, op.Complete = time.Duration(a.opInvoke), time.Duration(a.opInvoke), time.Duration(a.opComplete)
				c.Observe(op)
				mine = append(mine, a)
			}
			logMu.Lock()
			attempts = append(attempts, mine...)
			logMu.Unlock()
		})
	}
	for rd := range readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(rd), 2))
			cached := make([]ghostbench.Value, keys)
			var mine []*fzRead
			for range ops {
				k := rng.IntN(keys)
				r := &fzRead{id: int(nextRead.Add(1)), key: ghostbench.Key(k), measured: true}
				r.invoke = now()
				var val ghostbench.Value
				switch x := rng.IntN(10); {
				case x < 6:
					val = *rows[k].committed.Load()
				case x < 8 && rows[k].dirty.Load() != nil:
					val = *rows[k].dirty.Load()
				default:
					val = cached[k]
				}
				cached[k] = val
				r.complete = now()
				r.v, r.t = val.Version, val.Token
				c.Observe(&ghostbench.Op{Kind: ghostbench.OpRead, Key: r.key, Client: r.id, Value: val, Hit: true,
					Intended: time.Duration(r.invoke), Invoke: time.Duration(r.invoke), Complete: time.Duration(r.complete), Measured: true})
				mine = append(mine, r)
			}
			logMu.Lock()
			reads = append(reads, mine...)
			logMu.Unlock()
		})
	}
	wg.Go(func() {
		for i := range ops {
			c.Probe(0, i%2 == 0)
			c.Warn(ghostbench.Key(i%keys), errors.New("del failed"))
		}
	})
	wg.Wait()

	h := &fzHistory{keys: keys, attempts: attempts, reads: reads, ledger: map[ghostbench.Token]bool{}}
	byKey := make([][]*fzAttempt, keys)
	var committed int64
	for _, a := range attempts {
		byKey[a.key] = append(byKey[a.key], a)
		h.ledger[a.token] = a.committed
		if a.committed {
			committed++
		}
	}
	h.reference(byKey)
	var stale, ghost int64
	for _, r := range reads {
		if r.stale {
			stale++
		}
		if r.ghost {
			ghost++
		}
	}
	if stale == 0 || ghost == 0 {
		t.Errorf("the workload should produce stale and ghost reads: got %d stale, %d ghost", stale, ghost)
	}
	m := ckCompare(t, h, c)
	got := []int64{m.Reads.Total, m.Writes.Attempted, m.Writes.Committed, m.Writes.Unknown, m.Warnings, m.Convergence[0].Samples, m.Convergence[0].Consistent}
	want := []int64{int64(len(reads)), int64(len(attempts)), committed, 0, int64(ops), int64(ops), int64(ops / 2)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("reads, writes, committed, unknown, warnings, probes, consistent: got %v, want %v", got, want)
	}
	t.Logf("%d reads (%d stale, %d ghost), %d writes (%d committed)", len(reads), stale, ghost, len(attempts), committed)
}
