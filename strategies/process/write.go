package process

import (
	"context"
	"fmt"
	"time"

	gb "github.com/ghostbench/ghostbench"
)

// Write implements ghostbench.Strategy. It sends the write, and reports
// the attempt to the run's recorder from what the reply and the ledger
// prove (see the package comment and docs/protocol.md, "Honest timing").
//
// The recorder is told in the order the checker needs: Began and
// CommitSending before the commit-ack instant is read, so that a read
// starting after that instant finds the write at least pending. An
// outcome the process could not learn (indefinite error, process crashed
// or broken) is not reported as indeterminate: the harness waits until no
// transaction of that write can still be open and asks the ledger, so the
// write is reported committed (ack bounded by now) or not at all.
func (s *Strategy) Write(ctx context.Context, req gb.WriteRequest) error {
	invoke := s.clock.Now()
	r, c, err := s.requestOn(ctx, nil, &msg{Type: typeWrite, Key: ptr(int64(req.Key)), Token: int64(req.Token), Delta: req.Delta}, req.Key)
	if err != nil {
		// Never sent (the process is down or broken): not committed.
		return &gb.ClassError{Class: gb.ClassOther, Err: fmt.Errorf("write key %d: %w", req.Key, err)}
	}
	switch r.Type {
	case typeWriteOK:
		return s.committed(ctx, req, invoke, r)
	case typeError:
		if r.Definite != nil && *r.Definite {
			return s.definite(ctx, req, invoke, r)
		}
		var dead *child
		if r.InReplyTo == 0 { // a synthetic reply: the process ended
			dead = c
		}
		return s.settle(ctx, req, invoke, dead, s.remoteErr(r, fmt.Sprintf("write key %d", req.Key)))
	}
	return s.failWith(nil, fmt.Errorf("write key %d answered with %s, want write_ok or error", req.Key, r.Type))
}

// committed records a write_ok. Every one is checked against the ledger:
// without a version at once (the ledger gives the version), with one in
// the verifier's next batch.
func (s *Strategy) committed(ctx context.Context, req gb.WriteRequest, invoke time.Duration, r *msg) error {
	var v int64
	if r.Version != nil {
		v = *r.Version
		if v >= 1 && !s.cfg.noLedgerCheck {
			s.verify.add(claimed{key: req.Key, token: req.Token, version: v})
		}
	} else {
		k, lv, ok, err := s.env.Store.LedgerVersion(context.WithoutCancel(ctx), req.Token)
		if err != nil {
			return s.failWith(nil, fmt.Errorf("write key %d token %d: write_ok without version, and %v", req.Key, req.Token, err))
		}
		if !ok || k != req.Key {
			return s.failWith(nil, fmt.Errorf("write key %d token %d: write_ok, but the ledger has no such committed write", req.Key, req.Token))
		}
		v = lv
	}
	if v < 1 {
		return s.failWith(nil, fmt.Errorf("write key %d token %d: write_ok with version %d, want >= 1", req.Key, req.Token, v))
	}
	sent, ack, exact := s.instants(invoke, r)
	s.rec.Began(req.Key, req.Token, v)
	s.rec.CommitSending(req.Key, req.Token, v, sent)
	if !exact {
		ack = s.clock.Now() // read after CommitSending: see Write
	}
	s.rec.Committed(req.Key, req.Token, v, sent, ack)
	return nil
}

// definite records an error the process says certainly did not commit,
// after checking the ledger agrees (a process that says so wrongly would
// make the checker call committed values ghosts).
func (s *Strategy) definite(ctx context.Context, req gb.WriteRequest, invoke time.Duration, r *msg) error {
	werr := s.remoteErr(r, fmt.Sprintf("write key %d", req.Key))
	_, _, ok, err := s.env.Store.LedgerVersion(context.WithoutCancel(ctx), req.Token)
	if err != nil {
		// The ledger cannot say: trust the process, report nothing (no
		// version is claimed, so no read is judged by it).
		s.warn(req.Key, fmt.Errorf("%s: ledger check of a definite failure: %w", s.describe(nil), err))
		return werr
	}
	if ok {
		return s.failWith(nil, fmt.Errorf("write key %d token %d: error marked definite, but the ledger shows it committed", req.Key, req.Token))
	}
	if r.Version != nil && *r.Version >= 1 {
		s.rec.Began(req.Key, req.Token, *r.Version)
		s.rec.Aborted(req.Key, req.Token, *r.Version, invoke)
	}
	return werr
}

// settle decides a write whose outcome the process could not tell: once no
// transaction of it can still be open (the sessions of dead are gone when
// it is not nil; otherwise the row lock was taken and released), the ledger
// is final. The error returned is werr as an indeterminate one: the client
// did not know.
func (s *Strategy) settle(ctx context.Context, req gb.WriteRequest, invoke time.Duration, dead *child, werr error) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleBound)
	defer cancel()
	var err error
	if dead != nil {
		err = s.endSessions(sctx, dead.appName)
	} else {
		err = s.env.Store.Settle(sctx, req.Key)
	}
	var (
		k  gb.Key
		v  int64
		ok bool
	)
	if err == nil {
		k, v, ok, err = s.env.Store.LedgerVersion(sctx, req.Token)
	}
	if err != nil {
		// Left undecided: reported nowhere, the write counts as not
		// committed; say so, since a read of its value is then judged by
		// the ledger at the end only.
		s.warn(req.Key, fmt.Errorf("%s: write token %d left unsettled: %w", s.describe(nil), req.Token, err))
		return gb.Indeterminate(werr)
	}
	if ok && k == req.Key {
		s.rec.Began(req.Key, req.Token, v)
		s.rec.CommitSending(req.Key, req.Token, v, invoke)
		s.rec.Committed(req.Key, req.Token, v, invoke, s.clock.Now())
	}
	return gb.Indeterminate(werr)
}

// endSessions ends what is left of a dead process's PostgreSQL sessions
// (its own, found by application_name) and waits until none is left, so
// that no transaction of it can still commit.
func (s *Strategy) endSessions(ctx context.Context, appName string) error {
	for {
		var n int
		err := s.env.DB.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE application_name = $1 AND pid <> pg_backend_pid()) t`, appName).Scan(&n)
		if err != nil {
			return fmt.Errorf("end the sessions of a dead process: %w", err)
		}
		if n == 0 {
			return nil
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("end the sessions of a dead process: %d left: %w", n, ctx.Err())
		case <-t.C:
		}
	}
}

// instants returns commit-sent and commit-ack on the run's clock: the
// process's own CLOCK_MONOTONIC instants when it sent both and they fall in
// [invoke, now] in order (exact=true), else invoke and now.
func (s *Strategy) instants(invoke time.Duration, r *msg) (sent, ack time.Duration, exact bool) {
	now := s.clock.Now()
	if r.CommitSentNs == nil || r.CommitAckNs == nil {
		return invoke, now, false
	}
	mono, ok := monotonicNs()
	if !ok {
		return invoke, now, false
	}
	// Both clocks read at (nearly) the same moment: the offset maps one
	// onto the other, whatever Reset did to the run's zero.
	off := mono - int64(now)
	sent, ack = time.Duration(*r.CommitSentNs-off), time.Duration(*r.CommitAckNs-off)
	if sent < invoke || ack < sent || ack > now {
		return invoke, now, false
	}
	return sent, ack, true
}
