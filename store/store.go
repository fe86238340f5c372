// Package store is the one place that talks to PostgreSQL about the data
// the cache mirrors: the schema (rows and ledger, DESIGN.md section 3), seeding,
// plain reads, and the write transaction.
//
// Every write goes through Store.Write, which bumps the row's version by one,
// stamps the attempt's token, inserts the ledger row in the same
// transaction, and reports the attempt to the run's Recorder with the
// commit-sent and commit-ack instants read from the run's Clock. Strategies
// put their own work inside the transaction through a callback, so none can
// forget to record.
//
// The store touches only its own schema (Options.Schema), so it is safe to
// point at a database the harness does not own.
package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	gb "github.com/ghostbench/ghostbench"
)

// DefaultSchema is the schema the store creates its tables in.
const DefaultSchema = "ghostbench"

// Options configures a Store. Zero fields take the defaults documented on
// each.
type Options struct {
	// Schema holds the tables; default DefaultSchema. It must be a plain
	// lower-case identifier.
	Schema string
	// Recorder receives every write attempt, and every row Read returns
	// when it is also a ghostbench.ReadRecorder; default
	// ghostbench.NopRecorder.
	Recorder gb.Recorder
	// Clock is the run's clock; default a clock started by New.
	Clock *gb.Clock
	// Hooks are the interleaving points; PointBeforeCommit is called
	// inside the transaction just before COMMIT. May be nil.
	Hooks *gb.Hooks
	// FailCommit, when set, is asked once per write after the UPDATE; when
	// it returns true the transaction arms a deferred constraint trigger
	// that raises at COMMIT, so the failure comes from COMMIT itself after
	// everything before it succeeded (DESIGN.md section 6).
	FailCommit func(key gb.Key, token gb.Token) bool
	// Owner is the run's id, written into the schema's marker by Setup
	// (see OwnerMarker); may be empty.
	Owner string
}

// Store runs the data model's statements on a pgx pool.
type Store struct {
	pool   *pgxpool.Pool
	schema string
	owner  string
	rec    gb.Recorder
	reads  gb.ReadRecorder // rec, when it takes database reads
	clock  *gb.Clock
	hooks  *gb.Hooks
	fail   atomic.Pointer[func(gb.Key, gb.Token) bool]

	qRead, qWrite, qArm string
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// New returns a store on pool. It returns an error naming the schema when
// the schema is not a plain identifier.
func New(pool *pgxpool.Pool, o Options) (*Store, error) {
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if !identRE.MatchString(o.Schema) {
		return nil, fmt.Errorf("store schema %q: want a lower-case identifier ([a-z_][a-z0-9_]*, at most 63 characters)", o.Schema)
	}
	if o.Recorder == nil {
		o.Recorder = gb.NopRecorder{}
	}
	if o.Clock == nil {
		o.Clock = gb.NewClock()
	}
	s := &Store{pool: pool, schema: o.Schema, owner: o.Owner, rec: o.Recorder, clock: o.Clock, hooks: o.Hooks}
	s.reads, _ = o.Recorder.(gb.ReadRecorder)
	s.SetFailCommit(o.FailCommit)
	s.qRead = fmt.Sprintf(`SELECT version, token, balance FROM %s.rows WHERE id = $1`, s.schema)
	// The plain UPDATE foreign code runs too (docs/protocol.md): the
	// rows_write trigger bumps the version and the ledger trigger writes
	// the ledger row in the same transaction, so both paths make the same
	// rows by construction.
	s.qWrite = fmt.Sprintf(`UPDATE %s.rows SET balance = balance + $3, token = $2 WHERE id = $1 RETURNING version, token, balance`, s.schema)
	s.qArm = `SELECT set_config('ghostbench.fail_commit', 'on', true)`
	return s, nil
}

// Schema returns the schema the store uses.
func (s *Store) Schema() string { return s.schema }

// SetFailCommit replaces the FailCommit decision (nil disarms it). It is
// safe to call while writes are running (a fault does so on schedule).
func (s *Store) SetFailCommit(f func(gb.Key, gb.Token) bool) {
	if f == nil {
		s.fail.Store(nil)
		return
	}
	s.fail.Store(&f)
}

// OwnerMarker starts the COMMENT ON SCHEMA that marks a schema as made by
// ghostbench; the run's owner id follows it. Setup and Drop touch a schema
// that exists only when its comment starts with it.
const OwnerMarker = "ghostbench-owned schema; run "

// NotOwnedError is Setup's or Drop's refusal of a schema that exists but
// does not carry OwnerMarker: somebody else's, never dropped.
type NotOwnedError struct {
	Schema  string
	Comment string // the schema's comment, "" when it has none
}

func (e *NotOwnedError) Error() string {
	return fmt.Sprintf("schema %s already exists and was not created by ghostbench (its COMMENT does not start with %q): refusing to touch it", e.Schema, OwnerMarker)
}

// Owner returns the owner id in schema's marker: ok=false when the schema
// does not exist; a *NotOwnedError when it exists without the marker.
func (s *Store) Owner(ctx context.Context) (owner string, ok bool, err error) {
	return schemaOwner(ctx, s.pool, s.schema)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func schemaOwner(ctx context.Context, q querier, schema string) (string, bool, error) {
	var comment *string
	err := q.QueryRow(ctx, `SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1`, schema).Scan(&comment)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("look up schema %s: %w", schema, err)
	}
	c := ""
	if comment != nil {
		c = *comment
	}
	owner, marked := strings.CutPrefix(c, OwnerMarker)
	if !marked {
		return "", true, &NotOwnedError{Schema: schema, Comment: c}
	}
	return owner, true, nil
}

// seed loads the rows 0..keys-1 at version 0, token 0, balance 0 into the
// rows table that tx has just created, with one COPY ... FREEZE (what
// pgbench -i does): the rows are streamed as they are generated, and
// written frozen, so that the run's first reads of each page do not
// rewrite it to set hint bits.
func seed(ctx context.Context, tx pgx.Tx, schema string, keys int) error {
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 64<<10)
		var line []byte
		for k := 0; k < keys; k++ {
			line = strconv.AppendInt(line[:0], int64(k), 10)
			line = append(line, "\t0\t0\t0\n"...)
			if _, err := bw.Write(line); err != nil {
				return // the COPY ended: its error is the one returned
			}
		}
		pw.CloseWithError(bw.Flush())
	}()
	_, err := tx.Conn().PgConn().CopyFrom(ctx, pr, fmt.Sprintf(`COPY %s.rows (id, version, token, balance) FROM STDIN WITH (FREEZE)`, schema))
	pr.CloseWithError(io.ErrClosedPipe) // stops the generator if COPY failed early
	if err != nil {
		return fmt.Errorf("seed %d rows: %w", keys, err)
	}
	return nil
}

// setupTimeout is Setup's statement timeout for keys rows: a base for the
// DDL plus 20µs a row (seeding and ANALYZE run at about 2µs a row on a
// small machine), so that -keys 1000000 gets 30s, not the run's
// per-operation timeout.
func setupTimeout(keys int) time.Duration {
	return 10*time.Second + time.Duration(keys)*20*time.Microsecond
}

// Setup (re)creates the schema's tables and seeds keys rows at version 0,
// token 0, balance 0, with the triggers that let a plain UPDATE of token and
// balance be a complete write (docs/protocol.md).
//
// A schema that does not exist is created and marked as the store's own
// (COMMENT ON SCHEMA: OwnerMarker and Options.Owner). A schema that exists
// is used only when it carries that marker (a ghostbench run made it): its
// two tables are dropped and made again. A schema without the marker is
// never touched: Setup returns a *NotOwnedError. Nothing outside the
// schema is touched.
//
// Setup runs in one transaction with a statement timeout scaled to keys
// (setupTimeout) and seeds with one COPY; when it still times out the error
// says what to change.
func (s *Store) Setup(ctx context.Context, keys int) error {
	if keys <= 0 {
		return fmt.Errorf("store setup: keys = %d, want at least 1", keys)
	}
	timeout := setupTimeout(keys)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL statement_timeout = %d`, timeout.Milliseconds())); err != nil {
			return err
		}
		// Serializes concurrent Setups of the same schema in one
		// database, so that the check below and the CREATE agree.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('ghostbench setup ' || $1, 0))`, s.schema); err != nil {
			return err
		}
		_, exists, err := schemaOwner(ctx, tx, s.schema)
		if err != nil {
			return err
		}
		if !exists {
			if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE SCHEMA %s`, s.schema)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(`COMMENT ON SCHEMA %s IS %s`, s.schema, quoteLiteral(OwnerMarker+s.owner))); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(ddl, s.schema)); err != nil {
			return err
		}
		if err := seed(ctx, tx, s.schema, keys); err != nil {
			return err
		}
		// The index is built once over the loaded rows, faster than
		// maintained row by row.
		if _, err := tx.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s.rows ADD PRIMARY KEY (id)`, s.schema)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, fmt.Sprintf(`ANALYZE %s.rows`, s.schema))
		return err
	})
	var no *NotOwnedError
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &no):
		return err
	case errors.As(err, &pgErr) && pgErr.Code == "57014": // query_canceled: the statement timeout
		return fmt.Errorf("store setup of %d keys in schema %s: cancelled after the statement timeout of %s (%w): the server is too slow or too busy to seed this many rows in time; lower -keys (one row a key), or run when the server is less busy", keys, s.schema, timeout, err)
	default:
		return fmt.Errorf("store setup in schema %s: %w", s.schema, err)
	}
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

const ddl = `
DROP TABLE IF EXISTS %[1]s.ledger;
DROP TABLE IF EXISTS %[1]s.rows;
CREATE TABLE %[1]s.rows (
  id bigint NOT NULL,
  version bigint NOT NULL,
  token bigint NOT NULL,
  balance bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE %[1]s.ledger (
  token bigint PRIMARY KEY,
  id bigint NOT NULL,
  version bigint NOT NULL
);
CREATE OR REPLACE FUNCTION %[1]s.fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('ghostbench.fail_commit', true) = 'on' THEN
    RAISE EXCEPTION 'ghostbench: injected failure at COMMIT' USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER fail_commit AFTER INSERT ON %[1]s.ledger
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION %[1]s.fail_commit();
CREATE OR REPLACE FUNCTION %[1]s.rows_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.token = OLD.token THEN
    RAISE EXCEPTION 'ghostbench: a write of row %% must set a fresh token (it kept %%)', OLD.id, OLD.token USING ERRCODE = '23505';
  END IF;
  NEW.id := OLD.id;
  NEW.version := OLD.version + 1;
  NEW.updated_at := now();
  RETURN NEW;
END $$;
CREATE TRIGGER rows_bump BEFORE UPDATE ON %[1]s.rows FOR EACH ROW EXECUTE FUNCTION %[1]s.rows_bump();
CREATE OR REPLACE FUNCTION %[1]s.rows_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO %[1]s.ledger (token, id, version) VALUES (NEW.token, NEW.id, NEW.version);
  RETURN NULL;
END $$;
CREATE TRIGGER rows_ledger AFTER UPDATE ON %[1]s.rows FOR EACH ROW EXECUTE FUNCTION %[1]s.rows_ledger();
`

// Drop removes the store's schema and everything in it, when the schema
// carries the store's marker (Setup made it); a schema without it is left
// alone with a *NotOwnedError. A schema that does not exist is no error.
func (s *Store) Drop(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('ghostbench setup ' || $1, 0))`, s.schema); err != nil {
			return fmt.Errorf("store drop schema %s: %w", s.schema, err)
		}
		_, exists, err := schemaOwner(ctx, tx, s.schema)
		if err != nil || !exists {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(`DROP SCHEMA %s CASCADE`, s.schema)); err != nil {
			return fmt.Errorf("store drop schema %s: %w", s.schema, err)
		}
		return nil
	})
}

// Read returns the committed row of key. Errors are classed as postgres (or
// timeout). A successful read is reported to the Recorder when it is a
// ghostbench.ReadRecorder, with the instants around the SELECT.
func (s *Store) Read(ctx context.Context, key gb.Key) (gb.Value, error) {
	var v gb.Value
	var start time.Duration
	if s.reads != nil {
		start = s.clock.Now()
	}
	err := s.pool.QueryRow(ctx, s.qRead, int64(key)).Scan(&v.Version, &v.Token, &v.Balance)
	if err != nil {
		return gb.Value{}, gb.Postgres(fmt.Errorf("read key %d: %w", key, err))
	}
	if s.reads != nil {
		s.reads.DBRead(ctx, key, v.Version, start, s.clock.Now())
	}
	return v, nil
}

// Write runs one write transaction for req: BEGIN; UPDATE the row's token
// and balance (+delta), the schema's triggers bumping the version by one
// and inserting the ledger row; inTx (may be nil)
// with the new value; COMMIT. It returns the committed value.
//
// If inTx returns an error the transaction is rolled back and that error is
// returned as is (the strategy classes it). An error before COMMIT is sent
// is a postgres-class error and the attempt certainly did not commit. An
// error from COMMIT that the server sent (a raised exception) proves a
// rollback; any other COMMIT error (connection lost, timeout) is wrapped
// with ghostbench.Indeterminate: the ledger decides at the end of the run.
func (s *Store) Write(ctx context.Context, req gb.WriteRequest, inTx func(ctx context.Context, tx pgx.Tx, v gb.Value) error) (gb.Value, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return gb.Value{}, gb.Postgres(fmt.Errorf("write key %d: begin: %w", req.Key, err))
	}
	var v gb.Value
	if err := tx.QueryRow(ctx, s.qWrite, int64(req.Key), int64(req.Token), req.Delta).Scan(&v.Version, &v.Token, &v.Balance); err != nil {
		rollback(tx)
		return gb.Value{}, gb.Postgres(fmt.Errorf("write key %d: update: %w", req.Key, err))
	}
	s.rec.Began(req.Key, req.Token, v.Version)
	abort := func(err error) (gb.Value, error) {
		rollback(tx)
		s.rec.Aborted(req.Key, req.Token, v.Version, -1)
		return gb.Value{}, err
	}
	if f := s.fail.Load(); f != nil && (*f)(req.Key, req.Token) {
		if _, err := tx.Exec(ctx, s.qArm); err != nil {
			return abort(gb.Postgres(fmt.Errorf("write key %d: arm commit failure: %w", req.Key, err)))
		}
	}
	if inTx != nil {
		if err := inTx(ctx, tx, v); err != nil {
			return abort(err)
		}
	}
	if err := s.hooks.At(ctx, gb.PointBeforeCommit, req.Key); err != nil {
		return abort(err)
	}
	sent := s.clock.Now()
	s.rec.CommitSending(req.Key, req.Token, v.Version, sent)
	err = tx.Commit(ctx)
	ack := s.clock.Now()
	if err == nil {
		s.rec.Committed(req.Key, req.Token, v.Version, sent, ack)
		return v, nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) || errors.Is(err, pgx.ErrTxCommitRollback) {
		s.rec.Aborted(req.Key, req.Token, v.Version, sent)
		return gb.Value{}, gb.Postgres(fmt.Errorf("write key %d: commit failed: %w", req.Key, err))
	}
	s.rec.Indeterminate(req.Key, req.Token, v.Version, sent)
	return gb.Value{}, gb.Indeterminate(fmt.Errorf("write key %d: commit outcome unknown: %w", req.Key, err))
}

func rollback(tx pgx.Tx) {
	// A fresh context: the caller's may be the reason we roll back.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// Committed asks the ledger which of tokens committed. It returns a map with
// an entry for every token asked.
func (s *Store) Committed(ctx context.Context, tokens []gb.Token) (map[gb.Token]bool, error) {
	out := make(map[gb.Token]bool, len(tokens))
	ids := make([]int64, len(tokens))
	for i, t := range tokens {
		ids[i] = int64(t)
		out[t] = false
	}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT token FROM %s.ledger WHERE token = ANY($1)`, s.schema), ids)
	if err != nil {
		return nil, fmt.Errorf("ledger lookup: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t int64
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("ledger lookup: %w", err)
		}
		out[gb.Token(t)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger lookup: %w", err)
	}
	return out, nil
}

// RowsOf returns the rows of keys, in the order of keys, for the
// end-of-run audit: one query per rowsBatch keys, so that its cost follows
// the keys asked for, not the table. A key without a row is the zero
// Value.
func (s *Store) RowsOf(ctx context.Context, keys []gb.Key) ([]gb.Value, error) {
	out := make([]gb.Value, len(keys))
	at := make(map[int64]int, min(len(keys), rowsBatch))
	ids := make([]int64, 0, min(len(keys), rowsBatch))
	q := fmt.Sprintf(`SELECT id, version, token, balance FROM %s.rows WHERE id = ANY($1)`, s.schema)
	for lo := 0; lo < len(keys); lo += rowsBatch {
		hi := min(len(keys), lo+rowsBatch)
		ids = ids[:0]
		clear(at)
		for i := lo; i < hi; i++ {
			ids = append(ids, int64(keys[i]))
			at[int64(keys[i])] = i
		}
		rows, err := s.pool.Query(ctx, q, ids)
		if err != nil {
			return nil, fmt.Errorf("read rows: %w", err)
		}
		for rows.Next() {
			var id int64
			var v gb.Value
			if err := rows.Scan(&id, &v.Version, &v.Token, &v.Balance); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read rows: %w", err)
			}
			if i, ok := at[id]; ok {
				out[i] = v
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read rows: %w", err)
		}
	}
	return out, nil
}

// rowsBatch is the number of keys one query of RowsOf asks for.
const rowsBatch = 50_000

// Rows returns every row, indexed by key, for the end-of-run audit.
func (s *Store) Rows(ctx context.Context, keys int) ([]gb.Value, error) {
	out := make([]gb.Value, keys)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT id, version, token, balance FROM %s.rows WHERE id < $1`, s.schema), keys)
	if err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var v gb.Value
		if err := rows.Scan(&id, &v.Version, &v.Token, &v.Balance); err != nil {
			return nil, fmt.Errorf("read rows: %w", err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	return out, nil
}
