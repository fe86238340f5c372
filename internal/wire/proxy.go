package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Server names a proxy's protocol: the Server of every Command it gates.
const (
	Redis    = "redis"
	Postgres = "postgres"
)

// Command is one client request a proxy holds before forwarding it.
type Command struct {
	// Server is "redis" or "postgres".
	Server string
	// Conn is the proxy's number for the client connection, from 1 in the
	// order the proxy accepted them.
	Conn int
	// Name is the upper-case command or statement verb: "GET", "SET",
	// "DEL", "EVALSHA", "HELLO", "BEGIN", "SELECT", "UPDATE", "COMMIT"...
	Name string
	// Text is a short one-line text for a timeline, values abbreviated:
	// `SET gb:x:0 <52 bytes> PX 60000`, `UPDATE ghostbench.rows ...`.
	Text string
	// Keys are the Redis keys the command names, when the proxy knows the
	// command's key positions; nil for PostgreSQL.
	Keys []string
	// Backend is the process id of the PostgreSQL backend serving the
	// connection (from its BackendKeyData), to look the session up in
	// pg_stat_activity (a statement waiting for a lock); 0 for Redis.
	Backend int
}

// Action is what a Gate decides for a Command.
type Action int

const (
	// Forward sends the command on and delivers its reply.
	Forward Action = iota
	// LoseReply sends the command on, so that it takes effect, and never
	// delivers its reply: replies to earlier commands on the connection are
	// delivered, then the connection stalls as a partition would. Later
	// requests on that connection are read and discarded, never gated nor
	// sent, until the client gives up (its read timeout) and closes; with
	// StallLimit the proxy closes the connection itself after a while.
	// For PostgreSQL the Sync that ends the lost statement's batch is
	// still sent (later statements of the batch are not), so that an
	// implicit transaction commits as it would have.
	LoseReply
	// Refuse does not send the command and answers as the server would
	// refuse it. Redis: "-OOM command not allowed when used memory >
	// 'maxmemory'.", in the place of the command's reply. PostgreSQL
	// COMMIT (or END): the server itself fails it as a deferred constraint
	// failing at COMMIT does: the transaction is rolled back, the client
	// gets an ErrorResponse (SQLSTATE 23505, constraint
	// ghostbench_refused_commit) and ReadyForQuery idle. Any other
	// PostgreSQL statement: the server fails it at parse time (SQLSTATE
	// 22P02, "ghostbench: statement refused") without running it, and an
	// open transaction is aborted.
	Refuse
	// Unreachable closes the client connection without sending the
	// command, as a connection reset does; the server end is closed too.
	Unreachable
)

// String returns the action's name: "forward", "lose-reply", "refuse" or
// "unreachable".
func (a Action) String() string {
	switch a {
	case Forward:
		return "forward"
	case LoseReply:
		return "lose-reply"
	case Refuse:
		return "refuse"
	case Unreachable:
		return "unreachable"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Gate decides what happens to one command. The proxy calls it from the
// client connection's own goroutine, before anything of the command is
// sent: calls for one connection come one at a time in the order of the
// connection's requests; calls for different connections may be
// concurrent. A Gate may block as long as it likes, but must return soon
// after ctx is done: when the proxy closes, or when the connection is torn
// down under it (its server closed it, a StallLimit ran out); Close waits
// for it. While a command is at the gate the proxy does not read that
// client, so a client that hangs up meanwhile is noticed only after the
// gate returns; a command let go then still reaches the server, as one
// sent just before a crash may. What the gate returns once ctx is done,
// and an Action out of range, are taken as Unreachable.
type Gate func(ctx context.Context, c Command) Action

// Option changes a proxy's behaviour.
type Option func(*config)

type config struct {
	stallLimit  time.Duration
	dialTimeout time.Duration
}

// StallLimit makes the proxy close a connection d after the reply it
// lost (LoseReply) came from the server, so after the command took effect,
// for clients that have no read timeout of their own (psycopg). The
// client then sees the connection closed instead of waiting. Zero, the
// default, keeps the connection stalled until the client closes it or the
// proxy closes.
func StallLimit(d time.Duration) Option {
	return func(c *config) { c.stallLimit = d }
}

// Proxy relays client connections of one protocol to one upstream server,
// holding every command at its Gate.
type Proxy struct {
	server   string
	upstream string
	gate     Gate
	cfg      config
	ln       net.Listener

	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	conns  map[int]func() // connection number -> closes both ends
	nextID int
	closed bool

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Listen starts a proxy for server ("redis" or "postgres") on a free
// loopback port (127.0.0.1:0) that relays every client connection to
// upstreamAddr (host:port), dialled when the client connects. A client
// whose upstream cannot be dialled is disconnected at once. gate decides
// every command; it must not be nil.
//
// The proxy stops when ctx is done or Close is called; Close must be
// called in both cases to release it. Listen returns an error naming the
// server for an unknown server name, a nil gate or a listener that cannot
// be opened.
func Listen(ctx context.Context, server, upstreamAddr string, gate Gate, opts ...Option) (*Proxy, error) {
	if server != Redis && server != Postgres {
		return nil, fmt.Errorf("wire: server %q unknown: want %q or %q", server, Redis, Postgres)
	}
	if gate == nil {
		return nil, fmt.Errorf("wire: %s proxy: gate is nil", server)
	}
	if upstreamAddr == "" {
		return nil, fmt.Errorf("wire: %s proxy: upstream address is empty", server)
	}
	cfg := config{dialTimeout: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.stallLimit < 0 {
		return nil, fmt.Errorf("wire: %s proxy: stall limit %v is negative", server, cfg.stallLimit)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("wire: %s proxy: %w", server, err)
	}
	pctx, cancel := context.WithCancel(ctx)
	p := &Proxy{server: server, upstream: upstreamAddr, gate: gate, cfg: cfg, ln: ln,
		ctx: pctx, cancel: cancel, conns: map[int]func(){}}
	p.wg.Add(2)
	go p.accept()
	go func() {
		defer p.wg.Done()
		<-pctx.Done()
		p.shutdown()
	}()
	return p, nil
}

// Addr returns the proxy's listening address, 127.0.0.1:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL returns serverURL (redis://... or postgres://..., as
// docker.Server.URL gives them) with its host and port replaced by the
// proxy's address, for a client process to connect through the proxy.
// It returns an error for a URL it cannot parse, one of another scheme
// than the proxy's server, and a PostgreSQL URL that requires TLS, which
// the proxy does not speak.
func (p *Proxy) URL(serverURL string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("wire: %s proxy: server URL: %w", p.server, err)
	}
	schemes := map[string][]string{Redis: {"redis"}, Postgres: {"postgres", "postgresql"}}[p.server]
	if !slices.Contains(schemes, u.Scheme) {
		return "", fmt.Errorf("wire: %s proxy: server URL scheme %q: want %s", p.server, u.Scheme, strings.Join(schemes, " or "))
	}
	if p.server == Postgres {
		switch m := u.Query().Get("sslmode"); m {
		case "", "disable", "allow", "prefer":
		default:
			return "", fmt.Errorf("wire: postgres proxy: sslmode %q requires TLS, which the proxy does not speak: want disable, allow or prefer", m)
		}
	}
	u.Host = p.Addr()
	return u.String(), nil
}

// Close stops the proxy: it closes the listener and every connection,
// cancels the context of pending Gate calls and waits for the proxy's
// goroutines, Gate calls included, to end. It returns nil, also when
// called again.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		p.cancel()
		p.shutdown()
		p.wg.Wait()
	})
	return nil
}

// shutdown closes the listener and every connection; the goroutines end
// on their own.
func (p *Proxy) shutdown() {
	p.mu.Lock()
	p.closed = true
	closers := make([]func(), 0, len(p.conns))
	for _, c := range p.conns {
		closers = append(closers, c)
	}
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range closers {
		c()
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || p.ctx.Err() != nil {
				return
			}
			// Out of file descriptors and the like: try again shortly,
			// as net/http does.
			select {
			case <-time.After(10 * time.Millisecond):
			case <-p.ctx.Done():
				return
			}
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		p.nextID++
		id := p.nextID
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(id, c)
	}
}

// serve runs one client connection to its end.
func (p *Proxy) serve(id int, client net.Conn) {
	defer p.wg.Done()
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	var mu sync.Mutex
	var up net.Conn
	closeBoth := func() {
		cancel()
		_ = client.Close()
		mu.Lock()
		if up != nil {
			_ = up.Close()
		}
		mu.Unlock()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = client.Close()
		return
	}
	p.conns[id] = closeBoth
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, id)
		p.mu.Unlock()
		closeBoth()
	}()
	dial := func() (net.Conn, error) {
		d := net.Dialer{Timeout: p.cfg.dialTimeout}
		c, err := d.DialContext(ctx, "tcp", p.upstream)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		up = c
		mu.Unlock()
		if ctx.Err() != nil { // closed while dialling
			_ = c.Close()
			return nil, ctx.Err()
		}
		return c, nil
	}
	link := &link{ctx: ctx, id: id, client: client, dial: dial, closeBoth: closeBoth, p: p}
	switch p.server {
	case Redis:
		serveRedis(link)
	case Postgres:
		servePostgres(link)
	}
}

// link is what a protocol handler gets for one client connection.
type link struct {
	p         *Proxy
	ctx       context.Context // done when the connection or the proxy ends
	id        int
	client    net.Conn
	dial      func() (net.Conn, error)
	closeBoth func()
}

// decide calls the gate and maps an out-of-range action to Unreachable.
// A done context also means Unreachable: the connection is going away.
func (l *link) decide(c Command) Action {
	c.Server, c.Conn = l.p.server, l.id
	a := l.p.gate(l.ctx, c)
	if l.ctx.Err() != nil || a < Forward || a > Unreachable {
		return Unreachable
	}
	return a
}

// stalled arms the stall limit for a connection that lost a reply.
func (l *link) stalled() {
	if d := l.p.cfg.stallLimit; d > 0 {
		t := time.AfterFunc(d, l.closeBoth)
		context.AfterFunc(l.ctx, func() { t.Stop() })
	}
}
