package strategies

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	gb "github.com/ghostbench/ghostbench"
)

// notifyDrainEvery is how long Drain waits for its marker before it sends
// another (the listener may have been reconnecting when it sent the last).
const notifyDrainEvery = 200 * time.Millisecond

// notifyInvalidation invalidates through PostgreSQL's LISTEN/NOTIFY: the
// write transaction calls pg_notify(channel, 'key:token') (the store's
// in-transaction callback), so the notification is delivered if and only
// if the write commits, after it commits; a listener on a dedicated
// connection DELs the key.
//
// NOTIFY is not a log: the server delivers a notification only to
// sessions listening when it is committed. While the listener is
// disconnected (killed, a network fault, reconnecting) every write's
// notification is lost and its key stays stale until its TTL. The
// listener reconnects with a capped backoff and listens again; nothing
// brings back what was sent meanwhile.
//
// A reader takes the notifications off the connection while an applier
// sends the DELs of all those that arrived during its previous pipeline
// as one pipeline (at most delBatchMax), so the listener keeps up with
// any rate a pipeline can absorb. A pipeline that fails is retried whole until it succeeds, at most
// retryBackoffMax apart, as a log consumer would: after a Redis outage the
// listener resumes within about that long and works off what the server
// queued for it meanwhile in full pipelines.
//
// The channel (gbnotify_<schema>_<random>) is unique to the instance. Drain
// sends a marker notification on the same channel and waits until the
// listener has received it: notifications are delivered in commit order,
// so every earlier one that was delivered at all has then been applied.
// Reads are cache-aside's. The invalidation lag (commit-ack to DEL) is
// measured per write (LagReporter), and by stage (LagStageReporter):
// commit-to-received (a notification carries no send time) and
// received-to-applied.
type notifyInvalidation struct {
	fillRead
	lagRecorder
	channel string
	listen  *pgx.ConnConfig
	pace    *pacer

	ctx    context.Context // the listener's; cancelled by Close
	cancel context.CancelFunc
	exited chan struct{}
	closed sync.Once

	mu         sync.Mutex
	markers    uint64        // drain markers sent
	seen       uint64        // highest drain marker received
	progress   chan struct{} // closed and replaced on a marker or a new LISTEN
	pid        uint32        // the listener's backend, 0 while disconnected
	reconnects int
}

func newNotifyInvalidation(env Env) (gb.Strategy, error) {
	if env.DB == nil || env.Store == nil {
		return nil, errors.New("notify-invalidation needs Env.DB and Env.Store")
	}
	channel, err := instanceName("gbnotify", env.Store.Schema())
	if err != nil {
		return nil, err
	}
	pace, err := newPacer(env.Params)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &notifyInvalidation{
		fillRead: fillRead{env: env, cache: NewCache(env)},
		channel:  channel,
		listen:   env.DB.Config().ConnConfig.Copy(),
		pace:     pace,
		ctx:      gb.WithActor(ctx, gb.Actor{Kind: "worker"}),
		cancel:   cancel,
		exited:   make(chan struct{}),
		progress: make(chan struct{}),
	}
	s.setStages(notifyStages)
	// Wait for the first LISTEN, so that no write of the run can be sent
	// before anybody listens.
	ready := s.progressChan()
	go s.run()
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-ready:
		return s, nil
	case <-t.C:
		s.Close()
		return nil, fmt.Errorf("notify-invalidation: the listener did not LISTEN on %s within 10s", channel)
	}
}

// Channel returns the notification channel.
func (s *notifyInvalidation) Channel() string { return s.channel }

// ListenerPID returns the backend process id of the listener's connection,
// 0 while it is disconnected.
func (s *notifyInvalidation) ListenerPID() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pid
}

// Reconnects returns how often the listener has reconnected.
func (s *notifyInvalidation) Reconnects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reconnects
}

func (s *notifyInvalidation) Write(ctx context.Context, req gb.WriteRequest) error {
	payload := strconv.FormatInt(int64(req.Key), 10) + ":" + strconv.FormatInt(int64(req.Token), 10)
	_, err := s.env.Store.Write(ctx, req, func(ctx context.Context, tx pgx.Tx, _ gb.Value) error {
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", s.channel, payload); err != nil {
			return gb.Postgres(fmt.Errorf("write key %d: pg_notify: %w", req.Key, err))
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.ack(req.Token, time.Now())
	return nil
}

func (s *notifyInvalidation) logf(format string, args ...any) {
	if s.env.Log != nil {
		s.env.Log.Debug(fmt.Sprintf(format, args...), "strategy", "notify-invalidation", "channel", s.channel)
	}
}

func (s *notifyInvalidation) progressChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progress
}

// signalLocked wakes the drainers; s.mu must be held.
func (s *notifyInvalidation) signalLocked() {
	close(s.progress)
	s.progress = make(chan struct{})
}

// run listens until Close, reconnecting with a capped backoff.
func (s *notifyInvalidation) run() {
	defer close(s.exited)
	reconnectLoop(s.ctx, s.listenOnce, func(err error) {
		s.logf("listener connection ended, reconnecting: %v", err)
		s.mu.Lock()
		s.reconnects++
		s.mu.Unlock()
	})
}

// listenOnce runs one listener connection; listened reports whether it got
// as far as LISTEN (for the backoff). Its reader hands every notification
// to an applier that DELs in pipelines; a drain marker passes through the
// applier too, so that it counts as seen only once every notification
// before it has been applied.
func (s *notifyInvalidation) listenOnce(ctx context.Context) (listened bool, err error) {
	a := newApplier(&s.env, s.cache, s.pace, &s.lagRecorder, func(seq uint64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if seq > s.seen {
			s.seen = seq
			s.signalLocked()
		}
	})
	return runStream(ctx, a, func(ctx context.Context) (bool, error) { return s.listen1(ctx, a) })
}

// listen1 is the reader of listenOnce.
func (s *notifyInvalidation) listen1(ctx context.Context, a *applier) (listened bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, s.listen)
	if err != nil {
		return false, fmt.Errorf("listener connection: %w", err)
	}
	defer func() {
		s.mu.Lock()
		s.pid = 0
		s.mu.Unlock()
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(c)
		cancel()
	}()
	if _, err := conn.Exec(cctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return false, fmt.Errorf("LISTEN %s: %w", s.channel, err)
	}
	s.mu.Lock()
	s.pid = conn.PgConn().PID()
	s.signalLocked() // drainers send a marker the new session will hear
	s.mu.Unlock()
	// Wait without a context: pgconn watches a cancellable one with a
	// goroutine it must hand off to after every notification, a
	// scheduling round each on a busy machine. A read deadline in the
	// past ends the wait when ctx ends instead.
	nc := conn.PgConn().Conn()
	stop := context.AfterFunc(ctx, func() { _ = nc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for {
		n, err := conn.WaitForNotification(context.Background())
		received := time.Now()
		if err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			return true, fmt.Errorf("wait for notification: %w", err)
		}
		var c change
		if m, ok := strings.CutPrefix(n.Payload, "drain:"); ok {
			seq, _ := strconv.ParseUint(m, 10, 64)
			c = change{isMark: true, mark: seq}
		} else {
			key, token, err := parseKeyToken(n.Payload)
			if err != nil {
				s.env.warn(-1, err)
				continue
			}
			c = change{key: key, token: token, hasToken: true, mid: stamps{}.with(received)}
		}
		if !a.send(ctx, c) {
			return true, ctx.Err()
		}
	}
}

// Drain waits until the listener has applied every notification delivered
// to it before a marker sent at the call: notifications lost while it was
// disconnected are not waited for (they are gone). It returns an error
// when ctx ends first or when the listener has stopped.
func (s *notifyInvalidation) Drain(ctx context.Context) error {
	for {
		s.mu.Lock()
		s.markers++
		seq := s.markers
		s.mu.Unlock()
		if _, err := s.env.DB.Exec(ctx, "SELECT pg_notify($1, $2)", s.channel, "drain:"+strconv.FormatUint(seq, 10)); err != nil {
			return fmt.Errorf("notify drain: send marker: %w", err)
		}
		resend := time.NewTimer(notifyDrainEvery)
		for again := false; !again; {
			s.mu.Lock()
			done, progress := s.seen >= seq, s.progress
			s.mu.Unlock()
			if done {
				resend.Stop()
				return nil
			}
			select {
			case <-ctx.Done():
				resend.Stop()
				return fmt.Errorf("notify drain: %w", ctx.Err())
			case <-s.exited:
				resend.Stop()
				return errors.New("notify drain: the listener has stopped")
			case <-resend.C:
				again = true
			case <-progress:
				// Another drainer's older marker, or a new LISTEN
				// that may have missed ours: send another (a later
				// marker completes this wait as well).
				s.mu.Lock()
				again = s.seen < seq
				s.mu.Unlock()
			}
		}
	}
}

// Close stops the listener; notifications not yet applied are dropped.
func (s *notifyInvalidation) Close() error {
	s.closed.Do(func() {
		s.cancel()
		<-s.exited
	})
	return nil
}
