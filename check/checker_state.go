package check

import (
	"math"
	"sort"
	"strings"

	"github.com/ghostbench/ghostbench"
)

// Sentinels of verEntry.ack and attempt.sent.
const (
	// ackNone: the version is not committed (a placeholder reserved by
	// Began). Being the largest int64 it is never < an invoke.
	ackNone = math.MaxInt64
	// ackUnknown: committed (per inference or ledger) but the write's op
	// has not been observed, so its ack (bounded by op.Complete) is not
	// known yet. Never < an invoke either; reads it could affect wait.
	ackUnknown = math.MaxInt64 - 1

	// sentNever: COMMIT was not (or never) sent.
	sentNever = -1
	// sentUnknown: whether and when COMMIT was sent is unknown.
	sentUnknown = -2
)

// maxVersionJump bounds how far above the known versions a Began may
// reserve: a garbage version must not allocate gigabytes.
const maxVersionJump = 1 << 16

// Versions are grouped in blocks for the earliest-ack search of reads
// that lag far behind.
const (
	blockBits = 6
	blockSize = 1 << blockBits
)

// keyState is what the checker knows of one key. The token and
// commit-sent of its highest committed version are kept inline with the
// latest invoke of the reads that returned it, and busy says whether a
// write or a deferred read of the key is pending, so that the common read
// (of the latest version, with nothing pending) touches this one 64-byte
// cache line. The zero value is the seed row; everything else is in x,
// created when the key is first written or read off that path.
type keyState struct {
	top     int64 // highest committed version
	topTok  ghostbench.Token
	topSent int64
	topBest int64 // latest invoke of a read of version top, on top of x.vers[top].best (0: none)
	busy    int64 // len(x.inflight) + len(x.deferred)
	x       *keyExtra
	_       [16]byte
}

// syncBusy updates ks.busy after x.inflight or x.deferred changed.
func (ks *keyState) syncBusy() {
	if ks.x != nil {
		ks.busy = int64(len(ks.x.inflight) + len(ks.x.deferred))
	}
}

// verEntry is one version of a key: 4 words per committed write.
type verEntry struct {
	token ghostbench.Token
	sent  int64 // commit-sent
	ack   int64 // commit-ack, ackNone or ackUnknown
	best  int64 // latest invoke of a measured read that returned this version, -1 if none
}

// keyExtra is the state of a key beyond its seed row.
type keyExtra struct {
	// vers is the table of the key's versions, index = version: the
	// committed ones and placeholders reserved by Began.
	vers []verEntry
	// inflight holds the attempts whose outcome or op is still missing;
	// an attempt leaves when both are known.
	inflight []attempt
	// deferred holds the reads waiting for an outcome.
	deferred []readRec
	// blockMin[b] is the earliest ack among versions [b*64, b*64+63].
	blockMin []int64
	// measured is a bitset of the versions whose committed write was a
	// measured operation (the stale window distribution covers those).
	measured []uint64
}

// attempt is a write attempt still in flight for the checker.
type attempt struct {
	token      ghostbench.Token
	version    int64
	sent       int64 // commit-sent, sentNever until CommitSending
	opComplete int64
	hist       int32 // index of the op's history entry, -1 if none
	status     uint8
	opSeen     bool
	opMeasured bool
	opErr      bool
	opClass    ghostbench.ErrClass
}

// Attempt statuses.
const (
	stBegan     uint8 = iota + 1 // UPDATE ran
	stSending                    // COMMIT about to be sent, outcome unknown
	stIndet                      // COMMIT outcome unknown until inference or ledger
	stCommitted                  // committed (its version entry is set)
	stAborted                    // certainly not committed (in shard.aborted)
)

func (a *attempt) open() bool {
	return a.status == stBegan || a.status == stSending || a.status == stIndet
}

func (a *attempt) setOp(op *ghostbench.Op, cls ghostbench.ErrClass) {
	a.opSeen = true
	a.opMeasured = op.Measured
	a.opErr = op.Err != nil
	a.opClass = cls
	a.opComplete = int64(op.Complete)
}

// abortedAttempt is what a read of an aborted write needs: 3 words.
type abortedAttempt struct {
	version int64
	sent    int64
	indet   bool // it was indeterminate, settled by inference or ledger
}

// readRec is a successful read, kept only while its classification is deferred.
type readRec struct {
	key                        ghostbench.Key
	client                     int
	intended, invoke, complete int64
	v                          int64
	t                          ghostbench.Token
	balance                    int64
	hit, measured              bool
}

// touch makes sure the key has its extra state, with the seed row in its
// version table. It keeps the inline top fields as they are.
func (ks *keyState) touch() *keyExtra {
	if ks.x == nil {
		x := &keyExtra{vers: make([]verEntry, 1, 2)}
		x.vers[0] = verEntry{token: 0, sent: 0, ack: 0, best: -1}
		x.noteAck(0, 0)
		ks.x = x
	}
	return ks.x
}

// extra returns the key's extra state, creating it.
func (ks *keyState) extra() *keyExtra { return ks.touch() }

func (ks *keyState) versionPlausible(v int64) bool {
	return v >= 1 && v <= int64(len(ks.x.vers))+maxVersionJump
}

// grow makes sure version v has an entry and returns the key's extra state.
func (ks *keyState) grow(v int64) *keyExtra {
	x := ks.extra()
	for int64(len(ks.x.vers)) <= v {
		ks.x.vers = append(ks.x.vers, verEntry{token: -1, sent: sentUnknown, ack: ackNone, best: -1})
	}
	for nb := (len(ks.x.vers) + blockSize - 1) >> blockBits; len(x.blockMin) < nb; {
		x.blockMin = append(x.blockMin, ackNone)
	}
	return x
}

func (x *keyExtra) noteAck(v, ack int64) {
	b := int(v >> blockBits)
	for len(x.blockMin) <= b {
		x.blockMin = append(x.blockMin, ackNone)
	}
	if ack < x.blockMin[b] {
		x.blockMin[b] = ack
	}
}

func (x *keyExtra) setMeasured(v int64) {
	w := int(v >> 6)
	for len(x.measured) <= w {
		x.measured = append(x.measured, 0)
	}
	x.measured[w] |= 1 << (v & 63)
}

func (x *keyExtra) isMeasured(v int64) bool {
	w := int(v >> 6)
	return w < len(x.measured) && x.measured[w]&(1<<(v&63)) != 0
}

// setAck sets the ack of committed version v (acks only ever decrease from
// a sentinel to an instant, so the block minimum stays right).
func (ks *keyState) setAck(v, ack int64) {
	ks.x.vers[v].ack = ack
	ks.extra().noteAck(v, ack)
}

// find returns the in-flight attempt of token, nil if none.
func (ks *keyState) find(t ghostbench.Token) *attempt {
	if ks.x == nil {
		return nil
	}
	in := ks.x.inflight
	for i := range in {
		if in[i].token == t {
			return &in[i]
		}
	}
	return nil
}

// attemptFor returns the in-flight attempt of token at version, nil (a
// harness error, counted by the caller) when there is none.
func (c *Checker) attemptFor(ks *keyState, t ghostbench.Token, version int64) *attempt {
	a := ks.find(t)
	if a == nil || a.version != version {
		return nil
	}
	return a
}

// commitVersion records that token committed version v. It returns false
// (a harness error) when another token already committed v.
func (c *Checker) commitVersion(ks *keyState, v int64, t ghostbench.Token, sent, ack int64) bool {
	ks.grow(v)
	e := &ks.x.vers[v]
	if e.ack != ackNone {
		if e.token != t {
			c.harness.Add(1)
			return false
		}
		return true
	}
	e.token, e.sent = t, sent
	ks.setAck(v, ack)
	if v > ks.top {
		ks.flushTopBest()
		ks.top, ks.topTok, ks.topSent = v, t, sent
	}
	return true
}

// flushTopBest folds the inline best of the top version into its entry.
func (ks *keyState) flushTopBest() {
	if ks.topBest > 0 {
		ks.touch()
		e := &ks.x.vers[ks.top]
		e.best = max(e.best, ks.topBest)
		ks.topBest = 0
	}
}

// resolveAborted settles a as not committed.
func (c *Checker) resolveAborted(sh *shard, a *attempt, indet bool) {
	a.status = stAborted
	sh.aborted[a.token] = abortedAttempt{version: a.version, sent: a.sent, indet: indet}
}

// resolveCommitted settles a as committed, its ack being op.Complete (the
// latest instant its COMMIT can have been acknowledged), or ackUnknown until
// its op is observed.
func (c *Checker) resolveCommitted(sh *shard, ks *keyState, a *attempt) {
	ack := int64(ackUnknown)
	if a.opSeen {
		ack = a.opComplete
	}
	if c.commitVersion(ks, a.version, a.token, a.sent, ack) {
		a.status = stCommitted
	} else {
		c.resolveAborted(sh, a, true)
	}
}

// infer settles the indeterminate attempts of ks that its committed
// versions prove, starting at version u and going down:
//
//  1. If version u is committed by token T, no other attempt committed u.
//  2. If a version above u is committed, some attempt committed u, and its
//     CommitSending was recorded before the later commit was (the later
//     write's UPDATE waited for u's COMMIT, which followed u's
//     CommitSending). So if exactly one attempt at u has sent COMMIT without
//     a known outcome and it is indeterminate, it committed.
func (c *Checker) infer(sh *shard, ks *keyState, u int64) {
	x := ks.x
	if x == nil {
		return
	}
	for u >= 1 && u < int64(len(ks.x.vers)) {
		if e := &ks.x.vers[u]; e.ack != ackNone {
			for i := range x.inflight {
				a := &x.inflight[i]
				if a.version == u && a.status == stIndet && a.token != e.token {
					c.resolveAborted(sh, a, true)
				}
			}
			u--
			if u < 1 || ks.x.vers[u].ack != ackNone {
				return
			}
			continue // rule 2 for the version below
		}
		if ks.top <= u {
			return
		}
		var cand *attempt
		n := 0
		for i := range x.inflight {
			a := &x.inflight[i]
			if a.version == u && (a.status == stSending || a.status == stIndet) {
				cand = a
				n++
			}
		}
		if n != 1 || cand.status != stIndet {
			return
		}
		c.resolveCommitted(sh, ks, cand)
		if cand.status != stCommitted {
			return
		}
		u--
		if u < 1 || ks.x.vers[u].ack != ackNone {
			return
		}
	}
}

// Write outcomes for accountWrite.
const (
	outCommitted = iota
	outNotCommitted
	outUnknown
)

// sweep accounts and removes the attempts whose outcome and op are known.
func (c *Checker) sweep(sh *shard, ks *keyState) {
	x := ks.x
	if x == nil {
		return
	}
	n := 0
	for i := range x.inflight {
		a := &x.inflight[i]
		if a.opSeen && (a.status == stCommitted || a.status == stAborted) {
			out := outNotCommitted
			if a.status == stCommitted {
				out = outCommitted
			}
			c.accountWrite(sh, ks, a, out)
			continue
		}
		x.inflight[n] = *a
		n++
	}
	clear(x.inflight[n:])
	x.inflight = x.inflight[:n]
}

// accountWrite counts the outcome of a's op.
func (c *Checker) accountWrite(sh *shard, ks *keyState, a *attempt, out int) {
	if a.opMeasured {
		w := &sh.wr
		fail := a.opClass
		if !a.opErr || fail == ghostbench.ClassNone {
			fail = ghostbench.ClassOther
		}
		switch out {
		case outCommitted:
			w.committed++
			if a.opErr {
				w.committedDespiteError++
			}
			ks.extra().setMeasured(a.version)
		case outNotCommitted:
			w.notCommitted++
			w.failed[fail]++
			if !a.opErr {
				w.okNotCommitted++
			}
		default:
			w.unknown++
			w.failed[fail]++
		}
	}
	if a.hist >= 0 {
		e := &sh.history[a.hist]
		e.Version = a.version
		e.Outcome = [...]Outcome{OutcomeCommitted, OutcomeNotCommitted, OutcomeUnknown}[out]
	}
}

// reeval settles the deferred reads of ks that can now be settled.
func (c *Checker) reeval(sh *shard, ks *keyState) {
	x := ks.x
	if x == nil || len(x.deferred) == 0 {
		return
	}
	n := 0
	for i := range x.deferred {
		r := x.deferred[i]
		if !c.evalRead(sh, ks, &r, false) {
			x.deferred[n] = r
			n++
		}
	}
	x.deferred = x.deferred[:n]
	if n == 0 && cap(x.deferred) > 64 {
		x.deferred = nil
	}
}

// Token states for tokenState.
const (
	tsOpen         = iota // not known yet: wait
	tsCommitted           // (v, t) is a committed row version
	tsNotCommitted        // (v, t) never was
	tsUnknown             // cannot be established (final only)
)

// readEval is the classification of one read.
type readEval struct {
	stale, ghost, early, unknown bool
	sent                         int64 // commit-sent of the value's write
	status                       TokenStatus
	age, lag                     int64
	newerV, newerAck, latest     int64
	newerTok                     ghostbench.Token
}

// tokenState says whether value (v, t) of key ks was committed, with the
// commit-sent instant of t's write and the status to show as evidence. When
// final is false it returns tsOpen for what may still change.
func (c *Checker) tokenState(sh *shard, ks *keyState, v int64, t ghostbench.Token, final bool) (st int, sent int64, status TokenStatus) {
	superseded := false
	if v >= 0 && v < int64(len(ks.x.vers)) {
		if e := &ks.x.vers[v]; e.ack != ackNone {
			if e.token == t {
				return tsCommitted, e.sent, TokenCommitted
			}
			superseded = true
		}
	}
	if a := ks.find(t); a != nil {
		switch a.status {
		case stAborted:
			return tsNotCommitted, a.sent, TokenAborted
		case stCommitted:
			// t committed another version: (v, t) never existed.
			return tsNotCommitted, a.sent, TokenSuperseded
		case stBegan:
			// Not committed if superseded, but whether COMMIT will be
			// sent before this read completed is not known yet.
			if !final {
				return tsOpen, 0, ""
			}
			if superseded {
				return tsNotCommitted, sentUnknown, TokenSuperseded
			}
			return tsUnknown, sentUnknown, TokenUnknown
		default: // stSending, stIndet
			if superseded {
				return tsNotCommitted, a.sent, TokenSuperseded
			}
			if !final {
				return tsOpen, 0, ""
			}
			return tsUnknown, a.sent, TokenUnknown
		}
	}
	if ab, ok := sh.aborted[t]; ok {
		if ab.indet {
			return tsNotCommitted, ab.sent, TokenNotCommitted
		}
		return tsNotCommitted, ab.sent, TokenAborted
	}
	if superseded {
		return tsNotCommitted, sentUnknown, TokenSuperseded
	}
	// A token the recorder never reported: only the ledger can tell.
	if !final {
		return tsOpen, 0, ""
	}
	if committed, ok := c.ledger[t]; ok && !committed {
		return tsNotCommitted, sentUnknown, TokenNotCommitted
	}
	return tsUnknown, sentUnknown, TokenUnknown
}

// unreported reports whether (v, t) depends on a token the recorder never
// reported, which only the ledger can settle.
func (c *Checker) unreported(sh *shard, ks *keyState, v int64, t ghostbench.Token) bool {
	if v >= 0 && v < int64(len(ks.x.vers)) && ks.x.vers[v].ack != ackNone {
		return false
	}
	if ks.find(t) != nil {
		return false
	}
	_, ok := sh.aborted[t]
	return !ok
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

// evalAudit classifies a present cache entry, or returns false when its
// token's outcome is not known yet (final false).
func (c *Checker) evalAudit(sh *shard, ks *keyState, e *auditEntry, final bool) bool {
	st, _, _ := c.tokenState(sh, ks, e.cache.Version, e.cache.Token, final)
	kind := ""
	switch st {
	case tsOpen:
		return false
	case tsNotCommitted:
		kind = AuditGhost
		sh.audit.ghost++
	case tsUnknown:
		kind = AuditUnknown
		sh.audit.unknown++
	default:
		if e.cache.Version < e.db.Version {
			kind = AuditStale
			sh.audit.stale++
		}
	}
	if kind != "" {
		ttl := int64(-1)
		if e.ttl >= 0 {
			ttl = ceilMicros(int64(e.ttl))
		}
		sh.addAuditExample(AuditExample{Key: e.key, Kind: kind, Cache: e.cache, DB: e.db, TTLUs: ttl})
	}
	return true
}

// addAuditExample keeps the MaxAuditExamples lowest keys, sorted.
func (sh *shard) addAuditExample(a AuditExample) {
	ex := sh.auditExamples
	if len(ex) == MaxAuditExamples && a.Key >= ex[len(ex)-1].Key {
		return
	}
	i := sort.Search(len(ex), func(i int) bool { return a.Key < ex[i].Key })
	if len(ex) < MaxAuditExamples {
		ex = append(ex, AuditExample{})
	}
	copy(ex[i+1:], ex[i:len(ex)-1])
	ex[i] = a
	sh.auditExamples = ex
}
