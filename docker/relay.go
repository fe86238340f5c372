package docker

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Relay is a TCP forwarder on 127.0.0.1 in front of one upstream address.
// The local provider routes replication links through one (the standby's
// connection to the PostgreSQL primary, the Redis replica's link to its
// primary), so that a fault can delay or cut the link without touching
// the servers. With no delay set it forwards bytes as they come.
//
// Methods are safe for concurrent use.
type Relay struct {
	name  string
	ln    net.Listener
	delay atomic.Int64 // time.Duration

	mu       sync.Mutex
	upstream string
	conns    map[*relayConn]struct{}
	closed   bool
	wg       sync.WaitGroup
}

// relayChunk is one read from one side, stamped with when it was read.
type relayChunk struct {
	data []byte
	at   time.Time
}

// relayConn is one connection through a relay, both of its sockets.
type relayConn struct {
	down, up net.Conn
	once     sync.Once
	done     chan struct{}
}

func (c *relayConn) close() {
	c.once.Do(func() {
		close(c.done)
		c.down.Close()
		c.up.Close()
	})
}

// startRelay listens on a free loopback port and forwards every accepted
// connection to upstream.
func startRelay(name, upstream string) (*Relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("relay %s: %w", name, err)
	}
	r := &Relay{name: name, upstream: upstream, ln: ln, conns: map[*relayConn]struct{}{}}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Name says which link the relay carries, e.g. "postgres-replication".
func (r *Relay) Name() string { return r.name }

// Addr is the relay's listening address, 127.0.0.1:port.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Upstream is the address the relay forwards to.
func (r *Relay) Upstream() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.upstream
}

// SetUpstream makes the relay forward to addr from now on and cuts the
// connections to the old upstream (their bytes are lost, as in Cut): a
// replication link that follows a failover to another primary. The delay
// stays as it was.
func (r *Relay) SetUpstream(addr string) {
	r.mu.Lock()
	same := r.upstream == addr
	r.upstream = addr
	r.mu.Unlock()
	if !same {
		r.Cut()
	}
}

// SetDelay holds every chunk of bytes crossing the relay, in both
// directions, for d after it was read before passing it on (0: none). It
// applies to bytes already queued too, in order.
func (r *Relay) SetDelay(d time.Duration) { r.delay.Store(int64(max(d, 0))) }

// Delay returns the delay SetDelay set.
func (r *Relay) Delay() time.Duration { return time.Duration(r.delay.Load()) }

// Cut closes every connection through the relay at once: the bytes queued
// in it are lost, as on a link that died. New connections are accepted as
// before (the servers reconnect).
func (r *Relay) Cut() {
	r.mu.Lock()
	conns := make([]*relayConn, 0, len(r.conns))
	for c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Close stops listening, closes every connection and waits for the
// relay's goroutines. It is idempotent.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	err := r.ln.Close()
	r.Cut()
	r.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		down, err := r.ln.Accept()
		if err != nil {
			return
		}
		addr := r.Upstream()
		up, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			down.Close()
			continue
		}
		c := &relayConn{down: down, up: up, done: make(chan struct{})}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			c.close()
			return
		}
		if r.upstream != addr { // SetUpstream while dialling: the old one
			r.mu.Unlock()
			c.close()
			continue
		}
		r.conns[c] = struct{}{}
		r.mu.Unlock()
		var both sync.WaitGroup
		both.Add(2)
		r.wg.Add(1)
		go r.pipe(c, down, up, &both)
		go r.pipe(c, up, down, &both)
		go func() {
			defer r.wg.Done()
			both.Wait()
			c.close()
			r.mu.Lock()
			delete(r.conns, c)
			r.mu.Unlock()
		}()
	}
}

// pipe copies src to dst through a queue, holding each chunk for the
// current delay. At EOF from src it delivers what is queued, then closes
// the connection; on any error, or when the connection is cut, queued
// bytes are dropped.
func (r *Relay) pipe(c *relayConn, src, dst net.Conn, both *sync.WaitGroup) {
	defer both.Done()
	q := make(chan relayChunk, 4096)
	go func() {
		defer close(q)
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case q <- relayChunk{data: append([]byte(nil), buf[:n]...), at: time.Now()}:
				case <-c.done:
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					c.close()
				}
				return
			}
		}
	}()
	for ch := range q {
		if d := time.Until(ch.at.Add(r.Delay())); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-c.done:
				t.Stop()
				return
			}
		}
		if _, err := dst.Write(ch.data); err != nil {
			c.close()
			return
		}
	}
	c.close()
}
