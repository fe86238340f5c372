package check

import (
	"math"

	"github.com/ghostbench/ghostbench"
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

// Attempt statuses.
const (
	stBegan     uint8 = iota + 1 // UPDATE ran
	stSending                    // COMMIT about to be sent, outcome unknown
	stIndet                      // COMMIT outcome unknown until inference or ledger
	stCommitted                  // committed (its version entry is set)
	stAborted                    // certainly not committed (in shard.aborted)
)

// Write outcomes for accountWrite.
const (
	outCommitted = iota
	outNotCommitted
	outUnknown
)

// Token states for tokenState.
const (
	tsOpen         = iota // not known yet: wait
	tsCommitted           // (v, t) is a committed row version
	tsNotCommitted        // (v, t) never was
	tsUnknown             // cannot be established (final only)
)
