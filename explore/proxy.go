package explore

import (
	"context"
	"fmt"
	"time"

	"github.com/ghostbench/ghostbench/internal/wire"
)

// connectionCommands are what a client sends while it opens a connection
// or checks it, not on an actor's behalf: they pass the proxies at once.
var connectionCommands = map[string]bool{
	"HELLO": true, "AUTH": true, "CLIENT": true, "SELECT": true, "PING": true, "READONLY": true,
	"RESET": true, "QUIT": true, "COMMAND": true, "INFO": true,
}

// startProxies puts proxies in front of the servers for a strategy
// process: its Redis commands and PostgreSQL statements become points as
// a Go strategy's do through its clients. The process is told the
// proxies' URLs (the harness's own connections go to the servers).
func (x *exploration) startProxies(ctx context.Context) (func(), error) {
	srv := x.opts.Servers
	stall := wire.StallLimit(2 * time.Second)
	rp, err := wire.Listen(ctx, wire.Redis, srv.Redis.Addr, x.e.gate, stall)
	if err != nil {
		return nil, fmt.Errorf("explore: Redis proxy: %w", err)
	}
	pp, err := wire.Listen(ctx, wire.Postgres, srv.Postgres.Addr, x.e.gate, stall)
	if err != nil {
		_ = rp.Close()
		return nil, fmt.Errorf("explore: PostgreSQL proxy: %w", err)
	}
	stop := func() { _ = rp.Close(); _ = pp.Close() }
	if x.e.redisURL, err = rp.URL(srv.Redis.URL); err == nil {
		x.e.pgURL, err = pp.URL(srv.Postgres.URL)
	}
	if err != nil {
		stop()
		return nil, fmt.Errorf("explore: %w", err)
	}
	return stop, nil
}

// gate is the proxies' Gate: a command the process sends while a
// scheduled actor's step runs is that actor's, and parks it; any other
// passes.
func (e *engine) gate(ctx context.Context, c wire.Command) wire.Action {
	t := e.cur.Load()
	if t == nil || connectionCommands[c.Name] {
		return wire.Forward
	}
	wp := &wirePoint{server: c.Server, name: c.Name, text: c.Text, pid: uint32(c.Backend)}
	ch := make(chan resumeMsg, 1)
	select {
	case t.events <- event{kind: evPark, point: wp.String(), wire: wp, resume: ch, proxy: true}:
	case <-ctx.Done():
		return wire.Unreachable
	}
	var r resumeMsg
	select {
	case r = <-ch:
	case <-ctx.Done():
		return wire.Unreachable
	}
	switch {
	case r.abort, r.fault == FaultUnreachable:
		return wire.Unreachable
	case r.fault == FaultLostReply:
		return wire.LoseReply
	case r.fault == FaultRefused, r.fault == FaultCommitFail:
		return wire.Refuse
	}
	return wire.Forward
}
