package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits on what the RESP reader accepts, as Redis itself limits them
// (proto-max-bulk-len 512 MB, inline requests of 64 KB).
const (
	maxBulk      = 512 << 20
	maxElements  = 1 << 24
	maxDepth     = 64
	maxInline    = 64 << 10
	readerBuffer = 64<<10 + 512
)

var errProtocol = errors.New("RESP protocol error")

// request is one client request: its raw bytes, to forward unchanged, and
// its arguments (slices of raw, or of a copy for inline requests).
type request struct {
	raw  []byte
	args [][]byte
}

// readRequest reads one client request: an array of bulk strings, or an
// inline command (a line of words). Empty inline lines and empty arrays,
// which Redis skips without a reply, are skipped here too. buf is reused
// for raw.
func readRequest(br *bufio.Reader, buf []byte) (request, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return request{}, err
		}
		if b[0] == '*' {
			r, err := readMultiBulk(br, buf[:0])
			if err == nil && len(r.args) == 0 {
				continue // "*0", "*-1": Redis reads on without a reply
			}
			return r, err
		}
		line, err := readLine(br, maxInline)
		if err != nil {
			return request{}, err
		}
		content := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		args, err := splitInline(content)
		if err != nil {
			return request{}, err
		}
		if len(args) == 0 {
			continue
		}
		raw := append(buf[:0], line...)
		return request{raw: raw, args: args}, nil
	}
}

func readMultiBulk(br *bufio.Reader, raw []byte) (request, error) {
	line, err := readLine(br, maxInline)
	if err != nil {
		return request{}, err
	}
	raw = append(raw, line...)
	body, err := crlfBody(line)
	if err != nil {
		return request{}, err
	}
	n, err := parseLen(body)
	if err != nil || n > maxElements {
		return request{}, fmt.Errorf("%w: invalid multibulk length %q", errProtocol, body)
	}
	if n <= 0 {
		return request{raw: raw}, nil
	}
	offs := make([][2]int, 0, min(n, 64))
	for i := int64(0); i < n; i++ {
		line, err := readLine(br, maxInline)
		if err != nil {
			return request{}, err
		}
		if line[0] != '$' {
			return request{}, fmt.Errorf("%w: expected '$', got %q", errProtocol, line[0])
		}
		raw = append(raw, line...)
		body, err := crlfBody(line)
		if err != nil {
			return request{}, err
		}
		l, err := parseLen(body)
		if err != nil || l < 0 || l > maxBulk {
			return request{}, fmt.Errorf("%w: invalid bulk length %q", errProtocol, body)
		}
		start := len(raw)
		if raw, err = readN(br, raw, int(l)+2); err != nil {
			return request{}, err
		}
		if !bytes.HasSuffix(raw, []byte("\r\n")) {
			return request{}, fmt.Errorf("%w: bulk string not followed by CRLF", errProtocol)
		}
		offs = append(offs, [2]int{start, start + int(l)})
	}
	args := make([][]byte, len(offs))
	for i, o := range offs {
		args[i] = raw[o[0]:o[1]:o[1]]
	}
	return request{raw: raw, args: args}, nil
}

// readN appends exactly n bytes from br to dst, growing it as data
// arrives so that a declared length alone allocates nothing.
func readN(br *bufio.Reader, dst []byte, n int) ([]byte, error) {
	for n > 0 {
		chunk := min(n, 64<<10)
		start := len(dst)
		dst = append(dst, make([]byte, chunk)...)
		if _, err := io.ReadFull(br, dst[start:]); err != nil {
			return dst, noEOF(err)
		}
		n -= chunk
	}
	return dst, nil
}

// readLine returns one line including its terminator, "\n" or "\r\n".
// The slice is valid until the next read from br.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: line longer than %d bytes", errProtocol, limit)
		}
		if len(line) > 0 {
			return nil, noEOF(err)
		}
		return nil, err
	}
	if len(line) > limit {
		return nil, fmt.Errorf("%w: line longer than %d bytes", errProtocol, limit)
	}
	return line, nil
}

// crlfBody returns a protocol line's content without its type byte and
// CRLF, or an error when it is not terminated by CRLF.
func crlfBody(line []byte) ([]byte, error) {
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line %q not terminated by CRLF", errProtocol, line)
	}
	return line[1 : len(line)-2], nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func parseLen(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, errProtocol
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// splitInline splits an inline request into arguments the way Redis does
// (sdssplitargs): words separated by blanks, "double quotes" with
// backslash escapes (\n \r \t \b \a \\ \" \xHH) and 'single quotes'
// with \' only.
func splitInline(line []byte) ([][]byte, error) {
	var args [][]byte
	i := 0
	for {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		if i >= len(line) {
			return args, nil
		}
		var cur []byte
		inDQ, inSQ := false, false
		for done := false; !done; {
			if inDQ {
				if i >= len(line) {
					return nil, fmt.Errorf("%w: unbalanced quotes in inline request", errProtocol)
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					v, _ := strconv.ParseUint(string(line[i+2:i+4]), 16, 8)
					cur = append(cur, byte(v))
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					switch line[i] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[i])
					}
				case c == '"':
					if i+1 < len(line) && !isBlank(line[i+1]) {
						return nil, fmt.Errorf("%w: closing quote must be followed by a space", errProtocol)
					}
					done = true
				default:
					cur = append(cur, c)
				}
			} else if inSQ {
				if i >= len(line) {
					return nil, fmt.Errorf("%w: unbalanced quotes in inline request", errProtocol)
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					cur = append(cur, '\'')
				case c == '\'':
					if i+1 < len(line) && !isBlank(line[i+1]) {
						return nil, fmt.Errorf("%w: closing quote must be followed by a space", errProtocol)
					}
					done = true
				default:
					cur = append(cur, c)
				}
			} else {
				if i >= len(line) {
					break
				}
				switch c := line[i]; {
				case isBlank(c):
					done = true
				case c == '"':
					inDQ = true
				case c == '\'':
					inSQ = true
				default:
					cur = append(cur, c)
				}
			}
			if i < len(line) {
				i++
			}
		}
		if cur == nil {
			cur = []byte{}
		}
		args = append(args, cur)
	}
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == 0
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// reply is one server frame: its raw bytes and what the proxy needs to
// match it to a command.
type reply struct {
	raw   []byte
	typ   byte   // first byte: '+', '-', '*', '>', ...; of the value after an attribute
	head  string // first element of an aggregate when it is a string, lower-cased
	count int64  // third element of a 3-element aggregate when an integer (subscription count), else -1
}

// isError reports whether the frame is an error reply.
func (r reply) isError() bool { return r.typ == '-' || r.typ == '!' }

// readReply reads one complete server frame of RESP2 or RESP3 (an
// attribute '|' and the value it precedes are one frame) and appends its
// bytes to buf.
func readReply(br *bufio.Reader, buf []byte) (reply, error) {
	r := reply{count: -1}
	raw, typ, err := readValue(br, buf[:0], 0, &r)
	r.raw, r.typ = raw, typ
	return r, err
}

// readValue appends one value to raw. When top is non-nil it records the
// head and count of an aggregate there.
func readValue(br *bufio.Reader, raw []byte, depth int, top *reply) ([]byte, byte, error) {
	if depth > maxDepth {
		return raw, 0, fmt.Errorf("%w: nesting deeper than %d", errProtocol, maxDepth)
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return raw, 0, fmt.Errorf("%w: line too long", errProtocol)
		}
		if len(line) > 0 || depth > 0 {
			return raw, 0, noEOF(err)
		}
		return raw, 0, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return raw, 0, fmt.Errorf("%w: line %q not terminated by CRLF", errProtocol, line)
	}
	raw = append(raw, line...)
	typ := line[0]
	body := line[1 : len(line)-2]
	switch typ {
	case '+', '-', ':', '_', '#', ',', '(':
		return raw, typ, nil
	case '$', '!', '=':
		n, err := parseLen(body)
		if err != nil || n > maxBulk || n < -1 {
			return raw, typ, fmt.Errorf("%w: invalid bulk length %q", errProtocol, body)
		}
		if n == -1 {
			return raw, typ, nil
		}
		if raw, err = readN(br, raw, int(n)+2); err != nil {
			return raw, typ, err
		}
		if !bytes.HasSuffix(raw, []byte("\r\n")) {
			return raw, typ, fmt.Errorf("%w: bulk string not followed by CRLF", errProtocol)
		}
		return raw, typ, nil
	case '*', '~', '>', '%', '|':
		n, err := parseLen(body)
		if err != nil || n > maxElements || n < -1 {
			return raw, typ, fmt.Errorf("%w: invalid aggregate length %q", errProtocol, body)
		}
		if typ == '%' || typ == '|' {
			n *= 2
		}
		for i := int64(0); i < n; i++ {
			start := len(raw)
			var et byte
			if raw, et, err = readValue(br, raw, depth+1, nil); err != nil {
				return raw, typ, err
			}
			if top != nil && typ != '|' {
				el := raw[start:]
				switch {
				case i == 0 && (et == '$' || et == '+'):
					top.head = string(bytes.ToLower(stringOf(el)))
				case i == 2 && n == 3 && et == ':':
					if v, err := strconv.ParseInt(string(el[1:len(el)-2]), 10, 64); err == nil {
						top.count = v
					}
				}
			}
		}
		if typ == '|' { // the attribute precedes the real value
			return readValue(br, raw, depth+1, top)
		}
		return raw, typ, nil
	}
	return raw, typ, fmt.Errorf("%w: unknown type byte %q", errProtocol, typ)
}

// stringOf returns the content of a simple or bulk string frame.
func stringOf(el []byte) []byte {
	if el[0] == '+' {
		return el[1 : len(el)-2]
	}
	i := bytes.IndexByte(el, '\n')
	if i < 0 || len(el) < i+3 {
		return nil
	}
	return el[i+1 : len(el)-2]
}
