package check

import (
	"sort"
	"time"

	"github.com/ghostbench/ghostbench"
)

type auditCounts struct {
	checked, present, ghost, stale, unknown int64
}

type auditEntry struct {
	key       ghostbench.Key
	cache, db ghostbench.Value
	ttl       time.Duration
}

// evalAudit classifies a present cache entry, or returns false when its
// token's outcome is not known yet (final false).
func (c *Checker) evalAudit(sh *shard, ks *keyState, e *auditEntry, final bool) bool {
	st, _, _ := c.tokenState(sh, ks, e.cache.Version, e.cache.Token, final)
	kind := ""
	switch st {
	case tsOpen:
		return false
	case tsNotCommitted:
		kind = AuditGhost
		sh.audit.ghost++
	case tsUnknown:
		kind = AuditUnknown
		sh.audit.unknown++
	default:
		if e.cache.Version < e.db.Version {
			kind = AuditStale
			sh.audit.stale++
		}
	}
	if kind != "" {
		ttl := int64(-1)
		if e.ttl >= 0 {
			ttl = ceilMicros(int64(e.ttl))
		}
		sh.addAuditExample(AuditExample{Key: e.key, Kind: kind, Cache: e.cache, DB: e.db, TTLUs: ttl})
	}
	return true
}

// addAuditExample keeps the MaxAuditExamples lowest keys, sorted.
func (sh *shard) addAuditExample(a AuditExample) {
	ex := sh.auditExamples
	if len(ex) == MaxAuditExamples && a.Key >= ex[len(ex)-1].Key {
		return
	}
	i := sort.Search(len(ex), func(i int) bool { return a.Key < ex[i].Key })
	if len(ex) < MaxAuditExamples {
		ex = append(ex, AuditExample{})
	}
	copy(ex[i+1:], ex[i:len(ex)-1])
	ex[i] = a
	sh.auditExamples = ex
}
