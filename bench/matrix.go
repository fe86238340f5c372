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

	srv    *docker.Servers
	broken bool // the last run may have left the servers unusable
}

// run executes cells in order, recording each in bench.Runs and rewriting
// bench.json after each. It stops at the first cell when ctx is done,
// leaving the rest not-run. It returns an error only when servers cannot
// be provisioned or a file cannot be written.
func (m *matrix) run(ctx context.Context, cells []cell) error {
	defer func() { m.srv.Close() }()
	obs := m.cfg.Observer
	for i, c := range cells {
		if ctx.Err() != nil {
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
			for _, f := range res.Faults {
				if f.HealError != "" {
					m.broken = true
				}
			}
		}
		if obs.RunFinished != nil {
			obs.RunFinished(i, rec, res)
		}
		if err := report.WriteBench(m.cfg.Dir, m.bench); err != nil {
			return fmt.Errorf("write bench.json: %w", err)
		}
	}
	return nil
}

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
