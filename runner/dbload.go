package runner

import (
	"context"
	"sync"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

// dbReadRecorder is the run's Recorder with the store's database reads
// (ghostbench.ReadRecorder) added: a read made inside an operation of a
// worker waits in the worker's slot until the operation returns, so that
// its fill window ends with the operation; any other read goes to the
// DBLoadChecker at once.
type dbReadRecorder struct {
	gb.Recorder
	load *check.DBLoadChecker
}

func (d dbReadRecorder) DBRead(ctx context.Context, key gb.Key, version int64, start, end time.Duration) {
	read := check.DBRead{Key: key, Version: version, Start: start, OpEnd: end}
	if s, _ := ctx.Value(opSlotKey{}).(*opSlot); s != nil && s.add(read) {
		return
	}
	d.load.Read(read)
}

type opSlotKey struct{}

// opSlot collects the database reads of a worker's operation in flight.
// A worker runs one operation at a time; the mutex is for goroutines a
// strategy starts with the operation's context.
type opSlot struct {
	mu     sync.Mutex
	active bool
	reads  []check.DBRead
}

// withOpSlot returns ctx with a fresh slot for a worker's operations.
func withOpSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, opSlotKey{}, &opSlot{})
}

func opSlotOf(ctx context.Context) *opSlot {
	s, _ := ctx.Value(opSlotKey{}).(*opSlot)
	return s
}

func (s *opSlot) add(r check.DBRead) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.active {
		return false
	}
	s.reads = append(s.reads, r)
	return true
}

func (s *opSlot) begin() {
	s.mu.Lock()
	s.active, s.reads = true, s.reads[:0]
	s.mu.Unlock()
}

// end hands the operation's reads to load, their window ending at the
// operation's completion.
func (s *opSlot) end(load *check.DBLoadChecker, complete time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active = false
	for _, r := range s.reads {
		r.OpEnd = max(complete, r.OpEnd)
		load.Read(r)
	}
}

// faultSpans are the windows of the faults that healed, for the recovery
// figures of the database load.
func faultSpans(ws []record.FaultWindow) []check.FaultSpan {
	var out []check.FaultSpan
	for _, w := range ws {
		if w.End > w.Start && w.InjectError == "" {
			out = append(out, check.FaultSpan{Fault: w.Fault,
				Start: time.Duration(w.Start * float64(time.Second)), End: time.Duration(w.End * float64(time.Second))})
		}
	}
	return out
}
