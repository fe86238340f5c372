package strategies

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	gb "github.com/ghostbench/ghostbench"
)

// registerExtras registers the strategies beyond the four of the design's
// minimum set: each is a real implementation of a published
// technique, so that the bench compares what people actually deploy.
func registerExtras(r *Registry) {
	r.Register(Info{
		Name: "delayed-double-delete",
		Description: "DEL, UPDATE+COMMIT, DEL again after a delay (default 500ms) from a timer; " +
			"closes the stale set only when the stale fill lands inside the delay; reads as cache-aside",
		Params: []Param{{Name: "delay", Default: "500ms", Help: "time from COMMIT to the second DEL", Check: DurationParam(0)}},
		Points: []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointBeforeCacheDel, gb.PointAfterCacheDel,
			gb.PointBeforeDBUpdate, gb.PointAfterCommit, gb.PointBeforeApply},
		New: newDelayedDoubleDelete,
	})
	r.Register(Info{
		Name: "version-checked",
		Description: "UPDATE+COMMIT then SET-if-newer; fills are SET-if-newer too (one Lua script compares the " +
			"cached version): a late fill never overwrites a newer value",
		Points: []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointAfterCommit},
		New:    newVersionChecked,
	})
	r.Register(Info{
		Name: "leases",
		Description: "memcache-style leases: a miss takes a lease token, a write's DEL voids it, a fill with a void " +
			"lease is dropped; concurrent missers wait for the holder's fill (default) or read through without filling",
		Params: []Param{
			{Name: "hot-miss", Default: "wait", Help: "what a miss does while another client holds the lease: wait (poll for the fill, then read through) or read-through (go to the database at once, never fill)", Check: OneOfParam("wait", "read-through")},
			{Name: "wait", Default: "100ms", Help: "with hot-miss=wait, how long to wait for the holder's fill before reading through without filling", Check: DurationParam(0)},
			{Name: "lease", Default: "3s", Help: "lease lifetime: bounds how long a dead holder blocks others' fills", Check: DurationParam(time.Millisecond)},
		},
		Points: []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointAfterCommit, gb.PointBeforeCacheDel, gb.PointAfterCacheDel},
		New:    newLeases,
	})
	r.Register(Info{
		Name: "cdc-invalidation",
		Description: "UPDATE+COMMIT only; a logical-replication consumer (pgoutput, own slot and publication) " +
			"DELs every updated key (the DELs of changes received together in one pipeline), confirming WAL positions only after the DEL; resumes from the slot after a kill",
		Params: []Param{capParam},
		Points: []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointBeforeApply},
		New:    newCDCInvalidation,
	})
	r.Register(Info{
		Name: "notify-invalidation",
		Description: "pg_notify(channel, key) inside the write transaction; a LISTEN connection DELs the key. " +
			"Notifications sent while the listener is disconnected are lost (stale until TTL)",
		Params: []Param{capParam},
		Points: []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointBeforeCommit, gb.PointBeforeApply},
		New:    newNotifyInvalidation,
	})
	r.Register(Info{
		Name: "go-redis-cache",
		Description: "github.com/go-redis/cache/v9 unchanged: Once (singleflight read-through) on reads, " +
			"UPDATE+COMMIT then Delete on writes; local=true adds its TinyLFU in-process cache (no invalidation across instances)",
		Params: []Param{
			{Name: "local", Default: "false", Help: "true: the library's local TinyLFU cache in front of Redis", Check: OneOfParam("true", "false")},
			{Name: "local-ttl", Default: "1m", Help: "with local=true, the local cache's TTL", Check: DurationParam(time.Millisecond)},
			{Name: "local-guard", Default: "false", Help: "with local=true, drop a local fill older than this instance's own last write of the key", Check: OneOfParam("true", "false")},
		},
		Points: []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointAfterCommit, gb.PointBeforeCacheDel, gb.PointAfterCacheDel, gb.PointBeforeLocalSet},
		New:    newGoRedisCache,
	})
	registerClientSide(r)
}

// LagReporter is implemented by strategies whose invalidation runs apart
// from the write (a log consumer, a notification listener): it reports the
// invalidation lag of every write it invalidated, from the instant the
// writer saw COMMIT return (commit-ack) to the instant the DEL returned.
//
// The strategy measures it because only the strategy can pair a DEL with
// its write (by the write's token); the runner should read it after Drain
// and summarise it beside the staleness metrics. A negative lag means the
// DEL returned before the writer saw its COMMIT return, which happens when
// the change reaches the consumer faster than the ack reaches the writer.
type LagReporter interface {
	// InvalidationLag returns the lags measured so far, oldest first (at
	// most the newest lagSamples of them).
	InvalidationLag() []time.Duration
}

// NoticeReporter is implemented by strategies that can report, in words,
// events of a run a user must know about and that no metric shows (the
// cdc consumer finding its replication slot gone after a failover).
// A run record lists them.
type NoticeReporter interface {
	// Notices returns the notices so far, oldest first.
	Notices() []string
}

// lagSamples bounds the lags a lagRecorder keeps.
const lagSamples = 1 << 16

// lagPending bounds the unmatched acks (or DELs) a lagRecorder remembers;
// past it they are forgotten, so a consumer that never catches up, or DELs
// of writes made by someone else, cannot grow memory without bound.
const lagPending = 1 << 16

// instanceName returns "<kind>_<schema>_<8 hex>", a PostgreSQL identifier
// unique to one strategy instance (for slots, publications and channels),
// at most 63 characters.
func instanceName(kind, schema string) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random name suffix: %w", err)
	}
	suffix := hex.EncodeToString(b[:])
	room := 63 - len(kind) - len(suffix) - 2
	if len(schema) > room {
		schema = schema[:room]
	}
	return kind + "_" + schema + "_" + suffix, nil
}

// parseKeyToken parses "key:token" as sent by a strategy's invalidation
// message.
func parseKeyToken(s string) (gb.Key, gb.Token, error) {
	a, b, ok := strings.Cut(s, ":")
	k, err1 := strconv.ParseInt(a, 10, 64)
	t, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("invalidation payload %q: want key:token", s)
	}
	return gb.Key(k), gb.Token(t), nil
}

// ttlMillis returns ttl in whole milliseconds for a Lua script, rounding a
// positive sub-millisecond TTL up to 1; 0 means none.
func ttlMillis(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return max(1, ttl.Milliseconds())
}
