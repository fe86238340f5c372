package reproduce

import (
	"context"
	"fmt"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/wait"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/strategies"
)

// clientSideCases are the cases of caches inside the application: Redis
// client-side caching and a local cache in front of Redis.
func clientSideCases() []Case {
	return []Case{
		{
			Name:     "csc-invalidation-after-reply",
			Summary:  "rueidis-csc: the writer's DEL returns before Redis's invalidation of its own local copy is applied; it reads its own old value",
			Strategy: "rueidis-csc",
			Points:   []gb.Point{gb.PointBeforeInvalidate},
			Description: `writer-10 reads the key twice: the first read misses and fills Redis with v0, the second fills its
instance's local cache (rueidis DoCache, tracked by Redis). writer-10 commits v1 and DELs the key through
rueidis: Redis answers the DEL, then pushes "invalidate" for the key on the same connection (since Redis 7,
redis/redis#9422, invalidations come after the reply of the command that caused them: rueidis issue 534).
The script holds rueidis's connection reader at before-invalidate, so the reply has been delivered and the
push not yet applied: writer-10's Write has returned, and its next read is served v0 from process memory,
a stale read and a read-your-writes violation (its own write was acknowledged before the read began).
Released, the invalidation lands and writer-10 reads v1. On a loaded machine the same window is the few
microseconds between the reader goroutine delivering the reply and parsing the push; the barrier only
widens it. porcupine: the read began after the write returned and saw v0: Illegal.`,
			CleanWith: []Alternative{
				{Strategy: "rueidis-csc", Params: strategies.Params{"ryw": "true"},
					Why: "ryw=true: after its own DEL the instance reads the key from PostgreSQL until the invalidation lands"},
				{Strategy: "cache-aside", Why: "no local copy: the DEL has removed the only cached one before the write returned"},
			},
			run: cscInvalidationAfterReply,
		},
		{
			Name:     "local-fill-vs-invalidation",
			Summary:  "go-redis-cache local=true: a local fill of a value read from Redis lands after the writer's Delete; the instance serves it until the local TTL",
			Strategy: "go-redis-cache",
			Params:   strategies.Params{"local": "true", "local-ttl": "1s"},
			Points:   []gb.Point{gb.PointBeforeLocalSet},
			Description: `reader-2 fills Redis (and the instance's memory) with v0; the script waits for the local copy's TTL
(local-ttl=1s) to pass, so that Redis holds v0 and the local cache nothing. reader-1 misses its local
cache, GETs v0 from Redis, and is held just before the library stores it locally (before-local-set): the
window between the reply and the local put of lettuce issue 3481. writer-10, on the same instance,
commits v1 and calls Delete, which removes the local entry (there is none yet) and Redis's. reader-1 is
released and puts v0 in the instance's memory. reader-3 reads v0 from it: a stale read, and a
read-your-writes violation of the instance's own write; the audit finds the local copy stale until its
local TTL although Redis holds nothing. With several instances every other one would also keep its copy
(go-redis/cache invalidates no other process). porcupine: reader-3 began after the write returned and
saw v0: Illegal.`,
			CleanWith: []Alternative{
				{Strategy: "go-redis-cache", Params: strategies.Params{"local-guard": "true"},
					Why: "local-guard=true: the late fill holds v0, below the instance's own write of v1, and is dropped"},
				{Strategy: "cache-aside", Why: "no local cache: the late value would be Redis's, deleted by the writer before reader-3's read"},
			},
			run: localFillVsInvalidation,
		},
	}
}

// The actors of the client-side cases.
var (
	writer10i0 = gb.Actor{Kind: "writer", ID: 10}
	reader1i0  = gb.Actor{Kind: "reader", ID: 1}
	reader3i0  = gb.Actor{Kind: "reader", ID: 3}
)

// localTTLBound bounds waitLocalGone.
const localTTLBound = 10 * time.Second

// waitLocalGone polls until instance inst's local copy of the key has
// expired (or was never there), bounded by localTTLBound.
func (s *Script) waitLocalGone(ctx context.Context, inst int) error {
	t0 := time.Now()
	for {
		if _, _, ok := s.sess.PeekLocal(inst, s.key); !ok {
			s.col.add(Event{Kind: EventNote, Actor: "harness", Effect: fmt.Sprintf("instance %d's local copy of key %d has expired", inst, s.key)})
			return nil
		}
		if time.Since(t0) > localTTLBound {
			return fmt.Errorf("the local copy of key %d did not expire within %v", s.key, localTTLBound)
		}
		if !wait.Sleep(ctx, 5*time.Millisecond) {
			return ctx.Err()
		}
	}
}

func cscInvalidationAfterReply(ctx context.Context, s *Script) error {
	s.Read(ctx, writer10i0) // miss: v0 from PostgreSQL, SET in Redis
	if err := s.Drain(ctx); err != nil {
		return err // the SET's own invalidation of the cached miss is applied
	}
	s.Read(ctx, writer10i0) // fills the local cache with v0
	s.PeekLocal(0)
	w := s.HoldBackground(gb.PointBeforeInvalidate)
	s.Write(ctx, writer10i0, 101, 5)
	if w.Wait(ctx) {
		s.Read(ctx, writer10i0)
		w.Release()
	}
	if err := s.Drain(ctx); err != nil {
		return err
	}
	s.PeekLocal(0)
	s.Read(ctx, writer10i0)
	return ctx.Err()
}

func localFillVsInvalidation(ctx context.Context, s *Script) error {
	s.Read(ctx, reader2) // Redis and the local cache hold v0
	if err := s.waitLocalGone(ctx, 0); err != nil {
		return err
	}
	h := s.HoldBackgroundRead(ctx, reader1i0, gb.PointBeforeLocalSet)
	s.Write(ctx, writer10i0, 101, 5)
	h.Release(ctx)
	s.PeekLocal(0)
	s.Read(ctx, reader3i0)
	return ctx.Err()
}

// HoldBackgroundRead starts a read by a with a gate at point p for any
// actor: for points a library calls without the operation's context (a
// local cache's Set), where the actor cannot be told apart. Nothing else
// may reach p meanwhile. It returns like HoldRead.
func (s *Script) HoldBackgroundRead(ctx context.Context, a gb.Actor, p gb.Point) *Held {
	h := &Held{s: s, actor: a, point: p, gate: s.sess.Barriers.Hold("", -1, p, s.key), done: make(chan gb.Op, 1)}
	go func() { h.done <- s.Read(ctx, a) }()
	select {
	case <-h.gate.Reached():
		s.col.add(Event{Kind: EventHold, Actor: ActorName(a), Effect: fmt.Sprintf("held at %s", p)})
	case op := <-h.done:
		h.op = &op
		h.gate.Open()
		s.col.add(Event{Kind: EventNote, Actor: ActorName(a), Effect: fmt.Sprintf(
			"never reached %s (%s has no such step on this path): the hold is skipped", p, s.info.Name)})
	case <-ctx.Done():
		h.gate.Open()
	}
	return h
}

// PeekLocal records instance inst's in-process entry of the key.
func (s *Script) PeekLocal(inst int) {
	v, ttl, ok := s.sess.PeekLocal(inst, s.key)
	eff := fmt.Sprintf("instance %d's local cache: key %d absent", inst, s.key)
	if ok {
		eff = fmt.Sprintf("instance %d's local cache: key %d holds %s%s", inst, s.key, v, ttlText(ttl))
	}
	s.col.add(Event{Kind: EventCache, Actor: "harness", Effect: eff})
}

// rywNotes describes the run's read-your-writes violations (every one is
// also a stale read, which the findings show).
func rywNotes(run *record.Run, names map[int]string) []string {
	if run.RYW == nil || run.RYW.Violations == 0 {
		return nil
	}
	var out []string
	for _, e := range run.RYW.Examples {
		out = append(out, fmt.Sprintf("read-your-writes violation: %s on instance %d read v%d at %s, %s after its instance's own write of v%d returned",
			names[e.Client], e.Instance, e.Read, fmtDur(e.InvokeNs), fmtDur(e.AgeNs), e.Own))
	}
	return out
}
