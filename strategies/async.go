package strategies

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/wait"
)

// asyncInvalidation commits, then enqueues a DEL that a background worker
// applies lag after the commit, as an invalidation pipeline (a queue, a
// stream consumer) does in production.
//
// The queue is split into workers shards by key, each with its own worker,
// so the DELs of one key stay in commit order. A worker sends every DEL of
// its shard that is due as one pipeline (at most delBatchMax), so it keeps
// up with any write rate Redis can absorb: the lag it achieves is the one
// configured plus a round trip, not a backlog. The achieved lag, from the
// writer's commit-ack to the DEL's reply, is recorded per write
// (LagReporter), and by stage (LagStageReporter: commit-to-enqueued,
// enqueued-to-due, due-to-applied). The max-dels-per-sec parameter caps the DEL rate across
// the workers, to study a pipeline that falls behind on purpose.
type asyncInvalidation struct {
	fillRead
	lagRecorder
	lag    time.Duration
	pace   *pacer
	shards []*asyncShard

	mu      sync.Mutex
	applied uint64        // items finished (applied or given up)
	queued  uint64        // items ever enqueued
	done    chan struct{} // closed and replaced when a worker finished a batch
	stop    context.CancelFunc
	exited  chan struct{} // closed when every worker has returned
}

// asyncShard is one worker's queue.
type asyncShard struct {
	mu    sync.Mutex
	queue []pendingDel // FIFO; due instants are non-decreasing
	wake  chan struct{}
}

type pendingDel struct {
	key      gb.Key
	acked    time.Time // the writer saw COMMIT return
	enqueued time.Time // the writer queued the DEL (after the after-commit point)
	due      time.Time // acked + lag
}

// asyncRetries is how often a worker tries a batch whose pipeline failed
// before it gives up on its DELs and warns (one warning per key).
const asyncRetries = 3

// asyncWorkersMax bounds the workers parameter.
const asyncWorkersMax = 64

func newAsyncInvalidation(env Env) (gb.Strategy, error) {
	lag, err := env.Params.Duration("lag", 280*time.Millisecond)
	if err != nil {
		return nil, err
	}
	workers, err := env.Params.Int("workers", 1, 1, asyncWorkersMax)
	if err != nil {
		return nil, err
	}
	pace, err := newPacer(env.Params)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &asyncInvalidation{
		fillRead: fillRead{env: env, cache: NewCache(env)},
		lag:      lag,
		pace:     pace,
		done:     make(chan struct{}),
		stop:     cancel,
		exited:   make(chan struct{}),
	}
	s.setStages(asyncStages)
	var wg sync.WaitGroup
	ctx = gb.WithActor(ctx, gb.Actor{Kind: "worker"})
	for range workers {
		sh := &asyncShard{wake: make(chan struct{}, 1)}
		s.shards = append(s.shards, sh)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.worker(ctx, sh)
		}()
	}
	go func() {
		wg.Wait()
		close(s.exited)
	}()
	return s, nil
}

// ConfiguredLag implements LagConfigurer: the lag parameter.
func (s *asyncInvalidation) ConfiguredLag() time.Duration { return s.lag }

func (s *asyncInvalidation) Write(ctx context.Context, req gb.WriteRequest) error {
	if _, err := s.env.Store.Write(ctx, req, nil); err != nil {
		return err
	}
	acked := time.Now()
	if !s.afterCommit(ctx, req.Key) {
		return nil
	}
	s.enqueue(req.Key, acked)
	return nil
}

// enqueue queues the DEL of key for a write acknowledged at acked.
func (s *asyncInvalidation) enqueue(key gb.Key, acked time.Time) {
	sh := s.shards[uint64(key)%uint64(len(s.shards))]
	s.mu.Lock()
	s.queued++
	s.mu.Unlock()
	sh.mu.Lock()
	sh.queue = append(sh.queue, pendingDel{key: key, acked: acked, enqueued: time.Now(), due: acked.Add(s.lag)})
	sh.mu.Unlock()
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

// worker applies the DELs of sh as they fall due, every due one of a
// round in one pipeline, until ctx ends.
func (s *asyncInvalidation) worker(ctx context.Context, sh *asyncShard) {
	var batch []pendingDel
	for {
		sh.mu.Lock()
		if len(sh.queue) == 0 {
			sh.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-sh.wake:
				continue
			}
		}
		due := sh.queue[0].due
		sh.mu.Unlock()
		if d := time.Until(due); d > 0 && !wait.Sleep(ctx, d) {
			return
		}
		limit := s.pace.limit()
		now := time.Now()
		sh.mu.Lock()
		n := 0
		for n < len(sh.queue) && n < limit && !sh.queue[n].due.After(now) {
			n++
		}
		batch = append(batch[:0], sh.queue[:n]...)
		sh.mu.Unlock()
		if n == 0 {
			continue
		}
		if !s.pace.wait(ctx, n) {
			return
		}
		s.apply(ctx, batch)
		sh.mu.Lock()
		sh.queue = sh.queue[n:]
		if len(sh.queue) == 0 {
			sh.queue = nil
		}
		sh.mu.Unlock()
		s.mu.Lock()
		s.applied += uint64(n)
		done := s.done
		s.done = make(chan struct{})
		s.mu.Unlock()
		close(done)
	}
}

// apply DELs the keys of batch in one pipeline and records their lags; a
// key whose before-apply hook fails is skipped (warned), a pipeline that
// fails asyncRetries times is given up (warned per key).
func (s *asyncInvalidation) apply(ctx context.Context, batch []pendingDel) {
	keys := make([]gb.Key, 0, len(batch))
	acks := make([]time.Time, 0, len(batch))
	mids := make([]stamps, 0, len(batch))
	for _, it := range batch {
		if err := s.env.Hooks.At(ctx, gb.PointBeforeApply, it.key); err != nil {
			s.env.warn(it.key, err)
			continue
		}
		keys = append(keys, it.key)
		acks = append(acks, it.acked)
		mids = append(mids, stamps{}.with(it.enqueued).with(it.due))
	}
	if len(keys) == 0 {
		return
	}
	var err error
	for i := 0; i < asyncRetries; i++ {
		if err = delPipelined(ctx, s.cache, keys); err == nil {
			s.recordPaired(acks, mids, time.Now())
			return
		}
		if ctx.Err() != nil || !wait.Sleep(ctx, time.Duration(10<<i)*time.Millisecond) {
			break
		}
	}
	for _, k := range keys {
		s.env.warn(k, fmt.Errorf("async invalidation gave up after %d tries: %w", asyncRetries, err))
	}
}

// Drain waits until every DEL enqueued before the call has been applied (at
// its due time: draining does not skip the lag).
func (s *asyncInvalidation) Drain(ctx context.Context) error {
	s.mu.Lock()
	target := s.queued
	s.mu.Unlock()
	for {
		s.mu.Lock()
		if s.applied >= target {
			s.mu.Unlock()
			return nil
		}
		done := s.done
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("async invalidation drain: %w", ctx.Err())
		case <-s.exited:
			return errors.New("async invalidation drain: the worker has stopped")
		case <-done:
		}
	}
}

// Close stops the workers; pending DELs are dropped.
func (s *asyncInvalidation) Close() error {
	s.stop()
	<-s.exited
	return nil
}
