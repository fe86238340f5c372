package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/runner"
)

// matrix runs the cells of a bench one after the other on shared servers.
type matrix struct {
	cfg   *Config
	bench *report.Bench
	// runs[i] is the result of bench.Runs[i] (nil until it ran): what a
	// sequential bench looks at.
	runs    []*record.Run
	started time.Time
	// outOfBudget is set when a run was left out for the budget.
	outOfBudget bool

	srv    *docker.Servers
	broken bool // the last run may have left the servers unusable
}

// run executes cells in order, recording each in bench.Runs and rewriting
// bench.json after each. It stops at the first cell when ctx is done,
// leaving the rest not-run. It returns an error only when servers cannot
// be provisioned or a file cannot be written.
func (m *matrix) run(ctx context.Context, cells []cell, base int) error {
	obs := m.cfg.Observer
	for j, c := range cells {
		i := base + j
		for len(m.runs) <= i {
			m.runs = append(m.runs, nil)
		}
		if ctx.Err() != nil {
			return nil
		}
		if !m.fits(1) {
			m.outOfBudget = true
			return nil
		}
		if err := m.servers(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		rec := &m.bench.Runs[i]
		t0 := time.Now()
		var progress func(runner.Progress)
		if obs.RunProgress != nil {
			progress = func(p runner.Progress) { obs.RunProgress(i, rec, p) }
		}
		if obs.RunStarting != nil {
			obs.RunStarting(i, rec)
		}
		id := m.bench.Name + "-" + c.sc.Name + "-" + c.strategy
		if m.cfg.Count > 1 {
			id += fmt.Sprintf("-%d", c.rep)
		}
		res, err := ExecuteRun(ctx, RunSpec{
			Scenario: c.sc, Strategy: c.strategy, Registry: m.cfg.Registry, Servers: m.srv, Faults: c.faults, Progress: progress,
			ID: id, Schema: c.schema, Prefix: c.prefix, Keep: m.cfg.Keep, IgnoreServerLock: m.cfg.IgnoreServerLock,
		})
		rec.ElapsedSeconds = time.Since(t0).Seconds()
		switch {
		case err != nil:
			rec.Status, rec.Error = record.StatusError, err.Error()
			if ctx.Err() != nil {
				rec.Status, rec.Error = record.StatusNotRun, ""
			}
			m.broken = true
		default:
			m.runs[i] = res
			rec.Status, rec.Error = res.Status, res.Error
			if m.bench.Env == nil {
				env := res.Env
				m.bench.Env = &env
			}
			rec.Dir = report.RunDir(c.sc.Name, c.strategy)
			if m.cfg.Count > 1 {
				rec.Dir = report.RepDir(c.sc.Name, c.strategy, c.rep)
			}
			if werr := WriteRun(m.cfg.Dir, filepath.Join(rec.Dir, report.RunFile), res); werr != nil {
				return werr
			}
			if res.Status == record.StatusError {
				m.broken = true
			}
			if len(res.Faults) > 0 {
				// A fault may leave the servers changed for good even
				// when it healed (pg-failover leaves no standby): the
				// next run checks them first.
				m.broken = true
			}
		}
		sampleLoad(m.bench)
		if obs.RunFinished != nil {
			obs.RunFinished(i, rec, res)
		}
		if err := report.WriteBench(m.cfg.Dir, m.bench); err != nil {
			return fmt.Errorf("write bench.json: %w", err)
		}
	}
	return nil
}

// fits reports whether n more runs are expected to end within the
// budget, at the mean wall time of the runs so far (always true without a
// budget, and before any run ended).
func (m *matrix) fits(n int) bool {
	if m.cfg.BudgetTime <= 0 {
		return true
	}
	var sum float64
	var done int
	for i, r := range m.bench.Runs {
		if i < len(m.runs) && r.Status != record.StatusNotRun {
			sum += r.ElapsedSeconds
			done++
		}
	}
	if done == 0 {
		return true
	}
	need := time.Duration(sum / float64(done) * float64(n) * float64(time.Second))
	return time.Since(m.started)+need <= m.cfg.BudgetTime
}

// close releases the servers.
func (m *matrix) close() { m.srv.Close() }

// servers makes sure m.srv is usable: provisioned the first time, and
// again after a run that may have broken it (an error, or a fault whose
// heal failed) and that no longer answers a ping. Provisioning once per
// bench keeps the runs fast (a Docker start takes seconds); the runner
// isolates runs by recreating the schema and clearing the key prefix.
func (m *matrix) servers(ctx context.Context) error {
	if m.srv != nil && m.broken {
		m.broken = false
		err := pingServers(ctx, m.srv)
		if err == nil {
			return nil
		}
		if f := m.cfg.Observer.Unhealthy; f != nil {
			f(err)
		}
		m.srv.Close()
		m.srv = nil
	}
	if m.srv != nil {
		return nil
	}
	srv, err := docker.Provision(ctx, m.cfg.Servers)
	if err != nil {
		return err
	}
	m.srv = srv
	m.bench.Provisions++
	if f := m.cfg.Observer.Provisioned; f != nil {
		f(srv)
	}
	return nil
}
