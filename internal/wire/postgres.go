package wire

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// refuseCommitSQL makes the client's COMMIT fail the way a deferred
// constraint does: it opens a transaction when none is open (a WARNING
// when one is) and leaves a deferred unique violation in it, so that the
// server itself rolls the transaction back at COMMIT and answers
// ErrorResponse then ReadyForQuery idle, for the simple and the extended
// protocol alike. The temporary table goes with the rollback.
const refuseCommitSQL = `BEGIN; ` +
	`CREATE TEMP TABLE IF NOT EXISTS ghostbench_commit_refusal (x int CONSTRAINT ghostbench_refused_commit UNIQUE DEFERRABLE INITIALLY DEFERRED); ` +
	`INSERT INTO pg_temp.ghostbench_commit_refusal VALUES (1), (1)`

// refuseSQL fails at parse analysis (the literal cannot be an integer), so
// that the server answers ErrorResponse without running anything and
// skips the rest of the batch up to Sync.
const refuseSQL = `SELECT 'ghostbench: statement refused'::int`

// pgConn relays one client connection. The client loop groups and gates
// messages; the server loop forwards responses, swallowing those of the
// proxy's own queries and those after a lost reply.
type pgConn struct {
	l   *link
	up  net.Conn
	uw  *bufio.Writer // to the server; client loop only
	out *outbox       // to the client

	open bool // extended-protocol messages sent since the last Sync; client loop only

	backend atomic.Int32 // the server's process id, from BackendKeyData

	mu      sync.Mutex
	swallow []bool // per ReadyForQuery still due, in order: the proxy's own query
	zSent   int64  // ReadyForQuery-producing messages sent
	zSeen   int64  // ReadyForQuery messages received for them
	stallAt int64  // responses after the stallAt-th ReadyForQuery are lost; -1 none
}

func servePostgres(l *link) {
	br := bufio.NewReaderSize(l.client, 64<<10)
	var pkt []byte
	var code uint32
	for {
		var err error
		pkt, code, err = readStartup(br, pkt)
		if err != nil {
			return
		}
		switch code {
		case pgSSLRequest, pgGSSENCRequest:
			// No encryption on loopback: the client goes on in plain text.
			if _, err := l.client.Write([]byte{'N'}); err != nil {
				return
			}
			continue
		case pgCancelRequest:
			// A cancel request is no statement: pass it on, let the server
			// close the connection.
			up, err := l.dial()
			if err != nil {
				return
			}
			if _, err := up.Write(pkt); err == nil {
				_, _ = io.Copy(io.Discard, up)
			}
			return
		}
		if code>>16 != 3 {
			return // protocol 2 and unknown requests: the server would refuse them too
		}
		break
	}
	up, err := l.dial()
	if err != nil {
		return
	}
	if _, err := up.Write(pkt); err != nil {
		return
	}
	c := &pgConn{l: l, up: up, uw: bufio.NewWriterSize(up, 32<<10),
		out: newOutbox(l.client, l.closeBoth), stallAt: -1}
	defer c.out.close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.responses()
		c.out.close() // what the server said before it closed reaches the client
		l.closeBoth()
	}()
	c.requests(br)
	l.closeBoth()
	wg.Wait()
}

// requests reads client messages, groups them into units that end with an
// Execute (and the Sync right behind it, when the client sent it along),
// a Query, a Sync or a Flush, gates the units that run a statement and
// sends them.
func (c *pgConn) requests(br *bufio.Reader) {
	stmts := map[string]string{}   // prepared statement -> SQL
	portals := map[string]string{} // portal -> SQL
	var unit []byte                // messages read, not yet sent
	lossy := false                 // a reply was lost: discard all but the batch's Sync
	for {
		start := len(unit)
		var err error
		if unit, err = readPGMessage(br, unit); err != nil {
			return
		}
		m := unit[start:]
		typ := m[0]
		if lossy {
			// Only the Sync that ends the lost statement's batch still
			// goes, so that its implicit transaction commits.
			switch {
			case typ == 'X':
				return
			case typ == 'S' && c.open:
				if c.send(m) != nil {
					return
				}
			}
			unit = unit[:0]
			continue
		}
		switch typ {
		case 'P':
			if name, sql, ok := parseMsg(m); ok {
				stmts[name] = sql
			}
			continue
		case 'B':
			if portal, stmt, ok := bindMsg(m); ok {
				portals[portal] = stmts[stmt]
			}
			continue
		case 'C':
			if kind, name, ok := targetMsg(m); ok {
				if kind == 'S' {
					delete(stmts, name)
				} else {
					delete(portals, name)
				}
			}
			continue
		case 'D':
			continue
		case 'E':
			portal, _, _ := cstring(m[5:])
			if br.Buffered() >= 5 {
				if b, _ := br.Peek(1); b[0] == 'S' {
					if unit, err = readPGMessage(br, unit); err != nil {
						return
					}
				}
			}
			done, lost := c.run(unit, portals[portal], false)
			if done {
				return
			}
			lossy = lost
		case 'Q':
			if start > 0 {
				if c.send(unit[:start]) != nil {
					return
				}
			}
			sql, _, _ := cstring(m[5:])
			done, lost := c.run(m, sql, true)
			if done {
				return
			}
			lossy = lost
		case 'X':
			_ = c.send(unit)
			return
		default:
			// Sync, Flush, FunctionCall, COPY data, password and SASL
			// messages: no statement of their own.
			if c.send(unit) != nil {
				return
			}
		}
		unit = unit[:0]
	}
}

// run gates the unit u that executes sql and carries the action out. It
// reports done when the connection must end, and lost when the reply was
// lost and the connection must stall.
func (c *pgConn) run(u []byte, sql string, query bool) (done, lost bool) {
	cmd := describePostgres(sql)
	cmd.Backend = int(c.backend.Load())
	act := c.l.decide(cmd)
	switch act {
	case Forward:
		return c.send(u) != nil, false
	case LoseReply:
		c.mu.Lock()
		c.stallAt = c.zSent
		c.mu.Unlock()
		return c.send(u) != nil, true
	case Refuse:
		switch {
		case cmd.Name == "COMMIT" || cmd.Name == "END":
			if c.open {
				// Inside an unsynced batch a Query cannot go first: the
				// connection goes, which rolls the transaction back too.
				return true, false
			}
			if c.sendSwallowed(queryMsg(refuseCommitSQL)) != nil {
				return true, false
			}
			return c.send(u) != nil, false
		case query:
			return c.send(queryMsg(refuseSQL)) != nil, false
		default:
			b := append(parseOnly(refuseSQL), u...)
			return c.send(b) != nil, false
		}
	}
	return true, false
}

// send writes b to the server, first counting the ReadyForQuery messages
// it will bring.
func (c *pgConn) send(b []byte) error {
	return c.sendAs(b, false)
}

// sendSwallowed sends the proxy's own query b, whose responses the client
// never sees.
func (c *pgConn) sendSwallowed(b []byte) error {
	return c.sendAs(b, true)
}

func (c *pgConn) sendAs(b []byte, swallow bool) error {
	z, open := zMessages(b, c.open)
	c.open = open
	c.mu.Lock()
	for range z {
		c.swallow = append(c.swallow, swallow)
	}
	c.zSent += int64(z)
	c.mu.Unlock()
	if _, err := c.uw.Write(b); err != nil {
		return err
	}
	return c.uw.Flush()
}

// responses forwards server messages to the client.
func (c *pgConn) responses() {
	br := bufio.NewReaderSize(c.up, 64<<10)
	var buf []byte
	for {
		var err error
		buf, err = readPGMessage(br, buf[:0])
		if err != nil {
			return
		}
		typ := buf[0]
		if typ == 'K' && len(buf) >= 9 {
			c.backend.Store(int32(binary.BigEndian.Uint32(buf[5:9])))
		}
		c.mu.Lock()
		drop := false
		switch {
		case c.stallAt >= 0 && c.zSeen >= c.stallAt:
			drop = true
		case len(c.swallow) > 0 && c.swallow[0]:
			// The proxy's own query; notifications and parameter changes
			// are the client's all the same.
			drop = typ != 'A' && typ != 'S'
		}
		if typ == 'Z' && len(c.swallow) > 0 {
			c.swallow = c.swallow[1:]
			c.zSeen++
			if c.stallAt >= 0 && c.zSeen == c.stallAt+1 {
				// The lost statement's batch is done (committed, if it
				// was to commit): only now may a StallLimit close it.
				c.l.stalled()
			}
		}
		c.mu.Unlock()
		if !drop {
			_ = c.out.write(buf)
		}
	}
}
