package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/store"
)

// Run ownership and isolation.
//
// Every run has an owner id (newOwnerID). It is in the schema's marker
// (store.OwnerMarker, COMMENT ON SCHEMA), in the value of the prefix's
// marker key (OwnerKey under the prefix) and in the application_name of the
// run's PostgreSQL sessions. On external servers (docker.ProviderExternal:
// servers given by URL, which the harness did not start) the runner
//
//   - takes a PostgreSQL advisory lock on the schema and a Redis lock key
//     (with a TTL, refreshed while the run lasts) on the prefix, so that a
//     second run on the same schema or an overlapping prefix is refused
//     with a line naming the lock;
//   - takes a shared lock on each server, or an exclusive one when its
//     fault schedule acts on the whole server (WholeServer), so that such
//     faults never start beside another run, nor another run beside them,
//     unless Config.IgnoreServerLock;
//   - refuses a schema or prefix that exists without ghostbench's marker
//     (somebody else's data), never deleting it;
//   - removes its tables and keys after the run unless Config.Keep.
//
// Servers the harness started itself are private to the process: no locks,
// and whatever the prefix holds is the harness's.

// RefusedError is a run refused before anything was changed: a schema or
// key prefix that is not ghostbench's, a lock another run holds, more
// workers than the server takes connections. The command line reports it
// as a usage error (exit 2).
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return e.Msg }

func refusef(format string, args ...any) error {
	return &RefusedError{Msg: fmt.Sprintf(format, args...)}
}

// OwnerKey is the marker key under a run's key prefix: its value is the
// owner id of the run that cleared the prefix and wrote into it.
const OwnerKey = "ghostbench:owner"

// lockKeyPrefix starts the Redis keys of the locks; the {lock} hash tag
// keeps them in one slot of a cluster, so that one script sees them all.
const lockKeyPrefix = "ghostbench:{lock}:"

// lockRegistry is the set of the owner ids of runs holding locks.
const lockRegistry = lockKeyPrefix + "runs"

// lockTTL is the TTL of a run's Redis lock key; it is refreshed every
// lockTTL/3, so a run that dies frees its prefix within lockTTL.
const lockTTL = 15 * time.Second

// WholeServer is implemented by fault schedules (faults.Setup) whose
// faults act on a whole server, for every client of it: the names of those
// faults on PostgreSQL and on Redis.
type WholeServer interface {
	WholeServer() (postgres, redis []string)
}

func newOwnerID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// appName is the application_name of the run's PostgreSQL sessions.
func appName(owner string) string { return fault.HarnessAppName + " run " + owner }

// claim is a run's hold on its schema, prefix and servers (external
// servers only; a zero claim holds nothing).
type claim struct {
	owner, schema, prefix string
	pgAddr, redisAddr     string

	conn   *pgx.Conn // holds the advisory locks
	rdb    redis.UniversalClient
	runKey string // this run's Redis lock key

	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	lost error // the Redis lock was taken from the run
}

// pgLockKey is the advisory lock key of a name.
const pgLockKey = `SELECT hashtextextended($1, 0)`

// pgHolder names the session holding advisory lock key (bigint form:
// classid the high and objid the low 32 bits, objsubid 1).
const pgHolder = `SELECT a.pid, coalesce(a.application_name, '') FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid::bigint = $1 AND l.objid::bigint = $2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.pid <> pg_backend_pid()
ORDER BY (l.mode = 'ExclusiveLock') DESC LIMIT 1`

// acquireClaim takes the locks of a run on external servers. wholePG and
// wholeRedis name the run's faults that act on the whole server.
func acquireClaim(ctx context.Context, srv *docker.Servers, rdb redis.UniversalClient, owner, schema, prefix string, wholePG, wholeRedis []string, ignoreServerLock bool) (_ *claim, err error) {
	c := &claim{owner: owner, schema: schema, prefix: prefix, pgAddr: srv.Postgres.Addr, redisAddr: srv.Redis.Addr, rdb: rdb}
	defer func() {
		if err != nil {
			c.release()
		}
	}()
	cfg, err := pgx.ParseConfig(srv.Postgres.URL)
	if err != nil {
		return nil, errors.New("lock: malformed PostgreSQL URL")
	}
	cfg.ConnectTimeout = 5 * time.Second
	cfg.RuntimeParams["application_name"] = appName(owner) + " lock"
	if c.conn, err = pgx.ConnectConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("lock: connect to PostgreSQL at %s: %w", c.pgAddr, err)
	}
	if err := c.lockPG(ctx, "ghostbench schema "+schema, true, func(holder string) error {
		return refusef("schema %s on PostgreSQL %s is in use by another ghostbench run (advisory lock \"ghostbench schema %s\" held by %s): wait for it to end, or give this run its own -schema and -prefix", schema, c.pgAddr, schema, holder)
	}); err != nil {
		return nil, err
	}
	exclusivePG := len(wholePG) > 0 && !ignoreServerLock
	if err := c.lockPG(ctx, "ghostbench server", exclusivePG, func(holder string) error {
		if exclusivePG {
			return refusef("fault %s acts on the whole PostgreSQL server %s, which another ghostbench run is using (advisory lock \"ghostbench server\" held by %s): wait for it to end, or give -ignore-server-lock to inject anyway", strings.Join(wholePG, ", "), c.pgAddr, holder)
		}
		return refusef("PostgreSQL %s is held exclusively by another ghostbench run that injects a whole-server fault (advisory lock \"ghostbench server\" held by %s): wait for it to end, or give -ignore-server-lock to run beside it", c.pgAddr, holder)
	}); err != nil {
		if !ignoreServerLock {
			return nil, err
		}
	}
	c.runKey = lockKeyPrefix + "run:" + owner
	if err := c.lockRedis(ctx, len(wholeRedis) > 0 && !ignoreServerLock, ignoreServerLock, wholeRedis); err != nil {
		return nil, err
	}
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go c.refresh(len(wholeRedis) > 0 && !ignoreServerLock, ignoreServerLock, wholeRedis)
	return c, nil
}

// lockPG takes advisory lock name on the claim's session (exclusive or
// shared), or returns refused(holder) when another session holds it.
func (c *claim) lockPG(ctx context.Context, name string, exclusive bool, refused func(holder string) error) error {
	var key int64
	if err := c.conn.QueryRow(ctx, pgLockKey, name).Scan(&key); err != nil {
		return fmt.Errorf("lock %q: %w", name, err)
	}
	fn := "pg_try_advisory_lock_shared"
	if exclusive {
		fn = "pg_try_advisory_lock"
	}
	var ok bool
	if err := c.conn.QueryRow(ctx, "SELECT "+fn+"($1)", key).Scan(&ok); err != nil {
		return fmt.Errorf("lock %q: %w", name, err)
	}
	if ok {
		return nil
	}
	holder := "a session that has ended since"
	var pid int32
	var app string
	hi, lo := int64(uint64(key)>>32), int64(uint64(key)&0xffffffff)
	if err := c.conn.QueryRow(ctx, pgHolder, hi, lo).Scan(&pid, &app); err == nil {
		holder = fmt.Sprintf("backend pid %d, application_name %q", pid, app)
	}
	return refused(holder)
}

// redisAcquire registers a run: it refuses (returning the kind of conflict,
// the other run's id and prefix) when a live run's prefix overlaps this
// one's, or, unless ARGV[5] is 1, when either run takes the server
// exclusively. Runs whose key has expired are dropped from the registry.
//
// KEYS[1] registry, KEYS[2] this run's key; ARGV: owner, prefix,
// exclusive (0/1), ttl ms, ignore server lock (0/1).
var redisAcquire = redis.NewScript(`
local function overlap(a, b)
  return string.sub(a, 1, #b) == b or string.sub(b, 1, #a) == a
end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if id ~= ARGV[1] then
    local v = redis.call('GET', '` + lockKeyPrefix + `run:' .. id)
    if not v then
      redis.call('SREM', KEYS[1], id)
    else
      local ex = string.sub(v, 1, 1)
      local p = string.sub(v, 3)
      if overlap(p, ARGV[2]) then return {'prefix', id, p} end
      if ARGV[5] ~= '1' and (ex == '1' or ARGV[3] == '1') then return {'server', id, p, ex} end
    end
  end
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[3] .. ' ' .. ARGV[2], 'PX', ARGV[4])
return {'ok'}
`)

// lockRedis registers the run in Redis, or refuses.
func (c *claim) lockRedis(ctx context.Context, exclusive, ignore bool, whole []string) error {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	res, err := redisAcquire.Run(ctx, c.rdb, []string{lockRegistry, c.runKey}, c.owner, c.prefix, b(exclusive), lockTTL.Milliseconds(), b(ignore)).StringSlice()
	if err != nil {
		return fmt.Errorf("lock key %s on Redis %s: %w", c.runKey, c.redisAddr, err)
	}
	switch {
	case len(res) >= 3 && res[0] == "prefix":
		return refusef("key prefix %q on Redis %s is in use by ghostbench run %s (lock key %srun:%s, prefix %q): wait for it to end, or give this run its own -prefix and -schema", c.prefix, c.redisAddr, res[1], lockKeyPrefix, res[1], res[2])
	case len(res) >= 4 && res[0] == "server":
		if exclusive {
			return refusef("fault %s acts on the whole Redis server %s, which ghostbench run %s is using (lock key %srun:%s): wait for it to end, or give -ignore-server-lock to inject anyway", strings.Join(whole, ", "), c.redisAddr, res[1], lockKeyPrefix, res[1])
		}
		return refusef("Redis %s is held exclusively by ghostbench run %s, which injects a whole-server fault (lock key %srun:%s): wait for it to end, or give -ignore-server-lock to run beside it", c.redisAddr, res[1], lockKeyPrefix, res[1])
	case len(res) >= 1 && res[0] == "ok":
		return nil
	}
	return fmt.Errorf("lock key %s on Redis %s: unexpected answer %q", c.runKey, c.redisAddr, res)
}

// refresh extends the run's lock key every lockTTL/3 until release. When
// the key is gone (expired while the client could not reach Redis) it
// registers again; when that is refused, the run lost its lock (lostErr).
func (c *claim) refresh(exclusive, ignore bool, whole []string) {
	defer close(c.done)
	t := time.NewTicker(lockTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), lockTTL/3)
		ok, err := c.rdb.PExpire(ctx, c.runKey, lockTTL).Result()
		if err == nil && !ok {
			if err = c.lockRedis(ctx, exclusive, ignore, whole); err != nil {
				var re *RefusedError
				if errors.As(err, &re) {
					c.mu.Lock()
					c.lost = fmt.Errorf("the Redis lock key %s expired during the run and another run took the prefix: %w", c.runKey, err)
					c.mu.Unlock()
				}
			}
		}
		cancel()
	}
}

// lostErr returns why the run lost its lock, nil when it did not.
func (c *claim) lostErr() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lost
}

// release frees every lock the claim holds; it is safe on a partial or nil
// claim and idempotent.
func (c *claim) release() {
	if c == nil {
		return
	}
	if c.stop != nil {
		close(c.stop)
		<-c.done
		c.stop = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c.runKey != "" && c.rdb != nil {
		_ = c.rdb.Del(ctx, c.runKey).Err()
		_ = c.rdb.SRem(ctx, lockRegistry, c.owner).Err()
		c.runKey = ""
	}
	if c.conn != nil {
		c.conn.Close(ctx) // ends the session: its advisory locks go with it
		c.conn = nil
	}
}

// claimPrefix makes the prefix the run's: on external servers a prefix that
// holds keys without the owner marker is refused; otherwise every key under
// it (but the locks') is deleted and the marker set to owner.
func claimPrefix(ctx context.Context, rdb redis.UniversalClient, prefix, owner, addr string, external bool) error {
	keys, err := prefixKeys(ctx, rdb, prefix)
	if err != nil {
		return fmt.Errorf("list cache keys %s*: %w", prefix, err)
	}
	marker := prefix + OwnerKey
	if external && len(keys) > 0 {
		marked := false
		for _, k := range keys {
			marked = marked || k == marker
		}
		if !marked {
			return refusef("key prefix %q on Redis %s holds %d keys ghostbench did not write (e.g. %q; no %s marker): refusing to delete them; choose another prefix with -prefix", prefix, addr, len(keys), keys[0], marker)
		}
	}
	if err := docker.DeleteKeys(ctx, rdb, keys); err != nil {
		return fmt.Errorf("clear cache keys %s*: %w", prefix, err)
	}
	if err := rdb.Set(ctx, marker, owner, 0).Err(); err != nil {
		return fmt.Errorf("set %s: %w", marker, err)
	}
	return nil
}

// prefixKeys lists the keys under prefix but the lock keys.
func prefixKeys(ctx context.Context, rdb redis.UniversalClient, prefix string) ([]string, error) {
	keys, err := docker.ScanKeys(ctx, rdb, globEscape(prefix)+"*")
	if err != nil {
		return nil, err
	}
	out := keys[:0]
	for _, k := range keys {
		if !strings.HasPrefix(k, lockKeyPrefix) {
			out = append(out, k)
		}
	}
	return out, nil
}

// globEscape escapes the glob characters of a Redis MATCH pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// removeOwned deletes what the run made on the servers: its keys (when the
// prefix marker is still its own) and its schema (when the schema's marker
// is). What another run or a user put there in the meantime stays.
func removeOwned(ctx context.Context, rdb redis.UniversalClient, st *store.Store, prefix, owner string) error {
	var errs []error
	if rdb != nil {
		marker := prefix + OwnerKey
		if v, err := rdb.Get(ctx, marker).Result(); err == nil && v == owner {
			keys, err := prefixKeys(ctx, rdb, prefix)
			if err == nil {
				err = docker.DeleteKeys(ctx, rdb, keys)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("remove cache keys %s*: %w", prefix, err))
			}
		}
	}
	if st != nil {
		if o, ok, err := st.Owner(ctx); err == nil && ok && o == owner {
			if err := st.Drop(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// connsMargin is the PostgreSQL connections a run uses beside one per
// worker: the pool's spare (Run opens workers+8) and a few sessions of
// faults, locks and strategies (a CDC stream, a LISTEN).
const connsMargin = 8 + 4

// PostgresConnections returns the PostgreSQL connections a run of workers
// workers needs at most.
func PostgresConnections(workers int) int { return workers + connsMargin }

// checkConnections refuses a run whose workers the server cannot serve:
// more connections than max_connections leaves to it.
func checkConnections(ctx context.Context, db interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, addr string, workers, own int) error {
	var maxConns, reserved, inUse int
	err := db.QueryRow(ctx, `SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int,
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int`).Scan(&maxConns, &reserved, &inUse)
	if err != nil {
		return fmt.Errorf("read max_connections: %w", err)
	}
	others := max(0, inUse-own)
	avail := maxConns - reserved - others
	if need := PostgresConnections(workers); need > avail {
		return refusef("%d workers (readers and writers, or -concurrency) need up to %d PostgreSQL connections, but the server at %s allows max_connections %d (%d reserved for superusers, %d in use by other sessions): give at most %d workers, or raise max_connections on the server", workers, need, addr, maxConns, reserved, others, max(0, avail-connsMargin))
	}
	return nil
}
