package strategies

import (
	"time"

	gb "github.com/ghostbench/ghostbench"
)

// registerClientSide registers the strategies with a cache in process
// memory invalidated by Redis.
func registerClientSide(r *Registry) {
	r.Register(Info{
		Name: "rueidis-csc",
		Description: "cache-aside with Redis client-side caching (github.com/redis/rueidis DoCache, RESP3 tracking): " +
			"reads served from process memory until Redis pushes an invalidation; UPDATE+COMMIT then DEL through rueidis",
		Params: []Param{
			{Name: "local-ttl", Default: "1m", Help: "the local copy's TTL (rueidis keeps min(local-ttl, the key's PTTL))", Check: DurationParam(time.Millisecond)},
			{Name: "ryw", Default: "false", Help: "true: after its own DEL, the instance reads the key from PostgreSQL until the invalidation lands (read-your-writes fix)", Check: OneOfParam("true", "false")},
		},
		Points: []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointAfterCommit, gb.PointBeforeCacheDel,
			gb.PointAfterCacheDel, gb.PointBeforeInvalidate},
		New: newRueidisCSC,
	})
	r.Register(Info{
		Name: "rueidis-aside",
		Description: "github.com/redis/rueidis/rueidisaside unchanged: cache-aside with client-side caching and a fill lock " +
			"(SET NX placeholder, waiters woken by its invalidation); UPDATE+COMMIT then Del; needs a TTL",
		Points:   []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointAfterCommit, gb.PointBeforeCacheDel, gb.PointAfterCacheDel, gb.PointBeforeInvalidate},
		NeedsTTL: true,
		New:      newRueidisAside,
	})
}
