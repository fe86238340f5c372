// Package check is ghostbench's measurement contract: the Checker turns
// what a run recorded (write attempts with their commit instants, completed
// operations, probes, the end-of-run audit) into classified reads and
// Metrics, online while the run goes on. It does no I/O and knows nothing
// of servers, strategies or rendering: package record stores its Metrics
// in run.json and package report renders them. The definitions below are
// the ones docs/measurement.md explains for users and DESIGN.md section 4
// states; where they disagree, this package doc and the code win and the
// documents are fixed.
//
// # What the checker is told
//
// The store reports every write attempt through the ghostbench.Recorder
// methods of the Checker (Began, CommitSending, then Committed, Aborted or
// Indeterminate), from the write path, as it happens. The runner calls
// Observe with every completed operation, Probe with every convergence
// probe, Warn with every post-commit cache error, AuditKey for every key at
// the end of the run (AuditAbsent counts at once the keys that certainly
// have no cache entry), and finally Finish, which asks the ledger about the
// writes whose outcome is still unknown. Every method is safe for concurrent
// use; calls for one key are serialized by the shard that owns the key.
//
// Every key starts as a seed row: version 0, token 0, committed with
// commit-sent = commit-ack = 0.
//
// # Classifying reads
//
// All instants are offsets on the run's clock. A successful read R of key k
// returning version v with token t is:
//
//   - ghost if (v, t) was never committed: t's write aborted (per the
//     recorder), or was indeterminate and did not commit (per the ledger at
//     Finish, or because another write committed the same version, or
//     because a later version committed while t's write was the only
//     candidate for v), or another token committed version v.
//   - stale if some committed version v' > v has commit-ack < R.invoke. Its
//     staleness age is R.invoke − min{ack(v') : v' > v committed}. DESIGN.md
//     writes ack(v+1): that is the same in the usual case, but acks of one
//     key can be measured out of version order (the row lock is released at
//     COMMIT, before the writer reads its clock), and the earliest newer ack
//     is the instant from which R's value was provably obsolete. Its version
//     lag is v_latest − v, v_latest being the highest committed version
//     whose ack is before R.invoke.
//   - early (informational, may coexist with ghost and stale) if R.complete
//     < commit-sent of t's write, or t's write never sent COMMIT.
//   - fresh otherwise.
//   - unknown when whether it is ghost or stale cannot be established (the
//     ledger could not be read): never counted as fresh.
//
// No false positives: every flag is proved by the recorded intervals. In
// particular a write whose COMMIT was indeterminate and that the ledger
// found committed has an unknown ack somewhere in [commit-sent,
// op.Complete]; the checker uses op.Complete, the latest possible instant,
// so nothing is flagged that an earlier real ack would not also flag.
//
// # Late events
//
// When a read is observed, a write whose ack precedes the read's invoke may
// not have delivered Committed yet (its writer measured the ack and was
// descheduled). Since CommitSending is always called before the ack is
// measured, such a write is visible as pending. A read that a pending (or
// indeterminate) newer write could make stale, or whose own token has no
// final outcome yet, is deferred and classified when the outcome arrives, or
// at Finish. Deferred reads are the only per-read state: a few per key in
// practice (bounded by the writers in flight), more only for keys whose last
// write stays indeterminate until Finish.
//
// # Stale windows
//
// For each committed write W of version v', the stale window is
// max(0, I − ack(W)), I being the latest invoke of a measured read that
// returned a version < v' (ghost values included: what counts is that the
// reader did not see W). It is computed at Finish from best[v], the latest
// invoke of a read returning v, kept per committed version. The
// distribution covers every measured write, and every write of the
// warm-up (or whose operation was not measured) whose window reaches into
// the measured period, that is, that a measured read still did not see.
// Such a window runs from the write's ack, like the staleness age of the
// reads it explains, and ends at a measured read: its end is inside the
// measured period. So a run's numbers agree with each other (Invariants):
// stale reads > 0 implies a window > 0, and every staleness age, p99
// included, is at most the max stale window (the read's newer write has a
// window reaching at least to that read). Clipping the start of a warm-up
// write's window to the measured period would break the second.
//
// # Values of another key
//
// A cached value whose token the recorder reported for another key (or
// for another version of the same row) is one this key never held: a
// ghost read for this key (TokenOtherKey), and ghost until TTL at the
// audit, whatever the ledger says of the token; never unknown.
//
// # Convergence
//
// The runner's prober samples committed writes and reads the raw cache
// entry of each (gb.Inspector.Peek, no side effects) at fixed offsets after
// its commit-ack. Probe records whether the entry was consistent: absent,
// or holding a version at least the write's. Metrics.Convergence gives,
// per offset, the consistent fraction and its "nines" (-log10 of the
// inconsistent fraction, capped at NinesCap when every sample was
// consistent). It does not depend on the read rate.
//
// # Audit
//
// After the writers stopped and background work drained (with a bound),
// before TTLs expire, AuditKey compares every key's cache entry with its
// row, read first: an entry holding an older version than the row is
// stale until TTL, one holding a token that never committed (per the
// recorder or the ledger) is ghost until TTL, and one whose token's
// outcome cannot be established is unknown (never counted as clean).
//
// # Writes and availability
//
// Every write attempt is counted once, when its operation is observed:
// committed, or failed by error class (redis, postgres, timeout,
// indeterminate, other). An indeterminate write that the ledger finds
// committed counts as committed. Write availability is committed /
// attempted; writes whose outcome stays unknown count as not committed.
// Warnings counts cache errors reported after a COMMIT succeeded (Warn):
// the write committed, the cache may not have been maintained.
// FillWarnings counts apart the cache errors of the read path that did not
// fail the read (Warn with an error marked by ghostbench.Fill: a GET that
// fell back to the database, a fill that failed), so that a Redis outage
// does not show as thousands of errors after COMMIT.
//
// # Latency
//
// HdrHistograms in microseconds, 3 significant digits, per kind (read-hit,
// read-miss, read-error, write, write-error). In open-loop runs latency is
// measured from each operation's intended start (corrected for coordinated
// omission) and the uncorrected histograms are kept beside them with the
// suffix UncorrectedSuffix.
//
// # Database load
//
// DBLoadChecker (DBLoad in run.json's db_load) counts what a run cost
// PostgreSQL in reads, from the rows the store read for the strategy
// (ghostbench.ReadRecorder), each tied by the runner to the operation that
// made it: reads per measured second, the peak rate over one series
// bucket wholly inside the measured window, and the fills. A fill is the
// set of reads of one key that returned the same committed version and
// started between the start of the first of them and the return of the
// operation that made it (by then its fill was done); its width is their
// number, and a storm is a fill of width 2 or more (a stampede). After a
// fault window that healed with a whole bucket left in the measured
// window, Recovery gives the pre-fault hit ratio, the peak rate from the
// heal's bucket until the hit ratio recovered (a bucket of at least
// RecoveryMinReads reads reaching RecoveryFraction of it), and when. A run
// whose reads missed the cache without a database read recorded (a
// strategy reading PostgreSQL with its own SQL) has Recorded false and no
// numbers. Memory is 32 bytes per database read, up to MaxDBReads.
//
// # A check that could not be made is unknown
//
// Nothing unverified is reported as a pass: reads whose classification
// depends on an outcome the ledger could not give are unknown, and Finish
// returns an error wrapping ErrUnresolved beside valid metrics.
//
// # Cost
//
// Memory is O(keys touched + write attempts), not O(operations) nor
// O(keys): a key no call named is its seed row and has no state; a
// touched key costs a 64-byte state and its slot in a map (about 90 bytes
// in all), per committed write four words (token, commit-sent, commit-ack,
// latest read invoke), per aborted write an entry in a map, plus fixed-size
// histograms per shard and a time series that grows with the run's
// duration. CheckerConfig.FullHistory is the exception: it keeps every
// operation. Observe and the Recorder methods take one uncontended mutex
// and do not allocate in the common case.
package check
