package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// Startup request codes of the PostgreSQL v3 protocol.
const (
	pgCancelRequest = 80877102
	pgSSLRequest    = 80877103
	pgGSSENCRequest = 80877104
)

// maxPGMessage bounds a message, as the server bounds most of them (1 GB).
const maxPGMessage = 1 << 30

var errPGProtocol = fmt.Errorf("PostgreSQL protocol error")

// readStartup reads a startup-phase packet (length, then body, no type
// byte) and returns it whole with its request code.
func readStartup(br *bufio.Reader, buf []byte) ([]byte, uint32, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, 0, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 8 || n > 10000 { // the server's own limit for startup packets
		return nil, 0, fmt.Errorf("%w: startup packet length %d", errPGProtocol, n)
	}
	raw := append(buf[:0], hdr[:]...)
	raw, err := readN(br, raw, int(n)-8)
	return raw, binary.BigEndian.Uint32(hdr[4:]), err
}

// readPGMessage reads one typed message (type byte, length, body) and
// appends it whole to buf.
func readPGMessage(br *bufio.Reader, buf []byte) ([]byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return buf, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n < 4 || n > maxPGMessage {
		return buf, fmt.Errorf("%w: message %q of length %d", errPGProtocol, hdr[0], n)
	}
	raw := append(buf, hdr[:]...)
	return readN(br, raw, int(n)-4)
}

// cstring splits a NUL-terminated string off b.
func cstring(b []byte) (string, []byte, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", nil, false
	}
	return string(b[:i]), b[i+1:], true
}

// parseMsg returns a Parse message's statement name and SQL.
func parseMsg(m []byte) (name, sql string, ok bool) {
	name, rest, ok := cstring(m[5:])
	if !ok {
		return "", "", false
	}
	sql, _, ok = cstring(rest)
	return name, sql, ok
}

// bindMsg returns a Bind message's portal and statement names.
func bindMsg(m []byte) (portal, stmt string, ok bool) {
	portal, rest, ok := cstring(m[5:])
	if !ok {
		return "", "", false
	}
	stmt, _, ok = cstring(rest)
	return portal, stmt, ok
}

// targetMsg returns the kind ('S' statement, 'P' portal) and name of a
// Close or Describe message.
func targetMsg(m []byte) (kind byte, name string, ok bool) {
	if len(m) < 6 {
		return 0, "", false
	}
	name, _, ok = cstring(m[6:])
	return m[5], name, ok
}

// pgMessage builds a message of type typ with the given body.
func pgMessage(typ byte, body ...[]byte) []byte {
	n := 4
	for _, b := range body {
		n += len(b)
	}
	m := make([]byte, 5, 1+n)
	m[0] = typ
	binary.BigEndian.PutUint32(m[1:], uint32(n))
	for _, b := range body {
		m = append(m, b...)
	}
	return m
}

// queryMsg builds a simple Query message.
func queryMsg(sql string) []byte {
	return pgMessage('Q', []byte(sql), []byte{0})
}

// parseOnly builds a Parse message for the unnamed statement.
func parseOnly(sql string) []byte {
	return pgMessage('P', []byte{0}, []byte(sql), []byte{0, 0, 0})
}

// zMessages counts the messages in b that the server answers with one
// ReadyForQuery each (Sync, Query, FunctionCall) and reports whether b
// leaves an extended-protocol batch open (messages after the last Sync).
func zMessages(b []byte, open bool) (z int, stillOpen bool) {
	for len(b) >= 5 {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		switch b[0] {
		case 'S':
			z++
			open = false
		case 'Q', 'F':
			z++
		case 'P', 'B', 'D', 'E', 'C', 'H':
			open = true
		}
		if n+1 > len(b) {
			break
		}
		b = b[1+n:]
	}
	return z, open
}
