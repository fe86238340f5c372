package check

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
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

	probes       []probeCounts
	warnings     atomic.Int64
	fillWarnings atomic.Int64
	harness      atomic.Int64
	finished     atomic.Bool

	// ledger holds the resolver's answers; written by Finish only, with
	// every shard locked.
	ledger map[ghostbench.Token]bool
	// foreign holds the tokens read on a key that the recorder reported
	// for another key (or another version of the same key); written by
	// Finish only, with every shard locked.
	foreign map[ghostbench.Token]struct{}

	// dropWarmupWindows is a mutation switch for the tests: it makes the
	// checker drop the stale windows of warm-up writes, a bug the
	// invariants must catch.
	dropWarmupWindows bool
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
		sh.aborted = make(map[ghostbench.Token]abortedAttempt)
	}
	return c, nil
}

// shardOf returns the shard that owns a key already checked to be in
// range.
func (c *Checker) shardOf(k ghostbench.Key) *shard { return &c.shards[int64(k)&c.shardMask] }

// stateOf returns the state of key k, which sh (its shard, locked by the
// caller) owns, making it on first use.
func (c *Checker) stateOf(sh *shard, k ghostbench.Key) *keyState {
	return sh.keys.get(int64(k) >> c.shardBits)
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
	sh := c.shardOf(key)
	sh.mu.Lock()
	ks := c.stateOf(sh, key)
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
	sh := c.shardOf(key)
	sh.mu.Lock()
	ks := c.stateOf(sh, key)
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
	sh := c.shardOf(key)
	sh.mu.Lock()
	ks := c.stateOf(sh, key)
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
	sh := c.shardOf(key)
	sh.mu.Lock()
	ks := c.stateOf(sh, key)
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
	sh := c.shardOf(key)
	sh.mu.Lock()
	ks := c.stateOf(sh, key)
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

// Warn counts an error that did not fail its operation: a cache error on
// the read path (marked with ghostbench.Fill: a GET that fell back to the
// database, a fill that failed) in Metrics.FillWarnings, any other (a
// best-effort DEL after COMMIT that failed) in Metrics.Warnings. It
// matches the callback of strategies.Env.Warn.
func (c *Checker) Warn(key ghostbench.Key, err error) {
	_ = key
	if ghostbench.IsFill(err) {
		c.fillWarnings.Add(1)
		return
	}
	c.warnings.Add(1)
}

// AuditKey records the end-of-run state of key: the cache entry (present,
// its value and remaining TTL, negative when it has none) and the row in the
// database. Call it after the writers stopped and background work drained,
// for every key (or AuditAbsent for keys that certainly have no entry). An entry holding a value whose write never committed is
// ghost until TTL; one holding a committed value older than the row is stale
// until TTL; one whose write's outcome cannot be resolved is unknown.
func (c *Checker) AuditKey(key ghostbench.Key, cache ghostbench.Value, cacheTTL time.Duration, present bool, db ghostbench.Value) {
	if !c.usable(key) {
		return
	}
	sh := c.shardOf(key)
	sh.mu.Lock()
	sh.audit.checked++
	if present {
		ks := c.stateOf(sh, key)
		ks.touch()
		sh.audit.present++
		e := auditEntry{key: key, cache: cache, db: db, ttl: cacheTTL}
		if !c.evalAudit(sh, ks, &e, false) {
			sh.auditPending = append(sh.auditPending, e)
		}
	}
	sh.mu.Unlock()
}

// AuditAbsent records n keys whose cache entry is absent, without naming
// them: the keys no operation of the run touched, which its fresh key
// prefix cannot hold, count as audited like AuditKey(k, _, _, false, _)
// without a lookup each. A negative n is a harness error.
func (c *Checker) AuditAbsent(n int) {
	if n < 0 || c.finished.Load() {
		c.harness.Add(1)
		return
	}
	sh := &c.shards[0]
	sh.mu.Lock()
	sh.audit.checked += int64(n)
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

const numClasses = int(ghostbench.ClassOther) + 1

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
