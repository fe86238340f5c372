package check

import (
	"cmp"
	"slices"
	"sync"

	"github.com/ghostbench/ghostbench"
)

// shard owns the keys k with k mod len(shards) == its index, and its own
// counters and histograms, merged at Finish.
type shard struct {
	mu      sync.Mutex
	keys    keyTable
	aborted map[ghostbench.Token]abortedAttempt

	rd     readCounts
	wr     writeCounts
	rec    [numRec]*hdrHist
	series []bucketCounts
	// The bucket last used and its start, to skip a division per op.
	bucketIdx, bucketLo int64

	examples []Anomaly // the earliest MaxExamples, sorted
	notify   []Anomaly // settled under the lock, delivered after it
	history  []HistoryEntry

	audit         auditCounts
	auditPending  []auditEntry
	auditExamples []AuditExample // the lowest MaxAuditExamples keys, sorted

	_ [64]byte // keep neighbouring shards' locks off one cache line
}

type readCounts struct {
	total, ok, hits, misses                int64
	errors                                 [numClasses]int64
	fresh, stale, ghost, early, unknownCnt int64
}

type writeCounts struct {
	attempted, committed, notCommitted, unknown int64
	failed, errorsReturned                      [numClasses]int64
	committedDespiteError, okNotCommitted       int64
}

type bucketCounts struct {
	ops, errors, reads, writes, writeErrors, stale, ghost, unknown int64
}

func recHighest(kind int) int64 {
	if kind == recLag {
		return MaxVersionLag
	}
	return MaxLatencyMicros
}

// record adds v to the shard's histogram kind, created on first use.
func (sh *shard) record(kind int, v int64) {
	r := sh.rec[kind]
	if r == nil {
		r = newHDRHist(recHighest(kind))
		sh.rec[kind] = r
	}
	r.record(v)
}

// bucketAt returns the time-series bucket of instant t (ns).
func (sh *shard) bucketAt(t, width int64) *bucketCounts {
	if t >= sh.bucketLo && t < sh.bucketLo+width && int(sh.bucketIdx) < len(sh.series) {
		return &sh.series[sh.bucketIdx] // most operations land in the current bucket: no division
	}
	i := int64(0)
	if t > 0 {
		i = min(t/width, maxSeriesBuckets-1)
	}
	if i < maxSeriesBuckets-1 {
		sh.bucketIdx, sh.bucketLo = i, i*width
	}
	if i >= int64(len(sh.series)) {
		n := int(i) + 1
		if n > cap(sh.series) {
			grown := make([]bucketCounts, n, max(n, 2*cap(sh.series), 64))
			copy(grown, sh.series)
			sh.series = grown
		} else {
			sh.series = sh.series[:n]
		}
	}
	return &sh.series[i]
}

// eachKey calls f for every key with state beyond its seed row, shard by
// shard, in key order within a shard.
func (c *Checker) eachKey(f func(sh *shard, ks *keyState)) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.keys.each(func(ks *keyState) {
			if ks.x != nil {
				f(sh, ks)
			}
		})
	}
}

// keyTable holds the state of the keys of one shard that the run touched
// (read, written or audited with an entry), so that memory follows the keys
// in use rather than the key space: a key nobody touched is its seed row
// and needs no state. States live in fixed pages that never move, so a
// *keyState stays valid while the shard's lock is held.
type keyTable struct {
	slot   map[int64]int32 // key (shard-local index) -> slot
	pages  []*[keyPage]keyState
	ids    []int64 // slot -> key
	sorted []int32 // slots in key order, rebuilt when keys were added
}

// keyPage is the number of states of a page (64 bytes each).
const keyPage = 64

// get returns the state of local key k, making it (the seed row) on first
// use.
func (t *keyTable) get(k int64) *keyState {
	i, ok := t.slot[k]
	if !ok {
		if t.slot == nil {
			t.slot = make(map[int64]int32)
		}
		i = int32(len(t.ids))
		if int(i)%keyPage == 0 {
			t.pages = append(t.pages, new([keyPage]keyState))
		}
		t.ids = append(t.ids, k)
		t.slot[k] = i
	}
	return &t.pages[i/keyPage][i%keyPage]
}

// each calls f with every state, in key order.
func (t *keyTable) each(f func(ks *keyState)) {
	if len(t.sorted) != len(t.ids) {
		t.sorted = make([]int32, len(t.ids))
		for i := range t.sorted {
			t.sorted[i] = int32(i)
		}
		slices.SortFunc(t.sorted, func(a, b int32) int { return cmp.Compare(t.ids[a], t.ids[b]) })
	}
	for _, i := range t.sorted {
		f(&t.pages[i/keyPage][i%keyPage])
	}
}
