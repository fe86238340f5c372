package strategies

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"

	gb "github.com/ghostbench/ghostbench"
)

// The bare baselines of BenchmarkInvalidationPipelines: readers that take
// the same changes off the same kind of PostgreSQL stream as the
// consumers do, and confirm them, but DEL nothing. A consumer's rate
// divided by its bare reader's is then the share of what PostgreSQL can
// deliver that the consumer applies; a raw DEL loop measures Redis, which
// is not what bounds cdc (the walsender) or notify (pg_notify).

// bareReader counts the changes of its own tokens it received; its lag
// recorder pairs each with its commit-ack, so a lag is commit-ack to
// receipt.
type bareReader struct {
	lagRecorder
	offered  atomic.Int64 // changes offered to it
	received atomic.Int64 // changes received
	stop     context.CancelFunc
	exited   chan struct{}
	err      atomic.Pointer[error]
}

// got records the receipt of the change with token t.
func (b *bareReader) got(t gb.Token) {
	b.mu.Lock()
	b.appliedLocked(t, stamps{}, time.Now())
	b.mu.Unlock()
	b.received.Add(1)
}

func (b *bareReader) fail(err error) { b.err.Store(&err) }

// drain waits until every change offered has been received.
func (b *bareReader) drain(ctx context.Context) error {
	for b.received.Load() < b.offered.Load() {
		if p := b.err.Load(); p != nil {
			return *p
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bare reader: %d of %d received: %w", b.received.Load(), b.offered.Load(), ctx.Err())
		case <-b.exited:
			return errors.New("bare reader stopped")
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

func (b *bareReader) close() {
	b.stop()
	<-b.exited
}

// bareLogical starts a bare pglogrepl reader of table (schema.name, with
// id and token columns) on its own publication and slot, named name.
// It decodes pgoutput as cdc-invalidation does, hands nothing to anyone,
// and confirms the end of every transaction at most every
// cdcConfirmAfterCommit (and when the server asks).
func bareLogical(ctx context.Context, db *pgxpool.Pool, schema, table, name string) (*bareReader, func(), error) {
	tbl := pgx.Identifier{schema, table}.Sanitize()
	if _, err := db.Exec(ctx, "CREATE PUBLICATION "+name+" FOR TABLE "+tbl+" (id, token)"); err != nil {
		return nil, nil, err
	}
	if _, err := db.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", name); err != nil {
		return nil, nil, err
	}
	cleanup := func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = dropSlot(c, Env{DB: db}, name)
	}
	cfg := db.Config().ConnConfig.Config.Copy()
	delete(cfg.RuntimeParams, "statement_timeout")
	cfg.RuntimeParams["replication"] = "database"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	if err := pglogrepl.StartReplication(ctx, conn, name, 0, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names '" + name + "'"},
	}); err != nil {
		_ = conn.Close(ctx)
		cleanup()
		return nil, nil, err
	}
	rctx, stop := context.WithCancel(context.Background())
	b := &bareReader{stop: stop, exited: make(chan struct{})}
	nc := conn.Conn()
	stopWatch := context.AfterFunc(rctx, func() { _ = nc.SetReadDeadline(time.Unix(1, 0)) })
	go func() {
		defer close(b.exited)
		defer stopWatch()
		defer func() {
			c, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(c)
			cancel()
			cleanup()
		}()
		tokenCol := map[uint32]int{}
		var pos pglogrepl.LSN
		var lastSent time.Time
		confirm := false
		for {
			if confirm && time.Since(lastSent) >= cdcConfirmAfterCommit {
				if err := pglogrepl.SendStandbyStatusUpdate(rctx, conn, pglogrepl.StandbyStatusUpdate{WALWritePosition: pos}); err != nil {
					b.fail(err)
					return
				}
				lastSent, confirm = time.Now(), false
			}
			deadline := time.Now().Add(cdcStatusEvery)
			if confirm {
				deadline = lastSent.Add(cdcConfirmAfterCommit)
			}
			if rctx.Err() != nil || nc.SetReadDeadline(deadline) != nil {
				return
			}
			msg, err := conn.ReceiveMessage(context.Background())
			if err != nil {
				if rctx.Err() != nil {
					return
				}
				if pgconn.Timeout(err) {
					confirm = true
					continue
				}
				b.fail(err)
				return
			}
			cd, ok := msg.(*pgproto3.CopyData)
			if !ok || len(cd.Data) == 0 {
				continue
			}
			switch cd.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				pkm, err := pglogrepl.ParsePrimaryKeepaliveMessage(cd.Data[1:])
				if err == nil && pkm.ReplyRequested {
					confirm, lastSent = true, time.Time{}
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(cd.Data[1:])
				if err != nil {
					b.fail(err)
					return
				}
				lm, err := pglogrepl.Parse(xld.WALData)
				if err != nil {
					b.fail(err)
					return
				}
				switch m := lm.(type) {
				case *pglogrepl.RelationMessage:
					tokenCol[m.RelationID] = -1
					for i, c := range m.Columns {
						if c.Name == "token" {
							tokenCol[m.RelationID] = i
						}
					}
				case *pglogrepl.UpdateMessage:
					if i := tokenCol[m.RelationID]; m.NewTuple != nil && i >= 0 {
						if tok, ok := column(m.NewTuple, i); ok {
							b.got(gb.Token(tok))
						}
					}
				case *pglogrepl.CommitMessage:
					pos, confirm = m.TransactionEndLSN, true
				}
			}
		}
	}()
	return b, cleanup, nil
}

// bareListen starts a bare LISTEN reader of channel on a connection of
// its own: it parses every "key:token" payload, as notify-invalidation
// does, and DELs nothing.
func bareListen(ctx context.Context, db *pgxpool.Pool, channel string) (*bareReader, error) {
	conn, err := pgx.ConnectConfig(ctx, db.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	rctx, stop := context.WithCancel(context.Background())
	b := &bareReader{stop: stop, exited: make(chan struct{})}
	nc := conn.PgConn().Conn()
	stopWatch := context.AfterFunc(rctx, func() { _ = nc.SetReadDeadline(time.Unix(1, 0)) })
	go func() {
		defer close(b.exited)
		defer stopWatch()
		defer func() {
			c, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(c)
			cancel()
		}()
		for {
			n, err := conn.WaitForNotification(context.Background())
			if err != nil {
				if rctx.Err() == nil {
					b.fail(err)
				}
				return
			}
			_, tok, ok := strings.Cut(n.Payload, ":")
			if !ok {
				continue
			}
			t, err := strconv.ParseInt(tok, 10, 64)
			if err != nil {
				continue
			}
			b.got(gb.Token(t))
		}
	}()
	return b, nil
}
