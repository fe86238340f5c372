package strategies

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	gb "github.com/ghostbench/ghostbench"
)

// asyncInvalidation commits, then enqueues a DEL that a background worker
// applies lag after the commit, as an invalidation pipeline (a queue, a
// stream consumer) does in production.
type asyncInvalidation struct {
	fillRead
	lag time.Duration

	mu      sync.Mutex
	queue   []pendingDel // FIFO; due instants are non-decreasing
	applied uint64       // items finished (applied or given up)
	queued  uint64       // items ever enqueued
	wake    chan struct{}
	done    chan struct{} // closed when the worker drained a batch
	stop    context.CancelFunc
	exited  chan struct{}
}

type pendingDel struct {
	key gb.Key
	due time.Time
}

// asyncRetries is how often the worker tries a DEL that failed before it
// gives up and warns.
const asyncRetries = 3

func newAsyncInvalidation(env Env) (gb.Strategy, error) {
	lag, err := env.Params.Duration("lag", 280*time.Millisecond)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &asyncInvalidation{
		fillRead: fillRead{env: env, cache: NewCache(env)},
		lag:      lag,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		stop:     cancel,
		exited:   make(chan struct{}),
	}
	go s.worker(gb.WithActor(ctx, gb.Actor{Kind: "worker"}))
	return s, nil
}

func (s *asyncInvalidation) Write(ctx context.Context, req gb.WriteRequest) error {
	if _, err := s.env.Store.Write(ctx, req, nil); err != nil {
		return err
	}
	if !s.afterCommit(ctx, req.Key) {
		return nil
	}
	s.mu.Lock()
	s.queue = append(s.queue, pendingDel{key: req.Key, due: time.Now().Add(s.lag)})
	s.queued++
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

func (s *asyncInvalidation) worker(ctx context.Context) {
	defer close(s.exited)
	for {
		s.mu.Lock()
		var next *pendingDel
		if len(s.queue) > 0 {
			next = &s.queue[0]
		}
		var item pendingDel
		if next != nil {
			item = *next
		}
		s.mu.Unlock()
		if next == nil {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
				continue
			}
		}
		if d := time.Until(item.due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		s.apply(ctx, item.key)
		s.mu.Lock()
		s.queue = s.queue[1:]
		s.applied++
		done := s.done
		if len(s.queue) == 0 {
			s.queue = nil
		}
		s.done = make(chan struct{})
		s.mu.Unlock()
		close(done)
	}
}

func (s *asyncInvalidation) apply(ctx context.Context, key gb.Key) {
	if err := s.env.Hooks.At(ctx, gb.PointBeforeApply, key); err != nil {
		s.env.warn(key, err)
		return
	}
	var err error
	for i := 0; i < asyncRetries; i++ {
		if err = s.cache.Del(ctx, key); err == nil {
			return
		}
		if ctx.Err() != nil {
			break
		}
		t := time.NewTimer(time.Duration(10<<i) * time.Millisecond)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	s.env.warn(key, fmt.Errorf("async invalidation gave up after %d tries: %w", asyncRetries, err))
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

// Close stops the worker; pending DELs are dropped.
func (s *asyncInvalidation) Close() error {
	s.stop()
	<-s.exited
	return nil
}
