package runner

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// fleet is the run's application instances (Scenario.Instances): K
// strategy objects built from the same registry entry and parameters, each
// with a Redis client of its own (and whatever the strategy builds from
// it: a rueidis client, an in-process cache), sharing the database pool
// and the store, so that every write is still recorded once. Instance 0
// uses the run's own Redis client.
//
// The fleet is what the prober and the audit look through: a key is
// consistent only when Redis and every instance's local cache are.
type fleet struct {
	strats []gb.Strategy
	extra  []redis.UniversalClient // the clients of instances 1..K-1
	// local counts, for the audit's local-cache line in the run record.
	localPresent, localStale, localGhost atomic.Int64
	localStaleTTL                        atomic.Int64 // the longest remaining local TTL of a stale entry, ns
}

// instanceCount is the scenario's number of instances (at least 1).
func instanceCount(sc *scenarios.Scenario) int { return max(1, sc.Instances) }

// assignment deals the closed loop's workers to instances: reader j and
// writer j both go to instance j mod K, so that every instance with a
// writer also has readers. Open-loop worker i goes to i mod K. The result
// is indexed by worker (Op.Client).
func assignment(sc *scenarios.Scenario) []int {
	k := instanceCount(sc)
	if sc.OpenLoop() {
		a := make([]int, sc.Concurrency)
		for i := range a {
			a[i] = i % k
		}
		return a
	}
	a := make([]int, sc.Readers+sc.Writers)
	for i := range a {
		j := i
		if i >= sc.Readers {
			j = i - sc.Readers
		}
		a[i] = j % k
	}
	return a
}

// buildFleet builds the instances; env is instance 0's environment.
func (r *run) buildFleet(env strategies.Env, newClient func() redis.UniversalClient) error {
	k := instanceCount(r.sc)
	f := &fleet{}
	r.fleet = f
	for i := 0; i < k; i++ {
		e := env
		if i > 0 {
			c := newClient()
			f.extra = append(f.extra, c)
			e.Redis = c
		}
		s, err := r.cfg.Registry.New(r.cfg.Strategy, e)
		if err != nil {
			if k > 1 {
				return fmt.Errorf("instance %d: %w", i, err)
			}
			return err
		}
		f.strats = append(f.strats, s)
	}
	return nil
}

// at returns instance i (0 when out of range).
func (f *fleet) at(i int) gb.Strategy {
	if i < 0 || i >= len(f.strats) {
		return f.strats[0]
	}
	return f.strats[i]
}

// inspectable reports whether any instance keeps a cache to look at.
func (f *fleet) inspectable() bool {
	for _, s := range f.strats {
		if _, ok := s.(gb.Inspector); ok {
			return true
		}
		if _, ok := s.(gb.LocalInspector); ok {
			return true
		}
	}
	return false
}

// drainers returns the instances with background work.
func (f *fleet) drainers() []gb.Drainer {
	var ds []gb.Drainer
	for _, s := range f.strats {
		if d, ok := s.(gb.Drainer); ok {
			ds = append(ds, d)
		}
	}
	return ds
}

// lags merges the invalidation lags of the instances that report them;
// ok is false when none does.
func (f *fleet) lags() (lags []time.Duration, ok bool) {
	for _, s := range f.strats {
		if lr, is := s.(strategies.LagReporter); is {
			ok = true
			lags = append(lags, lr.InvalidationLag()...)
		}
	}
	return lags, ok
}

// notices returns the notices of every instance that reports them.
func (f *fleet) notices() []string {
	var out []string
	for _, s := range f.strats {
		if nr, ok := s.(strategies.NoticeReporter); ok {
			out = append(out, nr.Notices()...)
		}
	}
	return out
}

// lagStages merges the invalidation lag stages of the instances that
// report them, by name, in the order of the first instance that has each.
func (f *fleet) lagStages() []record.LagStage {
	var order []strategies.LagStage
	at := map[string]int{}
	for _, s := range f.strats {
		lr, ok := s.(strategies.LagStageReporter)
		if !ok {
			continue
		}
		for _, st := range lr.InvalidationLagStages() {
			i, seen := at[st.Name]
			if !seen {
				at[st.Name] = len(order)
				order = append(order, strategies.LagStage{Name: st.Name, Did: st.Did, After: st.After})
				i = len(order) - 1
			}
			order[i].Lags = append(order[i].Lags, st.Lags...)
		}
	}
	var out []record.LagStage
	for _, st := range order {
		h, neg := check.DurationHistogram(st.Lags)
		out = append(out, record.LagStage{Name: st.Name, Did: st.Did, After: st.After, Histogram: h, Negative: neg})
	}
	return out
}

// entry is one cache entry of a key: Redis's or one instance's local one.
type entry struct {
	v       gb.Value
	ttl     time.Duration
	present bool
	local   bool
}

// entries returns the key's Redis entry (read through instance 0, since
// every instance shares Redis) and every instance's local entry.
func (f *fleet) entries(ctx context.Context, key gb.Key) ([]entry, error) {
	var out []entry
	if insp, ok := f.strats[0].(gb.Inspector); ok {
		v, ttl, present, err := insp.Peek(ctx, key)
		if err != nil {
			return nil, err
		}
		out = append(out, entry{v: v, ttl: ttl, present: present})
	}
	for _, s := range f.strats {
		if li, ok := s.(gb.LocalInspector); ok {
			v, ttl, present := li.PeekLocal(key)
			if present {
				out = append(out, entry{v: v, ttl: ttl, present: true, local: true})
			}
		}
	}
	return out, nil
}

// worst picks the entry the audit judges a key by: one that cannot be the
// row (a version above it, or its version with another token: a ghost
// candidate, settled by the ledger) before the oldest one below it, before
// any other present entry. Among equals the longest-lived wins: it is the
// one that stays wrong the longest.
func worst(es []entry, row gb.Value) (entry, bool) {
	rank := func(e entry) int {
		switch {
		case e.v.Version > row.Version || (e.v.Version == row.Version && e.v.Token != row.Token):
			return 3
		case e.v.Version < row.Version:
			return 2
		default:
			return 1
		}
	}
	var best entry
	found := false
	for _, e := range es {
		if !e.present {
			continue
		}
		if !found {
			best, found = e, true
			continue
		}
		rb, re := rank(best), rank(e)
		switch {
		case re > rb,
			re == rb && re == 2 && e.v.Version < best.v.Version,
			re == rb && ttlLonger(e.ttl, best.ttl):
			best = e
		}
	}
	return best, found
}

// ttlLonger orders remaining TTLs, a negative one (none) being the longest.
func ttlLonger(a, b time.Duration) bool {
	if a < 0 {
		return b >= 0
	}
	return b >= 0 && a > b
}

// auditKey audits one key across Redis and the local caches, counting the
// local entries that disagree with the row beside the key's verdict.
func (f *fleet) auditKey(ctx context.Context, c *check.Checker, key gb.Key, row gb.Value) error {
	es, err := f.entries(ctx, key)
	if err != nil {
		return err
	}
	for _, e := range es {
		if !e.local {
			continue
		}
		f.localPresent.Add(1)
		switch {
		case e.v.Version < row.Version:
			f.localStale.Add(1)
			for {
				old := f.localStaleTTL.Load()
				if int64(e.ttl) <= old || f.localStaleTTL.CompareAndSwap(old, int64(e.ttl)) {
					break
				}
			}
		case e.v.Version > row.Version || e.v.Token != row.Token:
			f.localGhost.Add(1)
		}
	}
	w, ok := worst(es, row)
	c.AuditKey(key, w.v, w.ttl, ok, row)
	return nil
}

// consistent reports whether every entry of key holds at least version
// (the prober's test), and whether it could tell.
func (f *fleet) consistent(ctx context.Context, key gb.Key, version int64) (bool, error) {
	es, err := f.entries(ctx, key)
	if err != nil {
		return false, err
	}
	for _, e := range es {
		if e.present && e.v.Version < version {
			return false, nil
		}
	}
	return true, nil
}

// close closes every instance and the extra clients.
func (f *fleet) close() error {
	var errs []error
	for _, s := range f.strats {
		errs = append(errs, s.Close())
	}
	for _, c := range f.extra {
		c.Close()
	}
	f.strats, f.extra = nil, nil
	return errors.Join(errs...)
}

// record fills the run record's instances section.
func (f *fleet) instancesRecord(sc *scenarios.Scenario) *record.Instances {
	if instanceCount(sc) == 1 && f.localPresent.Load() == 0 {
		return nil
	}
	return &record.Instances{
		Count: instanceCount(sc), Assignment: assignment(sc),
		LocalEntries: f.localPresent.Load(), LocalStale: f.localStale.Load(), LocalGhost: f.localGhost.Load(),
		LocalStaleMaxTTLSeconds: time.Duration(f.localStaleTTL.Load()).Seconds(),
	}
}

// PeekLocal reads key's entry in the local cache of instance inst, for
// scripts and tests; ok is false when absent or when the strategy keeps no
// local cache.
func (s *Session) PeekLocal(inst int, key gb.Key) (gb.Value, time.Duration, bool) {
	li, ok := s.r.fleet.at(inst).(gb.LocalInspector)
	if !ok {
		return gb.Value{}, 0, false
	}
	return li.PeekLocal(key)
}
