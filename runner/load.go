package runner

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/wait"
	"github.com/ghostbench/ghostbench/scenarios"
)

// Token layout: the stream (worker) number in the high bits, a sequence in
// the low 32, so every write attempt of a run has its own token and the
// same seed gives the same tokens.
func token(stream int, seq int64) gb.Token {
	return gb.Token(int64(stream+1)<<32 | seq)
}

// delta draws a balance change in [-100, 100] without 0.
func delta(rng *rand.Rand) int64 {
	d := rng.Int64N(200) - 100
	if d >= 0 {
		d++
	}
	return d
}

// closedLoop starts Readers and Writers workers; they stop when r.stopping
// is set (after their current operation) or ctx is done.
func (r *run) closedLoop(ctx context.Context, wg *sync.WaitGroup) {
	sc := r.sc
	assign := assignment(sc)
	for i := 0; i < sc.Readers+sc.Writers; i++ {
		isWriter := i >= sc.Readers
		kind := "reader"
		if isWriter {
			kind = "writer"
		}
		wctx := withOpSlot(gb.WithActor(ctx, gb.Actor{Kind: kind, ID: i}))
		rng := scenarios.NewRand(sc.Seed, uint64(i))
		next := scenarios.NewKeyChooser(sc.Distribution, sc.Keys, rng)
		inst := assign[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var seq int64
			for !r.stopping.Load() && ctx.Err() == nil {
				var op gb.Op
				op.Client = i
				op.Instance = inst
				op.Key = next()
				if isWriter {
					seq++
					op.Kind = gb.OpWrite
					op.Token = token(i, seq)
					op.Delta = delta(rng)
				} else {
					op.Kind = gb.OpRead
				}
				r.do(wctx, &op, -1)
				if isWriter && sc.WriteInterval > 0 {
					if !wait.Sleep(ctx, sc.WriteInterval.D()) {
						return
					}
				}
			}
		}()
	}
}

// openLoop paces operations at sc.Rate. One generator draws the sequence of
// operations (deterministic for a seed) and their intended start instants;
// Concurrency workers run them. Latency is measured from the intended
// start, so time spent waiting for a free worker counts (coordinated
// omission corrected).
func (r *run) openLoop(ctx context.Context, wg *sync.WaitGroup) {
	sc := r.sc
	type job struct {
		op       gb.Op
		intended time.Duration
	}
	jobs := make(chan job, sc.Concurrency*4)
	assign := assignment(sc)
	for i := 0; i < sc.Concurrency; i++ {
		wctx := withOpSlot(gb.WithActor(ctx, gb.Actor{Kind: "worker", ID: i}))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.op.Client = i
				j.op.Instance = assign[i]
				r.do(wctx, &j.op, j.intended)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		rng := scenarios.NewRand(sc.Seed, 1<<20)
		next := scenarios.NewKeyChooser(sc.Distribution, sc.Keys, rng)
		interval := time.Duration(float64(time.Second) / sc.Rate)
		var seq int64
		for n := int64(0); ; n++ {
			intended := time.Duration(n) * interval
			if intended >= r.end || r.stopping.Load() {
				return
			}
			var j job
			j.intended = intended
			j.op.Key = next()
			if rng.Float64() < sc.ReadRatio {
				j.op.Kind = gb.OpRead
			} else {
				seq++
				j.op.Kind = gb.OpWrite
				j.op.Token = token(1<<20, seq)
				j.op.Delta = delta(rng)
			}
			if d := intended - r.clock.Now(); d > 0 {
				if !wait.Sleep(ctx, d) {
					return
				}
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
}

// do runs one operation through the strategy, timed at the boundary, and
// hands the record to the checker. intended < 0 means "now" (closed loop).
func (r *run) do(ctx context.Context, op *gb.Op, intended time.Duration) {
	octx := ctx
	if t := r.sc.Timeouts.Op.D(); t > 0 {
		var cancel context.CancelFunc
		octx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	r.touched.add(op.Key)
	slot := opSlotOf(ctx)
	if slot != nil {
		slot.begin()
	}
	op.Invoke = r.clock.Now()
	op.Intended = op.Invoke
	if intended >= 0 {
		op.Intended = intended
	}
	if op.Kind == gb.OpRead {
		res, err := r.fleet.at(op.Instance).Read(octx, op.Key)
		op.Complete = r.clock.Now()
		op.Err, op.Value, op.Hit = err, res.Value, res.Hit
	} else {
		err := r.fleet.at(op.Instance).Write(octx, gb.WriteRequest{Key: op.Key, Token: op.Token, Delta: op.Delta})
		op.Complete = r.clock.Now()
		op.Err = err
	}
	if slot != nil {
		slot.end(r.dbload, op.Complete)
	}
	op.Class = gb.Classify(op.Err)
	// Measured: started inside the measured window, and not an
	// operation cut short by the run's own cancellation.
	op.Measured = op.Intended >= r.warmupEnd && op.Intended < r.end &&
		!(op.Err != nil && errors.Is(op.Err, context.Canceled) && ctx.Err() != nil)
	r.ops.Add(1)
	if op.Err != nil {
		r.errs.Add(1)
	}
	r.checker.Observe(op)
	r.ryw.Observe(op)
	r.dbload.Observe(op)
}
