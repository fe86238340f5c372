package check

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/ghostbench/ghostbench"
)

// RYW is the read-your-writes measure of a run: how often an application
// instance read an older version of a key than one its own write had
// already been acknowledged for, and how long after.
//
// A measured successful read R by instance I of key k returning version v
// is a read-your-writes violation when some write W run by instance I on
// k returned success (its Write call completed without error: the
// application was told it committed) with W.complete < R.invoke, and W's
// committed version is above v. Its age is R.invoke − min{W.complete} over
// those writes: how long the instance had known better. Every violation is
// also a stale read (W's commit-ack precedes W.complete), so the ratio is
// a subset of the stale ratio that no cache shared by all instances can
// explain away: it is the instance's own write it failed to see. With one
// instance every worker is on it, so the measure is per application
// server, not per worker; a closed-loop worker only reads or only writes.
type RYW struct {
	// Reads is the number of measured successful reads checked.
	Reads int64 `json:"reads"`
	// Violations is the number of them that violated read-your-writes.
	Violations int64 `json:"violations"`
	// PerMillion is Violations per million Reads.
	PerMillion float64 `json:"per_million_reads"`
	// Age is the distribution of the violations' ages, in microseconds.
	Age *Histogram `json:"age,omitempty"`
	// Examples are the first violations found (at most maxRYWExamples).
	Examples []RYWExample `json:"examples,omitempty"`
}

// RYWExample is one read-your-writes violation.
type RYWExample struct {
	Key      ghostbench.Key `json:"key"`
	Instance int            `json:"instance"`
	Client   int            `json:"client"`
	InvokeNs int64          `json:"invoke_ns"`
	// Read is the version the read returned; Own the version of the
	// instance's earliest acknowledged write above it.
	Read int64 `json:"read_version"`
	Own  int64 `json:"own_version"`
	// AgeNs is the read's invoke minus that write's completion.
	AgeNs int64 `json:"age_ns"`
}

// maxRYWExamples bounds RYW.Examples.
const maxRYWExamples = 20

// RYWChecker computes RYW online. It implements ghostbench.Recorder (only
// Committed matters: it gives each write's version) and takes every
// completed operation through Observe, like the Checker; both may be fed
// from many goroutines at once. Memory is O(acknowledged writes) plus the
// reads deferred because a write they depend on has committed but not yet
// been observed (its writer measured its completion and was descheduled).
type RYWChecker struct {
	shards [16]rywShard
}

var _ ghostbench.Recorder = (*RYWChecker)(nil)

type rywShard struct {
	mu sync.Mutex
	// inflight: committed writes whose operation is not observed yet.
	inflight map[ghostbench.Token]rywInflight
	// own: per (instance, key), the acknowledged writes sorted by version.
	own      map[rywKey][]rywWrite
	deferred map[ghostbench.Key][]rywRead
	reads    int64
	viol     int64
	ages     []time.Duration
	examples []RYWExample
	_        [64]byte
}

type rywKey struct {
	inst int
	key  ghostbench.Key
}

type rywInflight struct {
	key     ghostbench.Key
	version int64
}

type rywWrite struct {
	version  int64
	complete int64
}

type rywRead struct {
	inst, client int
	key          ghostbench.Key
	invoke       int64
	v            int64
}

// NewRYWChecker returns an empty checker.
func NewRYWChecker() *RYWChecker {
	c := &RYWChecker{}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.inflight = map[ghostbench.Token]rywInflight{}
		sh.own = map[rywKey][]rywWrite{}
		sh.deferred = map[ghostbench.Key][]rywRead{}
	}
	return c
}

func (c *RYWChecker) shard(k ghostbench.Key) *rywShard {
	return &c.shards[uint64(k)%uint64(len(c.shards))]
}

// Began does nothing.
func (c *RYWChecker) Began(ghostbench.Key, ghostbench.Token, int64) {}

// CommitSending does nothing.
func (c *RYWChecker) CommitSending(ghostbench.Key, ghostbench.Token, int64, time.Duration) {}

// Committed records the version the write of token committed.
func (c *RYWChecker) Committed(key ghostbench.Key, token ghostbench.Token, version int64, _, _ time.Duration) {
	sh := c.shard(key)
	sh.mu.Lock()
	sh.inflight[token] = rywInflight{key: key, version: version}
	sh.mu.Unlock()
}

// Aborted does nothing.
func (c *RYWChecker) Aborted(ghostbench.Key, ghostbench.Token, int64, time.Duration) {}

// Indeterminate does nothing: a write whose outcome the client could not
// learn was not acknowledged.
func (c *RYWChecker) Indeterminate(ghostbench.Key, ghostbench.Token, int64, time.Duration) {}

// Observe takes one completed operation (call it after the operation's own
// Recorder calls, as for Checker.Observe). op is not retained.
func (c *RYWChecker) Observe(op *ghostbench.Op) {
	sh := c.shard(op.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	switch op.Kind {
	case ghostbench.OpWrite:
		in, ok := sh.inflight[op.Token]
		if !ok {
			return // never committed
		}
		delete(sh.inflight, op.Token)
		if op.Err == nil && in.key == op.Key {
			k := rywKey{op.Instance, op.Key}
			ws := sh.own[k]
			i := len(ws)
			for i > 0 && ws[i-1].version > in.version {
				i--
			}
			sh.own[k] = slices.Insert(ws, i, rywWrite{version: in.version, complete: int64(op.Complete)})
		}
		if ds := sh.deferred[op.Key]; len(ds) > 0 {
			keep := ds[:0]
			for _, r := range ds {
				if !sh.eval(r, true) {
					keep = append(keep, r)
				}
			}
			if len(keep) == 0 {
				delete(sh.deferred, op.Key)
			} else {
				sh.deferred[op.Key] = keep
			}
		}
	case ghostbench.OpRead:
		if !op.Measured || op.Err != nil {
			return
		}
		sh.reads++
		r := rywRead{inst: op.Instance, client: op.Client, key: op.Key, invoke: int64(op.Invoke), v: op.Value.Version}
		if !sh.eval(r, true) {
			sh.deferred[op.Key] = append(sh.deferred[op.Key], r)
		}
	}
}

// eval settles r and returns true: a violation when an own acknowledged
// write proves it, clean when no committed write still unobserved could
// make it one. With waitable set, it returns false (not settled) while
// such a write is in flight; without, what is known is final.
func (sh *rywShard) eval(r rywRead, waitable bool) bool {
	ws := sh.own[rywKey{r.inst, r.key}]
	first := int64(-1)
	own := int64(0)
	for i := len(ws) - 1; i >= 0 && ws[i].version > r.v; i-- {
		if w := ws[i]; w.complete < r.invoke && (first < 0 || w.complete < first) {
			first, own = w.complete, w.version
		}
	}
	if first >= 0 {
		sh.viol++
		age := time.Duration(r.invoke - first)
		sh.ages = append(sh.ages, age)
		if len(sh.examples) < maxRYWExamples {
			sh.examples = append(sh.examples, RYWExample{Key: r.key, Instance: r.inst, Client: r.client,
				InvokeNs: r.invoke, Read: r.v, Own: own, AgeNs: int64(age)})
		}
		return true
	}
	if !waitable {
		return true
	}
	for _, in := range sh.inflight {
		if in.key == r.key && in.version > r.v {
			return false // a newer commit not yet observed may be this instance's
		}
	}
	return true
}

// Result settles the reads still deferred with what is known and returns
// the measure. Call it once, after the last Observe.
func (c *RYWChecker) Result() *RYW {
	out := &RYW{}
	var ages []time.Duration
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for k, ds := range sh.deferred {
			for _, r := range ds {
				sh.eval(r, false)
			}
			delete(sh.deferred, k)
		}
		out.Reads += sh.reads
		out.Violations += sh.viol
		ages = append(ages, sh.ages...)
		out.Examples = append(out.Examples, sh.examples...)
		sh.mu.Unlock()
	}
	if out.Reads > 0 {
		out.PerMillion = float64(out.Violations) / float64(out.Reads) * 1e6
	}
	if len(ages) > 0 {
		out.Age, _ = DurationHistogram(ages)
	}
	slices.SortFunc(out.Examples, func(a, b RYWExample) int { return cmp.Compare(a.InvokeNs, b.InvokeNs) })
	if len(out.Examples) > maxRYWExamples {
		out.Examples = out.Examples[:maxRYWExamples]
	}
	return out
}
