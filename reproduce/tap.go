package reproduce

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/strategies"
)

// collector gathers the timeline's events from the script, the store (as
// a ghostbench.Recorder installed with runner.Config.Tap) and the Redis
// client (as a go-redis hook). It records nothing until started, so the
// session's own set-up and audit stay out of the timeline. Safe for
// concurrent use.
type collector struct {
	clock  atomic.Pointer[func() time.Duration]
	prefix string

	mu      sync.Mutex
	events  []Event
	seq     int
	owners  map[gb.Token]string
	windows []FaultWindow
	cmds    []cacheCommand
}

// cacheCommand is one Redis command, for the visualization's annotations.
type cacheCommand struct {
	actor        string
	start, end   int64
	text, result string
	short        string // the command and the value it writes, for a narrow box
	failed       bool
}

func newCollector(prefix string) *collector {
	return &collector{prefix: prefix, owners: map[gb.Token]string{}}
}

// start makes the collector record, reading time from now.
func (c *collector) start(now func() time.Duration) { c.clock.Store(&now) }

// stop makes the collector ignore what comes next.
func (c *collector) stop() { c.clock.Store(nil) }

func (c *collector) on() bool { return c.clock.Load() != nil }

// now returns the session clock's reading (0 before start).
func (c *collector) now() time.Duration {
	if f := c.clock.Load(); f != nil {
		return (*f)()
	}
	return 0
}

// add records e at the current instant unless e.AtNs is already set.
func (c *collector) add(e Event) {
	if e.AtNs == 0 {
		e.AtNs = int64(c.now())
	}
	c.mu.Lock()
	c.seq++
	e.seq = c.seq
	c.events = append(c.events, e)
	c.mu.Unlock()
}

func (c *collector) own(t gb.Token, actor string) {
	c.mu.Lock()
	c.owners[t] = actor
	c.mu.Unlock()
}

func (c *collector) owner(t gb.Token) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.owners[t]; ok {
		return a
	}
	return fmt.Sprintf("token-%d", t)
}

func (c *collector) window(fault string, start, end time.Duration) {
	c.mu.Lock()
	c.windows = append(c.windows, FaultWindow{Fault: fault, StartNs: int64(start), EndNs: int64(end)})
	c.mu.Unlock()
}

// The ghostbench.Recorder side: the store's view of every write attempt.

func (c *collector) Began(_ gb.Key, t gb.Token, v int64) {
	if c.on() {
		c.add(Event{Kind: EventDB, Actor: c.owner(t), Effect: fmt.Sprintf("UPDATE ran: row v%d (token %d) inside the transaction, not committed", v, t),
			short: fmt.Sprintf("UPDATE v%d/t%d", v, t)})
	}
}

func (c *collector) CommitSending(_ gb.Key, t gb.Token, v int64, sent time.Duration) {
	if c.on() {
		c.add(Event{AtNs: int64(sent), Kind: EventDB, Actor: c.owner(t), Effect: fmt.Sprintf("COMMIT sent (v%d, token %d)", v, t),
			short: "COMMIT sent"})
	}
}

func (c *collector) Committed(_ gb.Key, t gb.Token, v int64, _, ack time.Duration) {
	if c.on() {
		c.add(Event{AtNs: int64(ack), Kind: EventDB, Actor: c.owner(t), Effect: fmt.Sprintf("COMMIT acknowledged: v%d (token %d) committed", v, t),
			short: fmt.Sprintf("committed v%d/t%d", v, t)})
	}
}

func (c *collector) Aborted(_ gb.Key, t gb.Token, v int64, sent time.Duration) {
	if !c.on() {
		return
	}
	eff := fmt.Sprintf("transaction rolled back before COMMIT: v%d (token %d) never committed", v, t)
	if sent >= 0 {
		eff = fmt.Sprintf("COMMIT failed: v%d (token %d) rolled back, never committed", v, t)
	}
	c.add(Event{Kind: EventDB, Actor: c.owner(t), Effect: eff, short: fmt.Sprintf("rolled back t%d", t)})
}

func (c *collector) Indeterminate(_ gb.Key, t gb.Token, v int64, _ time.Duration) {
	if c.on() {
		c.add(Event{Kind: EventDB, Actor: c.owner(t), Effect: fmt.Sprintf("COMMIT outcome unknown (v%d, token %d): the ledger decides at the end", v, t),
			short: fmt.Sprintf("COMMIT unknown t%d", t)})
	}
}

// The redis.Hook side: the cache commands the strategy sends.

// skippedCommands are not shown unless they fail: reads (a read's
// completion says hit or miss) and connection housekeeping.
var skippedCommands = map[string]bool{
	"get": true, "mget": true, "pttl": true, "ttl": true, "exists": true, "ping": true, "hello": true,
	"client": true, "info": true, "scan": true, "select": true, "auth": true, "config": true,
	"script": true, "command": true, "type": true, "strlen": true, "readonly": true,
}

func (c *collector) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *collector) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !c.on() {
			return next(ctx, cmd)
		}
		start := c.now()
		err := next(ctx, cmd)
		if !skippedCommands[cmd.Name()] || failed(cmd, err) {
			c.cacheCmd(ctx, cmd, err, start, c.now())
		}
		return err
	}
}

func (c *collector) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !c.on() {
			return next(ctx, cmds)
		}
		start := c.now()
		err := next(ctx, cmds)
		end := c.now()
		for _, cmd := range cmds {
			if !skippedCommands[cmd.Name()] || failed(cmd, cmd.Err()) {
				c.cacheCmd(ctx, cmd, cmd.Err(), start, end)
			}
		}
		return err
	}
}

// failed reports whether cmd failed (a miss, redis.Nil, is no failure).
func failed(cmd redis.Cmder, err error) bool {
	if err == nil {
		err = cmd.Err()
	}
	return err != nil && !errors.Is(err, redis.Nil)
}

// cacheCmd records cmd, which returned err (the hook's return value: a
// client-side error such as a timeout is not always set on cmd).
func (c *collector) cacheCmd(ctx context.Context, cmd redis.Cmder, err error, start, end time.Duration) {
	if err == nil {
		err = cmd.Err()
	}
	if err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
		return // go-redis falls back from EVALSHA to EVAL: the EVAL is what ran
	}
	actor := "-"
	if a, ok := gb.ActorFrom(ctx); ok {
		actor = ActorName(a)
	}
	text := c.describe(cmd)
	cc := cacheCommand{actor: actor, start: int64(start), end: int64(end), text: text, short: shortCmd(cmd)}
	if err != nil && !errors.Is(err, redis.Nil) {
		cc.failed = true
		cc.result = errText(err, end-start)
		c.add(Event{AtNs: int64(start), Kind: EventCache, Actor: actor, Effect: text + " sent"})
		c.add(Event{AtNs: int64(end), Kind: EventCache, Actor: actor, Effect: text + " failed: " + cc.result})
	} else {
		cc.result = c.result(cmd)
		c.add(Event{AtNs: int64(end), Kind: EventCache, Actor: actor, Effect: text + " → " + cc.result})
	}
	c.mu.Lock()
	c.cmds = append(c.cmds, cc)
	c.mu.Unlock()
}

// shortCmd returns the command's name and the first cache value among its
// arguments ("SET v1/t101/b9"), for the visualization.
func shortCmd(cmd redis.Cmder) string {
	out := strings.ToUpper(cmd.Name())
	for _, a := range cmd.Args()[1:] {
		if v, err := gb.ParseCache(fmt.Sprint(a)); err == nil {
			return out + " " + v.String()
		}
	}
	return out
}

// describe renders a command with the key prefix removed and cache values
// decoded: "SET row:0 v1/t101/b9 px 60000".
func (c *collector) describe(cmd redis.Cmder) string {
	args := cmd.Args()
	name := strings.ToUpper(cmd.Name())
	parts := []string{name}
	for i, a := range args[1:] {
		s := fmt.Sprint(a)
		switch {
		case i == 0 && name == "EVALSHA" && len(s) > 8:
			s = s[:8] + "…"
		case i == 0 && name == "EVAL":
			s = "<script>"
		case strings.HasPrefix(s, c.prefix):
			s = strings.TrimPrefix(s, c.prefix)
		default:
			if v, err := gb.ParseCache(s); err == nil {
				s = v.String()
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func (c *collector) result(cmd redis.Cmder) string {
	if errors.Is(cmd.Err(), redis.Nil) {
		return "nil"
	}
	var s string
	switch x := cmd.(type) {
	case *redis.StatusCmd:
		s = x.Val()
	case *redis.IntCmd:
		s = strconv.FormatInt(x.Val(), 10)
	case *redis.StringCmd:
		s = x.Val()
	case *redis.BoolCmd:
		s = strconv.FormatBool(x.Val())
	case *redis.Cmd:
		s = fmt.Sprint(x.Val())
	default:
		return "ok"
	}
	if v, err := gb.ParseCache(s); err == nil {
		return v.String()
	}
	return s
}

// errText shortens a client error: a timeout is the absence of a reply.
func errText(err error, took time.Duration) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("no reply within the client timeout (%s after %s)", lastColon(err.Error()), fmtDur(int64(took)))
	}
	return err.Error()
}

// lastColon returns the text after the last ": " (the innermost cause).
func lastColon(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// tappedRegistry returns a registry with base's strategies whose factories
// first install hook on the strategy's Redis client, so that every cache
// command the strategy sends goes through it.
func tappedRegistry(base *strategies.Registry, hook redis.Hook) *strategies.Registry {
	r := &strategies.Registry{}
	for _, info := range base.All() {
		orig := info.New
		info.New = func(env strategies.Env) (gb.Strategy, error) {
			if env.Redis != nil {
				env.Redis.AddHook(hook)
			}
			return orig(env)
		}
		r.Register(info)
	}
	return r
}
