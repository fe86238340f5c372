// Package report turns what a run recorded into verdicts and metrics: the
// Checker implements the measurement contract of DESIGN.md section 4 online,
// while the run goes on, and Finish returns the Metrics that the writers and
// plots of this package render (run.json, tables, HTML).
//
// # What the checker is told
//
// The store reports every write attempt through the ghostbench.Recorder
// methods of the Checker (Began, CommitSending, then Committed, Aborted or
// Indeterminate), from the write path, as it happens. The runner calls
// Observe with every completed operation, Probe with every convergence
// probe, Warn with every post-commit cache error, AuditKey for every key at
// the end of the run, and finally Finish, which asks the ledger about the
// writes whose outcome is still unknown. Every method is safe for concurrent
// use; calls for one key are serialized by the shard that owns the key.
//
// Every key starts as a seed row: version 0, token 0, committed with
// commit-sent = commit-ack = 0.
//
// # Verdicts (DESIGN.md section 4)
//
// All instants are offsets on the run's clock. A successful read R of key k
// returning version v with token t is:
//
//   - ghost if (v, t) was never committed: t's write aborted (per the
//     recorder), or was indeterminate and did not commit (per the ledger at
//     Finish, or because another write committed the same version, or
//     because a later version committed while t's write was the only
//     candidate for v), or another token committed version v.
//   - stale if some committed version v' > v has commit-ack < R.invoke. Its
//     staleness age is R.invoke − min{ack(v') : v' > v committed}. DESIGN.md
//     writes ack(v+1): that is the same in the usual case, but acks of one
//     key can be measured out of version order (the row lock is released at
//     COMMIT, before the writer reads its clock), and the earliest newer ack
//     is the instant from which R's value was provably obsolete. Its version
//     lag is v_latest − v, v_latest being the highest committed version
//     whose ack is before R.invoke.
//   - early (informational, may coexist with ghost and stale) if R.complete
//     < commit-sent of t's write, or t's write never sent COMMIT.
//   - fresh otherwise.
//   - unknown when whether it is ghost or stale cannot be established (the
//     ledger could not be read): never counted as fresh.
//
// No false positives: every flag is proved by the recorded intervals. In
// particular a write whose COMMIT was indeterminate and that the ledger
// found committed has an unknown ack somewhere in [commit-sent,
// op.Complete]; the checker uses op.Complete, the latest possible instant,
// so nothing is flagged that an earlier real ack would not also flag.
//
// # Late events
//
// When a read is observed, a write whose ack precedes the read's invoke may
// not have delivered Committed yet (its writer measured the ack and was
// descheduled). Since CommitSending is always called before the ack is
// measured, such a write is visible as pending. A read that a pending (or
// indeterminate) newer write could make stale, or whose own token has no
// final outcome yet, is deferred and classified when the outcome arrives, or
// at Finish. Deferred reads are the only per-read state: a few per key in
// practice (bounded by the writers in flight), more only for keys whose last
// write stays indeterminate until Finish.
//
// # Stale windows
//
// For each committed measured write W of version v', the stale window is
// max(0, I − ack(W)), I being the latest invoke of a measured read that
// returned a version < v' (ghost values included: what counts is that the
// reader did not see W). It is computed at Finish from best[v], the latest
// invoke of a read returning v, kept per committed version.
//
// # Cost
//
// Memory is O(keys + write attempts), not O(operations): per key a few
// words, per committed write four words (token, commit-sent, commit-ack,
// latest read invoke), per aborted write an entry in a map, plus fixed-size
// histograms per shard and a time series that grows with the run's
// duration. CheckerConfig.FullHistory is the exception: it keeps every
// operation. Observe and the Recorder methods take one uncontended mutex
// and do not allocate in the common case.
package check

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ghostbench/ghostbench"
)

// DefaultBucket is the width of a time-series bucket when
// CheckerConfig.Bucket is 0.
const DefaultBucket = 100 * time.Millisecond

// MaxKeys is the largest CheckerConfig.Keys accepted.
const MaxKeys = 1 << 30

// maxSeriesBuckets bounds the time series (a garbage Complete must not
// allocate gigabytes): later instants are counted in the last bucket.
const maxSeriesBuckets = 1 << 22

// CheckerConfig configures a Checker.
type CheckerConfig struct {
	// Keys is the number of rows; keys are 0..Keys-1, each seeded at
	// version 0 with token 0, committed at instant 0. Required (> 0).
	Keys int
	// Bucket is the width of a time-series bucket; 0 means DefaultBucket.
	Bucket time.Duration
	// OpenLoop says the run paces operations on a schedule: latency is
	// then measured from Op.Intended (coordinated omission corrected), and
	// the uncorrected latency from Op.Invoke is kept beside it. In a closed
	// loop, latency is measured from Op.Invoke (Intended equals Invoke
	// there by the Op contract; a runner that leaves it zero is harmless).
	OpenLoop bool
	// FullHistory keeps every operation with its outcome in
	// Metrics.History (warm-up operations too, marked Measured=false). Its
	// memory grows with the number of operations: for reproduce cases and
	// debugging, not for benchmarks.
	FullHistory bool
	// ProbeOffsets are the offsets after commit-ack at which the
	// convergence prober peeks; Probe's offsetIndex indexes this slice.
	// Each must be > 0 and they must increase.
	ProbeOffsets []time.Duration
	// OnAnomaly, when set, is called with every measured read flagged
	// stale, ghost or early, once its classification is final. It is called from
	// the goroutine that settled the classification (an Observe or Recorder
	// caller, or Finish), never with a lock held, possibly concurrently
	// from several goroutines; it must not block for long.
	OnAnomaly func(Anomaly)
}

// Resolver asks the ledger which of tokens committed: true means
// committed, false certainly not committed; a token missing from the map
// stays unknown. Finish calls it once, with the tokens sorted.
type Resolver func(ctx context.Context, tokens []ghostbench.Token) (map[ghostbench.Token]bool, error)

// ErrFinished is returned by a second call to Finish.
var ErrFinished = errors.New("check: checker already finished")

// ErrUnresolved is wrapped by the error Finish returns when some writes'
// outcomes could not be resolved; the metrics are still returned, with the
// affected reads and writes counted as unknown.
var ErrUnresolved = errors.New("check: outcomes left unresolved")

// Checker checks a run against the measurement contract and accumulates its
// metrics. Create it with NewChecker; it implements ghostbench.Recorder. All
// methods are safe for concurrent use; none may be called after Finish
// (such calls are ignored and counted in Metrics.HarnessErrors).
type Checker struct {
	cfg       CheckerConfig
	keys      int64
	bucket    int64
	shards    []shard
	shardBits uint
	shardMask int64

	probes   []probeCounts
	warnings atomic.Int64
	harness  atomic.Int64
	finished atomic.Bool

	// ledger holds the resolver's answers; written by Finish only, with
	// every shard locked.
	ledger map[ghostbench.Token]bool
}

var _ ghostbench.Recorder = (*Checker)(nil)

type probeCounts struct {
	samples, consistent atomic.Int64
}

// NewChecker returns a Checker for cfg. It returns an error when Keys is
// not in 1..MaxKeys, Bucket is negative, or ProbeOffsets are not positive
// and increasing.
func NewChecker(cfg CheckerConfig) (*Checker, error) {
	if cfg.Keys <= 0 || cfg.Keys > MaxKeys {
		return nil, fmt.Errorf("check: CheckerConfig.Keys must be in 1..%d, got %d", MaxKeys, cfg.Keys)
	}
	if cfg.Bucket < 0 {
		return nil, fmt.Errorf("check: CheckerConfig.Bucket must be >= 0, got %v", cfg.Bucket)
	}
	if cfg.Bucket == 0 {
		cfg.Bucket = DefaultBucket
	}
	for i, off := range cfg.ProbeOffsets {
		if off <= 0 {
			return nil, fmt.Errorf("check: CheckerConfig.ProbeOffsets[%d] must be > 0, got %v", i, off)
		}
		if i > 0 && off <= cfg.ProbeOffsets[i-1] {
			return nil, fmt.Errorf("check: CheckerConfig.ProbeOffsets must increase, got %v after %v", off, cfg.ProbeOffsets[i-1])
		}
	}
	cfg.ProbeOffsets = append([]time.Duration(nil), cfg.ProbeOffsets...)

	// Shards: 4 per CPU, 8..64, a power of two. Keys are dealt round-robin
	// (key k lives in shard k mod n), so dense keys spread evenly. More
	// shards would only cost memory: each has its own histograms.
	n := 4 * runtime.GOMAXPROCS(0)
	n = max(8, min(64, n))
	shardBits := uint(bits.Len(uint(n - 1)))
	n = 1 << shardBits
	c := &Checker{
		cfg:       cfg,
		keys:      int64(cfg.Keys),
		bucket:    int64(cfg.Bucket),
		shards:    make([]shard, n),
		shardBits: shardBits,
		shardMask: int64(n - 1),
		probes:    make([]probeCounts, len(cfg.ProbeOffsets)),
	}
	for i := range c.shards {
		sh := &c.shards[i]
		cnt := (cfg.Keys - i + n - 1) / n
		sh.keys = make([]keyState, max(cnt, 0))
		sh.aborted = make(map[ghostbench.Token]abortedAttempt)
	}
	return c, nil
}

// locate returns the shard and state of a key already checked to be in
// range.
func (c *Checker) locate(k ghostbench.Key) (*shard, *keyState) {
	sh := &c.shards[int64(k)&c.shardMask]
	return sh, &sh.keys[int64(k)>>c.shardBits]
}

// usable reports whether a call for key k may proceed, counting a harness
// error when it may not (key out of range, or Finish already called).
func (c *Checker) usable(k ghostbench.Key) bool {
	if k < 0 || int64(k) >= c.keys || c.finished.Load() {
		c.harness.Add(1)
		return false
	}
	return true
}

// Began records that a write attempt ran its UPDATE and produced version.
func (c *Checker) Began(key ghostbench.Key, token ghostbench.Token, version int64) {
	if !c.usable(key) {
		return
	}
	sh, ks := c.locate(key)
	sh.mu.Lock()
	ks.touch()
	if !ks.versionPlausible(version) {
		sh.mu.Unlock()
		c.harness.Add(1)
		return
	}
	x := ks.grow(version)
	x.inflight = append(x.inflight, attempt{token: token, version: version, sent: sentNever, status: stBegan, hist: -1})
	ks.syncBusy()
	sh.mu.Unlock()
}

// CommitSending records the instant just before the attempt's COMMIT is
// sent.
func (c *Checker) CommitSending(key ghostbench.Key, token ghostbench.Token, version int64, sent time.Duration) {
	if !c.usable(key) {
		return
	}
	sh, ks := c.locate(key)
	sh.mu.Lock()
	a := c.attemptFor(ks, token, version)
	if a == nil || a.status != stBegan {
		c.harness.Add(1)
	}
	if a != nil && a.status == stBegan {
		a.status = stSending
		a.sent = int64(sent)
	}
	sh.mu.Unlock()
}

// Committed records that COMMIT returned success at ack.
func (c *Checker) Committed(key ghostbench.Key, token ghostbench.Token, version int64, sent, ack time.Duration) {
	if !c.usable(key) {
		return
	}
	sh, ks := c.locate(key)
	sh.mu.Lock()
	a := c.attemptFor(ks, token, version)
	if a == nil || !a.open() {
		c.harness.Add(1)
	}
	if a != nil && a.open() {
		a.sent = int64(sent)
		if c.commitVersion(ks, version, token, int64(sent), int64(ack)) {
			a.status = stCommitted
		} else {
			c.resolveAborted(sh, a, false) // another token holds the version: a harness bug
		}
		c.infer(sh, ks, version)
		c.sweep(sh, ks)
		c.reeval(sh, ks)
		ks.syncBusy()
	}
	c.unlock(sh)
}

// Aborted records that the attempt did not commit; sent is -1 when COMMIT
// was never sent.
func (c *Checker) Aborted(key ghostbench.Key, token ghostbench.Token, version int64, sent time.Duration) {
	if !c.usable(key) {
		return
	}
	sh, ks := c.locate(key)
	sh.mu.Lock()
	a := c.attemptFor(ks, token, version)
	if a == nil || !a.open() {
		c.harness.Add(1)
	}
	if a != nil && a.open() {
		a.sent = max(int64(sent), sentNever)
		c.resolveAborted(sh, a, false)
		c.infer(sh, ks, version)
		c.sweep(sh, ks)
		c.reeval(sh, ks)
		ks.syncBusy()
	}
	c.unlock(sh)
}

// Indeterminate records that the attempt's COMMIT outcome is unknown. The
// checker settles it as soon as later commits of the key prove it either
// way, or at Finish through the ledger.
func (c *Checker) Indeterminate(key ghostbench.Key, token ghostbench.Token, version int64, sent time.Duration) {
	if !c.usable(key) {
		return
	}
	sh, ks := c.locate(key)
	sh.mu.Lock()
	a := c.attemptFor(ks, token, version)
	if a == nil || !a.open() || a.status == stIndet {
		c.harness.Add(1)
	}
	if a != nil && a.open() && a.status != stIndet {
		a.sent = int64(sent)
		a.status = stIndet
		c.infer(sh, ks, version)
		c.sweep(sh, ks)
		c.reeval(sh, ks)
		ks.syncBusy()
	}
	c.unlock(sh)
}

// Observe records one completed operation: its latency and counts, and for
// a successful read its classification (now, or once the writes it depends on are
// settled). An operation with Measured=false only feeds what the checker
// knows (the completion instant of an indeterminate write); it is counted
// nowhere. Observe must be called after the Recorder calls of the
// operation's own write attempt (the store makes them inside Write). op is
// not retained.
func (c *Checker) Observe(op *ghostbench.Op) {
	switch op.Kind {
	case ghostbench.OpRead:
		c.observeRead(op)
	case ghostbench.OpWrite:
		c.observeWrite(op)
	default:
		c.harness.Add(1)
	}
}

// Probe records one convergence probe at ProbeOffsets[offsetIndex]:
// consistent is true when the cache entry was absent or held a version at
// least the probed write's. An index out of range is a harness error.
func (c *Checker) Probe(offsetIndex int, consistent bool) {
	if offsetIndex < 0 || offsetIndex >= len(c.probes) || c.finished.Load() {
		c.harness.Add(1)
		return
	}
	p := &c.probes[offsetIndex]
	p.samples.Add(1)
	if consistent {
		p.consistent.Add(1)
	}
}

// Warn counts an error that did not fail its operation (a best-effort DEL
// after COMMIT that failed). It matches the callback of ghostbench.Warner.
func (c *Checker) Warn(key ghostbench.Key, err error) {
	_, _ = key, err
	c.warnings.Add(1)
}

// AuditKey records the end-of-run state of key: the cache entry (present,
// its value and remaining TTL, negative when it has none) and the row in the
// database. Call it after the writers stopped and background work drained,
// for every key. An entry holding a value whose write never committed is
// ghost until TTL; one holding a committed value older than the row is stale
// until TTL; one whose write's outcome cannot be resolved is unknown.
func (c *Checker) AuditKey(key ghostbench.Key, cache ghostbench.Value, cacheTTL time.Duration, present bool, db ghostbench.Value) {
	if !c.usable(key) {
		return
	}
	sh, ks := c.locate(key)
	sh.mu.Lock()
	ks.touch()
	sh.audit.checked++
	if present {
		sh.audit.present++
		e := auditEntry{key: key, cache: cache, db: db, ttl: cacheTTL}
		if !c.evalAudit(sh, ks, &e, false) {
			sh.auditPending = append(sh.auditPending, e)
		}
	}
	sh.mu.Unlock()
}

// unlock releases sh and then delivers the anomalies settled under it.
func (c *Checker) unlock(sh *shard) {
	if len(sh.notify) == 0 {
		sh.mu.Unlock()
		return
	}
	out := sh.notify
	sh.notify = nil
	sh.mu.Unlock()
	for _, a := range out {
		c.cfg.OnAnomaly(a)
	}
}

// start is the instant latency is measured from.
func (c *Checker) start(op *ghostbench.Op) int64 {
	if c.cfg.OpenLoop {
		return int64(op.Intended)
	}
	return int64(op.Invoke)
}

// classOf is op's error class, ClassOther for an error left unclassified.
func classOf(op *ghostbench.Op) ghostbench.ErrClass {
	if op.Err == nil {
		return ghostbench.ClassNone
	}
	cls := op.Class
	if cls == ghostbench.ClassNone {
		cls = ghostbench.Classify(op.Err)
	}
	if cls == ghostbench.ClassNone || int(cls) >= numClasses {
		cls = ghostbench.ClassOther
	}
	return cls
}

func (c *Checker) observeRead(op *ghostbench.Op) {
	if op.Key < 0 || int64(op.Key) >= c.keys || c.finished.Load() {
		c.harness.Add(1)
		if op.Measured && !c.finished.Load() {
			sh := &c.shards[0]
			sh.mu.Lock()
			sh.rd.total++
			sh.rd.errors[ghostbench.ClassOther]++
			sh.mu.Unlock()
		}
		return
	}
	if !op.Measured && !c.cfg.FullHistory {
		return
	}
	sh, ks := c.locate(op.Key)
	sh.mu.Lock()
	cls := classOf(op)
	if op.Measured {
		sh.rd.total++
		b := sh.bucketAt(int64(op.Complete), c.bucket)
		b.ops++
		b.reads++
		kind := recReadError
		switch {
		case op.Err != nil:
			sh.rd.errors[cls]++
			b.errors++
		case op.Hit:
			sh.rd.ok++
			sh.rd.hits++
			kind = recReadHit
		default:
			sh.rd.ok++
			sh.rd.misses++
			kind = recReadMiss
		}
		c.recordLatency(sh, kind, op)
	}
	if op.Err != nil {
		if c.cfg.FullHistory {
			sh.history = append(sh.history, opEntry(op, cls))
		}
		sh.mu.Unlock()
		return
	}
	// Fast path: the latest committed version, no write of the key in
	// flight, no deferred read: fresh (or early, in theory), nothing else
	// to look at.
	if v := op.Value.Version; v == ks.top && op.Value.Token == ks.topTok && op.Measured &&
		!c.cfg.FullHistory && ks.busy == 0 {
		if inv := int64(op.Invoke); inv > ks.topBest {
			ks.topBest = inv
		}
		if int64(op.Complete) >= ks.topSent {
			sh.rd.fresh++
			sh.mu.Unlock()
			return
		}
	}
	ks.touch()
	r := readRec{
		key: op.Key, client: op.Client,
		intended: int64(op.Intended), invoke: int64(op.Invoke), complete: int64(op.Complete),
		v: op.Value.Version, t: op.Value.Token, balance: op.Value.Balance,
		hit: op.Hit, measured: op.Measured,
	}
	if r.v < 0 {
		// A version no write can produce: the harness is broken.
		c.harness.Add(1)
		c.settleRead(sh, &r, &readEval{unknown: true, sent: sentUnknown, status: TokenUnknown})
	} else {
		if r.measured && r.v < int64(len(ks.x.vers)) && r.invoke > ks.x.vers[r.v].best {
			ks.x.vers[r.v].best = r.invoke
		}
		if !c.evalRead(sh, ks, &r, false) {
			x := ks.extra()
			x.deferred = append(x.deferred, r)
			ks.syncBusy()
		}
	}
	c.unlock(sh)
}

func (c *Checker) observeWrite(op *ghostbench.Op) {
	cls := classOf(op)
	if op.Key < 0 || int64(op.Key) >= c.keys || c.finished.Load() {
		c.harness.Add(1)
		if op.Measured && !c.finished.Load() {
			sh := &c.shards[0]
			sh.mu.Lock()
			sh.wr.attempted++
			sh.wr.unknown++
			sh.wr.failed[ghostbench.ClassOther]++
			if op.Err != nil {
				sh.wr.errorsReturned[cls]++
			}
			sh.mu.Unlock()
		}
		return
	}
	sh, ks := c.locate(op.Key)
	sh.mu.Lock()
	ks.touch()
	if op.Measured {
		sh.wr.attempted++
		b := sh.bucketAt(int64(op.Complete), c.bucket)
		b.ops++
		b.writes++
		c.recordLatency(sh, recWrite, op)
		if op.Err != nil {
			sh.wr.errorsReturned[cls]++
			b.errors++
			b.writeErrors++
			c.recordLatency(sh, recWriteError, op)
		}
	}
	hist := int32(-1)
	if c.cfg.FullHistory {
		sh.history = append(sh.history, opEntry(op, cls))
		hist = int32(len(sh.history) - 1)
	}
	a := ks.find(op.Token)
	if a == nil {
		// No recorder event: the attempt never ran its UPDATE, so it
		// produced no version and cannot have committed.
		tmp := attempt{token: op.Token, status: stAborted, hist: hist}
		tmp.setOp(op, cls)
		c.accountWrite(sh, ks, &tmp, outNotCommitted)
		sh.mu.Unlock()
		return
	}
	if a.opSeen {
		c.harness.Add(1) // the same write observed twice
		sh.mu.Unlock()
		return
	}
	a.setOp(op, cls)
	a.hist = hist
	reeval := a.status == stIndet
	if a.status == stCommitted && ks.x.vers[a.version].ack == ackUnknown {
		// Committed per inference before its op was seen: its ack is now
		// bounded by op.Complete.
		ks.setAck(a.version, a.opComplete)
		reeval = true
	}
	c.sweep(sh, ks)
	if reeval {
		c.reeval(sh, ks)
	}
	ks.syncBusy()
	c.unlock(sh)
}

func (c *Checker) recordLatency(sh *shard, kind int, op *ghostbench.Op) {
	sh.record(kind, ceilMicros(int64(op.Complete)-c.start(op)))
	if c.cfg.OpenLoop {
		sh.record(kind+recUncorrected, ceilMicros(int64(op.Complete-op.Invoke)))
	}
}

// opEntry is the history entry of op, without an outcome yet.
func opEntry(op *ghostbench.Op, cls ghostbench.ErrClass) HistoryEntry {
	e := HistoryEntry{
		Kind: op.Kind.String(), Key: op.Key, Client: op.Client,
		IntendedNs: int64(op.Intended), InvokeNs: int64(op.Invoke), CompleteNs: int64(op.Complete),
		Measured: op.Measured,
	}
	if op.Err != nil {
		e.Class = cls.String()
		e.Error = op.Err.Error()
	}
	if op.Kind == ghostbench.OpWrite {
		e.Token = op.Token
	} else if op.Err == nil {
		v := op.Value
		e.Value = &v
		e.Hit = op.Hit
	} else {
		e.Outcome = OutcomeError
	}
	return e
}

// shard owns the keys k with k mod len(shards) == its index, and its own
// counters and histograms, merged at Finish.
type shard struct {
	mu      sync.Mutex
	keys    []keyState
	aborted map[ghostbench.Token]abortedAttempt

	rd     readCounts
	wr     writeCounts
	rec    [numRec]*recorder
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

const numClasses = int(ghostbench.ClassOther) + 1

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

type auditCounts struct {
	checked, present, ghost, stale, unknown int64
}

type auditEntry struct {
	key       ghostbench.Key
	cache, db ghostbench.Value
	ttl       time.Duration
}

type bucketCounts struct {
	ops, errors, reads, writes, writeErrors, stale, ghost, unknown int64
}

// The histograms of a shard. The uncorrected latency histogram of kind k
// is k+recUncorrected.
const (
	recReadHit = iota
	recReadMiss
	recReadError
	recWrite
	recWriteError
	recReadHitU
	recReadMissU
	recReadErrorU
	recWriteU
	recWriteErrorU
	recAge
	recLag
	numRec

	recUncorrected = recReadHitU - recReadHit
)

var recNames = [...]string{
	recReadHit: LatencyReadHit, recReadMiss: LatencyReadMiss, recReadError: LatencyReadError,
	recWrite: LatencyWrite, recWriteError: LatencyWriteErr,
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
		r = newRecorder(recHighest(kind))
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
