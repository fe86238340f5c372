package faults_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// trackingConns counts the harness's tracking connections in CLIENT LIST.
func trackingConns(t *testing.T, r *rig) int {
	t.Helper()
	list, err := r.direct.ClientList(tctx(t)).Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, " name="+faults.TrackingClientName+" ") && strings.Contains(line, "flags=t") {
			n++
		}
	}
	return n
}

// TestRedisTrackingKill kills rueidis-csc's tracking connection and checks
// what rueidis promises: the local cache is flushed with the connection
// (nothing is left to go stale), reads keep answering, and a write during
// the window is seen by the next read.
func TestRedisTrackingKill(t *testing.T) {
	srv := servertest.Start(t)
	r := newRig(t, srv, "rueidis-csc", step("redis-tracking-kill", map[string]string{"every": "20ms"}))
	ctx := tctx(t)
	reader := gb.Actor{Kind: "reader", ID: 1}
	writer := gb.Actor{Kind: "writer", ID: 2}
	r.sess.Read(ctx, reader, 1) // miss: fills Redis
	if err := r.sess.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	r.sess.Read(ctx, reader, 1) // fills the local cache
	if _, _, ok := r.sess.PeekLocal(0, 1); !ok {
		t.Fatal("no local entry after two reads")
	}
	if n := trackingConns(t, r); n != 1 {
		t.Fatalf("%d tracking connections named %s, want 1", n, faults.TrackingClientName)
	}
	r.inject()
	err := within(5*time.Second, func(ctx context.Context) error {
		for {
			if _, _, ok := r.sess.PeekLocal(0, 1); !ok {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(time.Millisecond)
		}
	})
	if err != nil {
		t.Fatalf("the local entry survived the tracking connection's kill: %v", err)
	}
	if op := r.sess.Write(ctx, writer, 1, 501, 3); op.Err != nil {
		t.Fatalf("write during the kill window: %v", op.Err)
	}
	// Reads may fail while a kill lands; the first that succeeds must see
	// the write (its connection, if any, tracks anew).
	var got gb.Op
	for i := 0; i < 50; i++ {
		if got = r.sess.Read(ctx, reader, 1); got.Err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got.Err != nil || got.Value.Token != 501 {
		t.Fatalf("read after the write during the kill window = %v (err %v), want token 501", got.Value, got.Err)
	}
	r.heal()
	err = within(5*time.Second, func(ctx context.Context) error {
		for trackingConns(t, r) != 1 {
			r.sess.Read(ctx, reader, 2)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(10 * time.Millisecond)
		}
		return nil
	})
	if err != nil {
		t.Errorf("no tracking connection after heal: %v", err)
	}
}

// TestRedisTrackingKillHalfOpen kills one instance's tracking connection
// (connections=1: the newest, instance 1's) while the proxy hides the
// close from it (mode half-open): Redis forgets what that instance
// tracked, instance 0's write and DEL go through, and no invalidation
// reaches instance 1, which serves its old local copy. How long is up to its settings: the local
// TTL when that is short; with a long one, the time rueidis takes to
// notice the dead connection (its keepalive PING after Dialer.KeepAlive
// without traffic, timed out after ConnWriteTimeout). Every bound is
// derived from those settings; the test fails on code where the kill
// flushes the local cache (nothing stale) or where the stale copy
// outlives the bound.
func TestRedisTrackingKillHalfOpen(t *testing.T) {
	srv := servertest.Start(t)
	// A Redis timeout longer than the rig's, so that the connection check
	// (ConnWriteTimeout = 4 x the timeout, see strategies.rueidisOptions)
	// is well apart from the short local TTL.
	const timeout = 1500 * time.Millisecond
	const shortTTL = 2 * time.Second
	connWriteTimeout := 4 * timeout
	detect := 2*rueidis.DefaultTCPKeepAlive + connWriteTimeout // the idle connection's PING timed out
	// slack covers the clock readings on both sides of a cached reply's
	// expiry (rueidis's millisecond PXAT, our session clock) and one poll.
	const poll = 10 * time.Millisecond
	slack := 100*time.Millisecond + poll

	measure := func(t *testing.T, localTTL time.Duration) (stale int, maxAge time.Duration) {
		r := newRigWith(t, srv, "rueidis-csc", strategies.Params{"local-ttl": localTTL.String()},
			step("redis-tracking-kill", map[string]string{"mode": "half-open", "every": "0", "connections": "1"}),
			func(sc *scenarios.Scenario) {
				sc.Readers, sc.Writers, sc.Instances = 1, 1, 2
				sc.Timeouts.Redis = scenarios.Duration(timeout)
			})
		ctx := tctx(t)
		reader := gb.Actor{Kind: "reader", ID: 0, Instance: 1}
		writer := gb.Actor{Kind: "writer", ID: 1, Instance: 0}
		r.sess.Read(ctx, reader, 1) // miss: fills Redis
		if err := r.sess.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		r.sess.Read(ctx, reader, 1) // fills instance 1's local cache
		old, _, ok := r.sess.PeekLocal(1, 1)
		if !ok {
			t.Fatal("no local entry in instance 1 after two reads")
		}
		if n := trackingConns(t, r); n != 2 {
			t.Fatalf("%d tracking connections before the kill, want 2 (one per instance)", n)
		}
		r.inject()
		if n := trackingConns(t, r); n != 1 {
			t.Fatalf("%d tracking connections after killing one, want 1 (instance 0's)", n)
		}
		w := r.sess.Write(ctx, writer, 1, 501, 3)
		if w.Err != nil {
			t.Fatalf("write by the healthy instance: %v", w.Err)
		}
		err := within(detect+shortTTL+10*time.Second, func(ctx context.Context) error {
			for {
				op := r.sess.Read(ctx, reader, 1)
				if op.Err == nil {
					if op.Value.Token == 501 {
						return nil
					}
					if op.Value.Version > old.Version {
						return fmt.Errorf("read version %d, neither the old %d nor the write", op.Value.Version, old.Version)
					}
					stale++
					maxAge = max(maxAge, op.Invoke-w.Invoke)
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				time.Sleep(poll)
			}
		})
		if err != nil {
			t.Fatalf("instance 1 never read the write (stale reads %d, oldest at %v): %v", stale, maxAge, err)
		}
		r.heal()
		// After the heal the held connection is closed: the instance
		// tracks again on a new one.
		err = within(10*time.Second, func(ctx context.Context) error {
			for trackingConns(t, r) != 2 {
				r.sess.Read(ctx, reader, 2)
				if ctx.Err() != nil {
					return ctx.Err()
				}
				time.Sleep(poll)
			}
			return nil
		})
		if err != nil {
			t.Errorf("instance 1 did not track again after heal: %v", err)
		}
		return stale, maxAge
	}

	t.Run("short-local-ttl", func(t *testing.T) {
		stale, maxAge := measure(t, shortTTL)
		t.Logf("local-ttl %v: %d stale reads, oldest %v after the write began", shortTTL, stale, maxAge)
		if stale == 0 {
			t.Errorf("no stale read: the killed instance's local copy did not survive the kill")
		}
		if maxAge > shortTTL+slack {
			t.Errorf("stale read %v after the write, beyond local-ttl %v + %v", maxAge, shortTTL, slack)
		}
	})
	t.Run("long-local-ttl", func(t *testing.T) {
		const longTTL = time.Minute
		stale, maxAge := measure(t, longTTL)
		t.Logf("local-ttl %v: %d stale reads, oldest %v after the write began", longTTL, stale, maxAge)
		if maxAge <= shortTTL+slack {
			t.Errorf("oldest stale read %v after the write: not beyond the short local TTL's bound %v, so the local TTL bounded nothing", maxAge, shortTTL+slack)
		}
		// One keepalive interval more: the check's timers fire late on a
		// loaded machine, and the flush follows the timed-out PING.
		if bound := detect + rueidis.DefaultTCPKeepAlive + slack; maxAge > bound {
			t.Errorf("stale read %v after the write, beyond rueidis's dead-connection check (%v)", maxAge, bound)
		}
	})
}
