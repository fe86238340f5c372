package wire

import (
	"bufio"
	"net"
	"strconv"
	"sync"
)

// oomReply is Redis's answer to a write refused under maxmemory.
const oomReply = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"

// A transaction with a refused command fails at EXEC, as Redis fails one
// whose command it refused while queueing: the proxy sends DISCARD in its
// place and answers EXECABORT.
const (
	discardRequest = "*1\r\n$7\r\nDISCARD\r\n"
	execAbortReply = "-EXECABORT Transaction discarded because of previous errors.\r\n"
)

// pending is a command sent (or refused) whose reply the client has not
// yet been given.
type pending struct {
	act     Action // Forward, LoseReply or Refuse
	synth   []byte // the reply to give for Refuse
	want    int    // reply frames still due
	open    bool   // UNSUBSCRIBE without channels: confirmations until count 0
	kind    string // (un)subscribe confirmation kind, "" for other commands
	hello   int    // protocol version asked by HELLO, 0 otherwise
	reset   bool   // RESET
	replace []byte // the reply to deliver instead of the server's
}

// redisConn relays one client connection. The request loop gates and
// sends; the reply loop matches server frames to the pending queue.
type redisConn struct {
	l   *link
	up  net.Conn
	out *outbox // to the client

	mu         sync.Mutex
	queue      []*pending
	resp3      bool // the connection speaks RESP3 (HELLO 3 succeeded)
	subscribed bool // RESP2 connection in subscribed mode
	stalled    bool // a reply was lost: nothing more reaches the client
}

func serveRedis(l *link) {
	up, err := l.dial()
	if err != nil {
		return
	}
	c := &redisConn{l: l, up: up, out: newOutbox(l.client, l.closeBoth)}
	defer c.out.close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.replies()
		c.out.close() // what the server said before it closed reaches the client
		l.closeBoth()
	}()
	c.requests()
	l.closeBoth()
	wg.Wait()
}

// requests reads client requests, gates each and sends or answers it.
func (c *redisConn) requests() {
	br := bufio.NewReaderSize(c.l.client, readerBuffer)
	uw := bufio.NewWriterSize(c.up, 32<<10)
	var buf []byte
	cut := false // a reply was lost: read and discard until the client leaves
	// multi: inside MULTI; aborted: a command of it was refused.
	multi, aborted := false, false
	for {
		req, err := readRequest(br, buf)
		if err != nil {
			return
		}
		buf = req.raw[:0]
		if cut {
			continue
		}
		cmd := describeRedis(req.args)
		act := c.l.decide(cmd)
		switch act {
		case Unreachable:
			return
		case Refuse:
			aborted = aborted || multi
			c.mu.Lock()
			c.queue = append(c.queue, &pending{act: Refuse, synth: []byte(oomReply)})
			c.flushHead()
			c.mu.Unlock()
			continue
		}
		p := &pending{act: act, want: 1}
		switch kind := subscribeKind(cmd.Name); {
		case kind != "":
			p.kind, p.want = kind, max(len(req.args)-1, 1)
			p.open = len(req.args) == 1 && !isSubscribing(kind)
		case cmd.Name == "HELLO" && len(req.args) > 1:
			if v, err := strconv.Atoi(string(req.args[1])); err == nil {
				p.hello = v
			}
		case cmd.Name == "RESET":
			p.reset = true
			multi, aborted = false, false
		case cmd.Name == "MULTI":
			multi = true
		case cmd.Name == "EXEC" && aborted:
			req.raw, p.replace = []byte(discardRequest), []byte(execAbortReply)
			fallthrough
		case cmd.Name == "EXEC" || cmd.Name == "DISCARD":
			multi, aborted = false, false
		}
		c.mu.Lock()
		c.queue = append(c.queue, p)
		if isSubscribing(p.kind) {
			c.subscribed = true
		}
		c.flushHead()
		c.mu.Unlock()
		if _, err := uw.Write(req.raw); err != nil {
			return
		}
		// Requests the client pipelined are gated one by one: each is
		// sent before the next gate call, so the server receives them in
		// gate order.
		if err := uw.Flush(); err != nil {
			return
		}
		if act == LoseReply {
			cut = true
		}
	}
}

// replies reads server frames and delivers, drops or matches them.
func (c *redisConn) replies() {
	br := bufio.NewReaderSize(c.up, readerBuffer)
	var buf []byte
	for {
		r, err := readReply(br, buf)
		if err != nil {
			return
		}
		buf = r.raw[:0]
		c.mu.Lock()
		c.deliver(r)
		c.mu.Unlock()
	}
}

// deliver handles one server frame. c.mu is held.
func (c *redisConn) deliver(r reply) {
	c.flushHead()
	push := r.typ == '>' || c.subscribed && !c.resp3 && r.typ == '*' && isMessage(r.head)
	if len(c.queue) > 0 && c.queue[0].kind != "" {
		// An (un)subscribe command: its confirmations, one per channel,
		// are arrays in RESP2 and pushes in RESP3, of its own kind.
		p := c.queue[0]
		switch {
		case r.isError(), (r.typ == '*' || r.typ == '>') && r.head == p.kind:
			c.answer(p, r)
			if r.count == 0 && !isSubscribing(p.kind) {
				c.subscribed = false // no subscription left
			}
			p.want--
			if r.isError() || p.open && r.count == 0 || !p.open && p.want <= 0 {
				c.queue = c.queue[1:]
				c.flushHead()
			}
			return
		case p.open && !push:
			// UNSUBSCRIBE with no channel got all its confirmations.
			c.queue = c.queue[1:]
			c.deliver(r)
			return
		}
	}
	if push || len(c.queue) == 0 {
		// Out of band (a push, a RESP2 pub/sub message), or answering no
		// command (MONITOR, CLIENT REPLY OFF): pass it on.
		c.write(r.raw)
		return
	}
	p := c.queue[0]
	c.answer(p, r)
	if !r.isError() {
		switch {
		case p.hello == 2 || p.hello == 3:
			c.resp3 = p.hello == 3
		case p.reset:
			c.resp3, c.subscribed = false, false
		}
	}
	if p.want--; p.want <= 0 {
		c.queue = c.queue[1:]
	}
	c.flushHead()
}

// answer delivers or loses a reply to p. c.mu is held.
func (c *redisConn) answer(p *pending, r reply) {
	switch {
	case p.act == Forward && p.replace != nil:
		c.write(p.replace)
	case p.act == Forward:
		c.write(r.raw)
	case p.act == LoseReply && !c.stalled:
		c.stalled = true
		c.l.stalled()
	}
}

// flushHead answers the refused commands at the head of the queue.
// c.mu is held.
func (c *redisConn) flushHead() {
	for len(c.queue) > 0 && c.queue[0].act == Refuse {
		c.write(c.queue[0].synth)
		c.queue = c.queue[1:]
	}
}

// write queues bytes for the client unless the connection stalled.
// c.mu is held.
func (c *redisConn) write(b []byte) {
	if !c.stalled {
		_ = c.out.write(b)
	}
}

func isMessage(head string) bool {
	return head == "message" || head == "pmessage" || head == "smessage"
}

func isSubscribing(kind string) bool {
	return kind == "subscribe" || kind == "psubscribe" || kind == "ssubscribe"
}
