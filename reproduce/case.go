package reproduce

import (
	"context"
	"fmt"
	"strings"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/strategies"
)

// Case is one named ghost-data bug: a scripted interleaving and the
// strategy it reproduces on. Case names are a public interface (command
// lines and CI jobs name them): they never change.
type Case struct {
	// Name is what "ghostbench reproduce NAME" takes.
	Name string
	// Summary is one line for listings.
	Summary string
	// Description explains the interleaving step by step, what the
	// verdict will say, and how porcupine's answer relates to it.
	Description string
	// Strategy is the strategy the bug lives in, the default of
	// Options.Strategy.
	Strategy string
	// Params are parameters for the strategies that declare them (the
	// async lag); a strategy that does not declare a name is not given it.
	Params strategies.Params
	// Points are the interleaving points the script holds actors at.
	Points []gb.Point
	// Faults are the fault kinds the script injects, in order.
	Faults []FaultUse
	// Instances is the number of application instances the session
	// builds (0: one); an actor's Instance says which one it runs on.
	Instances int
	// Keys is the number of keys the session's schema holds (0: one,
	// key 0, which the catalogue's scripts use).
	Keys int
	// WantClean is set for a case whose point is that the interleaving is
	// handled: it must come out clean on Strategy.
	WantClean bool
	// Availability makes a write that did not commit a finding (kind
	// write-unavailable): for cases that compare how strategies keep
	// writes available under a fault, not only whether reads stay fresh.
	Availability bool
	// CleanWith are strategies that run the same interleaving clean, with
	// why; NotCleanWith are strategies on which a WantClean case is not.
	CleanWith    []Alternative
	NotCleanWith []Alternative

	run func(ctx context.Context, s *Script) error
}

// FaultUse is a fault a case injects, by kind name (package faults) with
// its parameters.
type FaultUse struct {
	Fault  string
	Params map[string]string
}

// Alternative is another strategy to run a case's interleaving against.
type Alternative struct {
	Strategy string
	// Params override the case's for this strategy (a shorter delay).
	Params strategies.Params
	// Why says in one line why the outcome differs.
	Why string
}

// The actors of the scripts. IDs are unique across kinds, so that an
// operation's Client says who ran it.
var (
	reader1  = gb.Actor{Kind: "reader", ID: 1}
	reader2  = gb.Actor{Kind: "reader", ID: 2}
	reader3  = gb.Actor{Kind: "reader", ID: 3}
	writer10 = gb.Actor{Kind: "writer", ID: 10}
	writer11 = gb.Actor{Kind: "writer", ID: 11}
)

// ActorName returns "reader-1", "writer-10", or the kind alone for a
// background actor ("worker").
func ActorName(a gb.Actor) string {
	if a.Kind == "" {
		return "-"
	}
	if a.Kind == "worker" || a.Kind == "background" {
		return a.Kind
	}
	return fmt.Sprintf("%s-%d", a.Kind, a.ID)
}

// Cases returns the catalogue, in the order of the issue that defined it.
func Cases() []Case {
	return append([]Case{
		{
			Name:     "cache-aside-stale-set",
			Summary:  "cache-aside: a reader's fill of an old version lands after the writer's DEL; stale until TTL",
			Strategy: "cache-aside",
			Points:   []gb.Point{gb.PointBeforeCacheSet},
			Description: `reader-1 misses, reads v0 from PostgreSQL and is held before its SET. writer-10 commits v1 and
deletes the key. reader-1 is released: its SET of v0 lands in the now empty key. reader-2 hits v0
although v1 was acknowledged before it started: a stale read, and the entry stays stale until its TTL
(the audit). porcupine: reader-2's read starts after writer-10's write returned, so no order explains
v0: Illegal.`,
			CleanWith: []Alternative{
				{Strategy: "version-checked", Why: "the late fill is a SET-if-newer and the cache already holds v1"},
				{Strategy: "leases", Why: "the writer's DEL voids reader-1's lease, so its fill is dropped"},
				{Strategy: "db-only", Why: "no cache, no fill"},
			},
			run: cacheAsideStaleSet,
		},
		{
			Name:     "async-invalidation-lag",
			Summary:  "async-invalidation: reads return the old balance for the lag after COMMIT (the 280 ms incident)",
			Strategy: "async-invalidation",
			Params:   strategies.Params{"lag": "280ms"},
			Points:   []gb.Point{gb.PointBeforeApply},
			Description: `reader-1 fills v0. writer-10 commits v1; its DEL is queued and the worker applies it after the
lag (280 ms by default, -param lag=...). reader-2 reads right after the commit and gets v0; the worker
is held at before-apply once the lag has passed, just long enough for reader-3 to read v0 at an age of
about the lag; then the DEL lands and reader-1 reads v1. Two stale reads, nothing stale at the end
(the DEL did land). porcupine: the write returned before the stale reads began: Illegal.`,
			CleanWith: []Alternative{
				{Strategy: "cache-aside", Why: "the DEL runs before the write returns"},
				{Strategy: "db-only", Why: "no cache"},
			},
			run: asyncInvalidationLag,
		},
		{
			Name:     "write-through-lost-reply",
			Summary:  "strict write-through, lost reply: the SET is applied, its reply lost, the transaction rolls back: a value never committed is served (ghost)",
			Strategy: "write-through",
			Faults:   []FaultUse{{Fault: "redis-lost-replies"}},
			Description: `reader-1 fills v0. Redis replies are then dropped at the proxy (redis-lost-replies): writer-10's
SET of v1 reaches Redis and is applied, but its reply never comes; the client times out, the strategy
rolls the transaction back and fails the write. After heal the cache holds v1 (token 101), a value
PostgreSQL never committed: reader-2 reads it (ghost), and it stays there until TTL. porcupine: a
write that did not commit has no effect, so no order explains reader-2's value: Illegal.`,
			CleanWith: []Alternative{
				{Strategy: "cache-aside", Why: "only a DEL goes to Redis, after COMMIT; its lost reply is a warning and the next read fills v1"},
				{Strategy: "db-only", Why: "no cache"},
			},
			run: writeThroughLostReply,
		},
		{
			Name:     "write-through-commit-fails",
			Summary:  "strict write-through, COMMIT fails after the SET: the cache serves a value never committed (ghost)",
			Strategy: "write-through",
			Faults:   []FaultUse{{Fault: "pg-commit-fail"}},
			Description: `reader-1 fills v0. With pg-commit-fail armed, writer-10 UPDATEs, SETs v1 in the cache, then its
COMMIT fails (a deferred constraint trigger raises at COMMIT). reader-2 hits v1 (token 101), which
PostgreSQL rolled back: a ghost read, and ghost until TTL. porcupine: Illegal.`,
			CleanWith: []Alternative{
				{Strategy: "cache-aside", Why: "the cache is touched only after a successful COMMIT"},
				{Strategy: "db-only", Why: "no cache"},
			},
			run: writeThroughCommitFails,
		},
		{
			Name:     "write-through-dirty-read",
			Summary:  "strict write-through, dirty read: a reader sees the new value before COMMIT, which then fails (early + ghost)",
			Strategy: "write-through",
			Points:   []gb.Point{gb.PointBeforeCommit},
			Faults:   []FaultUse{{Fault: "pg-commit-fail"}},
			Description: `reader-1 fills v0. writer-10 SETs v1 in the cache and is held just before COMMIT. reader-2 hits
v1: it completes before the COMMIT is even sent (early). writer-10 is released and its COMMIT fails
(pg-commit-fail), so reader-2's value was never committed (ghost); reader-3 reads it again afterwards
(ghost until TTL). porcupine: Illegal (a write without effect cannot explain the value).`,
			CleanWith: []Alternative{
				{Strategy: "cache-aside", Why: "nothing reaches the cache before COMMIT: reader-2 reads v0 (still the committed row)"},
				{Strategy: "db-only", Why: "no cache"},
			},
			run: writeThroughDirtyRead,
		},
		{
			Name:     "soft-write-through-partition",
			Summary:  "soft write-through, Redis partitioned during the write: SET and fallback DEL both fail; after heal the old value is served until TTL",
			Strategy: "soft-write-through",
			Faults:   []FaultUse{{Fault: "redis-partition"}},
			Description: `reader-1 fills v0. Redis is partitioned (nothing passes the proxy either way): writer-10's SET of
v1 times out, its best-effort DEL times out too, and the strategy commits anyway (it never fails a
write for Redis). After heal the cache still holds v0: reader-2 reads it although v1 was acknowledged
(stale), and it stays stale until TTL. porcupine: Illegal.`,
			CleanWith: []Alternative{
				{Strategy: "cdc-invalidation", Why: "the WAL consumer retries its DEL until Redis answers, and confirms the WAL only after it"},
				{Strategy: "db-only", Why: "no cache"},
			},
			run: softWriteThroughPartition,
		},
		{
			Name:         "soft-write-through-oom",
			Summary:      "soft write-through, Redis out of memory: the SET is refused, the DEL succeeds, the next read is fresh (reports clean)",
			Strategy:     "soft-write-through",
			Faults:       []FaultUse{{Fault: "redis-oom"}},
			WantClean:    true,
			Availability: true,
			Description: `reader-1 fills v0. Redis runs out of memory (maxmemory below usage, noeviction): writer-10's SET
of v1 is refused, its fallback DEL is accepted (DEL needs no memory), and the write commits. reader-2
reads during the fault (a miss: v1 from PostgreSQL; its fill is refused), reader-3 after heal (a miss,
fills v1). Every read is fresh and the write committed: the fix the incident describes works, and the
case reports clean (exit 0). Write availability counts here: strict write-through under the same
interleaving fails the write (its SET is refused), which is a finding (write-unavailable) although
every read is fresh and the history is linearizable (a failed write has no effect).`,
			NotCleanWith: []Alternative{
				{Strategy: "write-through", Why: "the refused SET rolls the transaction back: the write fails (write availability 0/1)"},
			},
			CleanWith: []Alternative{
				{Strategy: "cache-aside", Why: "the DEL after COMMIT needs no memory"},
			},
			run: softWriteThroughOOM,
		},
		{
			Name:     "update-after-commit-reorder",
			Summary:  "update-after-commit: two writers' SETs land in the opposite order of their commits; stale until TTL",
			Strategy: "update-after-commit",
			Points:   []gb.Point{gb.PointBeforeCacheSet},
			Description: `reader-1 fills v0. writer-10 commits v1 and is held before its SET. writer-11 commits v2 and SETs
v2. writer-10 is released: its SET of v1 overwrites v2. reader-2 reads v1 although v2 was
acknowledged before it started (stale), until TTL. porcupine: both writes returned before reader-2
began: Illegal.`,
			CleanWith: []Alternative{
				{Strategy: "version-checked", Why: "writer-10's SET-if-newer is refused: the cache holds v2"},
				{Strategy: "cache-aside", Why: "writers DEL instead of SET; order does not matter"},
			},
			run: updateAfterCommitReorder,
		},
		{
			Name:     "delete-before-update",
			Summary:  "delete-before-update: a reader fills the old value between the writer's DEL and its COMMIT; stale until TTL",
			Strategy: "delete-before-update",
			Points:   []gb.Point{gb.PointAfterCacheDel},
			Description: `reader-1 fills v0. writer-10 DELs the key and is held before its transaction. reader-2 misses and
fills v0 (still the committed row: a fresh read). writer-10 is released and commits v1. Background
work is drained, then reader-3 hits v0 although v1 was acknowledged (stale), until TTL. porcupine:
Illegal.`,
			CleanWith: []Alternative{
				{Strategy: "cache-aside", Why: "the DEL comes after COMMIT, so the refill reads v1"},
				{Strategy: "delayed-double-delete", Params: strategies.Params{"delay": "50ms"}, Why: "the second DEL, after the delay, removes the refilled v0"},
			},
			run: deleteBeforeUpdate,
		},
	}, clientSideCases()...)
}

// Scripted returns c with script as its interleaving: for interleavings
// found by a tool rather than written by hand (explore's schedules), run,
// judged and rendered exactly as the catalogue's cases are.
func Scripted(c Case, script func(ctx context.Context, s *Script) error) Case {
	c.run = script
	return c
}

// Lookup returns the case named name.
func Lookup(name string) (Case, bool) {
	for _, c := range Cases() {
		if c.Name == name {
			return c, true
		}
	}
	return Case{}, false
}

// Names returns the case names in catalogue order.
func Names() []string {
	cs := Cases()
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// UsageError is a problem with what the caller asked for (an unknown
// strategy or parameter), as opposed to a failure of the harness.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *UsageError) Unwrap() error { return e.Err }

// Resolve returns the strategy the case runs on (strategy, or the case's
// own when empty) and its parameters: the case's Params that the strategy
// declares, overridden by params. It returns a *UsageError naming the
// strategy or parameter and the allowed ones when either is unknown.
func (c Case) Resolve(reg *strategies.Registry, strategy string, params strategies.Params) (strategies.Info, strategies.Params, error) {
	if reg == nil {
		reg = strategies.Default()
	}
	if strategy == "" {
		strategy = c.Strategy
	}
	info, ok := reg.Lookup(strategy)
	if !ok {
		return strategies.Info{}, nil, &UsageError{fmt.Errorf("strategy %q: unknown; allowed: %s", strategy, strings.Join(reg.Names(), ", "))}
	}
	p := strategies.Params{}
	for k, v := range c.Params {
		for _, d := range info.Params {
			if d.Name == k {
				p[k] = v
			}
		}
	}
	for k, v := range params {
		p[k] = v
	}
	if err := info.CheckParams(p); err != nil {
		return strategies.Info{}, nil, &UsageError{err}
	}
	return info, p, nil
}

// The scripts. Each runs on key 0 of a fresh schema (every row at v0/t0)
// with an empty cache. Tokens: writer-10 writes 101, writer-11 writes 111.

func cacheAsideStaleSet(ctx context.Context, s *Script) error {
	h := s.HoldRead(ctx, reader1, gb.PointBeforeCacheSet)
	s.Write(ctx, writer10, 101, 5)
	h.Release(ctx)
	s.Read(ctx, reader2)
	return ctx.Err()
}

func asyncInvalidationLag(ctx context.Context, s *Script) error {
	s.Read(ctx, reader1)
	w := s.HoldBackground(gb.PointBeforeApply)
	s.Write(ctx, writer10, 101, 7)
	s.Read(ctx, reader2)
	if w.Wait(ctx) {
		s.Read(ctx, reader3)
		w.Release()
	}
	if err := s.Drain(ctx); err != nil {
		return err
	}
	s.Read(ctx, reader1)
	return ctx.Err()
}

func writeThroughLostReply(ctx context.Context, s *Script) error {
	s.Read(ctx, reader1)
	if err := s.Inject(ctx, "redis-lost-replies"); err != nil {
		return err
	}
	s.Write(ctx, writer10, 101, 9)
	if err := s.Heal(ctx, "redis-lost-replies"); err != nil {
		return err
	}
	s.Peek(ctx)
	s.Read(ctx, reader2)
	return ctx.Err()
}

func writeThroughCommitFails(ctx context.Context, s *Script) error {
	s.Read(ctx, reader1)
	if err := s.Inject(ctx, "pg-commit-fail"); err != nil {
		return err
	}
	s.Write(ctx, writer10, 101, 9)
	if err := s.Heal(ctx, "pg-commit-fail"); err != nil {
		return err
	}
	s.Read(ctx, reader2)
	return ctx.Err()
}

func writeThroughDirtyRead(ctx context.Context, s *Script) error {
	s.Read(ctx, reader1)
	if err := s.Inject(ctx, "pg-commit-fail"); err != nil {
		return err
	}
	h := s.HoldWrite(ctx, writer10, gb.PointBeforeCommit, 101, 9)
	s.Read(ctx, reader2)
	h.Release(ctx)
	if err := s.Heal(ctx, "pg-commit-fail"); err != nil {
		return err
	}
	s.Read(ctx, reader3)
	return ctx.Err()
}

func softWriteThroughPartition(ctx context.Context, s *Script) error {
	s.Read(ctx, reader1)
	if err := s.Inject(ctx, "redis-partition"); err != nil {
		return err
	}
	s.Write(ctx, writer10, 101, 4)
	if err := s.Heal(ctx, "redis-partition"); err != nil {
		return err
	}
	if err := s.Drain(ctx); err != nil {
		return err
	}
	s.Peek(ctx)
	s.Read(ctx, reader2)
	return ctx.Err()
}

func softWriteThroughOOM(ctx context.Context, s *Script) error {
	s.Read(ctx, reader1)
	if err := s.Inject(ctx, "redis-oom"); err != nil {
		return err
	}
	s.Write(ctx, writer10, 101, 4)
	s.Read(ctx, reader2)
	if err := s.Heal(ctx, "redis-oom"); err != nil {
		return err
	}
	s.Read(ctx, reader3)
	return ctx.Err()
}

func updateAfterCommitReorder(ctx context.Context, s *Script) error {
	s.Read(ctx, reader1)
	h := s.HoldWrite(ctx, writer10, gb.PointBeforeCacheSet, 101, 5)
	s.Write(ctx, writer11, 111, 3)
	h.Release(ctx)
	s.Read(ctx, reader2)
	return ctx.Err()
}

func deleteBeforeUpdate(ctx context.Context, s *Script) error {
	s.Read(ctx, reader1)
	h := s.HoldWrite(ctx, writer10, gb.PointAfterCacheDel, 101, 6)
	s.Read(ctx, reader2)
	h.Release(ctx)
	if err := s.Drain(ctx); err != nil {
		return err
	}
	s.Read(ctx, reader3)
	return ctx.Err()
}
