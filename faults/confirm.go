package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ghostbench/ghostbench/docker"
)

// pollInterval is the pause between two confirmation attempts.
const pollInterval = 5 * time.Millisecond

// attemptTimeout bounds one confirmation attempt (a PING, a dial).
const attemptTimeout = 250 * time.Millisecond

// poll calls try, each attempt bounded by attemptTimeout, until it returns
// nil or ctx ends; the error then names what was being confirmed and the
// last failure.
func poll(ctx context.Context, what string, try func(ctx context.Context) error) error {
	return pollEvery(ctx, what, attemptTimeout, try)
}

// pollEvery is poll with attempts bounded by attempt.
func pollEvery(ctx context.Context, what string, attempt time.Duration, try func(ctx context.Context) error) error {
	var last error
	for {
		actx, cancel := context.WithTimeout(ctx, attempt)
		last = try(actx)
		cancel()
		if last == nil {
			return nil
		}
		t := time.NewTimer(pollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("confirm %s: %w (last attempt: %v)", what, context.Cause(ctx), last)
		case <-t.C:
		}
	}
}

// redisAnswers waits until Redis answers PING at every one of addrs (the
// server itself, and the proxy in front of it when there is one).
func redisAnswers(ctx context.Context, addrs ...string) error {
	for _, a := range addrs {
		if a == "" {
			continue
		}
		if err := poll(ctx, "Redis answers PING at "+a, func(ctx context.Context) error { return docker.PingRedis(ctx, a) }); err != nil {
			return err
		}
	}
	return nil
}

// redisBack waits until Redis answers PING at every one of addrs (the
// server, the proxy in front of it) and then through the run's own client,
// the path the strategies use. The last step matters: after PoolSize
// failed dials go-redis fails every new connection at once with the last
// dial error, and retries in the background only once a second, so for up
// to a second after the server is back every operation of the run still
// fails. The window closes when the run can use Redis again.
func (e Env) redisBack(ctx context.Context, addrs ...string) error {
	if err := redisAnswers(ctx, addrs...); err != nil {
		return err
	}
	if e.Redis == nil {
		return nil
	}
	return poll(ctx, "the run's Redis client answers PING", func(ctx context.Context) error {
		return e.Redis.Ping(ctx).Err()
	})
}

// refused waits until nothing accepts connections at addr.
func refused(ctx context.Context, addr string) error {
	return poll(ctx, "nothing listens at "+addr, func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return errors.New("a connection was accepted")
		}
		if ctx.Err() != nil {
			return err // a dial timeout is not a refusal
		}
		return nil
	})
}

// proxyAddr returns p's address, "" for a nil proxy.
func proxyAddr(p *Proxy) string {
	if p == nil {
		return ""
	}
	return p.Addr()
}
