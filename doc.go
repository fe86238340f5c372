// Package ghostbench is the shared vocabulary of the ghostbench harness: the
// values a cache holds, the operations the runner records, the Strategy
// interface that caching strategies implement, the interleaving points where
// a scenario can force a race, and the Recorder through which the store
// reports every commit.
//
// The package depends on the standard library only. Adapters to PostgreSQL
// (package store), Redis and the servers themselves (package docker) live
// beside it, so a user's own strategy can depend on this vocabulary without
// pulling in the harness.
//
// Times are offsets from the start of a run, read from one monotonic clock
// (see Clock). An operation is the closed interval [Invoke, Complete]: it may
// have taken effect at any instant inside it, which is why the checker only
// flags what the intervals prove.
package ghostbench
