package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// FaultPlan is a scenario's fault schedule, checked before any server is
// provisioned. A nil *FaultPlan is a schedule without faults.
type FaultPlan struct {
	sc   *scenarios.Scenario
	opts faults.Options
}

// PlanFaults checks sc's fault schedule against the servers pcfg will
// provision (external ones cannot be stopped, and are reconfigured only
// with opts.AllowServerChanges) before anything is provisioned. It returns
// nil for a scenario without faults. The error names the step, the field,
// the value and what is allowed.
func PlanFaults(sc *scenarios.Scenario, pcfg docker.Config, opts faults.Options) (*FaultPlan, error) {
	if len(sc.Faults) == 0 {
		return nil, nil
	}
	// prepare checks again against the servers really provisioned.
	if err := faults.Check(sc, expectedTarget(pcfg), opts); err != nil {
		return nil, err
	}
	return &FaultPlan{sc: sc, opts: opts}, nil
}

// expectedTarget returns what faults may do to the servers pcfg selects:
// everything to servers the harness starts, neither stop nor reconfigure
// external ones (chosen explicitly, or under "auto" by giving a URL).
func expectedTarget(pcfg docker.Config) faults.Target {
	external := pcfg.External()
	topology := pcfg.Topology
	if topology == "" {
		topology = docker.TopologySingle
	}
	return faults.Target{RedisControl: !external, PostgresControl: !external, Topology: topology}
}

// prepare readies the plan for one run on srv: it starts the proxies the
// faults need and returns the servers the runner must connect to (srv, or
// copies pointing at the proxies), the prepared schedule for the runner's
// Config.Faults, and a release that heals anything left and stops the
// proxies (call it after the run). A nil plan returns srv unchanged and a
// nil schedule.
func (p *FaultPlan) prepare(ctx context.Context, srv *docker.Servers) (*docker.Servers, fault.Schedule, func() error, error) {
	if p == nil {
		return srv, nil, func() error { return nil }, nil
	}
	setup, err := faults.Prepare(ctx, p.sc, srv, p.opts)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("faults: %w", err)
	}
	return setup.Servers(), setup, setup.Close, nil
}

// RunSpec is one run of a strategy through a scenario on servers already
// provisioned: what ghostbench run does once and a bench once per cell.
type RunSpec struct {
	Scenario *scenarios.Scenario
	Strategy string
	Params   strategies.Params
	// Registry holds Strategy; nil means strategies.Default().
	Registry *strategies.Registry
	Servers  *docker.Servers
	// Faults is the scenario's checked fault schedule (PlanFaults); nil
	// for none.
	Faults *FaultPlan
	// Progress, when set, is called about once a second with live numbers.
	Progress func(runner.Progress)
	// ID is the run's ID; empty lets the runner choose one.
	ID string
	// Schema, Prefix, Keep and IgnoreServerLock are runner.Config's.
	Schema, Prefix         string
	Keep, IgnoreServerLock bool
}

// ExecuteRun runs spec: the one path from provisioned servers to a
// record.Run that ghostbench run and a bench share (fault proxies started
// for this run, runner.Run, proxies stopped and faults healed). It returns
// an error when the run could not be done at all; a run that failed or was
// interrupted midway is a record.Run with that status. Write the result
// with WriteRun.
func ExecuteRun(ctx context.Context, spec RunSpec) (*record.Run, error) {
	srv, schedule, closeFaults, err := spec.Faults.prepare(ctx, spec.Servers)
	if err != nil {
		return nil, err
	}
	defer closeFaults()
	return runner.Run(ctx, runner.Config{
		Scenario: spec.Scenario, Strategy: spec.Strategy, Params: spec.Params, Registry: spec.Registry,
		Servers: srv, Faults: schedule, Progress: spec.Progress, ID: spec.ID,
		Schema: spec.Schema, Prefix: spec.Prefix, Keep: spec.Keep, IgnoreServerLock: spec.IgnoreServerLock,
	})
}

// WriteRun writes res to rel (a run.json) inside the results folder root,
// atomically, never through a symbolic link (report.WriteFileIn).
func WriteRun(root, rel string, res *record.Run) error {
	data, err := json.MarshalIndent(res, "", "  ")
	if err == nil {
		err = report.WriteFileIn(root, rel, append(data, '\n'))
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(root, rel), err)
	}
	return nil
}

// pingServers checks that both servers answer, within a few seconds.
func pingServers(ctx context.Context, srv *docker.Servers) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rdb := srv.RedisClient(docker.DefaultClientConfig())
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	db, err := srv.PostgresPool(ctx, docker.DefaultClientConfig())
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer db.Close()
	if err := db.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if rep := srv.Topology.PostgresReplica; rep != nil {
		// A standby promoted by pg-failover is no standby any more.
		conn, err := pgx.Connect(ctx, rep.URL)
		if err != nil {
			return fmt.Errorf("postgres standby: %w", err)
		}
		defer conn.Close(ctx)
		var standby bool
		if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&standby); err != nil {
			return fmt.Errorf("postgres standby: %w", err)
		}
		if !standby {
			return errors.New("postgres standby: promoted (a pg-failover), no standby left")
		}
	}
	return nil
}
