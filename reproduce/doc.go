// Package reproduce turns the classic ghost-data bugs of a cache in front of
// a database into deterministic, explained repros: a catalogue of named
// cases, each a scripted interleaving of readers, writers and faults that
// runs against real PostgreSQL and Redis servers and reproduces its anomaly
// on every run.
//
// A case drives a runner.Session: actors call Read and Write from their own
// goroutines, barriers hold them at the strategies' named interleaving
// points (ghostbench.Point) until the script lets them go, and faults from
// package faults (lost replies, a partition, out of memory, a failing
// COMMIT) are injected and healed at scripted moments. Nothing waits on a
// timer to decide an order: an actor is let go only after the script has
// seen it arrive where it must wait, so the same order happens every time.
//
// Run returns a Result with
//
//   - a timeline: every operation's invoke and complete with its value,
//     each write's commit-sent and commit-ack (or abort), the cache
//     commands the strategy sent (SET, DEL, scripts; with their errors),
//     the holds and releases, the fault windows and the end-of-run audit,
//     each with its offset from the start of the run and its actor; the
//     events that show the anomaly are marked;
//   - a verdict in the terms of DESIGN.md section 4 that names only the
//     operations that make the anomaly (the read, the write whose commit
//     it missed, their instants, the age), and counts per kind;
//   - a linearizability check of the case's history with porcupine (see
//     Linearizability for the model), whose Ok / Illegal / Unknown is part
//     of the verdict: Unknown is never clean.
//
// Result.WriteDir writes timeline.json, run.json, index.html (the timeline
// table, the verdict and the porcupine visualization in a frame) and
// linearizability.html (porcupine's own visualization, with the fault
// windows, holds, commits and cache commands as annotations).
//
// # Other strategies
//
// Options.Strategy runs a case's interleaving against another strategy,
// to check a fix. The script then degrades gracefully rather than refusing:
// a hold at a point the strategy never reaches on that path (a reader held
// before a fill that a strategy without fills never does, a writer held
// before a SET that a deleting strategy never sends) is skipped, and the
// timeline says so; a background worker is held only when the strategy
// declares PointBeforeApply. Every case lists, in CleanWith, strategies
// that run its interleaving clean; the package tests check each of them.
// Case parameters (async-invalidation's lag) are passed only to strategies
// that declare them.
//
// # Verdict
//
// The outcome is "anomaly" when the checker proved a stale or ghost read,
// the audit found a key stale or ghost until TTL, porcupine found the
// history not linearizable, or (for cases about availability, see
// Case.Availability) a write failed; "clean" when none of that happened and
// everything could be verified; "unknown" otherwise (porcupine timed out,
// a read or write could not be resolved). Early reads are reported but,
// as DESIGN.md section 4 says, are informational: they make no anomaly alone.
package reproduce
