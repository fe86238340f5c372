package wire_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/wire"
)

// testRedis runs go-redis and raw clients through a Redis proxy in front
// of a real Redis, for every action.
func testRedis(t *testing.T, s *docker.Servers) {
	direct := redisVia(t, s, s.Redis.Addr)
	direct.Options().ReadTimeout = 5 * time.Second
	tests := []struct {
		name string
		run  func(t *testing.T, s *docker.Servers, direct *redis.Client)
	}{
		{"forward", redisForward},
		{"setup commands", redisSetup},
		{"pipeline", redisPipeline},
		{"lose reply", redisLoseReply},
		{"stall limit", redisStallLimit},
		{"refuse", redisRefuse},
		{"refuse inside MULTI", redisRefuseMulti},
		{"unreachable", redisUnreachable},
		{"inline and raw", redisInline},
		{"long pipeline read only after written", redisLongPipeline},
		{"resp3 push", redisPush},
		{"pub/sub resp2", func(t *testing.T, s *docker.Servers, d *redis.Client) { redisPubSub(t, s, d, 2) }},
		{"pub/sub resp3", func(t *testing.T, s *docker.Servers, d *redis.Client) { redisPubSub(t, s, d, 3) }},
		{"gate order is server order", redisOrder},
		{"close unblocks gate", redisClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, s, direct) })
	}
}

func redisForward(t *testing.T, s *docker.Servers, direct *redis.Client) {
	rec := &recorder{}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate)
	c := redisVia(t, s, p.Addr())
	ctx := ctxT(t)
	val := strings.Repeat("v", 52)
	if err := c.Set(ctx, "wire:fwd", val, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "wire:fwd").Result()
	if err != nil || got != val {
		t.Fatalf("GET = %q, %v; want %q", got, err, val)
	}
	cmds := rec.take()
	if got, want := names(cmds), []string{"SET", "GET"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("gated %v; want %v", got, want)
	}
	set := cmds[len(cmds)-2]
	if set.Server != wire.Redis || set.Conn != 1 || !reflect.DeepEqual(set.Keys, []string{"wire:fwd"}) {
		t.Errorf("SET gated as %+v", set)
	}
	if want := "SET wire:fwd <52 bytes> ex 60"; set.Text != want {
		t.Errorf("SET text %q; want %q", set.Text, want)
	}
}

func redisSetup(t *testing.T, s *docker.Servers, direct *redis.Client) {
	rec := &recorder{}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate)
	o, err := redis.ParseURL(s.Redis.URL)
	if err != nil {
		t.Fatal(err)
	}
	o.Addr, o.Protocol, o.ClientName = p.Addr(), 3, "wire-test"
	c := redis.NewClient(o)
	defer c.Close()
	if err := c.Ping(ctxT(t)).Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range rec.take() {
		got = append(got, c.Name)
	}
	for _, want := range []string{"HELLO", "CLIENT", "PING"} {
		if !slices.Contains(got, want) {
			t.Errorf("gated %v; want %s among them", got, want)
		}
	}
}

func redisPipeline(t *testing.T, s *docker.Servers, direct *redis.Client) {
	rec := &recorder{}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate)
	c := redisVia(t, s, p.Addr())
	ctx := ctxT(t)
	rec.set(on("INCR", "wire:pipe:3", wire.Refuse))
	pipe := c.Pipeline()
	var cmds []*redis.IntCmd
	for i := range 5 {
		cmds = append(cmds, pipe.Incr(ctx, fmt.Sprintf("wire:pipe:%d", i)))
	}
	_, _ = pipe.Exec(ctx)
	for i, cmd := range cmds {
		v, err := cmd.Result()
		if i == 3 {
			if err == nil || !strings.HasPrefix(err.Error(), "OOM ") {
				t.Errorf("refused INCR %d = %d, %v; want the OOM error", i, v, err)
			}
			continue
		}
		if err != nil || v != 1 {
			t.Errorf("INCR %d = %d, %v; want 1", i, v, err)
		}
	}
	var keys []string
	for _, c := range rec.take() {
		if c.Name == "INCR" {
			keys = append(keys, c.Keys[0])
		}
	}
	if want := []string{"wire:pipe:0", "wire:pipe:1", "wire:pipe:2", "wire:pipe:3", "wire:pipe:4"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("gated INCR of %v; want %v", keys, want)
	}
	if n, err := direct.Exists(ctx, "wire:pipe:3").Result(); err != nil || n != 0 {
		t.Errorf("refused INCR reached Redis: EXISTS = %d, %v", n, err)
	}
}

func redisLoseReply(t *testing.T, s *docker.Servers, direct *redis.Client) {
	rec := &recorder{}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate)
	c := redisVia(t, s, p.Addr())
	ctx := ctxT(t)
	rec.set(on("SET", "wire:lost", wire.LoseReply))
	err := c.Set(ctx, "wire:lost", "applied", 0).Err()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("SET with its reply lost = %v; want a timeout", err)
	}
	// Applied, though the client timed out: poll, in case the client's
	// timeout ran out before Redis got to the command on a loaded machine.
	for {
		v, err := direct.Get(ctx, "wire:lost").Result()
		if err == nil && v == "applied" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET directly = %q, %v; want the SET applied", v, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	// Other connections go on working, through the same client.
	if err := c.Set(ctx, "wire:lost:after", "1", 0).Err(); err != nil {
		t.Fatalf("SET on another connection after the lost reply: %v", err)
	}
}

func redisStallLimit(t *testing.T, s *docker.Servers, direct *redis.Client) {
	rec := &recorder{decide: on("SET", "wire:stall", wire.LoseReply)}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate, wire.StallLimit(20*time.Millisecond))
	c := redisVia(t, s, p.Addr())
	c.Options().ReadTimeout = time.Minute
	err := c.Set(ctxT(t), "wire:stall", "applied", 0).Err()
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("SET with its reply lost under a stall limit = %v; want the connection closed by the proxy", err)
	}
	if v, err := direct.Get(ctxT(t), "wire:stall").Result(); err != nil || v != "applied" {
		t.Fatalf("GET directly = %q, %v; want the SET applied", v, err)
	}
}

func redisRefuse(t *testing.T, s *docker.Servers, direct *redis.Client) {
	rec := &recorder{decide: on("SET", "", wire.Refuse)}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate)
	c := redisVia(t, s, p.Addr())
	ctx := ctxT(t)
	err := c.Set(ctx, "wire:refused", "x", 0).Err()
	if want := "OOM command not allowed when used memory > 'maxmemory'."; err == nil || err.Error() != want {
		t.Fatalf("refused SET = %v; want %q", err, want)
	}
	if n, err := direct.Exists(ctx, "wire:refused").Result(); err != nil || n != 0 {
		t.Fatalf("refused SET reached Redis: EXISTS = %d, %v", n, err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING on the same connection after a refusal: %v", err)
	}
}

func redisUnreachable(t *testing.T, s *docker.Servers, direct *redis.Client) {
	rec := &recorder{decide: on("SET", "wire:unreachable", wire.Unreachable)}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate)
	c := redisVia(t, s, p.Addr())
	ctx := ctxT(t)
	if err := c.Set(ctx, "wire:unreachable", "x", 0).Err(); err == nil {
		t.Fatal("SET with Redis unreachable succeeded")
	}
	if n, err := direct.Exists(ctx, "wire:unreachable").Result(); err != nil || n != 0 {
		t.Fatalf("SET reached Redis although unreachable: EXISTS = %d, %v", n, err)
	}
	if err := c.Set(ctx, "wire:reachable", "x", 0).Err(); err != nil {
		t.Fatalf("SET on a new connection: %v", err)
	}
}

func redisOrder(t *testing.T, s *docker.Servers, direct *redis.Client) {
	// Each of 4 clients INCRs its own key 10 times, the scheduler picks
	// which goes next; Redis's MONITOR must see the INCRs in gate order.
	g := &gateOrder{ch: make(chan wire.Command), name: "INCR", label: func(c wire.Command) string { return c.Keys[0] }}
	p := listen(t, wire.Redis, s.Redis.Addr, g.gate)
	ctx := ctxT(t)
	monNC, monBR := rawRedis(t, s, s.Redis.Addr)
	fmt.Fprint(monNC, "MONITOR\r\n")
	expect(t, monBR, "+OK\r\n")
	const clients, each = 4, 10
	var wg sync.WaitGroup
	done := make(chan int, clients)
	for i := range clients {
		c := redisVia(t, s, p.Addr())
		c.Options().ReadTimeout = time.Minute
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { done <- i }()
			for range each {
				if err := c.Incr(ctx, fmt.Sprintf("wire:order:%d", i)).Err(); err != nil {
					t.Errorf("INCR: %v", err)
					return
				}
			}
		}()
	}
	gated := g.run(t, clients, done, 7)
	wg.Wait()
	var seen []string
	for len(seen) < len(gated) {
		line, err := monBR.ReadString('\n')
		if err != nil {
			t.Fatalf("MONITOR: %v after %d INCRs", err, len(seen))
		}
		if f := strings.Fields(line); len(f) == 5 && strings.EqualFold(f[3], `"INCR"`) && strings.HasPrefix(f[4], `"wire:order:`) {
			seen = append(seen, strings.Trim(f[4], `"`))
		}
	}
	if !reflect.DeepEqual(seen, gated) {
		t.Fatalf("Redis saw INCRs in order\n%v\nthe gate let them go in order\n%v", seen, gated)
	}
}

// gateOrder hands every command called name to a scheduler loop (run)
// and blocks until it is let go; other commands pass.
type gateOrder struct {
	name    string
	label   func(wire.Command) string // what run records of a command
	ch      chan wire.Command
	mu      sync.Mutex
	release map[int]chan struct{}
}

func (g *gateOrder) gate(ctx context.Context, c wire.Command) wire.Action {
	if c.Name != g.name {
		return wire.Forward
	}
	ch := make(chan struct{})
	g.mu.Lock()
	if g.release == nil {
		g.release = map[int]chan struct{}{}
	}
	g.release[c.Conn] = ch
	g.mu.Unlock()
	select {
	case g.ch <- c:
	case <-ctx.Done():
		return wire.Unreachable
	}
	select {
	case <-ch:
		return wire.Forward
	case <-ctx.Done():
		return wire.Unreachable
	}
}

// run schedules: it waits until every live client is parked at the gate
// (or done), picks one at random, lets it go and waits for it to come
// back or finish. It returns the labels in the order it let them go.
func (g *gateOrder) run(t *testing.T, clients int, done chan int, seed uint64) []string {
	rnd := rand.New(rand.NewPCG(seed, seed))
	parked := map[int]wire.Command{}
	live := clients
	var order []string
	timeout := time.After(2 * time.Minute)
	for live > 0 {
		for len(parked) < live {
			select {
			case c := <-g.ch:
				parked[c.Conn] = c
			case <-done:
				live--
			case <-timeout:
				t.Fatal("scheduler: clients neither parked nor finished")
			}
		}
		if live == 0 {
			break
		}
		conns := make([]int, 0, len(parked))
		for id := range parked {
			conns = append(conns, id)
		}
		slices.Sort(conns)
		id := conns[rnd.IntN(len(conns))]
		order = append(order, g.label(parked[id]))
		delete(parked, id)
		g.mu.Lock()
		close(g.release[id])
		g.mu.Unlock()
	}
	return order
}

func redisClose(t *testing.T, s *docker.Servers, direct *redis.Client) {
	entered := make(chan struct{}, 1)
	gate := func(ctx context.Context, c wire.Command) wire.Action {
		if c.Name != "GET" {
			return wire.Forward
		}
		entered <- struct{}{}
		<-ctx.Done() // held until the proxy closes
		return wire.Forward
	}
	p, err := wire.Listen(context.Background(), wire.Redis, s.Redis.Addr, gate)
	if err != nil {
		t.Fatal(err)
	}
	c := redisVia(t, s, p.Addr())
	c.Options().ReadTimeout = time.Minute
	errc := make(chan error, 1)
	go func() { errc <- c.Get(ctxT(t), "wire:close").Err() }()
	<-entered
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err == nil || errors.Is(err, redis.Nil) {
		t.Fatalf("GET held at the gate when the proxy closed = %v; want a connection error", err)
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Error("the proxy still accepts connections after Close")
	}
}

func redisRefuseMulti(t *testing.T, s *docker.Servers, direct *redis.Client) {
	rec := &recorder{decide: on("SET", "wire:multi:refused", wire.Refuse)}
	p := listen(t, wire.Redis, s.Redis.Addr, rec.gate)
	c := redisVia(t, s, p.Addr())
	ctx := ctxT(t)
	_, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Set(ctx, "wire:multi:applied", "1", 0)
		pipe.Set(ctx, "wire:multi:refused", "1", 0)
		return nil
	})
	if err == nil || !strings.HasPrefix(err.Error(), "EXECABORT") {
		t.Fatalf("MULTI with a refused SET = %v; want EXECABORT, as Redis answers", err)
	}
	if n, err := direct.Exists(ctx, "wire:multi:applied", "wire:multi:refused").Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS = %d, %v after an aborted transaction; want 0", n, err)
	}
	// The connection is out of the transaction: a plain SET works.
	rec.set(nil)
	if err := c.Set(ctx, "wire:multi:after", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := names(rec.take()), []string{"MULTI", "SET", "SET", "EXEC", "SET"}; !reflect.DeepEqual(got, want) {
		t.Errorf("gated %v; want %v", got, want)
	}
}
