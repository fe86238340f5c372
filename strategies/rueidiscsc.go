package strategies

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	gb "github.com/ghostbench/ghostbench"
)

// rueidisCSC is cache-aside whose reads go through Redis client-side
// caching as github.com/redis/rueidis implements it: DoCache(GET) answers
// from the process's memory when it can, and otherwise sends CLIENT
// CACHING YES, MULTI, PTTL, GET, EXEC on a connection with CLIENT TRACKING
// ON (RESP3), keeping the reply for min(local-ttl, the key's PTTL). Redis
// then pushes an "invalidate" message on that same connection when the key
// changes, and rueidis drops the local copy. On a miss (nil) the row is
// read from PostgreSQL and SET with Env.TTL through rueidis; writes commit,
// then DEL through rueidis.
//
// The races this exposes are the library's and the server's, not ours:
// since Redis 7 (redis/redis#9422) an invalidation is delivered after the
// reply of the command that caused it, so the writer's own DEL returns
// while its local copy still holds the old value (rueidis issue 534): a
// read by the same instance right after the write can miss its own write.
// ryw=true is the fix this strategy offers for it: after its own DEL of a
// key that this instance holds locally, the instance reads that key from
// PostgreSQL (without filling) until the invalidation has been applied, at
// most for local-ttl.
//
// The local cache is rueidis's SimpleCache adapter over a map of ours per
// connection (ClientOption.NewCacheStoreFn, the library's documented
// plug-in point),
// so that PeekLocal can read it without side effects; the adapter's
// single-flight, expiry, invalidation and flush-on-disconnect logic is the
// library's. The invalidation is passed through the before-invalidate
// interleaving point, which runs on rueidis's connection reader: holding it
// holds every reply on that connection, as a slow reader would.
type rueidisCSC struct {
	fillRead
	client   rueidis.Client
	local    *localMap
	localTTL time.Duration
	ryw      bool
}

// rueidisOptions derives a rueidis client's options from the Redis client
// the harness built (addresses, credentials, database, timeouts), so that
// a rueidis instance talks to the same servers (or proxies) as the rest:
// one server; a Redis Cluster (rueidis finds the slots from the nodes and
// keeps one tracking connection per node: each node pushes the
// invalidations of the keys of its slots); or the Sentinels of
// env.Sentinel when the client follows them (rueidis asks them for the
// master and follows +switch-master).
func rueidisOptions(env *Env) (rueidis.ClientOption, error) {
	opt := rueidis.ClientOption{
		// One connection per server: the invalidations of every cached key
		// arrive on the connection that also carries our DELs and Drain's
		// PING to that server.
		PipelineMultiplex: -1,
		DisableRetry:      true,
		// The name the redis-tracking-kill fault finds the connection by
		// (faults.TrackingClientName).
		ClientName: "ghostbench-csc",
	}
	var dial, rw time.Duration
	switch c := env.Redis.(type) {
	case *redis.ClusterClient:
		o := c.Options()
		opt.InitAddress = append([]string(nil), o.Addrs...)
		opt.Username, opt.Password = o.Username, o.Password
		// Follow a failover as soon as go-redis does (rueidis also
		// refreshes the slots on MOVED and on a dead connection).
		opt.ClusterOption.ShardsRefreshInterval = o.ClusterStateReloadInterval
		dial, rw = o.DialTimeout, max(o.ReadTimeout, o.WriteTimeout)
	case *redis.Client:
		o := c.Options()
		dial, rw = o.DialTimeout, max(o.ReadTimeout, o.WriteTimeout)
		opt.Username, opt.Password, opt.SelectDB = o.Username, o.Password, o.DB
		if fo := env.Sentinel; fo != nil {
			opt.InitAddress = append([]string(nil), fo.SentinelAddrs...)
			opt.Sentinel = rueidis.SentinelOption{MasterSet: fo.MasterName, Username: fo.SentinelUsername, Password: fo.SentinelPassword}
			opt.Sentinel.Dialer.Timeout = dial
			// +switch-master is a Pub/Sub event; a missed one would bind
			// the client to the old master for good.
			opt.Sentinel.TopologyRefreshInterval = time.Second
			break
		}
		opt.InitAddress = []string{o.Addr}
		// One server: no CLUSTER probe first.
		opt.ForceSingleClient = true
	default:
		return rueidis.ClientOption{}, fmt.Errorf("needs a go-redis Client or ClusterClient, got %T", env.Redis)
	}
	opt.Dialer.Timeout = dial
	if rw > 0 {
		opt.ConnWriteTimeout = 4 * rw
	}
	return opt, nil
}

// pingAll makes one round trip on the connection to every server c talks
// to (one for a single server or the Sentinels' master, each node of a
// cluster): Redis wrote every invalidation caused before the PING ahead of
// its reply, and rueidis applies them in order, so when it returns they
// have all been applied.
func pingAll(ctx context.Context, c rueidis.Client) error {
	for addr, n := range c.Nodes() {
		if err := n.Do(ctx, n.B().Ping().Build()).Error(); err != nil {
			return gb.Redis(fmt.Errorf("rueidis PING %s: %w", addr, err))
		}
	}
	return nil
}

func newRueidisCSC(env Env) (gb.Strategy, error) {
	localTTL, err := env.Params.Duration("local-ttl", time.Minute)
	if err != nil {
		return nil, err
	}
	if localTTL <= 0 {
		return nil, fmt.Errorf("parameter local-ttl = %q: want a positive duration such as 1m (rueidis needs one)", env.Params["local-ttl"])
	}
	ryw, err := env.Params.Bool("ryw", false)
	if err != nil {
		return nil, err
	}
	opt, err := rueidisOptions(&env)
	if err != nil {
		return nil, err
	}
	c := NewCache(env)
	s := &rueidisCSC{fillRead: fillRead{env: env, cache: c}, local: newLocalMap(c), localTTL: localTTL, ryw: ryw}
	opt.NewCacheStoreFn = func(o rueidis.CacheStoreOption) rueidis.CacheStore {
		return &hookedStore{CacheStore: rueidis.NewSimpleCacheAdapter(s.local.newStore()), local: s.local, hooks: env.Hooks}
	}
	if s.client, err = rueidis.NewClient(opt); err != nil {
		return nil, gb.Redis(fmt.Errorf("rueidis client: %w", err))
	}
	return s, nil
}

func (s *rueidisCSC) Read(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	if s.ryw && s.local.ownPending(key) {
		// Our own DEL's invalidation has not landed yet: the local copy
		// may be older than our write; the database is not.
		v, err := s.env.Store.Read(ctx, key)
		return gb.ReadResult{Value: v}, err
	}
	rk := s.cache.Key(key)
	str, err := s.client.DoCache(ctx, s.client.B().Get().Key(rk).Cache(), s.localTTL).ToString()
	if err == nil {
		v, err := gb.ParseCache(str)
		if err != nil {
			return gb.ReadResult{}, gb.Redis(fmt.Errorf("rueidis GET key %d: %w", key, err))
		}
		return gb.ReadResult{Value: v, Hit: true}, nil
	}
	if !rueidis.IsRedisNil(err) {
		s.env.warn(key, gb.Redis(fmt.Errorf("rueidis GET key %d: %w", key, err)))
		v, err := s.env.Store.Read(ctx, key)
		return gb.ReadResult{Value: v}, err
	}
	v, err := s.env.Store.Read(ctx, key)
	if err != nil {
		return gb.ReadResult{}, err
	}
	if err := s.env.Hooks.At(ctx, gb.PointAfterDBRead, key); err != nil {
		return gb.ReadResult{}, err
	}
	if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheSet, key); err != nil {
		return gb.ReadResult{}, err
	}
	if err := s.set(ctx, rk, v); err != nil {
		s.env.warn(key, gb.Redis(fmt.Errorf("rueidis SET key %d: %w", key, err)))
	}
	return gb.ReadResult{Value: v}, nil
}

func (s *rueidisCSC) set(ctx context.Context, rk string, v gb.Value) error {
	b := s.client.B().Set().Key(rk).Value(v.MarshalCache())
	if ttl := s.cache.TTL(); ttl > 0 {
		return s.client.Do(ctx, b.Px(ttl).Build()).Error()
	}
	return s.client.Do(ctx, b.Build()).Error()
}

func (s *rueidisCSC) Write(ctx context.Context, req gb.WriteRequest) error {
	if _, err := s.env.Store.Write(ctx, req, nil); err != nil {
		return err
	}
	if s.afterCommit(ctx, req.Key) {
		s.delWith(ctx, req.Key, func(ctx context.Context) error {
			if s.ryw {
				s.local.markOwn(req.Key, s.localTTL)
			}
			if err := s.client.Do(ctx, s.client.B().Del().Key(s.cache.Key(req.Key)).Build()).Error(); err != nil {
				return gb.Redis(fmt.Errorf("rueidis DEL key %d: %w", req.Key, err))
			}
			return nil
		})
	}
	return nil
}

// Drain makes one round trip on the tracking connection to every server
// (pingAll).
func (s *rueidisCSC) Drain(ctx context.Context) error {
	return pingAll(ctx, s.client)
}

// PeekLocal implements ghostbench.LocalInspector.
func (s *rueidisCSC) PeekLocal(key gb.Key) (gb.Value, time.Duration, bool) {
	return s.local.peek(key)
}

func (s *rueidisCSC) Close() error {
	s.client.Close()
	return nil
}

// localMap is an instance's client-side cache as the harness sees it: the
// per-connection maps behind rueidis's SimpleCache adapters (rueidis binds
// a cache store to each connection and flushes it when the connection
// closes), plus what the ryw fix needs.
type localMap struct {
	cache  *Cache
	mu     sync.Mutex
	stores map[*connStore]struct{}
	own    map[gb.Key]time.Time // ryw: own DEL not yet invalidated locally, until
}

func newLocalMap(c *Cache) *localMap {
	return &localMap{cache: c, stores: map[*connStore]struct{}{}, own: map[gb.Key]time.Time{}}
}

// newStore returns the map for a new connection.
func (l *localMap) newStore() *connStore {
	cs := &connStore{l: l, m: map[string]rueidis.RedisMessage{}}
	l.mu.Lock()
	l.stores[cs] = struct{}{}
	l.mu.Unlock()
	return cs
}

// connStore is one connection's map; it implements rueidis.SimpleCache
// (entries under the adapter's key: Redis key + command name).
type connStore struct {
	l  *localMap
	mu sync.Mutex
	m  map[string]rueidis.RedisMessage
}

// Get implements rueidis.SimpleCache.
func (c *connStore) Get(key string) rueidis.RedisMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

// Set implements rueidis.SimpleCache.
func (c *connStore) Set(key string, val rueidis.RedisMessage) {
	c.mu.Lock()
	c.m[key] = val
	c.mu.Unlock()
}

// Del implements rueidis.SimpleCache.
func (c *connStore) Del(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// Flush implements rueidis.SimpleCache: rueidis calls it when the
// connection closes; the store is then gone.
func (c *connStore) Flush() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
	c.l.mu.Lock()
	delete(c.l.stores, c)
	clear(c.l.own)
	c.l.mu.Unlock()
}

// peek returns the locally cached GET reply of key in any live connection
// store (the oldest version when several hold one). A cached nil (the key
// was absent in Redis) is absent here: the read path then goes to the
// database, like for an empty cache.
func (l *localMap) peek(key gb.Key) (gb.Value, time.Duration, bool) {
	rk := l.cache.Key(key) + "GET"
	l.mu.Lock()
	stores := make([]*connStore, 0, len(l.stores))
	for cs := range l.stores {
		stores = append(stores, cs)
	}
	l.mu.Unlock()
	var best gb.Value
	var bestTTL time.Duration
	found := false
	for _, cs := range stores {
		msg := cs.Get(rk)
		if msg.IsNil() {
			continue
		}
		ttl := time.Duration(msg.CachePTTL()) * time.Millisecond
		if ttl <= 0 {
			continue // expired (or never filled): the adapter will not serve it
		}
		str, err := msg.ToString()
		if err != nil {
			continue
		}
		v, err := gb.ParseCache(str)
		if err != nil {
			continue
		}
		if !found || v.Version < best.Version {
			best, bestTTL, found = v, ttl, true
		}
	}
	return best, bestTTL, found
}

// holds reports whether a live connection store holds key's GET reply.
func (l *localMap) holds(key gb.Key) bool {
	rk := l.cache.Key(key) + "GET"
	for cs := range l.stores { // l.mu held by the caller
		cs.mu.Lock()
		_, ok := cs.m[rk]
		cs.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

// markOwn notes an own DEL of key that the local cache must see the
// invalidation of, when it holds the key (otherwise no invalidation will
// come and none is needed).
func (l *localMap) markOwn(key gb.Key, ttl time.Duration) {
	l.mu.Lock()
	if l.holds(key) {
		l.own[key] = time.Now().Add(ttl)
	}
	l.mu.Unlock()
}

func (l *localMap) ownPending(key gb.Key) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.own[key]
	if ok && time.Now().After(until) {
		delete(l.own, key)
		return false
	}
	return ok
}

func (l *localMap) invalidated(key gb.Key) {
	l.mu.Lock()
	delete(l.own, key)
	l.mu.Unlock()
}

// gbKey returns the ghostbench key of a Redis key under the cache's
// prefix.
func (l *localMap) gbKey(rk string) (gb.Key, bool) {
	rest, ok := strings.CutPrefix(rk, l.cache.prefix+"row:")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	return gb.Key(n), err == nil
}

// hookedStore passes every invalidation through PointBeforeInvalidate
// before rueidis's adapter applies it, and clears the ryw marks after.
type hookedStore struct {
	rueidis.CacheStore
	local *localMap
	hooks *gb.Hooks
}

func (h *hookedStore) Delete(keys []rueidis.RedisMessage) {
	if keys == nil {
		h.CacheStore.Delete(nil)
		h.local.mu.Lock()
		clear(h.local.own)
		h.local.mu.Unlock()
		return
	}
	var ks []gb.Key
	for _, m := range keys {
		str, err := m.ToString()
		if err != nil {
			continue
		}
		if k, ok := h.local.gbKey(str); ok {
			// The reader goroutine has no context to cancel: a barrier is
			// released by the session (ReleaseAll) at the latest. The
			// invalidation is applied whatever the hook says.
			_ = h.hooks.At(context.Background(), gb.PointBeforeInvalidate, k)
			ks = append(ks, k)
		}
	}
	h.CacheStore.Delete(keys)
	for _, k := range ks {
		h.local.invalidated(k)
	}
}
