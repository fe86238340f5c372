package check

import (
	"github.com/ghostbench/ghostbench"
)

// Names of the latency histograms in Metrics.Latency.
const (
	LatencyReadHit   = "read-hit"   // successful reads served from the cache
	LatencyReadMiss  = "read-miss"  // successful reads that missed the cache
	LatencyReadError = "read-error" // reads that returned an error
	LatencyWrite     = "write"      // every write, failed ones included
	LatencyWriteErr  = "write-error"
	// UncorrectedSuffix is appended to the names above for the histograms
	// measured from Invoke instead of Intended (open-loop runs only).
	UncorrectedSuffix = "-uncorrected"
)

// NinesCap is the highest "nines" a convergence point reports: a fraction
// of exactly 1 (or above 1-10^-NinesCap) reports NinesCap with NinesCapped
// set, since −log10(0) is infinite.
const NinesCap = 6.0

// Metrics is everything the checker measured in one run. It is
// JSON-serializable (it goes into run.json) and self-contained: every table
// and plot can be re-rendered from it. Durations are microseconds (fields
// ending in _us, rounded up) except in Examples and History, which keep the
// exact nanosecond offsets from the run's start (_ns). Ratios that would
// divide by zero are null.
type Metrics struct {
	Reads       ReadMetrics        `json:"reads"`
	Writes      WriteMetrics       `json:"writes"`
	StaleWindow StaleWindowMetrics `json:"stale_window"`
	// Latency maps the Latency* names (plus UncorrectedSuffix in open-loop
	// runs) to histograms in microseconds. All names are present, empty
	// histograms included.
	Latency     map[string]*Histogram `json:"latency"`
	Convergence []ConvergencePoint    `json:"convergence"`
	Audit       AuditResult           `json:"audit"`
	Series      Series                `json:"series"`
	// Warnings counts errors reported through Checker.Warn on the write
	// path (cache operations after COMMIT that failed without failing the
	// write).
	Warnings int64 `json:"warnings"`
	// FillWarnings counts cache errors on the read path that did not fail
	// the read (a GET that fell back to the database, a fill that failed),
	// reported through Checker.Warn with ghostbench.Fill.
	FillWarnings int64 `json:"fill_warnings"`
	// Violations lists the invariants (see Invariants) that these metrics
	// break; empty unless the checker has a bug.
	Violations []string `json:"violations,omitempty"`
	// HarnessErrors counts calls that broke the checker's input contract
	// (a key out of range, an outcome for a write never begun, a second
	// outcome, a call after Finish, ...). Non-zero means the harness, not
	// the strategy, has a bug; the affected operations are counted as
	// errors of class "other" or as unknown, never as fresh.
	HarnessErrors int64      `json:"harness_errors"`
	Resolution    Resolution `json:"resolution"`
	// Examples holds up to MaxExamples anomalies (stale, ghost or early
	// reads), the earliest by completion.
	Examples []Anomaly `json:"examples"`
	// History is every operation with its outcome, in completion order,
	// when CheckerConfig.FullHistory is set.
	History []HistoryEntry `json:"history,omitempty"`
}

// ReadMetrics counts the measured reads and their classes (see the package
// documentation for the definitions). Stale, Ghost and Early can overlap:
// a read that returned a never-committed value after a newer version was
// acknowledged is both ghost and stale. Fresh counts successful reads with
// no anomaly and no unknown classification; Unknown counts successful reads whose
// ghost or stale classification could not be established (the ledger could not be
// read): they are never counted as fresh.
type ReadMetrics struct {
	Total  int64 `json:"total"`
	OK     int64 `json:"ok"` // successful reads: Hits + Misses
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
	// Errors counts failed reads by ErrClass name (all classes present).
	Errors  map[string]int64 `json:"errors"`
	Fresh   int64            `json:"fresh"`
	Stale   int64            `json:"stale"`
	Ghost   int64            `json:"ghost"`
	Early   int64            `json:"early"`
	Unknown int64            `json:"unknown"`
	// HitRatio is Hits/OK; StaleRatio Stale/OK; GhostRatio Ghost/OK. Null
	// when OK is 0.
	HitRatio   *float64 `json:"hit_ratio"`
	StaleRatio *float64 `json:"stale_ratio"`
	GhostRatio *float64 `json:"ghost_ratio"`
	// StalenessAge is the distribution over stale reads of invoke minus
	// the earliest commit-ack of a newer version, in microseconds.
	StalenessAge *Histogram `json:"staleness_age"`
	// VersionLag is the distribution over stale reads of the latest
	// version acknowledged before invoke minus the version read.
	VersionLag *Histogram `json:"version_lag"`
}

// WriteMetrics counts the measured write operations. Attempted = Committed +
// NotCommitted + Unknown, and the Failed counts add up to NotCommitted +
// Unknown.
type WriteMetrics struct {
	Attempted int64 `json:"attempted"`
	// Committed: the write's transaction committed, per the recorder or
	// the ledger, whatever the operation returned.
	Committed int64 `json:"committed"`
	// NotCommitted: the transaction certainly did not commit (aborted,
	// rolled back, never begun).
	NotCommitted int64 `json:"not_committed"`
	// Unknown: the outcome stayed unknown (indeterminate and the ledger
	// could not be read). Counted as not committed in Availability.
	Unknown int64 `json:"unknown"`
	// Failed counts the writes that did not commit or whose outcome is
	// unknown, by the ErrClass name of the error they returned (all classes
	// present). A write that returned nil without committing (a strategy
	// bug, also counted in OKNotCommitted) is counted as "other".
	Failed map[string]int64 `json:"failed"`
	// ErrorsReturned counts every write that returned an error, by class,
	// committed or not.
	ErrorsReturned map[string]int64 `json:"errors_returned"`
	// CommittedDespiteError counts writes that returned an error although
	// their transaction committed (an indeterminate COMMIT the ledger
	// found committed, for example).
	CommittedDespiteError int64 `json:"committed_despite_error"`
	// OKNotCommitted counts writes that returned nil although their
	// transaction did not commit: a broken strategy.
	OKNotCommitted int64 `json:"ok_not_committed"`
	// Availability is Committed/Attempted, null when Attempted is 0. It
	// is a lower bound when Unknown is not 0.
	Availability *float64 `json:"availability"`
}

// StaleWindowMetrics describes, over every committed measured write, how
// long reads kept returning an older version after its commit-ack.
type StaleWindowMetrics struct {
	// Writes is the number of committed measured writes.
	Writes int64 `json:"writes"`
	// WithWindow is how many of them had a window > 0.
	WithWindow int64 `json:"with_window"`
	// Fraction is WithWindow/Writes, null when Writes is 0.
	Fraction *float64 `json:"fraction"`
	// MaxUs is the largest window, exact (rounded up to a microsecond).
	MaxUs int64 `json:"max_us"`
	// Histogram is the distribution of the windows in microseconds, zero
	// windows included.
	Histogram *Histogram `json:"histogram"`
}

// ConvergencePoint is the share of probes that found the cache consistent
// at one offset after commit-ack.
type ConvergencePoint struct {
	OffsetUs   int64 `json:"offset_us"`
	Samples    int64 `json:"samples"`
	Consistent int64 `json:"consistent"`
	// Fraction is Consistent/Samples, null when Samples is 0.
	Fraction *float64 `json:"fraction"`
	// Nines is −log10(1 − Fraction) (0.999 → 3), null when Samples is 0,
	// at most NinesCap.
	Nines *float64 `json:"nines"`
	// NinesCapped is true when Nines was capped at NinesCap.
	NinesCapped bool `json:"nines_capped"`
}

// AuditResult is the end-of-run comparison of every cache entry with its row.
type AuditResult struct {
	// Checked is the number of keys audited.
	Checked int64 `json:"checked"`
	// Present is how many of them had a cache entry.
	Present int64 `json:"present"`
	// GhostUntilTTL: the entry holds a value whose write never committed.
	GhostUntilTTL int64 `json:"ghost_until_ttl"`
	// StaleUntilTTL: the entry holds a committed value older than the row.
	StaleUntilTTL int64 `json:"stale_until_ttl"`
	// Unknown: the entry's write could not be resolved (ledger unreadable).
	Unknown int64 `json:"unknown"`
	// Examples lists up to MaxAuditExamples findings, lowest keys first.
	Examples []AuditExample `json:"examples"`
}

// Audit findings in AuditExample.Kind.
const (
	AuditGhost   = "ghost-until-ttl"
	AuditStale   = "stale-until-ttl"
	AuditUnknown = "unknown"
)

// AuditExample is one key the audit flagged.
type AuditExample struct {
	Key   ghostbench.Key   `json:"key"`
	Kind  string           `json:"kind"`
	Cache ghostbench.Value `json:"cache"`
	DB    ghostbench.Value `json:"db"`
	// TTLUs is the entry's remaining time to live, -1 when it has none.
	TTLUs int64 `json:"ttl_us"`
}

// Series counts measured operations in fixed buckets of completion time:
// element i covers [i*BucketUs, (i+1)*BucketUs) µs after the run's start.
type Series struct {
	BucketUs int64   `json:"bucket_us"`
	Ops      []int64 `json:"ops"`
	Errors   []int64 `json:"errors"`
	Reads    []int64 `json:"reads"`
	Writes   []int64 `json:"writes"`
	// WriteErrors counts the writes that returned an error (a subset of
	// Errors), so write availability inside a fault window can be read
	// from the series.
	WriteErrors  []int64 `json:"write_errors"`
	StaleReads   []int64 `json:"stale_reads"`
	GhostReads   []int64 `json:"ghost_reads"`
	UnknownReads []int64 `json:"unknown_reads"`
}

// Resolution says how the indeterminate writes were settled at Finish.
type Resolution struct {
	// Asked is the number of tokens whose outcome the recorder left
	// unknown and that were passed to the resolver.
	Asked int `json:"asked"`
	// Committed and NotCommitted are the resolver's answers.
	Committed    int `json:"committed"`
	NotCommitted int `json:"not_committed"`
	// Unresolved tokens got no answer (no resolver, it failed, or it
	// omitted them); everything that depends on them is unknown.
	Unresolved int `json:"unresolved"`
	// Error is the resolver's error, if any.
	Error string `json:"error,omitempty"`
}

// TokenStatus says what became of the write that produced a value
// (Anomaly.TokenStatus).
type TokenStatus string

// The token statuses.
const (
	// TokenCommitted: the value's write committed.
	TokenCommitted TokenStatus = "committed"
	// TokenAborted: the recorder reported the write aborted.
	TokenAborted TokenStatus = "aborted"
	// TokenNotCommitted: the write's COMMIT was indeterminate and it
	// did not commit (per the ledger, or because another write committed
	// the same version).
	TokenNotCommitted TokenStatus = "not-committed"
	// TokenSuperseded: another write committed this version of the row,
	// so this value is not the committed one.
	TokenSuperseded TokenStatus = "superseded"
	// TokenOtherKey: the token's write was reported for another key (or
	// another version of this row): this key never held the value.
	TokenOtherKey TokenStatus = "other-key"
	// TokenUnknown: whether the write committed could not be established.
	TokenUnknown TokenStatus = "unknown"
)

// Anomaly is a measured read flagged stale, ghost or early, with the
// evidence that proves it. Times are nanosecond offsets from the run start.
type Anomaly struct {
	Stale bool `json:"stale"`
	Ghost bool `json:"ghost"`
	Early bool `json:"early"`

	Key        ghostbench.Key   `json:"key"`
	Client     int              `json:"client"`
	InvokeNs   int64            `json:"invoke_ns"`
	CompleteNs int64            `json:"complete_ns"`
	Value      ghostbench.Value `json:"value"`
	Hit        bool             `json:"hit"`

	// TokenStatus says what became of Value.Token's write.
	TokenStatus TokenStatus `json:"token_status"`
	// CommitSentNs is the commit-sent instant of the value's write, -1
	// when it never sent COMMIT, -2 when unknown.
	CommitSentNs int64 `json:"commit_sent_ns"`

	// Evidence of staleness (zero unless Stale): the newer committed
	// version with the earliest commit-ack, that ack, the latest version
	// acknowledged before invoke, and the resulting age and lag.
	NewerVersion  int64            `json:"newer_version,omitempty"`
	NewerToken    ghostbench.Token `json:"newer_token,omitempty"`
	NewerAckNs    int64            `json:"newer_ack_ns,omitempty"`
	LatestVersion int64            `json:"latest_version,omitempty"`
	AgeNs         int64            `json:"age_ns,omitempty"`
	Lag           int64            `json:"lag,omitempty"`
}

// Outcome sums up what one operation turned out to be
// (HistoryEntry.Outcome): for a read OutcomeFresh, OutcomeUnknown,
// OutcomeError or its anomalies joined by "+" ("stale+ghost"); for a write
// OutcomeCommitted, OutcomeNotCommitted or OutcomeUnknown.
type Outcome string

// The outcomes.
const (
	OutcomeCommitted    Outcome = "committed"
	OutcomeNotCommitted Outcome = "not-committed"
	OutcomeUnknown      Outcome = "unknown"
	OutcomeFresh        Outcome = "fresh"
	OutcomeError        Outcome = "error"
)

// HistoryEntry is one operation with its outcome (CheckerConfig.FullHistory).
// Times are nanosecond offsets from the run start.
type HistoryEntry struct {
	Kind       string         `json:"kind"` // "read" or "write"
	Key        ghostbench.Key `json:"key"`
	Client     int            `json:"client"`
	IntendedNs int64          `json:"intended_ns"`
	InvokeNs   int64          `json:"invoke_ns"`
	CompleteNs int64          `json:"complete_ns"`
	Measured   bool           `json:"measured"`
	// Class and Error describe a failed operation.
	Class string `json:"class,omitempty"`
	Error string `json:"error,omitempty"`

	// Reads: the value returned and its outcome.
	Value   *ghostbench.Value `json:"value,omitempty"`
	Hit     bool              `json:"hit,omitempty"`
	Stale   bool              `json:"stale,omitempty"`
	Ghost   bool              `json:"ghost,omitempty"`
	Early   bool              `json:"early,omitempty"`
	Unknown bool              `json:"unknown,omitempty"`
	AgeNs   int64             `json:"age_ns,omitempty"`
	Lag     int64             `json:"lag,omitempty"`

	// Writes: the attempt's token, and the version it produced when its
	// recorder events were seen (0 when it never began).
	Token   ghostbench.Token `json:"token,omitempty"`
	Version int64            `json:"version,omitempty"`

	// Outcome sums the entry up (see Outcome). Its JSON name is
	// "verdict", as in files written before it was renamed.
	Outcome Outcome `json:"verdict"`
}

// Limits on the examples kept.
const (
	MaxExamples      = 20
	MaxAuditExamples = 100
)
