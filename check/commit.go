package check

import "github.com/ghostbench/ghostbench"

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
	sh := c.shardOf(op.Key)
	sh.mu.Lock()
	ks := c.stateOf(sh, op.Key)
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
	// A token the recorder never reported for this key: only the ledger
	// can tell, unless it was reported for another key.
	if !final {
		return tsOpen, 0, ""
	}
	if _, ok := c.foreign[t]; ok {
		return tsNotCommitted, sentUnknown, TokenOtherKey
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
