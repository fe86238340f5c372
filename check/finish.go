package check

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/ghostbench/ghostbench"
)

// Finish settles what is still open and returns the run's metrics. Call it
// once, after every other call returned (writers stopped, AuditKey done).
//
// The writes whose COMMIT outcome the recorder left unknown, and the tokens
// read but never reported by the recorder, are passed in one call to
// resolve (the ledger). If resolve is nil, fails, or ctx is done, those
// outcomes stay unknown: the reads and audit entries that depend on them
// are counted as unknown (never fresh, never ghost), the writes as unknown
// (not committed, in availability). In the last two cases Finish still
// returns the metrics, together with an error wrapping ErrUnresolved and
// the cause; the metrics are valid and should be written. A second call
// returns ErrFinished.
func (c *Checker) Finish(ctx context.Context, resolve Resolver) (*Metrics, error) {
	if !c.finished.CompareAndSwap(false, true) {
		return nil, ErrFinished
	}
	for i := range c.shards {
		c.shards[i].mu.Lock()
	}
	m, err := c.finishLocked(ctx, resolve)
	var notify []Anomaly
	for i := range c.shards {
		sh := &c.shards[i]
		notify = append(notify, sh.notify...)
		sh.notify = nil
		sh.mu.Unlock()
	}
	if c.cfg.OnAnomaly != nil {
		for _, a := range notify {
			c.cfg.OnAnomaly(a)
		}
	}
	return m, err
}

func (c *Checker) finishLocked(ctx context.Context, resolve Resolver) (*Metrics, error) {
	m := &Metrics{}
	questions := c.ledgerQuestions()
	questions = c.settleForeign(questions)
	resErr := c.askLedger(ctx, resolve, questions, &m.Resolution)
	c.settle()
	c.staleWindows(&m.StaleWindow)
	c.merge(m)
	m.Violations = Invariants(m)
	if resErr != nil {
		return m, fmt.Errorf("%w (%d of %d tokens): %w", ErrUnresolved, m.Resolution.Unresolved, m.Resolution.Asked, resErr)
	}
	return m, nil
}

// ledgerQuestions returns, sorted, the tokens whose outcome only the
// ledger can settle: writes still open, and tokens read (by a deferred
// read or the audit) that the recorder never reported.
func (c *Checker) ledgerQuestions() []ghostbench.Token {
	need := make(map[ghostbench.Token]struct{})
	c.eachKey(func(sh *shard, ks *keyState) {
		x := ks.x
		if x == nil {
			return
		}
		for i := range x.inflight {
			if x.inflight[i].open() {
				need[x.inflight[i].token] = struct{}{}
			}
		}
		for i := range x.deferred {
			if r := &x.deferred[i]; c.unreported(sh, ks, r.v, r.t) {
				need[r.t] = struct{}{}
			}
		}
	})
	for i := range c.shards {
		sh := &c.shards[i]
		for _, e := range sh.auditPending {
			ks := c.stateOf(sh, e.key)
			if c.unreported(sh, ks, e.cache.Version, e.cache.Token) {
				need[e.cache.Token] = struct{}{}
			}
		}
	}
	tokens := make([]ghostbench.Token, 0, len(need))
	for t := range need {
		tokens = append(tokens, t)
	}
	slices.Sort(tokens)
	return tokens

}

// askLedger asks resolve about tokens and records the answers in c.ledger
// and res. It returns the resolver's (or ctx's) error, if any.
func (c *Checker) askLedger(ctx context.Context, resolve Resolver, tokens []ghostbench.Token, res *Resolution) error {
	var resErr error
	res.Asked = len(tokens)
	if len(tokens) > 0 {
		switch {
		case resolve == nil:
			res.Error = "no resolver"
		case ctx.Err() != nil:
			resErr = ctx.Err()
		default:
			ans, err := resolve(ctx, tokens)
			if err != nil {
				resErr = err
			} else {
				c.ledger = ans
			}
		}
		if resErr != nil {
			res.Error = resErr.Error()
		}
		for _, t := range tokens {
			committed, ok := c.ledger[t]
			switch {
			case !ok:
				res.Unresolved++
			case committed:
				res.Committed++
			default:
				res.NotCommitted++
			}
		}
	}
	return resErr
}

// settle applies the ledger's answers, then settles every deferred read and
// audit entry for good, and accounts the writes still open.
func (c *Checker) settle() {
	c.eachKey(func(sh *shard, ks *keyState) {
		x := ks.x
		if x == nil {
			return
		}
		for i := range x.inflight {
			a := &x.inflight[i]
			if !a.open() {
				continue
			}
			committed, ok := c.ledger[a.token]
			if !ok {
				continue
			}
			if a.status == stBegan {
				a.sent = sentUnknown // COMMIT may have been sent unrecorded
			}
			if committed {
				c.resolveCommitted(sh, ks, a)
			} else {
				c.resolveAborted(sh, a, true)
			}
		}
		c.sweep(sh, ks)
		for i := range x.deferred {
			c.evalRead(sh, ks, &x.deferred[i], true)
		}
		x.deferred = nil
		for i := range x.inflight {
			if a := &x.inflight[i]; a.opSeen {
				out := outUnknown
				switch a.status {
				case stCommitted:
					out = outCommitted
				case stAborted:
					out = outNotCommitted
				}
				c.accountWrite(sh, ks, a, out)
			}
		}
		x.inflight = nil
		ks.syncBusy()
	})
	for i := range c.shards {
		sh := &c.shards[i]
		for j := range sh.auditPending {
			e := &sh.auditPending[j]
			ks := c.stateOf(sh, e.key)
			c.evalAudit(sh, ks, e, true)
		}
		sh.auditPending = nil
	}
}

// staleWindows computes the stale window of every committed measured write
// (see the package doc) into sw.
func (c *Checker) staleWindows(sw *StaleWindowMetrics) {
	win := newHDRHist(MaxLatencyMicros)
	var maxWin int64
	c.eachKey(func(sh *shard, ks *keyState) {
		x := ks.x
		if x == nil {
			return
		}
		ks.flushTopBest()
		best := int64(-1) // latest invoke of a read returning a version < v
		for v := int64(1); v <= ks.top; v++ {
			best = max(best, ks.x.vers[v-1].best)
			ack := ks.x.vers[v].ack
			if ack >= ackUnknown {
				continue // not committed, or a write whose op was never seen
			}
			w := max(0, best-ack)
			if !x.isMeasured(v) && (w == 0 || c.dropWarmupWindows) {
				// A write of the warm-up (or one whose op was not
				// measured): it counts only when a measured read saw
				// an older version after its ack.
				continue
			}
			sw.Writes++
			if w > 0 {
				sw.WithWindow++
			}
			maxWin = max(maxWin, w)
			win.record(ceilMicros(w))
		}
	})
	sw.MaxUs = ceilMicros(maxWin)
	sw.Fraction = divideOrNil(sw.WithWindow, sw.Writes)
	sw.Histogram = histogramOf(win, UnitMicros, MaxLatencyMicros)
}

func (c *Checker) merge(m *Metrics) {
	var rd readCounts
	var wr writeCounts
	var rec [numRec]*hdrHist // nil: empty
	var series []bucketCounts
	var examples []Anomaly
	var auditEx []AuditExample
	var history []HistoryEntry
	au := &m.Audit
	for i := range c.shards {
		sh := &c.shards[i]
		s := &sh.rd
		rd.total += s.total
		rd.ok += s.ok
		rd.hits += s.hits
		rd.misses += s.misses
		rd.fresh += s.fresh
		rd.stale += s.stale
		rd.ghost += s.ghost
		rd.early += s.early
		rd.unknownCnt += s.unknownCnt
		w := &sh.wr
		wr.attempted += w.attempted
		wr.committed += w.committed
		wr.notCommitted += w.notCommitted
		wr.unknown += w.unknown
		wr.committedDespiteError += w.committedDespiteError
		wr.okNotCommitted += w.okNotCommitted
		for k := range numClasses {
			rd.errors[k] += s.errors[k]
			wr.failed[k] += w.failed[k]
			wr.errorsReturned[k] += w.errorsReturned[k]
		}
		for k := range rec {
			mergeInto(&rec[k], sh.rec[k])
		}
		if len(sh.series) > len(series) {
			series = append(series, make([]bucketCounts, len(sh.series)-len(series))...)
		}
		for j, b := range sh.series {
			t := &series[j]
			t.ops += b.ops
			t.errors += b.errors
			t.reads += b.reads
			t.writes += b.writes
			t.writeErrors += b.writeErrors
			t.stale += b.stale
			t.ghost += b.ghost
			t.unknown += b.unknown
		}
		examples = append(examples, sh.examples...)
		auditEx = append(auditEx, sh.auditExamples...)
		history = append(history, sh.history...)
		au.Checked += sh.audit.checked
		au.Present += sh.audit.present
		au.GhostUntilTTL += sh.audit.ghost
		au.StaleUntilTTL += sh.audit.stale
		au.Unknown += sh.audit.unknown
	}

	m.Reads = ReadMetrics{
		Total: rd.total, OK: rd.ok, Hits: rd.hits, Misses: rd.misses,
		Errors: countsByClass(&rd.errors),
		Fresh:  rd.fresh, Stale: rd.stale, Ghost: rd.ghost, Early: rd.early, Unknown: rd.unknownCnt,
		HitRatio:     divideOrNil(rd.hits, rd.ok),
		StaleRatio:   divideOrNil(rd.stale, rd.ok),
		GhostRatio:   divideOrNil(rd.ghost, rd.ok),
		StalenessAge: histogramOf(rec[recAge], UnitMicros, MaxLatencyMicros),
		VersionLag:   histogramOf(rec[recLag], UnitVersions, MaxVersionLag),
	}
	m.Writes = WriteMetrics{
		Attempted: wr.attempted, Committed: wr.committed, NotCommitted: wr.notCommitted, Unknown: wr.unknown,
		Failed:                countsByClass(&wr.failed),
		ErrorsReturned:        countsByClass(&wr.errorsReturned),
		CommittedDespiteError: wr.committedDespiteError,
		OKNotCommitted:        wr.okNotCommitted,
		Availability:          divideOrNil(wr.committed, wr.attempted),
	}
	m.Latency = make(map[string]*Histogram)
	for k := recReadHit; k <= recWriteError; k++ {
		m.Latency[recNames[k]] = histogramOf(rec[k], UnitMicros, MaxLatencyMicros)
		if c.cfg.OpenLoop {
			m.Latency[recNames[k]+UncorrectedSuffix] = histogramOf(rec[k+recUncorrected], UnitMicros, MaxLatencyMicros)
		}
	}

	m.Convergence = make([]ConvergencePoint, len(c.probes))
	for i := range c.probes {
		m.Convergence[i] = convergencePoint(c.cfg.ProbeOffsets[i].Nanoseconds(),
			c.probes[i].samples.Load(), c.probes[i].consistent.Load())
	}

	sort.Slice(auditEx, func(i, j int) bool { return auditEx[i].Key < auditEx[j].Key })
	au.Examples = auditEx[:min(len(auditEx), MaxAuditExamples)]
	if au.Examples == nil {
		au.Examples = []AuditExample{}
	}

	s := &m.Series
	s.BucketUs = ceilMicros(c.bucket)
	n := len(series)
	s.Ops, s.Errors, s.Reads, s.Writes = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	s.StaleReads, s.GhostReads, s.UnknownReads = make([]int64, n), make([]int64, n), make([]int64, n)
	s.WriteErrors = make([]int64, n)
	for i, b := range series {
		s.Ops[i], s.Errors[i], s.Reads[i], s.Writes[i] = b.ops, b.errors, b.reads, b.writes
		s.WriteErrors[i] = b.writeErrors
		s.StaleReads[i], s.GhostReads[i], s.UnknownReads[i] = b.stale, b.ghost, b.unknown
	}

	sort.Slice(examples, func(i, j int) bool { return anomalyLess(&examples[i], &examples[j]) })
	m.Examples = examples[:min(len(examples), MaxExamples)]
	if m.Examples == nil {
		m.Examples = []Anomaly{}
	}

	if c.cfg.FullHistory {
		sort.SliceStable(history, func(i, j int) bool {
			a, b := &history[i], &history[j]
			if a.CompleteNs != b.CompleteNs {
				return a.CompleteNs < b.CompleteNs
			}
			if a.InvokeNs != b.InvokeNs {
				return a.InvokeNs < b.InvokeNs
			}
			if a.Key != b.Key {
				return a.Key < b.Key
			}
			return a.Client < b.Client
		})
		m.History = history
	}

	m.Warnings = c.warnings.Load()
	m.FillWarnings = c.fillWarnings.Load()
	m.HarnessErrors = c.harness.Load()
}

// convergencePoint computes the fraction and nines of one probe offset.
func convergencePoint(offsetNs, samples, consistent int64) ConvergencePoint {
	p := ConvergencePoint{OffsetUs: ceilMicros(offsetNs), Samples: samples, Consistent: consistent}
	p.Fraction = divideOrNil(consistent, samples)
	if p.Fraction != nil {
		nines := NinesCap
		if miss := 1 - *p.Fraction; miss > 0 {
			nines = -math.Log10(miss)
		}
		if nines >= NinesCap {
			nines = NinesCap
			p.NinesCapped = true
		}
		p.Nines = &nines
	}
	return p
}

// ratio returns a/b, nil when b is 0.
func divideOrNil(a, b int64) *float64 {
	if b == 0 {
		return nil
	}
	r := float64(a) / float64(b)
	return &r
}

// classMap returns the counts by class name, every failure class present.
func countsByClass(counts *[numClasses]int64) map[string]int64 {
	out := make(map[string]int64, numClasses-1)
	for _, cls := range ghostbench.ErrClasses() {
		out[cls.String()] = counts[cls]
	}
	return out
}
