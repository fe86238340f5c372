package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	gb "github.com/ghostbench/ghostbench"
)

// Recorder returns the recorder the store reports write attempts to. A
// strategy whose writes do not go through Write (a foreign process writing
// with its own SQL, docs/protocol.md) reports its attempts to it itself.
func (s *Store) Recorder() gb.Recorder { return s.rec }

// Clock returns the run's clock the store reads commit instants from.
func (s *Store) Clock() *gb.Clock { return s.clock }

// LedgerVersion returns the version the ledger holds for token: ok=false
// when the ledger has no row for it (the write did not commit, or has not
// committed yet).
func (s *Store) LedgerVersion(ctx context.Context, token gb.Token) (key gb.Key, version int64, ok bool, err error) {
	var id int64
	err = s.pool.QueryRow(ctx, fmt.Sprintf(`SELECT id, version FROM %s.ledger WHERE token = $1`, s.schema), int64(token)).Scan(&id, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("ledger lookup of token %d: %w", token, err)
	}
	return gb.Key(id), version, true, nil
}

// Settle waits until no transaction that updated key's row is still open,
// by taking and releasing the row's lock (FOR UPDATE waits for every
// transaction holding it to commit or roll back). After it returns, the
// ledger's answer about any write of key that had run its UPDATE is final.
func (s *Store) Settle(ctx context.Context, key gb.Key) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("settle key %d: %w", key, err)
	}
	defer rollback(tx)
	var id int64
	if err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT id FROM %s.rows WHERE id = $1 FOR UPDATE`, s.schema), int64(key)).Scan(&id); err != nil {
		return fmt.Errorf("settle key %d: %w", key, err)
	}
	return nil
}

// LedgerRow is what the ledger holds of one committed write.
type LedgerRow struct {
	Key     gb.Key
	Version int64
}

// LedgerVersions returns the ledger rows of tokens, in one query: a token
// without an entry in the map has no row (the write did not commit, or has
// not committed yet).
func (s *Store) LedgerVersions(ctx context.Context, tokens []gb.Token) (map[gb.Token]LedgerRow, error) {
	out := make(map[gb.Token]LedgerRow, len(tokens))
	if len(tokens) == 0 {
		return out, nil
	}
	ids := make([]int64, len(tokens))
	for i, t := range tokens {
		ids[i] = int64(t)
	}
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT token, id, version FROM %s.ledger WHERE token = ANY($1)`, s.schema), ids)
	if err != nil {
		return nil, fmt.Errorf("ledger lookup of %d tokens: %w", len(tokens), err)
	}
	defer rows.Close()
	for rows.Next() {
		var t, id, v int64
		if err := rows.Scan(&t, &id, &v); err != nil {
			return nil, fmt.Errorf("ledger lookup of %d tokens: %w", len(tokens), err)
		}
		out[gb.Token(t)] = LedgerRow{Key: gb.Key(id), Version: v}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger lookup of %d tokens: %w", len(tokens), err)
	}
	return out, nil
}
