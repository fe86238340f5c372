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

// delayedDoubleDelete is the "delayed double delete" of many production
// caches: DEL the key, UPDATE+COMMIT, then DEL it again after a delay. The
// second DEL removes a stale value that a concurrent reader's fill put
// back after the first DEL, but only if that fill landed before the delay
// ran out: a fill that is slower than the delay stays until its TTL. The
// delay is a guess at the longest fill, and every write pays a second DEL.
//
// The first DEL runs before anything is committed, so when it fails the
// write fails too (as delete-before-update): committing anyway would leave
// the old value cached with nothing but the second DEL, which is likely to
// fail for the same reason, to remove it.
//
// The second DEL is a timer per write; Drain waits for the timers scheduled
// before it (at their due time: draining does not skip the delay), Close
// stops them.
type delayedDoubleDelete struct {
	fillRead
	delay time.Duration

	ctx    context.Context // cancelled by Close; carries the worker actor
	cancel context.CancelFunc

	mu      sync.Mutex
	seq     uint64                 // second DELs ever scheduled
	pending map[uint64]*time.Timer // scheduled, not yet finished
	changed chan struct{}          // closed and replaced when pending shrinks
	closed  bool
	running sync.WaitGroup // timer functions in flight
}

func newDelayedDoubleDelete(env Env) (gb.Strategy, error) {
	delay, err := env.Params.Duration("delay", 500*time.Millisecond)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &delayedDoubleDelete{
		fillRead: fillRead{env: env, cache: NewCache(env)},
		delay:    delay,
		ctx:      gb.WithActor(ctx, gb.Actor{Kind: "worker"}),
		cancel:   cancel,
		pending:  map[uint64]*time.Timer{},
		changed:  make(chan struct{}),
	}, nil
}

func (s *delayedDoubleDelete) Write(ctx context.Context, req gb.WriteRequest) error {
	if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheDel, req.Key); err != nil {
		return err
	}
	if err := s.cache.Del(ctx, req.Key); err != nil {
		return err // nothing committed yet: see the type's comment
	}
	if err := s.env.Hooks.At(ctx, gb.PointAfterCacheDel, req.Key); err != nil {
		return err
	}
	if err := s.env.Hooks.At(ctx, gb.PointBeforeDBUpdate, req.Key); err != nil {
		return err
	}
	if _, err := s.env.Store.Write(ctx, req, nil); err != nil {
		return err
	}
	if s.afterCommit(ctx, req.Key) {
		s.schedule(req.Key)
	}
	return nil
}

// schedule arms the second DEL of key, delay from now.
func (s *delayedDoubleDelete) schedule(key gb.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.seq++
	id := s.seq
	s.running.Add(1)
	s.pending[id] = time.AfterFunc(s.delay, func() {
		defer s.running.Done()
		s.secondDel(key)
		s.finish(id)
	})
}

func (s *delayedDoubleDelete) secondDel(key gb.Key) {
	if err := s.env.Hooks.At(s.ctx, gb.PointBeforeApply, key); err != nil {
		s.env.warn(key, fmt.Errorf("second DEL skipped: %w", err))
		return
	}
	var err error
	for i := 0; i < asyncRetries; i++ {
		if err = s.cache.Del(s.ctx, key); err == nil || s.ctx.Err() != nil {
			break
		}
		wait.Sleep(s.ctx, time.Duration(10<<i)*time.Millisecond)
	}
	if err != nil {
		s.env.warn(key, fmt.Errorf("second DEL failed: %w", err))
	}
}

func (s *delayedDoubleDelete) finish(id uint64) {
	s.mu.Lock()
	delete(s.pending, id)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Drain waits until every second DEL scheduled before the call has been
// applied (or given up with a warning). It returns an error when ctx ends
// first or when the strategy was closed with DELs still pending.
func (s *delayedDoubleDelete) Drain(ctx context.Context) error {
	s.mu.Lock()
	target := s.seq
	s.mu.Unlock()
	for {
		s.mu.Lock()
		waiting := false
		for id := range s.pending {
			if id <= target {
				waiting = true
				break
			}
		}
		closed, changed := s.closed, s.changed
		s.mu.Unlock()
		if !waiting {
			return nil
		}
		if closed {
			return errors.New("delayed double delete drain: the strategy is closed; pending second DELs were dropped")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("delayed double delete drain: %w", ctx.Err())
		case <-changed:
		}
	}
}

// Close stops the timers (pending second DELs are dropped) and waits for
// the ones already running.
func (s *delayedDoubleDelete) Close() error {
	s.mu.Lock()
	s.closed = true
	for id, t := range s.pending {
		if t.Stop() {
			delete(s.pending, id)
			s.running.Done()
		}
	}
	close(s.changed) // wake drainers: they see closed
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.cancel()
	s.running.Wait()
	return nil
}
