// Package record defines run.json: the record of one run, what it measured
// (check.Metrics), what ran, where, and how it ended (Status). It does no
// I/O; package report reads, writes and renders these records, and package
// runner produces them.
package record

import (
	"encoding/json"
	"time"

	"github.com/ghostbench/ghostbench/check"
)

// SchemaVersion is the version of the run.json layout. It changes when a
// field changes meaning or is removed; adding a field does not change it.
const SchemaVersion = 1

// Run is everything one run measured, as written to run.json: what ran
// (strategy, scenario, seed), where (environment), what happened (faults,
// status) and the metrics.
type Run struct {
	Schema   int    `json:"schema"`
	ID       string `json:"id"`
	Strategy string `json:"strategy"`
	// Params are the strategy's parameters as name=value.
	Params   map[string]string `json:"params,omitempty"`
	Scenario string            `json:"scenario"`
	// Config is the effective scenario, as JSON.
	Config json.RawMessage `json:"config"`
	Seed   int64           `json:"seed"`

	Env Environment `json:"env"`

	Started time.Time `json:"started"`
	// ElapsedSeconds is wall-clock time from load start to the end of
	// the audit.
	ElapsedSeconds float64 `json:"elapsed_s"`
	// MeasuredSeconds is the measured window (duration minus warm-up, or
	// less when interrupted).
	MeasuredSeconds float64 `json:"measured_s"`
	// Status is StatusOK, StatusInterrupted (cancelled; partial results)
	// or StatusError (Error says why).
	Status Status `json:"status"`
	Error  string `json:"error,omitempty"`
	// Notes are what the reader of the run should know beyond its
	// metrics (a strategy process's stderr log that was cut).
	Notes []string `json:"notes,omitempty"`

	Faults []FaultWindow `json:"faults,omitempty"`
	// Drain reports how the end-of-run drain went.
	Drain DrainResult `json:"drain"`

	Metrics *check.Metrics `json:"metrics,omitempty"`

	// InvalidationLag is, for strategies whose invalidation runs apart
	// from the write (a WAL consumer, a notification listener), the time
	// from each write's commit-ack to its DEL returning, in microseconds.
	// Nil for other strategies.
	InvalidationLag *check.Histogram `json:"invalidation_lag,omitempty"`
	// InvalidationLagNegative counts DELs that returned before the writer
	// saw its COMMIT return (recorded as 0 in the histogram).
	InvalidationLagNegative int64 `json:"invalidation_lag_negative,omitempty"`
	// InvalidationLagConfiguredUs is the lag the strategy was configured
	// to invalidate with, in microseconds (async-invalidation's lag); 0
	// for a pipeline meant to invalidate at once. See LagBehind.
	InvalidationLagConfiguredUs int64 `json:"invalidation_lag_configured_us,omitempty"`
	// InvalidationLagStages is the invalidation lag stage by stage, in
	// order from commit-ack to the DEL's reply, for a pipeline that
	// observes instants in between (see LagStage); nil otherwise.
	InvalidationLagStages []LagStage `json:"invalidation_lag_stages,omitempty"`
	// Notices are what the strategy reported in words during the run and
	// no metric shows (cdc-invalidation: its replication slot found gone
	// after a failover, and what that loses); nil when none.
	Notices []string `json:"notices,omitempty"`

	// Instances is set for runs with several application instances or
	// with in-process caches.
	Instances *Instances `json:"instances,omitempty"`
	// RYW is the read-your-writes check (nil in records made before it).
	RYW *check.RYW `json:"read_your_writes,omitempty"`
	// DBLoad is what the run cost PostgreSQL in reads (nil in records
	// made before it).
	DBLoad *check.DBLoad `json:"db_load,omitempty"`
}

// Environment records what a run ran on.
type Environment struct {
	GoVersion       string            `json:"go_version"`
	OS              string            `json:"os"`
	Arch            string            `json:"arch"`
	CPUs            int               `json:"cpus"`
	GitCommit       string            `json:"git_commit,omitempty"`
	Provider        string            `json:"provider"`
	ProviderReason  string            `json:"provider_reason,omitempty"`
	PostgresVersion string            `json:"postgres_version"`
	RedisVersion    string            `json:"redis_version"`
	PostgresAddr    string            `json:"postgres_addr"`
	RedisAddr       string            `json:"redis_addr"`
	Settings        map[string]string `json:"settings,omitempty"`
	// Topology is the servers' topology (single, pg-replica,
	// redis-replica, redis-cluster); TopologyAddrs the addresses of its
	// servers beyond the pair, e.g. "postgres-replica" or "redis-node-3".
	Topology      string            `json:"topology,omitempty"`
	TopologyAddrs map[string]string `json:"topology_addrs,omitempty"`
}

// FaultWindow is when one scheduled fault was really in effect, as offsets
// from the run's start in seconds: it opens when Inject returned (the fault
// is in effect) and closes when Heal returned (its absence confirmed).
type FaultWindow struct {
	Fault  string            `json:"fault"`
	Params map[string]string `json:"params,omitempty"`
	// ScheduledStart and ScheduledEnd are what the scenario asked for.
	ScheduledStart float64 `json:"scheduled_start_s"`
	ScheduledEnd   float64 `json:"scheduled_end_s"`
	// Start and End are the real window; End is 0 when heal failed.
	Start float64 `json:"start_s"`
	End   float64 `json:"end_s"`
	// InjectError and HealError say what went wrong, if anything.
	InjectError string `json:"inject_error,omitempty"`
	HealError   string `json:"heal_error,omitempty"`
	// Events are what the fault saw happen while in effect (a failover:
	// when the new primary was elected, when clients followed), as offsets
	// from the run's start in seconds.
	Events []FaultEvent `json:"events,omitempty"`
}

// FaultEvent is one thing a fault saw happen, At seconds into the run.
type FaultEvent struct {
	At   float64 `json:"at_s"`
	What string  `json:"what"`
}

// DrainResult reports the end-of-run drain of background work.
type DrainResult struct {
	Needed  bool    `json:"needed"`
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
}
