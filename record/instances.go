package record

// Instances describes a run with several application instances
// (Scenario.Instances) or with in-process caches: how workers were dealt
// to instances, and what the end-of-run audit found in the instances'
// local caches beside Redis.
type Instances struct {
	// Count is the number of strategy instances.
	Count int `json:"count"`
	// Assignment is the instance of every worker, indexed by worker
	// (Op.Client): with the seed, it reproduces the run.
	Assignment []int `json:"assignment"`
	// LocalEntries counts (instance, key) entries present in local caches
	// at the audit; LocalStale those older than the row, LocalGhost those
	// holding a value that is not the row's at its version or above it.
	LocalEntries int64 `json:"local_entries"`
	LocalStale   int64 `json:"local_stale"`
	LocalGhost   int64 `json:"local_ghost"`
	// LocalStaleMaxTTLSeconds is the longest remaining local TTL of a
	// stale local entry: how long the worst one would still be served.
	LocalStaleMaxTTLSeconds float64 `json:"local_stale_max_ttl_s"`
}
