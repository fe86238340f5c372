// Package strategytest is the conformance suite every strategy must pass, in
// the manner of testing/fstest: a user's own strategy calls Run from a test
// and gets the same checks as the built-in ones, against real servers.
//
// The checks are single-threaded and deterministic: a read on a cold cache
// succeeds and returns the seed row; a write is visible to the next read
// once background work is drained (read your write); every cache entry the
// strategy writes carries the configured TTL, or none when the TTL is none
// (a strategy that declares Info.NeedsTTL must refuse none instead);
// the strategy writes no key outside its prefix; Drain (when implemented)
// returns promptly; concurrent use returns no error; Close stops it.
package strategytest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/store"
	"github.com/ghostbench/ghostbench/strategies"
)

// keys is the size of the table each check seeds.
const keys = 16

// Run runs the conformance suite on the strategy info describes, as
// subtests of t. srv are the servers to use; nil provisions a pair for the
// suite (docker.ConfigFromEnv decides how) and tears it down after.
func Run(t *testing.T, info strategies.Info, srv *docker.Servers) {
	t.Helper()
	if srv == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		s, err := docker.Provision(ctx, docker.ConfigFromEnv())
		cancel()
		if err != nil {
			t.Fatalf("strategytest: provision servers: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		srv = s
	}
	h := &harness{info: info, srv: srv}
	for _, c := range h.checks() {
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

// check is one conformance check.
type check struct {
	name string
	run  func(t T)
}

// checks returns the suite in order; Run and Check run the same list.
func (h *harness) checks() []check {
	return []check{
		{"ColdRead", h.coldRead},
		{"ReadYourWrite", h.readYourWrite},
		{"TTLOnEveryKey", func(t T) { h.ttlOnEveryKey(t, 30*time.Second) }},
		{"NoTTLWhenNone", func(t T) {
			if h.info.NeedsTTL {
				h.refusesNoTTL(t)
				return
			}
			h.ttlOnEveryKey(t, 0)
		}},
		{"Drain", h.drain},
		{"Concurrent", h.concurrent},
	}
}

type harness struct {
	info strategies.Info
	srv  *docker.Servers
	n    int
}

// fixture is one fresh strategy on a freshly seeded schema and prefix.
type fixture struct {
	s      gb.Strategy
	rdb    redis.UniversalClient
	store  *store.Store
	prefix string
	warns  *warnings
}

type warnings struct {
	mu   sync.Mutex
	errs []error
}

func (w *warnings) add(_ gb.Key, err error) {
	w.mu.Lock()
	w.errs = append(w.errs, err)
	w.mu.Unlock()
}

func (h *harness) setup(t T, ttl time.Duration) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.n++
	schema := fmt.Sprintf("gbconf_%s_%d", strings.ReplaceAll(h.info.Name, "-", "_"), h.n)
	if len(schema) > 60 {
		schema = schema[:60]
	}
	prefix := fmt.Sprintf("gbconf:%s:%d:", h.info.Name, h.n)
	cc := docker.DefaultClientConfig()
	cc.PoolSize = 32
	// The suite checks behaviour, not fault handling: generous timeouts
	// keep a loaded machine (tests under -race) from failing it.
	cc.DialTimeout, cc.ReadTimeout, cc.WriteTimeout = 5*time.Second, 5*time.Second, 5*time.Second
	rdb := h.srv.RedisClient(cc)
	t.Cleanup(func() { rdb.Close() })
	db, err := h.srv.PostgresPool(ctx, cc)
	if err != nil {
		t.Fatalf("postgres pool: %v", err)
	}
	t.Cleanup(db.Close)
	st, err := store.New(db, store.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Setup(ctx, keys); err != nil {
		t.Fatalf("seed %d rows: %v", keys, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st.Drop(ctx)
	})
	w := &warnings{}
	reg := &strategies.Registry{}
	reg.Register(h.info)
	s, err := reg.New(h.info.Name, strategies.Env{DB: db, Redis: rdb, Sentinel: h.srv.RedisFailoverOptions(cc), Store: st, TTL: ttl, Prefix: prefix, Hooks: &gb.Hooks{}, Warn: w.add,
		PostgresURL: h.srv.Postgres.URL, RedisURL: h.srv.Redis.URL, PostgresTimeout: 5 * time.Second, RedisTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("build strategy %s: %v", h.info.Name, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &fixture{s: s, rdb: rdb, store: st, prefix: prefix, warns: w}
}

func (f *fixture) drain(t T) {
	t.Helper()
	d, ok := f.s.(gb.Drainer)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Drain(ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}

func ctx(t T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func (h *harness) coldRead(t T) {
	f := h.setup(t, 30*time.Second)
	for k := gb.Key(0); k < 3; k++ {
		got, err := f.s.Read(ctx(t), k)
		if err != nil {
			t.Fatalf("Read(%d) on a cold cache: %v", k, err)
		}
		if want := (gb.Value{}); got.Value != want {
			t.Errorf("Read(%d) on a cold cache = %v, want the seed row %v", k, got.Value, want)
		}
		if got.Hit {
			t.Errorf("Read(%d) on a cold cache reported a cache hit", k)
		}
	}
}

func (h *harness) readYourWrite(t T) {
	f := h.setup(t, 30*time.Second)
	const k = gb.Key(3)
	var balance int64
	for i := int64(1); i <= 3; i++ {
		// Read first so the cache holds the previous version.
		if _, err := f.s.Read(ctx(t), k); err != nil {
			t.Fatalf("Read before write %d: %v", i, err)
		}
		req := gb.WriteRequest{Key: k, Token: gb.Token(1000 + i), Delta: 10 * i}
		if err := f.s.Write(ctx(t), req); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
		balance += 10 * i
		f.drain(t)
		got, err := f.s.Read(ctx(t), k)
		if err != nil {
			t.Fatalf("Read after write %d: %v", i, err)
		}
		want := gb.Value{Version: i, Token: req.Token, Balance: balance}
		if got.Value != want {
			t.Fatalf("Read after write %d (and drain) = %v, want %v", i, got.Value, want)
		}
	}
}

func (h *harness) ttlOnEveryKey(t T, ttl time.Duration) {
	f := h.setup(t, ttl)
	for k := gb.Key(0); k < keys; k++ {
		if k%2 == 0 {
			if err := f.s.Write(ctx(t), gb.WriteRequest{Key: k, Token: gb.Token(2000 + k), Delta: 1}); err != nil {
				t.Fatalf("Write(%d): %v", k, err)
			}
		}
		if _, err := f.s.Read(ctx(t), k); err != nil {
			t.Fatalf("Read(%d): %v", k, err)
		}
	}
	f.drain(t)
	c := ctx(t)
	keys, err := docker.ScanKeys(c, f.rdb, f.prefix+"*") // every master of a cluster
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, key := range keys {
		seen++
		pttl, err := f.rdb.PTTL(c, key).Result()
		if err != nil {
			t.Fatalf("PTTL %s: %v", key, err)
		}
		switch {
		case ttl == 0 && pttl != -1:
			t.Errorf("key %s has TTL %v, want none (the TTL is none)", key, pttl)
		case ttl > 0 && (pttl <= 0 || pttl > ttl):
			t.Errorf("key %s has TTL %v, want in (0, %v]", key, pttl, ttl)
		}
	}
	if _, isCache := f.s.(gb.Inspector); isCache && seen == 0 {
		t.Errorf("the strategy implements Inspector but wrote no key under its prefix %q", f.prefix)
	}
}

func (h *harness) drain(t T) {
	f := h.setup(t, 30*time.Second)
	d, ok := f.s.(gb.Drainer)
	if !ok {
		t.Skipf("%s has no background work (does not implement Drainer)", h.info.Name)
	}
	for i := 0; i < 5; i++ {
		if err := f.s.Write(ctx(t), gb.WriteRequest{Key: gb.Key(i), Token: gb.Token(3000 + i), Delta: 1}); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Drain(c); err != nil {
		t.Fatalf("Drain after 5 writes: %v", err)
	}
	// Nothing left: every key now reads its row.
	for i := 0; i < 5; i++ {
		got, err := f.s.Read(ctx(t), gb.Key(i))
		if err != nil {
			t.Fatal(err)
		}
		if got.Value.Token != gb.Token(3000+i) {
			t.Errorf("after Drain, Read(%d) = %v, want token %d", i, got.Value, 3000+i)
		}
	}
	// Draining nothing returns at once.
	c2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := d.Drain(c2); err != nil {
		t.Fatalf("Drain with nothing pending: %v", err)
	}
	// Draining honours its context.
	if err := f.s.Write(ctx(t), gb.WriteRequest{Key: 0, Token: 3100, Delta: 1}); err != nil {
		t.Fatal(err)
	}
	c3, cancel3 := context.WithCancel(context.Background())
	cancel3()
	_ = d.Drain(c3) // may succeed if the work was already done; must not hang
}

func (h *harness) concurrent(t T) {
	f := h.setup(t, 30*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				k := gb.Key((w*7 + i) % keys)
				c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				var err error
				if i%4 == w%4 {
					err = f.s.Write(c, gb.WriteRequest{Key: k, Token: gb.Token(int64(w+1)<<20 | int64(i)), Delta: 1})
				} else {
					_, err = f.s.Read(c, k)
				}
				cancel()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent use: %v", err)
	}
	f.drain(t)
	f.warns.mu.Lock()
	defer f.warns.mu.Unlock()
	for _, err := range f.warns.errs {
		t.Errorf("warning with healthy servers: %v", err)
	}
}

// refusesNoTTL checks that a strategy declaring NeedsTTL is refused with
// ttl none, with an error that names the TTL.
func (h *harness) refusesNoTTL(t T) {
	reg := &strategies.Registry{}
	reg.Register(h.info)
	_, err := reg.New(h.info.Name, strategies.Env{TTL: 0, Hooks: &gb.Hooks{}})
	if err == nil || !strings.Contains(err.Error(), "ttl") {
		t.Errorf("%s declares NeedsTTL; building it with ttl none returned %v, want an error naming the ttl", h.info.Name, err)
	}
}
