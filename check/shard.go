package check

import (
	"sync"

	"github.com/ghostbench/ghostbench"
)

// shard owns the keys k with k mod len(shards) == its index, and its own
// counters and histograms, merged at Finish.
type shard struct {
	mu      sync.Mutex
	keys    []keyState
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

// eachKey calls f for every touched key, shard by shard.
func (c *Checker) eachKey(f func(sh *shard, ks *keyState)) {
	for i := range c.shards {
		sh := &c.shards[i]
		for j := range sh.keys {
			if ks := &sh.keys[j]; ks.x != nil {
				f(sh, ks)
			}
		}
	}
}
