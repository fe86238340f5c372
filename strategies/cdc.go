package strategies

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/wait"
)

// cdcStatusEvery is how often the consumer confirms its position to the
// server when nothing asks it sooner; it is also the longest it blocks in
// one receive.
const cdcStatusEvery = time.Second

// cdcConfirmAfterCommit is the least time between two confirmations sent
// because a transaction was applied.
const cdcConfirmAfterCommit = 100 * time.Millisecond

// cdcInvalidation invalidates from PostgreSQL's write-ahead log, as
// Debezium-style pipelines do: the write path only commits; a consumer
// streams the table's changes through logical replication (the pgoutput
// plugin, protocol version 1) and DELs the key of every row an UPDATE (or
// INSERT, DELETE) touched.
//
// The strategy creates its own publication (FOR TABLE <schema>.rows, its
// id and token columns only where the server has column lists) and
// replication slot, named gbcdc_<schema>_<random>, when it is built, and
// drops both on Close. The consumer uses a replication connection of its
// own (replication=database, settings taken from Env.DB). It confirms a
// WAL position to the server (StandbyStatusUpdate) only after every DEL
// up to it returned, so when its connection dies (pg_terminate_backend,
// a network fault) it reconnects and resumes from the last confirmed
// position: the slot keeps everything after it, and an invalidation is
// applied again rather than lost.
//
// A reader takes the stream off the connection (and confirms) while an
// applier sends the DELs of all the changes that arrived during its
// previous pipeline as one pipeline (at most delBatchMax); the position
// moves past a transaction only when the pipeline that carried its DELs
// returned. A pipeline that fails is retried whole until
// it succeeds, at most retryBackoffMax apart, so after a Redis outage the
// consumer resumes within about that long and works off the backlog the
// slot kept in full pipelines, not one round trip per change.
//
// Drain waits until the consumer has applied everything up to the WAL
// insert position current when Drain was called (pg_current_wal_insert_lsn):
// with synchronous_commit=off that includes waiting for the WAL writer to
// flush, because a walsender streams only flushed WAL.
//
// Reads are cache-aside's, with cache-aside's stale set: a fill of a row
// read before a commit that lands after the consumer's DEL stays until its
// TTL. The invalidation lag (commit-ack to DEL) is measured per write
// (LagReporter), and by stage (LagStageReporter): commit-to-sent (the
// send time the walsender stamps on each XLogData message),
// sent-to-received, received-to-applied.
//
// A slot lives on its primary only (PostgreSQL 15): after a failover the
// consumer finds no slot on the new primary. It then records a notice
// naming the slot (NoticeReporter) and a warning, and starts a new slot
// of the same name at the new primary's current position; the changes in
// between are never invalidated.
type cdcInvalidation struct {
	fillRead
	lagRecorder
	schema, slot, pub string
	repl              *pgconn.Config
	pace              *pacer

	ctx    context.Context // the consumer's; cancelled by Close
	cancel context.CancelFunc
	exited chan struct{}
	closed sync.Once

	mu         sync.Mutex
	pos        pglogrepl.LSN // every change before it has been applied
	progress   chan struct{} // closed and replaced when pos moves or a stream starts
	wantReply  bool          // a drainer asks for a keepalive
	interrupt  func()        // ends the consumer's current receive
	reconnects int
	streaming  chan struct{} // closed when the first stream has started
	lastErr    error         // why the last stream ended
	notices    []string      // slots found gone (Notices)
	slotsLost  int
}

func newCDCInvalidation(env Env) (gb.Strategy, error) {
	if env.DB == nil || env.Store == nil {
		return nil, errors.New("cdc-invalidation needs Env.DB and Env.Store")
	}
	pace, err := newPacer(env.Params)
	if err != nil {
		return nil, err
	}
	schema := env.Store.Schema()
	name, err := instanceName("gbcdc", schema)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := reapSlots(ctx, env, name[:len(name)-8]); err != nil {
		return nil, err
	}
	pub := pgx.Identifier{name}.Sanitize()
	table := pgx.Identifier{schema, "rows"}.Sanitize()
	if err := createPublication(ctx, env, pub, table); err != nil {
		return nil, fmt.Errorf("create publication %s for %s: %w", name, table, err)
	}
	var lsnText string
	err = env.DB.QueryRow(ctx, "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')", name).Scan(&lsnText)
	if err != nil {
		_, _ = env.DB.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pub)
		var level string
		if env.DB.QueryRow(ctx, "SHOW wal_level").Scan(&level) == nil && level != "logical" {
			return nil, fmt.Errorf("create replication slot %s: %w (the server runs with wal_level=%s; logical decoding needs wal_level=logical)", name, err, level)
		}
		return nil, fmt.Errorf("create replication slot %s: %w", name, err)
	}
	start, err := pglogrepl.ParseLSN(lsnText)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("replication slot %s: %w", name, err), dropSlot(ctx, env, name))
	}
	repl := env.DB.Config().ConnConfig.Config.Copy()
	// Session settings meant for queries must not end a stream that runs
	// for the whole run.
	delete(repl.RuntimeParams, "statement_timeout")
	delete(repl.RuntimeParams, "idle_in_transaction_session_timeout")
	repl.RuntimeParams["replication"] = "database"

	cctx, ccancel := context.WithCancel(context.Background())
	s := &cdcInvalidation{
		fillRead:  fillRead{env: env, cache: NewCache(env)},
		schema:    schema,
		slot:      name,
		pub:       name,
		repl:      repl,
		pace:      pace,
		ctx:       gb.WithActor(cctx, gb.Actor{Kind: "worker"}),
		cancel:    ccancel,
		exited:    make(chan struct{}),
		pos:       start,
		progress:  make(chan struct{}),
		streaming: make(chan struct{}),
	}
	s.setStages(cdcStages)
	go s.run()
	// Wait for the stream, so that a server that refuses replication
	// fails the build instead of a run, and a run's first writes are
	// not measured with the consumer's start-up in their lag.
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-s.streaming:
		return s, nil
	case <-t.C:
		s.mu.Lock()
		err := s.lastErr
		s.mu.Unlock()
		_ = s.Close()
		return nil, fmt.Errorf("cdc-invalidation: the replication stream did not start within 10s: %v", err)
	}
}

// createPublication creates the publication pub of table. It publishes
// only the columns the consumer reads (id, token) where the server can
// (PostgreSQL 15 and later): the walsender then formats two columns per
// changed row instead of the whole row (its CPU per row fell by about a
// fifth when measured). An older server gets the whole row.
func createPublication(ctx context.Context, env Env, pub, table string) error {
	_, err := env.DB.Exec(ctx, "CREATE PUBLICATION "+pub+" FOR TABLE "+table+" (id, token)")
	var pgErr *pgconn.PgError
	if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "42601" { // syntax_error: before PostgreSQL 15
		return err
	}
	_, err = env.DB.Exec(ctx, "CREATE PUBLICATION "+pub+" FOR TABLE "+table)
	return err
}

// reapSlots drops the inactive slots (and their publications) named
// prefix* that an earlier instance on the same schema left behind when its
// process died before Close. A forgotten slot is not harmless: the server
// keeps all WAL after its position, without bound. Slots with a walsender
// (another live instance) are left alone.
func reapSlots(ctx context.Context, env Env, prefix string) error {
	like := strings.NewReplacer(`\`, `\\`, `_`, `\_`, `%`, `\%`).Replace(prefix) + "%"
	rows, err := env.DB.Query(ctx, `SELECT slot_name::text FROM pg_replication_slots
WHERE slot_name LIKE $1 AND NOT active AND database = current_database()`, like)
	if err != nil {
		return fmt.Errorf("look for left-over replication slots: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("look for left-over replication slots: %w", err)
	}
	for _, n := range names {
		if _, err := env.DB.Exec(ctx, "SELECT pg_drop_replication_slot($1)", n); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && (pgErr.Code == "55006" || pgErr.Code == "42704") {
				continue // became active, or someone else dropped it
			}
			return fmt.Errorf("drop left-over replication slot %s: %w", n, err)
		}
		if _, err := env.DB.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{n}.Sanitize()); err != nil {
			return fmt.Errorf("drop left-over publication %s: %w", n, err)
		}
		if env.Log != nil {
			env.Log.Info("dropped a left-over replication slot", "slot", n)
		}
	}
	return nil
}

// replaceSlot makes a new slot of the same name after the old one was
// found gone (the consumer had applied everything before lost), records
// the loss as a notice and a warning, and moves the position to the new
// slot's start. The stream starts again from there at the next try.
func (s *cdcInvalidation) replaceSlot(ctx context.Context, lost pglogrepl.LSN) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// The publication is a catalog row: a standby has it; create it when
	// it is missing all the same.
	var pubs int
	if err := s.env.DB.QueryRow(cctx, "SELECT count(*) FROM pg_publication WHERE pubname = $1", s.pub).Scan(&pubs); err != nil {
		return fmt.Errorf("replication slot %s is gone; look for its publication: %w", s.slot, err)
	}
	if pubs == 0 {
		if err := createPublication(cctx, s.env, pgx.Identifier{s.pub}.Sanitize(), pgx.Identifier{s.schema, "rows"}.Sanitize()); err != nil {
			return fmt.Errorf("replication slot %s is gone; recreate its publication: %w", s.slot, err)
		}
	}
	var lsnText string
	if err := s.env.DB.QueryRow(cctx, "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')", s.slot).Scan(&lsnText); err != nil {
		return fmt.Errorf("replication slot %s is gone; create a new one: %w", s.slot, err)
	}
	start, err := pglogrepl.ParseLSN(lsnText)
	if err != nil {
		return fmt.Errorf("replication slot %s: %w", s.slot, err)
	}
	notice := fmt.Sprintf("cdc-invalidation: replication slot %s was gone on reconnect (applied up to %s; a failover to a standby loses logical slots, which PostgreSQL 15 keeps on the primary only); "+
		"a new slot starts at %s on the server now answering: changes committed in between were never invalidated and stay stale until their TTL", s.slot, lost, start)
	s.mu.Lock()
	s.notices = append(s.notices, notice)
	s.slotsLost++
	s.pos = start
	s.mu.Unlock()
	s.env.warn(-1, errors.New(notice))
	if s.env.Log != nil {
		s.env.Log.Warn(notice)
	}
	s.signal()
	return fmt.Errorf("replication slot %s was gone; replaced", s.slot)
}

// Notices implements NoticeReporter: one line per replication slot found
// gone.
func (s *cdcInvalidation) Notices() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.notices...)
}

// SlotsLost returns how often the consumer found its slot gone.
func (s *cdcInvalidation) SlotsLost() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.slotsLost
}

// Slot returns the name of the strategy's replication slot (and
// publication).
func (s *cdcInvalidation) Slot() string { return s.slot }

// Reconnects returns how often the consumer has reconnected.
func (s *cdcInvalidation) Reconnects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reconnects
}

func (s *cdcInvalidation) Write(ctx context.Context, req gb.WriteRequest) error {
	if _, err := s.env.Store.Write(ctx, req, nil); err != nil {
		return err
	}
	s.ack(req.Token, time.Now())
	return nil
}

func (s *cdcInvalidation) logf(format string, args ...any) {
	if s.env.Log != nil {
		s.env.Log.Debug(fmt.Sprintf(format, args...), "strategy", "cdc-invalidation", "slot", s.slot)
	}
}

// run streams until Close, reconnecting with a capped backoff.
func (s *cdcInvalidation) run() {
	defer close(s.exited)
	reconnectLoop(s.ctx, s.stream, func(err error) {
		s.logf("replication stream ended, reconnecting: %v", err)
		s.mu.Lock()
		s.lastErr = err
		s.reconnects++
		s.mu.Unlock()
	})
}

// relation maps a relation's columns to the ones the consumer needs.
type relation struct {
	ours      bool
	id, token int // column indexes, -1 when absent
}

// stream runs one replication connection; started reports whether the
// stream got going (for the backoff). Its reader receives and decodes the
// stream and hands the changes of our table, and the positions that
// complete them, to an applier that DELs in pipelines and moves the
// position; the reader alone uses the connection, so it also confirms.
func (s *cdcInvalidation) stream(ctx context.Context) (started bool, err error) {
	a := newApplier(&s.env, s.cache, s.pace, &s.lagRecorder, func(lsn uint64) { s.advance(pglogrepl.LSN(lsn)) })
	return runStream(ctx, a, func(ctx context.Context) (bool, error) { return s.read(ctx, a) })
}

// read is the reader of stream.
func (s *cdcInvalidation) read(ctx context.Context, a *applier) (started bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgconn.ConnectConfig(cctx, s.repl)
	cancel()
	if err != nil {
		return false, fmt.Errorf("replication connection: %w", err)
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(c)
		cancel()
	}()
	start := s.position()
	cctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	err = pglogrepl.StartReplication(cctx, conn, s.slot, start, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names '" + s.pub + "'"},
	})
	cancel()
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42704" && ctx.Err() == nil { // undefined_object
			// The slot is gone: this is another server than the one
			// that had it (a standby promoted by a failover: PostgreSQL
			// 15 keeps slots on the primary only), or someone dropped
			// it. Every change between its position and a new slot is
			// never invalidated; say so, and go on from a new slot.
			return false, s.replaceSlot(ctx, start)
		}
		return false, fmt.Errorf("start replication on slot %s at %s: %w", s.slot, start, err)
	}
	s.logf("streaming from %s", start)
	s.mu.Lock()
	select {
	case <-s.streaming:
	default:
		close(s.streaming)
	}
	s.mu.Unlock()
	s.signal() // drainers ask the new stream for a keepalive

	rels := map[uint32]relation{}
	inTx := false
	var lastSent time.Time
	nextStatus := time.Now()
	mark := func(lsn pglogrepl.LSN) bool { return a.send(ctx, change{isMark: true, mark: uint64(lsn)}) }
	// Receives run without a context: pgconn watches a cancellable one
	// with a goroutine it must hand off to after every message, which on
	// a busy machine costs a scheduling round per message and was the
	// consumer's bottleneck. The read deadline of the socket does the
	// watching instead: nextStatus, a drainer's interrupt, or ctx's end.
	nc := conn.Conn()
	interrupt := func() { _ = nc.SetReadDeadline(time.Unix(1, 0)) }
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		interrupt()
	})
	defer stop()
	s.setInterrupt(interrupt)
	defer s.setInterrupt(nil)
	for {
		pos, reply := s.takeReply()
		if reply || !time.Now().Before(nextStatus) {
			err := pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{WALWritePosition: pos, ReplyRequested: reply})
			if err != nil {
				return true, fmt.Errorf("confirm %s: %w", pos, err)
			}
			lastSent = time.Now()
			nextStatus = lastSent.Add(cdcStatusEvery)
		}
		if err := s.arm(ctx, nc, nextStatus); err != nil {
			return true, err
		}
		msg, err := conn.ReceiveMessage(context.Background())
		received := time.Now()
		if err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			if pgconn.Timeout(err) {
				continue // time to confirm, or a drainer's interrupt
			}
			return true, fmt.Errorf("receive: %w", err)
		}
		var data []byte
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			data = m.Data
		case *pgproto3.ErrorResponse:
			return true, pgconn.ErrorResponseToPgError(m)
		default:
			continue
		}
		if len(data) == 0 {
			continue
		}
		switch data[0] {
		case pglogrepl.PrimaryKeepaliveMessageByteID:
			pkm, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
			if err != nil {
				return true, err
			}
			// Every transaction that committed before the server's
			// position has been sent before this keepalive, and is
			// applied once everything handed over so far is, unless one
			// is half received.
			if !inTx && !mark(pkm.ServerWALEnd) {
				return true, ctx.Err()
			}
			if pkm.ReplyRequested {
				nextStatus = time.Time{}
			}
		case pglogrepl.XLogDataByteID:
			xld, err := pglogrepl.ParseXLogData(data[1:])
			if err != nil {
				return true, err
			}
			lm, err := pglogrepl.Parse(xld.WALData)
			if err != nil {
				return true, fmt.Errorf("decode pgoutput message at %s: %w", xld.WALStart, err)
			}
			var tuple *pglogrepl.TupleData
			var rel uint32
			switch m := lm.(type) {
			case *pglogrepl.RelationMessage:
				r := relation{ours: m.Namespace == s.schema && m.RelationName == "rows", id: -1, token: -1}
				for i, c := range m.Columns {
					switch c.Name {
					case "id":
						r.id = i
					case "token":
						r.token = i
					}
				}
				rels[m.RelationID] = r
			case *pglogrepl.BeginMessage:
				inTx = true
			case *pglogrepl.UpdateMessage:
				rel, tuple = m.RelationID, m.NewTuple
			case *pglogrepl.InsertMessage:
				rel, tuple = m.RelationID, m.Tuple
			case *pglogrepl.DeleteMessage:
				rel, tuple = m.RelationID, m.OldTuple
			case *pglogrepl.TruncateMessage:
				s.env.warn(-1, errors.New("cdc-invalidation: the rows table was truncated; its cached keys are not invalidated"))
			case *pglogrepl.CommitMessage:
				inTx = false
				if !mark(m.TransactionEndLSN) {
					return true, ctx.Err()
				}
				if time.Since(lastSent) >= cdcConfirmAfterCommit {
					nextStatus = time.Time{}
				}
			}
			if c, ok := s.change(rels[rel], tuple); ok {
				c.mid = stamps{}.with(xld.ServerTime).with(received)
				if !a.send(ctx, c) {
					return true, ctx.Err()
				}
			}
		}
	}
}

// change returns the invalidation of one changed row of our table.
func (s *cdcInvalidation) change(rel relation, tuple *pglogrepl.TupleData) (change, bool) {
	if !rel.ours || rel.id < 0 || tuple == nil {
		return change{}, false
	}
	id, ok := column(tuple, rel.id)
	if !ok {
		s.env.warn(-1, errors.New("cdc-invalidation: a change of rows came without its id"))
		return change{}, false
	}
	c := change{key: gb.Key(id)}
	if tok, ok := column(tuple, rel.token); ok {
		c.token, c.hasToken = gb.Token(tok), true
	}
	return c, true
}

// column returns column i of tuple as an integer.
func column(t *pglogrepl.TupleData, i int) (int64, bool) {
	if i < 0 || i >= len(t.Columns) || t.Columns[i].DataType != pglogrepl.TupleDataTypeText {
		return 0, false
	}
	n, err := strconv.ParseInt(string(t.Columns[i].Data), 10, 64)
	return n, err == nil
}

func (s *cdcInvalidation) position() pglogrepl.LSN {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos
}

// advance records that everything before lsn has been applied.
func (s *cdcInvalidation) advance(lsn pglogrepl.LSN) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lsn > s.pos {
		s.pos = lsn
		close(s.progress)
		s.progress = make(chan struct{})
	}
}

// signal wakes the drainers.
func (s *cdcInvalidation) signal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.progress)
	s.progress = make(chan struct{})
}

// takeReply returns the position to confirm and whether a drainer asked
// for a keepalive (clearing the request).
func (s *cdcInvalidation) takeReply() (pglogrepl.LSN, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.wantReply
	s.wantReply = false
	return s.pos, r
}

// setInterrupt registers what ends the consumer's current receive (nil:
// no stream).
func (s *cdcInvalidation) setInterrupt(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interrupt = f
}

// arm sets the read deadline of the next receive to at, or to the past
// when a drainer has asked for a keepalive meanwhile or ctx has ended
// (then it returns ctx's error). Under s.mu, so that an interrupt is
// never overwritten.
func (s *cdcInvalidation) arm(ctx context.Context, nc net.Conn, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.wantReply {
		at = time.Unix(1, 0)
	}
	if err := nc.SetReadDeadline(at); err != nil {
		return fmt.Errorf("replication connection: %w", err)
	}
	return nil
}

// Drain waits until the consumer has applied every change up to the WAL
// insert position current at the call. It returns an error when ctx ends first,
// when the position cannot be read, or when the consumer has stopped.
func (s *cdcInvalidation) Drain(ctx context.Context) error {
	// The insert position, not pg_current_wal_lsn (the write position):
	// with synchronous_commit=off a commit returns before its record is
	// even written, so the write position can lie before commits that
	// were acknowledged before this call.
	var t string
	if err := s.env.DB.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&t); err != nil {
		return fmt.Errorf("cdc drain: read the WAL position: %w", err)
	}
	target, err := pglogrepl.ParseLSN(t)
	if err != nil {
		return fmt.Errorf("cdc drain: %w", err)
	}
	// If the server's write position stays beyond the last record end
	// (nothing else writes), a transaction of our own moves it on.
	nudge := time.Now().Add(500 * time.Millisecond)
	for {
		s.mu.Lock()
		pos, progress := s.pos, s.progress
		if pos < target {
			s.wantReply = true
			if s.interrupt != nil {
				s.interrupt()
			}
		}
		s.mu.Unlock()
		if pos >= target {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cdc drain: applied up to %s, waiting for %s: %w", pos, target, ctx.Err())
		case <-s.exited:
			return errors.New("cdc drain: the consumer has stopped")
		case <-progress:
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(nudge) {
			nudge = time.Now().Add(time.Hour)
			if _, err := s.env.DB.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
				return fmt.Errorf("cdc drain: %w", err)
			}
		}
		if !wait.Sleep(ctx, 2*time.Millisecond) { // at most one keepalive request per 2 ms
			return fmt.Errorf("cdc drain: %w", ctx.Err())
		}
	}
}

// Close stops the consumer (changes not yet applied are dropped) and drops
// the slot and the publication.
func (s *cdcInvalidation) Close() error {
	var err error
	s.closed.Do(func() {
		s.cancel()
		<-s.exited
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = dropSlot(ctx, s.env, s.slot)
	})
	return err
}

// dropSlot drops the replication slot and the publication called name. A
// slot still active (its walsender has not yet noticed that our connection
// is gone) is retried until ctx ends; one already gone is no error.
func dropSlot(ctx context.Context, env Env, name string) error {
	var errs []error
	for {
		_, err := env.DB.Exec(ctx, "SELECT pg_drop_replication_slot($1)", name)
		var pgErr *pgconn.PgError
		if err != nil && errors.As(err, &pgErr) && pgErr.Code == "55006" && wait.Sleep(ctx, 10*time.Millisecond) {
			continue // object_in_use: still active
		}
		if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42704") { // undefined_object: gone
			errs = append(errs, fmt.Errorf("drop replication slot %s: %w", name, err))
		}
		break
	}
	if _, err := env.DB.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
		errs = append(errs, fmt.Errorf("drop publication %s: %w", name, err))
	}
	return errors.Join(errs...)
}
