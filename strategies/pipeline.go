package strategies

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/wait"
)

// This file holds what the three strategies with background invalidation
// (async-invalidation, cdc-invalidation, notify-invalidation) share: DELs
// sent as one pipeline per batch, a cap on the DEL rate to make a pipeline
// fall behind on purpose, and the reconnect loop of the two consumers.

// delBatchMax is the most DELs one pipeline carries. A backlog (after a
// Redis outage, or a burst) goes out in pipelines of this size: large
// enough that the round trip is amortised, small enough that the first
// DELs of a batch are not held long behind the last.
const delBatchMax = 512

// retryBackoffMax caps the wait between two tries of a failed batch, so
// that a consumer notices a healed Redis within about this long.
const retryBackoffMax = 100 * time.Millisecond

// Int returns the named parameter as an integer in [lo, hi], or def when
// unset.
func (p Params) Int(name string, def, lo, hi int) (int, error) {
	s, ok := p[name]
	if !ok || s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("parameter %s = %q: want an integer from %d to %d", name, s, lo, hi)
	}
	return n, nil
}

// capParam is the parameter that caps a pipeline's DEL rate.
var capParam = Param{
	Name:    "max-dels-per-sec",
	Default: "0",
	Help:    "cap on the DELs per second the pipeline applies (0: no cap); set it below the write rate to study a pipeline that falls behind",
	Check:   IntParam(0, 100_000_000),
}

// newPacer reads the cap parameter; it returns nil (no cap) for 0.
func newPacer(p Params) (*pacer, error) {
	n, err := p.Int(capParam.Name, 0, 0, 100_000_000)
	if err != nil || n == 0 {
		return nil, err
	}
	return &pacer{every: time.Second / time.Duration(n), batch: max(1, n/100)}, nil
}

// pacer spaces DELs so that at most one goes out per every, on average,
// across every goroutine that shares it. A nil pacer does not wait.
type pacer struct {
	every time.Duration
	batch int // the largest batch worth 10 ms at the cap

	mu   sync.Mutex
	next time.Time // when the next reserved DEL may go out
}

// limit returns the most DELs a batch may carry.
func (p *pacer) limit() int {
	if p == nil {
		return delBatchMax
	}
	return min(p.batch, delBatchMax)
}

// wait blocks until n more DELs may go out; false when ctx ended first.
func (p *pacer) wait(ctx context.Context, n int) bool {
	if p == nil {
		return true
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(time.Duration(n) * p.every)
	p.mu.Unlock()
	if !at.After(now) {
		return ctx.Err() == nil
	}
	return wait.Sleep(ctx, at.Sub(now))
}

// delPipelined DELs every key of keys in one pipeline (in order, on one
// connection) and returns the first error; the batch is applied or not as
// a whole only in the sense that a failed one is retried whole (DEL is
// idempotent, so DELs that did land are harmless to repeat).
func delPipelined(ctx context.Context, cache *Cache, keys []gb.Key) error {
	if len(keys) == 1 {
		return cache.Del(ctx, keys[0])
	}
	_, err := cache.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, cache.Key(k))
		}
		return nil
	})
	if err != nil {
		return gb.Redis(fmt.Errorf("pipelined DEL of %d keys (first %d): %w", len(keys), keys[0], err))
	}
	return nil
}

// delBatchUntilApplied DELs keys as one pipeline, retrying the whole batch
// with a backoff capped at retryBackoffMax until it succeeds or ctx is
// done: a log consumer must not drop an invalidation it is about to
// confirm, and must notice soon that Redis is back. The first failure of
// a streak is warned.
func delBatchUntilApplied(ctx context.Context, env *Env, cache *Cache, keys []gb.Key) error {
	backoff := 5 * time.Millisecond
	for i := 0; ; i++ {
		err := delPipelined(ctx, cache, keys)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if i == 0 {
			env.warn(keys[0], fmt.Errorf("invalidation DEL failed, retrying until it succeeds: %w", err))
		}
		if !wait.Sleep(ctx, backoff) {
			return ctx.Err()
		}
		backoff = min(2*backoff, retryBackoffMax)
	}
}

// reconnectLoop runs session until ctx ends, starting it again with a
// capped exponential backoff (10 ms doubling to 1 s, back to 10 ms after
// a session that got going). session reports whether it got going (its
// stream or LISTEN started) and why it ended; ended is called with that
// reason after every session that ended while ctx was still live, before
// the backoff.
func reconnectLoop(ctx context.Context, session func(context.Context) (started bool, err error), ended func(error)) {
	backoff := 10 * time.Millisecond
	for {
		started, err := session(ctx)
		if ctx.Err() != nil {
			return
		}
		ended(err)
		if started {
			backoff = 10 * time.Millisecond
		}
		if !wait.Sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, time.Second)
	}
}

// LagConfigurer is implemented by a LagReporter whose invalidation is meant
// to lag (async-invalidation's lag parameter): ConfiguredLag returns the
// lag it was asked for, so that a report can tell a pipeline that keeps
// its design from one that fell behind. A LagReporter without it is meant
// to invalidate at once (configured lag 0).
type LagConfigurer interface {
	ConfiguredLag() time.Duration
}

// recordPaired records, for every acked[i], the lag to now, and its
// stages through mids[i] (async-invalidation knows its own acks: nothing
// to pair by token).
func (l *lagRecorder) recordPaired(acked []time.Time, mids []stamps, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, a := range acked {
		l.pairLocked(a, mids[i], now)
	}
}

// appliedAll records that the invalidations of the writes with tokens
// returned at now, under one lock; mids[i] are the instants tokens[i]'s
// change went through.
func (l *lagRecorder) appliedAll(tokens []gb.Token, mids []stamps, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, t := range tokens {
		l.appliedLocked(t, mids[i], now)
	}
}

// applyQueue is how many received changes a consumer's reader may be
// ahead of its applier before it stops reading (the server then keeps
// the rest: the slot, or the listener's notification queue).
const applyQueue = 8192

// change is what a consumer's reader hands its applier, in stream order:
// a key to DEL (with the token of its write, when known), or a mark (a WAL
// position, a drain marker) that the applier passes to its done callback
// once every DEL received before it has returned.
type change struct {
	key      gb.Key
	token    gb.Token
	hasToken bool
	isMark   bool
	mark     uint64
	// mid are the instants the change went through before the applier
	// took it (PostgreSQL sent it, the reader received it): the inner
	// boundaries of the strategy's lag stages.
	mid stamps
}

// applier is the half of a consumer that DELs: it takes every change its
// reader has queued (up to the cap's batch limit), sends their DELs as one
// pipeline, records their lags and then reports the highest mark among
// them. While a pipeline is out, the reader goes on reading, so the next
// batch holds everything that arrived meanwhile: the consumer keeps up
// with any rate a pipeline of DELs can, without a timer.
type applier struct {
	env   *Env
	cache *Cache
	pace  *pacer
	lag   *lagRecorder
	done  func(mark uint64)
	in    chan change
}

func newApplier(env *Env, cache *Cache, pace *pacer, lag *lagRecorder, done func(uint64)) *applier {
	return &applier{env: env, cache: cache, pace: pace, lag: lag, done: done, in: make(chan change, applyQueue)}
}

// send queues c; false when ctx ended first.
func (a *applier) send(ctx context.Context, c change) bool {
	select {
	case a.in <- c:
		return true
	case <-ctx.Done():
		return false
	}
}

// run applies what arrives until its reader closes a.in (it then applies
// everything queued before it returns nil: a notification received is not
// dropped because its connection died) or ctx ends. It returns ctx's
// error, or the error of a before-apply hook (the consumer then
// reconnects, and what was not confirmed comes again).
func (a *applier) run(ctx context.Context) error {
	var keys []gb.Key
	var tokens []gb.Token
	var mids []stamps
	for {
		var mark uint64
		marked := false
		add := func(c change) {
			if c.isMark {
				mark, marked = max(mark, c.mark), true
				return
			}
			keys = append(keys, c.key)
			if c.hasToken {
				tokens = append(tokens, c.token)
				mids = append(mids, c.mid)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c, ok := <-a.in:
			if !ok {
				return nil
			}
			add(c)
		}
		limit := a.pace.limit()
	more:
		for len(keys) < limit {
			select {
			case c, ok := <-a.in:
				if !ok {
					break more // the next receive returns
				}
				add(c)
			default:
				break more
			}
		}
		if len(keys) > 0 {
			for _, k := range keys {
				if err := a.env.Hooks.At(ctx, gb.PointBeforeApply, k); err != nil {
					return err
				}
			}
			if !a.pace.wait(ctx, len(keys)) {
				return ctx.Err()
			}
			if err := delBatchUntilApplied(ctx, a.env, a.cache, keys); err != nil {
				return err
			}
			a.lag.appliedAll(tokens, mids, time.Now())
		}
		if marked {
			a.done(mark)
		}
		keys, tokens, mids = keys[:0], tokens[:0], mids[:0]
	}
}

// runStream runs read (a consumer's reader, the only sender to a) and a's
// applier together. When the reader returns (its connection died), the
// applier first applies everything the reader handed over; when the
// applier fails (a hook), the reader is stopped. It returns the reader's
// started flag and the reason the stream ended.
func runStream(ctx context.Context, a *applier, read func(ctx context.Context) (started bool, err error)) (bool, error) {
	rctx, stopReader := context.WithCancel(ctx)
	defer stopReader()
	applied := make(chan error, 1)
	go func() {
		err := a.run(ctx)
		if err != nil {
			stopReader()
		}
		applied <- err
	}()
	started, err := read(rctx)
	close(a.in)
	if aerr := <-applied; aerr != nil && ctx.Err() == nil {
		return started, aerr // a hook failed: that is why the reader stopped
	}
	return started, err
}
