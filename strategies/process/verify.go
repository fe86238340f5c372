package process

import (
	"context"
	"fmt"
	"sync"
	"time"

	gb "github.com/ghostbench/ghostbench"
)

// A write_ok that carries a version is recorded at once (its commit-ack is
// the reply's instant) and checked against the ledger afterwards, in
// batches: one query for every write_ok of a window of verifyEvery (or of
// verifyBatch replies, whichever fills first), rather than one query per
// write on the write's path. A reply the ledger contradicts breaks the run.
const (
	verifyEvery = 50 * time.Millisecond
	verifyBatch = 512
	// verifyBound bounds one ledger query; a window that cannot be checked
	// is tried again with the next.
	verifyBound = 10 * time.Second
)

// claimed is a write_ok to check: the write and the version the process
// claims it committed as.
type claimed struct {
	key     gb.Key
	token   gb.Token
	version int64
}

// verifier checks claimed writes against the ledger in the background.
type verifier struct {
	s *Strategy

	mu      sync.Mutex
	pending []claimed
	kick    chan struct{} // a batch is full
	quit    chan struct{}
	done    chan struct{}
	checked int // write_ok replies checked, for tests and the summary
}

func newVerifier(s *Strategy) *verifier {
	v := &verifier{s: s, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go v.loop()
	return v
}

// add queues a write_ok for the check.
func (v *verifier) add(c claimed) {
	v.mu.Lock()
	v.pending = append(v.pending, c)
	full := len(v.pending) >= verifyBatch
	v.mu.Unlock()
	if full {
		select {
		case v.kick <- struct{}{}:
		default:
		}
	}
}

func (v *verifier) loop() {
	defer close(v.done)
	t := time.NewTicker(verifyEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-v.kick:
		case <-v.quit:
			// The last window: what cannot be checked now never will be.
			if err := v.check(); err != nil {
				v.mu.Lock()
				n := len(v.pending)
				v.pending = nil
				v.mu.Unlock()
				v.s.warn(-1, fmt.Errorf("%s: %d write_ok replies left unchecked against the ledger: %w", v.s.describe(nil), n, err))
			}
			return
		}
		_ = v.check() // an error: the claims stay pending for the next window
	}
}

// check asks the ledger about every pending claim in one query and breaks
// the strategy at the first one it contradicts.
func (v *verifier) check() error {
	v.mu.Lock()
	batch := v.pending
	v.pending = nil
	v.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	tokens := make([]gb.Token, len(batch))
	for i, c := range batch {
		tokens[i] = c.token
	}
	ctx, cancel := context.WithTimeout(context.Background(), verifyBound)
	defer cancel()
	rows, err := v.s.env.Store.LedgerVersions(ctx, tokens)
	if err != nil {
		v.mu.Lock()
		v.pending = append(batch, v.pending...)
		v.mu.Unlock()
		return err
	}
	v.mu.Lock()
	v.checked += len(batch)
	v.mu.Unlock()
	for _, c := range batch {
		row, ok := rows[c.token]
		switch {
		case !ok:
			v.s.failWith(nil, fmt.Errorf("write key %d token %d: write_ok with version %d, but the ledger has no such committed write", c.key, c.token, c.version))
			return nil
		case row.Key != c.key || row.Version != c.version:
			v.s.failWith(nil, fmt.Errorf("write key %d token %d: write_ok with version %d, but the ledger has it as key %d version %d", c.key, c.token, c.version, row.Key, row.Version))
			return nil
		}
	}
	return nil
}

// finish checks what is pending and stops the verifier.
func (v *verifier) finish() {
	select {
	case <-v.quit:
	default:
		close(v.quit)
	}
	<-v.done
}
