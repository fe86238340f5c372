package wire

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestDescribeRedis(t *testing.T) {
	tests := []struct {
		args []string
		name string
		keys []string
		text string
	}{
		{[]string{"set", "gb:x:0", strings.Repeat("v", 52), "PX", "60000"}, "SET", []string{"gb:x:0"}, "SET gb:x:0 <52 bytes> PX 60000"},
		{[]string{"GET", "gb:x:0"}, "GET", []string{"gb:x:0"}, "GET gb:x:0"},
		{[]string{"DEL", "a", "b"}, "DEL", []string{"a", "b"}, "DEL a b"},
		{[]string{"MSET", "a", "1", "b", "2"}, "MSET", []string{"a", "b"}, "MSET a <1 bytes> b <1 bytes>"},
		{[]string{"evalsha", "0123456789abcdef0123456789abcdef01234567", "2", "k1", "k2", "arg"}, "EVALSHA", []string{"k1", "k2"}, "EVALSHA 01234567… 2 k1 k2 arg"},
		{[]string{"EVAL", "return 1", "0"}, "EVAL", nil, "EVAL <8 bytes> 0"},
		{[]string{"BLPOP", "q1", "q2", "5"}, "BLPOP", []string{"q1", "q2"}, "BLPOP q1 q2 5"},
		{[]string{"XREAD", "COUNT", "1", "STREAMS", "s1", "s2", "0", "0"}, "XREAD", []string{"s1", "s2"}, "XREAD COUNT 1 STREAMS s1 s2 0 0"},
		{[]string{"ZUNIONSTORE", "dst", "2", "a", "b"}, "ZUNIONSTORE", []string{"dst", "a", "b"}, "ZUNIONSTORE dst 2 a b"},
		{[]string{"HELLO", "3", "AUTH", "default", "secret"}, "HELLO", nil, "HELLO 3 AUTH <7 bytes> <6 bytes>"},
		{[]string{"AUTH", "secret"}, "AUTH", nil, "AUTH <6 bytes>"},
		{[]string{"CLIENT", "SETINFO", "lib-name", "redis-py"}, "CLIENT", nil, "CLIENT SETINFO lib-name redis-py"},
		{[]string{"GET", "with space"}, "GET", []string{"with space"}, `GET "with space"`},
		{[]string{"EVAL", "x", "5", "k"}, "EVAL", []string{"k"}, "EVAL <1 bytes> 5 k"},
	}
	for _, tt := range tests {
		args := make([][]byte, len(tt.args))
		for i, a := range tt.args {
			args[i] = []byte(a)
		}
		c := describeRedis(args)
		if c.Name != tt.name || !reflect.DeepEqual(c.Keys, tt.keys) || c.Text != tt.text {
			t.Errorf("describeRedis(%q) = %q %q %q; want %q %q %q", tt.args, c.Name, c.Keys, c.Text, tt.name, tt.keys, tt.text)
		}
	}
	long := [][]byte{[]byte("DEL")}
	for range 100 {
		long = append(long, []byte("gb:some:key"))
	}
	if c := describeRedis(long); len(c.Text) > maxText+40 || !strings.Contains(c.Text, "more)") || len(c.Keys) != 100 {
		t.Errorf("a DEL of 100 keys described as %q (%d keys)", c.Text, len(c.Keys))
	}
}

func TestDescribePostgres(t *testing.T) {
	tests := []struct{ sql, name, text string }{
		{"UPDATE ghostbench.rows SET version = version + 1 WHERE id = $1", "UPDATE", "UPDATE ghostbench.rows ..."},
		{"select version, token, balance\n  from ghostbench.rows where id = $1", "SELECT", "SELECT ... FROM ghostbench.rows ..."},
		{"INSERT INTO t (a) VALUES ($1)", "INSERT", "INSERT INTO t ..."},
		{"delete from only t where a = 1", "DELETE", "delete from only t ..."},
		{"begin", "BEGIN", "begin"},
		{"  -- a comment\n COMMIT", "COMMIT", "COMMIT"},
		{"/* c */ (SELECT 1)", "SELECT", "SELECT 1)"},
		{"SELECT 1", "SELECT", "SELECT 1"},
		{"", "EMPTY", "(empty query)"},
		{"SET LOCAL statement_timeout = '" + strings.Repeat("9", 100) + "'", "SET", "SET LOCAL statement_timeout = '" + strings.Repeat("9", 46) + "..."},
	}
	for _, tt := range tests {
		c := describePostgres(tt.sql)
		if c.Name != tt.name || c.Text != tt.text {
			t.Errorf("describePostgres(%q) = %q %q; want %q %q", tt.sql, c.Name, c.Text, tt.name, tt.text)
		}
	}
}

func TestReadRequest(t *testing.T) {
	tests := []struct {
		in   string
		args []string
		err  bool
	}{
		{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", []string{"GET", "k"}, false},
		{"GET k\r\n", []string{"GET", "k"}, false},
		{"GET k\n", []string{"GET", "k"}, false},
		{"\r\n\r\n*0\r\nPING\r\n", []string{"PING"}, false},
		{`SET k "a\x41\n b" 'it\'s'` + "\r\n", []string{"SET", "k", "aA\n b", "it's"}, false},
		{"*1\r\n$-1\r\n", nil, true},
		{"*1\r\n:1\r\n", nil, true},
		{"*1\r\n$3\r\nGETX\r\n", nil, true},
		{"*1\n$3\r\nGET\r\n", nil, true},
		{`SET "unterminated` + "\r\n", nil, true},
		{"*2\r\n$3\r\nGET\r\n", nil, true}, // truncated
	}
	for _, tt := range tests {
		r, err := readRequest(bufio.NewReaderSize(strings.NewReader(tt.in), readerBuffer), nil)
		if tt.err {
			if err == nil {
				t.Errorf("readRequest(%q) = %q; want an error", tt.in, r.args)
			}
			continue
		}
		var got []string
		for _, a := range r.args {
			got = append(got, string(a))
		}
		if err != nil || !reflect.DeepEqual(got, tt.args) {
			t.Errorf("readRequest(%q) = %q, %v; want %q", tt.in, got, err, tt.args)
		}
	}
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		in    string
		typ   byte
		head  string
		count int64
	}{
		{"+OK\r\n", '+', "", -1},
		{"$-1\r\n", '$', "", -1},
		{"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", '*', "subscribe", 1},
		{">3\r\n$7\r\nMessage\r\n$2\r\nch\r\n$1\r\nx\r\n", '>', "message", -1},
		{"%1\r\n+a\r\n*2\r\n:1\r\n_\r\n", '%', "a", -1},
		{"|1\r\n+ttl\r\n:3\r\n$2\r\nhi\r\n", '$', "", -1},
		{"=7\r\ntxt:abc\r\n", '=', "", -1},
		{"~2\r\n#t\r\n,1.5\r\n", '~', "", -1},
		{"!3\r\nERR\r\n", '!', "", -1},
	}
	for _, tt := range tests {
		// Two frames back to back: the first must end where the second starts.
		br := bufio.NewReaderSize(strings.NewReader(tt.in+"+NEXT\r\n"), readerBuffer)
		r, err := readReply(br, nil)
		if err != nil || string(r.raw) != tt.in || r.typ != tt.typ || r.head != tt.head || r.count != tt.count {
			t.Errorf("readReply(%q) = %q %q %q %d, %v; want %q %q %d", tt.in, r.raw, r.typ, r.head, r.count, err, tt.typ, tt.head, tt.count)
		}
		if r2, err := readReply(br, nil); err != nil || string(r2.raw) != "+NEXT\r\n" {
			t.Errorf("after %q: next frame %q, %v", tt.in, r2.raw, err)
		}
	}
	for _, bad := range []string{"?1\r\n", "$5\r\nab\r\n", "*1\r\n", "+OK\n", "*2147483648\r\n"} {
		if r, err := readReply(bufio.NewReaderSize(strings.NewReader(bad), readerBuffer), nil); err == nil {
			t.Errorf("readReply(%q) = %q; want an error", bad, r.raw)
		}
	}
}

// FuzzReadRequest checks that the request reader never panics, that what
// it accepts it forwards as read, and that the arguments of a multibulk
// request survive being read again from its raw bytes.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "SET a \"b c\"\r\n", "*0\r\n\r\nPING\n", "*1\r\n$-5\r\n", `a "\x4" '\''` + "\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(in), readerBuffer)
		consumed := 0
		for {
			r, err := readRequest(br, nil)
			if err != nil {
				return
			}
			if len(r.args) == 0 {
				t.Fatalf("request with no argument from %q", in)
			}
			if !bytes.Contains(in[consumed:], r.raw) && r.raw[0] == '*' {
				t.Fatalf("raw %q is not in the input %q", r.raw, in[consumed:])
			}
			consumed = len(in) - br.Buffered()
			if r.raw[0] == '*' {
				again, err := readRequest(bufio.NewReaderSize(bytes.NewReader(r.raw), readerBuffer), nil)
				if err != nil || !reflect.DeepEqual(again.args, r.args) {
					t.Fatalf("re-reading %q = %q, %v; want %q", r.raw, again.args, err, r.args)
				}
			}
			_ = describeRedis(r.args)
		}
	})
}

// FuzzReadReply checks that the reply reader never panics and that the
// frames it returns are the input, cut at frame boundaries.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n:1\r\n", "*2\r\n$1\r\na\r\n*1\r\n_\r\n", "|1\r\n+a\r\n+b\r\n+c\r\n", ">2\r\n+x\r\n$-1\r\n", "%1\r\n+k\r\n+v\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(in), readerBuffer)
		var got []byte
		for {
			r, err := readReply(br, nil)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errProtocol) {
					t.Fatalf("unexpected error kind %v", err)
				}
				break
			}
			got = append(got, r.raw...)
			if !bytes.HasPrefix(in, got) {
				t.Fatalf("frames %q are not a prefix of the input %q", got, in)
			}
		}
	})
}

// FuzzPGMessages checks that the PostgreSQL message helpers never panic
// on what a client may send.
func FuzzPGMessages(f *testing.F) {
	f.Add(append(parseOnly("SELECT 1"), pgMessage('S')...))
	f.Add(pgMessage('B', []byte("p\x00s\x00"), []byte{0, 0, 0, 0, 0, 0}))
	f.Add(pgMessage('E', []byte{0}, []byte{0, 0, 0, 0}))
	f.Add(queryMsg("BEGIN"))
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _ = zMessages(in, false)
		br := bufio.NewReader(bytes.NewReader(in))
		for {
			m, err := readPGMessage(br, nil)
			if err != nil {
				return
			}
			switch m[0] {
			case 'P':
				_, sql, _ := parseMsg(m)
				_ = describePostgres(sql)
			case 'B':
				_, _, _ = bindMsg(m)
			case 'C', 'D':
				_, _, _ = targetMsg(m)
			case 'Q':
				sql, _, _ := cstring(m[5:])
				_ = describePostgres(sql)
			}
		}
	})
}

func TestProxyURL(t *testing.T) {
	gate := func(context.Context, Command) Action { return Forward }
	rp, err := Listen(context.Background(), Redis, "127.0.0.1:1", gate)
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	pp, err := Listen(context.Background(), Postgres, "127.0.0.1:1", gate)
	if err != nil {
		t.Fatal(err)
	}
	defer pp.Close()
	tests := []struct {
		p       *Proxy
		in, out string
		err     bool
	}{
		{rp, "redis://:pw@127.0.0.1:6379/0", "redis://:pw@" + rp.Addr() + "/0", false},
		{pp, "postgres://u:p@127.0.0.1:5432/db?sslmode=disable", "postgres://u:p@" + pp.Addr() + "/db?sslmode=disable", false},
		{pp, "postgres://u@h/db?sslmode=require", "", true},
		{rp, "postgres://u@h/db", "", true},
		{rp, "rediss://h:1", "", true},
		{pp, "%%", "", true},
	}
	for _, tt := range tests {
		got, err := tt.p.URL(tt.in)
		if tt.err != (err != nil) || got != tt.out {
			t.Errorf("URL(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.out, tt.err)
		}
	}
}

func TestListenErrors(t *testing.T) {
	gate := func(context.Context, Command) Action { return Forward }
	for _, tt := range []struct {
		server, addr string
		gate         Gate
		opts         []Option
		want         string
	}{
		{"mysql", "127.0.0.1:1", gate, nil, `server "mysql" unknown`},
		{Redis, "127.0.0.1:1", nil, nil, "gate is nil"},
		{Redis, "", gate, nil, "upstream address is empty"},
		{Redis, "127.0.0.1:1", gate, []Option{StallLimit(-1)}, "stall limit -1ns is negative"},
	} {
		p, err := Listen(context.Background(), tt.server, tt.addr, tt.gate, tt.opts...)
		if err == nil {
			p.Close()
			t.Errorf("Listen(%q, %q) succeeded; want an error", tt.server, tt.addr)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Listen(%q, %q) = %v; want it to say %q", tt.server, tt.addr, err, tt.want)
		}
	}
}
