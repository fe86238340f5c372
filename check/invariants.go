package check

import (
	"fmt"

	"github.com/ghostbench/ghostbench"
)

// Invariants returns the ways in which m contradicts itself, empty when
// it does not. Finish stores them in Metrics.Violations; tests assert
// that there are none. The invariants:
//
//   - stale reads > 0 implies a write with a stale window > 0: the newer
//     write that made a stale read stale has a window reaching at least to
//     that read's invoke, warm-up writes included;
//   - p99 (and max) staleness <= max stale window: a read's staleness age
//     is measured from the ack of the earliest newer write, whose window
//     lasts at least until that read (both in HdrHistogram's equivalent
//     values, which are monotone);
//   - classified reads add up: fresh + stale-or-ghost-or-early + unknown
//     account for every successful read, and no class exceeds OK.
func Invariants(m *Metrics) []string {
	var out []string
	r, sw := &m.Reads, &m.StaleWindow
	if r.Stale > 0 && (sw.WithWindow == 0 || sw.MaxUs == 0) {
		out = append(out, fmt.Sprintf("%d stale reads but %d writes with a stale window (max %d us)", r.Stale, sw.WithWindow, sw.MaxUs))
	}
	if a, w := r.StalenessAge, sw.Histogram; a != nil && a.Count > 0 {
		winMax := int64(0)
		if w != nil {
			winMax = w.Max
		}
		if a.P99 > winMax {
			out = append(out, fmt.Sprintf("p99 staleness %d us exceeds the max stale window %d us", a.P99, winMax))
		}
		if a.Max > winMax {
			out = append(out, fmt.Sprintf("max staleness %d us exceeds the max stale window %d us", a.Max, winMax))
		}
	}
	for _, c := range []struct {
		name string
		n    int64
	}{{"stale", r.Stale}, {"ghost", r.Ghost}, {"early", r.Early}, {"unknown", r.Unknown}, {"fresh", r.Fresh}} {
		if c.n > r.OK {
			out = append(out, fmt.Sprintf("%s reads %d exceed successful reads %d", c.name, c.n, r.OK))
		}
	}
	if r.Fresh+r.Unknown > r.OK {
		out = append(out, fmt.Sprintf("fresh %d + unknown %d reads exceed successful reads %d", r.Fresh, r.Unknown, r.OK))
	}
	return out
}

// settleForeign finds the tokens that deferred reads and audit entries
// carry, that the recorder did not report for the key read, but did report
// for another key (or for another version of the same key): a value
// carrying such a token is one this key never had, a ghost read for it
// whatever the ledger says of the token. They are recorded in c.foreign,
// and dropped from the returned questions unless an open attempt needs
// the ledger's answer for itself. Called by Finish with every shard
// locked.
func (c *Checker) settleForeign(questions []ghostbench.Token) []ghostbench.Token {
	unrep := make(map[ghostbench.Token]struct{})
	c.eachKey(func(sh *shard, ks *keyState) {
		if ks.x == nil {
			return
		}
		for i := range ks.x.deferred {
			if r := &ks.x.deferred[i]; c.unreported(sh, ks, r.v, r.t) {
				unrep[r.t] = struct{}{}
			}
		}
	})
	for i := range c.shards {
		sh := &c.shards[i]
		for _, e := range sh.auditPending {
			ks := c.stateOf(sh, e.key)
			if c.unreported(sh, ks, e.cache.Version, e.cache.Token) {
				unrep[e.cache.Token] = struct{}{}
			}
		}
	}
	if len(unrep) == 0 {
		return questions
	}
	found := make(map[ghostbench.Token]struct{})
	open := make(map[ghostbench.Token]struct{})
	note := func(t ghostbench.Token) {
		if _, ok := unrep[t]; ok {
			found[t] = struct{}{}
		}
	}
	c.eachKey(func(sh *shard, ks *keyState) {
		if ks.x == nil {
			return
		}
		for v := int64(1); v < int64(len(ks.x.vers)); v++ {
			if e := &ks.x.vers[v]; e.ack != ackNone {
				note(e.token)
			}
		}
		for i := range ks.x.inflight {
			a := &ks.x.inflight[i]
			note(a.token)
			if a.open() {
				open[a.token] = struct{}{}
			}
		}
	})
	for i := range c.shards {
		for t := range c.shards[i].aborted {
			note(t)
		}
	}
	if len(found) == 0 {
		return questions
	}
	c.foreign = found
	out := questions[:0]
	for _, t := range questions {
		_, f := found[t]
		_, o := open[t]
		if !f || o {
			out = append(out, t)
		}
	}
	return out
}
