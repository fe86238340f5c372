package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ghostbench/ghostbench/fault"
)

// adminAppName is the application_name of the faults' own PostgreSQL
// sessions (pg-conn-kill spares them: they are not in the run's pool).
const adminAppName = fault.HarnessAppName + "-faults"

// pgAttempt bounds one PostgreSQL confirmation attempt: a round trip on a
// loaded server takes tens of milliseconds, a connection setup hundreds.
const pgAttempt = time.Second

// pgSession is a PostgreSQL session of a fault's own, opened when the fault
// is built (before the load starts) so that using it during the run costs
// a round trip, not a connection setup (about 50ms on an idle local
// server, several hundred under load: enough to shift a recorded window).
// It reconnects when the session was lost. Statements given to open are
// prepared up front for the same reason.
type pgSession struct {
	url     string
	prepare []string

	mu   sync.Mutex
	conn *pgx.Conn
}

// openSession connects to url and prepares the statements.
func openSession(ctx context.Context, url string, prepare ...string) (*pgSession, error) {
	s := &pgSession{url: url, prepare: prepare}
	if err := s.connectLocked(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *pgSession) connectLocked(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(s.url)
	if err != nil {
		return errors.New("malformed PostgreSQL URL")
	}
	cfg.ConnectTimeout = 5 * time.Second
	cfg.RuntimeParams["application_name"] = adminAppName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	for _, sql := range s.prepare {
		// Named by its own text, pgx uses the prepared statement for it.
		if _, err := conn.Prepare(ctx, sql, sql); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("prepare: %w", err)
		}
	}
	s.conn = conn
	return nil
}

// do runs f on the session, connecting first when the connection was lost
// (pgx closes it on a network error or an interrupted query; an error of
// f's own leaves it open).
func (s *pgSession) do(ctx context.Context, f func(conn *pgx.Conn) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil || s.conn.IsClosed() {
		if err := s.connectLocked(ctx); err != nil {
			return err
		}
	}
	return f(s.conn)
}

// Close ends the session; it is idempotent.
func (s *pgSession) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.conn.Close(ctx)
		s.conn = nil
	}
	return nil
}

// answers returns a check that PostgreSQL answers a query on the session.
func (s *pgSession) answers(what string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		return pollEvery(ctx, what, pgAttempt, func(ctx context.Context) error {
			return s.do(ctx, func(conn *pgx.Conn) error {
				var one int
				return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
			})
		})
	}
}
