package wire_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/wire"
)

// Tests that speak RESP themselves, to check bytes on the wire.

// rawRedis dials addr and authenticates as s's URL says.
func rawRedis(t *testing.T, s *docker.Servers, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(nc)
	o, err := redis.ParseURL(s.Redis.URL)
	if err != nil {
		t.Fatal(err)
	}
	if o.Password != "" {
		user := o.Username
		if user == "" {
			user = "default"
		}
		fmt.Fprintf(nc, "AUTH %s %s\r\n", user, o.Password)
		if line, _ := br.ReadString('\n'); line != "+OK\r\n" {
			t.Fatalf("AUTH: %q", line)
		}
	}
	return nc, br
}

// expect reads len(want) bytes and compares them with want.
func expect(t *testing.T, br *bufio.Reader, want string) {
	t.Helper()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != want {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

func redisInline(t *testing.T, s *docker.Servers, direct *redis.Client) {
	rec := &recorder{}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate)
	nc, br := rawRedis(t, s, p.Addr())
	rec.take()
	// An inline pipeline, an empty line, a quoted argument and a
	// multibulk request written in two pieces.
	fmt.Fprint(nc, "SET wire:inline \"a b\"\r\n\r\nGET wire:inline\nDEL wire:inline wire:other\r\n*2\r\n$4\r\nE")
	time.Sleep(time.Millisecond)
	fmt.Fprint(nc, "CHO\r\n$2\r\nhi\r\n")
	expect(t, br, "+OK\r\n$3\r\na b\r\n:1\r\n$2\r\nhi\r\n")
	cmds := rec.take()
	if got, want := names(cmds), []string{"SET", "GET", "DEL", "ECHO"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("gated %v; want %v", got, want)
	}
	if got, want := cmds[2].Keys, []string{"wire:inline", "wire:other"}; !reflect.DeepEqual(got, want) {
		t.Errorf("DEL keys %v; want %v", got, want)
	}
	// Redis answers QUIT and closes: the answer still reaches the client.
	fmt.Fprint(nc, "QUIT\r\n")
	expect(t, br, "+OK\r\n")
	if b, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after QUIT read %q, %v; want the connection closed", b, err)
	}
}

func redisPush(t *testing.T, s *docker.Servers, direct *redis.Client) {
	rec := &recorder{}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate)
	nc, br := rawRedis(t, s, p.Addr())
	ctx := ctxT(t)
	if err := direct.Set(ctx, "wire:tracked", "v0", 0).Err(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(nc, "HELLO 3\r\n")
	if _, err := readFrame(br); err != nil { // the HELLO map
		t.Fatal(err)
	}
	fmt.Fprint(nc, "CLIENT TRACKING ON\r\nGET wire:tracked\r\n")
	expect(t, br, "+OK\r\n$2\r\nv0\r\n")
	if err := direct.Set(ctx, "wire:tracked", "v1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	expect(t, br, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$12\r\nwire:tracked\r\n")
	// The push was no reply: the next command still gets its own, and
	// losing a reply after a push loses that reply, not the push.
	rec.set(on("GET", "wire:tracked", wire.Refuse))
	fmt.Fprint(nc, "GET wire:tracked\r\nPING\r\n")
	expect(t, br, "-OOM command not allowed when used memory > 'maxmemory'.\r\n+PONG\r\n")
}

// readFrame reads one RESP frame, roughly: enough for a HELLO reply.
func readFrame(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return line, err
	}
	var n int
	switch line[0] {
	case '%':
		fmt.Sscanf(line[1:], "%d", &n)
		n *= 2
	case '*', '~', '>':
		fmt.Sscanf(line[1:], "%d", &n)
	case '$':
		fmt.Sscanf(line[1:], "%d", &n)
		if n < 0 {
			return line, nil
		}
		b := make([]byte, n+2)
		_, err := io.ReadFull(br, b)
		return line + string(b), err
	default:
		return line, nil
	}
	out := line
	for range n {
		f, err := readFrame(br)
		out += f
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func redisLongPipeline(t *testing.T, s *docker.Servers, direct *redis.Client) {
	// 300 GETSETs of 64 KiB: 19 MiB each way, far beyond the socket
	// buffers. The client writes them all before it reads a reply; the
	// proxy must go on reading requests while replies wait for the client,
	// as Redis does.
	rec := &recorder{}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate)
	nc, br := rawRedis(t, s, p.Addr())
	const n, size = 300, 64 << 10
	val := strings.Repeat("x", size)
	req := fmt.Sprintf("*3\r\n$6\r\nGETSET\r\n$9\r\nwire:long\r\n$%d\r\n%s\r\n", size, val)
	if err := direct.Set(ctxT(t), "wire:long", val, 0).Err(); err != nil {
		t.Fatal(err)
	}
	written := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(nc)
		for range n {
			if _, err := w.WriteString(req); err != nil {
				written <- err
				return
			}
		}
		written <- w.Flush()
	}()
	if err := <-written; err != nil {
		t.Fatalf("writing the pipeline: %v", err)
	}
	reply := fmt.Sprintf("$%d\r\n%s\r\n", size, val)
	for i := range n {
		got := make([]byte, len(reply))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != reply {
			t.Fatalf("reply %d: %v (%d bytes)", i, err, len(got))
		}
	}
}

// redisPubSub subscribes to two channels, receives a message, leaves
// both with a bare UNSUBSCRIBE and checks that a refusal that follows
// comes after every confirmation: the confirmations were matched to their
// commands, the message was not.
func redisPubSub(t *testing.T, s *docker.Servers, direct *redis.Client, proto int) {
	rec := &recorder{}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate)
	nc, br := rawRedis(t, s, p.Addr())
	ctx := ctxT(t)
	agg := "*"
	if proto == 3 {
		agg = ">"
		fmt.Fprint(nc, "HELLO 3\r\n")
		if _, err := readFrame(br); err != nil {
			t.Fatal(err)
		}
	}
	ch1, ch2 := fmt.Sprintf("wire:ch:%d:a", proto), fmt.Sprintf("wire:ch:%d:b", proto)
	fmt.Fprintf(nc, "SUBSCRIBE %s %s\r\n", ch1, ch2)
	confirm := func(kind, ch string, n int) string {
		return fmt.Sprintf("%s3\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n:%d\r\n", agg, len(kind), kind, len(ch), ch, n)
	}
	expect(t, br, confirm("subscribe", ch1, 1)+confirm("subscribe", ch2, 2))
	if err := direct.Publish(ctx, ch2, "hi").Err(); err != nil {
		t.Fatal(err)
	}
	expect(t, br, fmt.Sprintf("%s3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$2\r\nhi\r\n", agg, len(ch2), ch2))
	rec.set(on("PING", "", wire.Refuse))
	fmt.Fprint(nc, "UNSUBSCRIBE\r\nPING\r\n")
	var got []string
	for range 3 {
		f, err := readFrame(br)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f)
	}
	oom := "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
	if got[2] != oom || !strings.HasSuffix(got[0], ":1\r\n") && !strings.HasSuffix(got[0], ":0\r\n") || !strings.HasSuffix(got[1], ":0\r\n") {
		t.Fatalf("after UNSUBSCRIBE and a refused PING, read %q; want two confirmations, then the refusal", got)
	}
	rec.set(nil)
	fmt.Fprint(nc, "PING\r\n")
	expect(t, br, "+PONG\r\n")
}
