package check

import (
	"sort"
	"strings"

	"github.com/ghostbench/ghostbench"
)

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
	sh := c.shardOf(op.Key)
	sh.mu.Lock()
	ks := c.stateOf(sh, op.Key)
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

// readEval is the classification of one read.
type readEval struct {
	stale, ghost, early, unknown bool
	sent                         int64 // commit-sent of the value's write
	status                       TokenStatus
	age, lag                     int64
	newerV, newerAck, latest     int64
	newerTok                     ghostbench.Token
}

// staleBlocked reports whether an attempt whose outcome or ack is not known
// yet could make a read of version v invoked at invoke stale: one with a
// newer version that sent COMMIT before invoke and is pending, indeterminate
// (unless its op completed after invoke, op.Complete bounding its ack), or
// committed with its ack still unknown.
func (ks *keyState) staleBlocked(v, invoke int64) bool {
	x := ks.x
	if x == nil {
		return false
	}
	for i := range x.inflight {
		a := &x.inflight[i]
		// sentUnknown (an attempt settled at Finish without a recorded
		// CommitSending) may be anything: it does not exempt.
		if a.version <= v || a.sent == sentNever || a.sent >= invoke {
			continue
		}
		switch a.status {
		case stSending:
			return true
		case stIndet:
			if !a.opSeen || a.opComplete < invoke {
				return true
			}
		case stCommitted:
			if ks.x.vers[a.version].ack == ackUnknown {
				return true
			}
		}
	}
	return false
}

// newer scans the committed versions in (v, top] with a known ack. It
// returns the earliest ack and its version (minV -1 when there is none), and
// the highest version acked before invoke (-1 when none). Whole blocks of 64
// versions are summarized by their earliest ack, so a read lagging far
// behind costs O(64 + lag/64).
func (ks *keyState) newer(v, invoke int64) (minAck, minV, latest int64) {
	minAck, minV, latest = ackNone, -1, -1
	vers := ks.x.vers
	var bm []int64
	if ks.x != nil {
		bm = ks.x.blockMin
	}
	minBlock := int64(-1)
	for i := ks.top; i > v; {
		lo := i &^ (blockSize - 1)
		if i == lo+blockSize-1 && lo > v && int(i>>blockBits) < len(bm) {
			m := bm[i>>blockBits]
			if latest >= 0 || m >= invoke {
				// The latest version acked before invoke is not in
				// this block: its earliest ack is all that matters.
				if m < minAck {
					minAck, minV, minBlock = m, -1, lo
				}
				i = lo - 1
				continue
			}
		}
		a := vers[i].ack
		if a < minAck {
			minAck, minV, minBlock = a, i, -1
		}
		if latest < 0 && a < invoke {
			latest = i
		}
		i--
	}
	if minBlock >= 0 {
		for j := minBlock; j < minBlock+blockSize; j++ {
			if vers[j].ack == minAck {
				minV = j
				break
			}
		}
	}
	return minAck, minV, latest
}

// evalRead classifies r and returns true, or returns false when its classification
// depends on something not known yet (r must then be deferred). With final
// set it always classifies, what is still open becoming unknown.
func (c *Checker) evalRead(sh *shard, ks *keyState, r *readRec, final bool) bool {
	st, sent, status := c.tokenState(sh, ks, r.v, r.t, final)
	if st == tsOpen {
		return false
	}
	blocked := ks.staleBlocked(r.v, r.invoke)
	if blocked && !final {
		return false
	}
	vd := readEval{sent: sent, status: status}
	switch st {
	case tsCommitted:
		vd.early = sent >= 0 && r.complete < sent
	case tsNotCommitted:
		vd.ghost = true
		vd.early = sent == sentNever || (sent >= 0 && r.complete < sent)
	default:
		vd.unknown = true
	}
	if r.v < ks.top {
		minAck, minV, latest := ks.newer(r.v, r.invoke)
		if minAck < r.invoke {
			vd.stale = true
			vd.age = r.invoke - minAck
			vd.lag = latest - r.v
			vd.newerV, vd.newerAck, vd.latest = minV, minAck, latest
			vd.newerTok = ks.x.vers[minV].token
		}
	}
	if blocked && !vd.stale {
		vd.unknown = true
	}
	c.settleRead(sh, r, &vd)
	return true
}

// settleRead counts the classification of r.
func (c *Checker) settleRead(sh *shard, r *readRec, vd *readEval) {
	if r.measured {
		rd := &sh.rd
		b := sh.bucketAt(r.complete, c.bucket)
		if vd.stale {
			rd.stale++
			b.stale++
			sh.record(recAge, ceilMicros(vd.age))
			sh.record(recLag, vd.lag)
		}
		if vd.ghost {
			rd.ghost++
			b.ghost++
		}
		if vd.early {
			rd.early++
		}
		if vd.unknown {
			rd.unknownCnt++
			b.unknown++
		} else if !vd.stale && !vd.ghost && !vd.early {
			rd.fresh++
		}
		if vd.stale || vd.ghost || vd.early {
			a := makeAnomaly(r, vd)
			sh.addExample(a)
			if c.cfg.OnAnomaly != nil {
				sh.notify = append(sh.notify, a)
			}
		}
	}
	if c.cfg.FullHistory {
		v := ghostbench.Value{Version: r.v, Token: r.t, Balance: r.balance}
		sh.history = append(sh.history, HistoryEntry{
			Kind: ghostbench.OpRead.String(), Key: r.key, Client: r.client,
			IntendedNs: r.intended, InvokeNs: r.invoke, CompleteNs: r.complete,
			Measured: r.measured, Value: &v, Hit: r.hit,
			Stale: vd.stale, Ghost: vd.ghost, Early: vd.early, Unknown: vd.unknown,
			AgeNs: vd.age, Lag: vd.lag, Outcome: vd.summary(),
		})
	}
}

func (vd *readEval) summary() Outcome {
	var parts []string
	if vd.stale {
		parts = append(parts, "stale")
	}
	if vd.ghost {
		parts = append(parts, "ghost")
	}
	if vd.early {
		parts = append(parts, "early")
	}
	if vd.unknown {
		parts = append(parts, "unknown")
	}
	if len(parts) == 0 {
		return OutcomeFresh
	}
	return Outcome(strings.Join(parts, "+"))
}

func makeAnomaly(r *readRec, vd *readEval) Anomaly {
	a := Anomaly{
		Stale: vd.stale, Ghost: vd.ghost, Early: vd.early,
		Key: r.key, Client: r.client, InvokeNs: r.invoke, CompleteNs: r.complete,
		Value: ghostbench.Value{Version: r.v, Token: r.t, Balance: r.balance}, Hit: r.hit,
		TokenStatus: vd.status, CommitSentNs: vd.sent,
	}
	if a.CommitSentNs < sentUnknown {
		a.CommitSentNs = sentUnknown
	}
	if vd.stale {
		a.NewerVersion, a.NewerToken, a.NewerAckNs = vd.newerV, vd.newerTok, vd.newerAck
		a.LatestVersion, a.AgeNs, a.Lag = vd.latest, vd.age, vd.lag
	}
	return a
}

// anomalyLess orders anomalies by completion, then invoke, key, client.
func anomalyLess(a, b *Anomaly) bool {
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
}

// addExample keeps the MaxExamples earliest anomalies, sorted.
func (sh *shard) addExample(a Anomaly) {
	ex := sh.examples
	if len(ex) == MaxExamples && !anomalyLess(&a, &ex[len(ex)-1]) {
		return
	}
	i := sort.Search(len(ex), func(i int) bool { return anomalyLess(&a, &ex[i]) })
	if len(ex) < MaxExamples {
		ex = append(ex, Anomaly{})
	}
	copy(ex[i+1:], ex[i:len(ex)-1])
	ex[i] = a
	sh.examples = ex
}
