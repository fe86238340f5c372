package reproduce

// Proves returns the kinds of finding (Finding*) that the case's
// interleaving proves on its own strategy on every run, anomalies only
// (no early-read, not-linearizable or unknown): what a reader may take as
// shown possible for that strategy. It is empty for a case that is clean by
// design (WantClean). The package tests hold it to the verdict each case
// must give.
func (c Case) Proves() []string {
	return append([]string(nil), proves[c.Name]...)
}

// proves is Case.Proves by case name.
var proves = map[string][]string{
	"cache-aside-stale-set":        {FindingStaleRead, FindingStaleUntilTTL},
	"async-invalidation-lag":       {FindingStaleRead},
	"write-through-lost-reply":     {FindingGhostRead, FindingGhostUntilTTL},
	"write-through-commit-fails":   {FindingGhostRead, FindingGhostUntilTTL},
	"write-through-dirty-read":     {FindingGhostRead, FindingGhostUntilTTL},
	"soft-write-through-partition": {FindingStaleRead, FindingStaleUntilTTL},
	"update-after-commit-reorder":  {FindingStaleRead, FindingStaleUntilTTL},
	"delete-before-update":         {FindingStaleRead, FindingStaleUntilTTL},
	"csc-invalidation-after-reply": {FindingStaleRead},
	"local-fill-vs-invalidation":   {FindingStaleRead, FindingStaleUntilTTL},
}
