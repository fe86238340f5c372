package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ghostbench/ghostbench/bench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/runner"
)

// benchLog prints a bench's progress to w: the matrix when it starts, the
// servers, one line per finished run and, when live, a progress line that
// is rewritten in place.
func benchLog(w io.Writer, folder string, started time.Time, live bool) bench.Observer {
	var b *report.Bench
	look := "" // a sequential bench's state, once it has looked
	prefix := func(i int, run *report.BenchRun) string {
		p := fmt.Sprintf("[%*d/%d] %s / %s", len(fmt.Sprint(len(b.Runs))), i+1, len(b.Runs), run.Scenario, run.Strategy)
		if look != "" {
			p = "[" + look + "] " + p
		}
		return p
	}
	obs := bench.Observer{
		Started: func(bb *report.Bench) {
			b = bb
			if sd := b.Sequential; sd != nil {
				fmt.Fprintf(w, "ghostbench bench: %d strategies x %d scenarios x %d repetitions = %d runs of %s, then rounds for the undecided cells up to %d (sequential, %d looks at %.2g), seed %d, into %s\n",
					len(b.Strategies), len(b.Scenarios), sd.First, len(b.Runs), b.Duration, sd.Max, sd.Looks, sd.Level, b.Seed, folder)
			} else {
				fmt.Fprintf(w, "ghostbench bench: %d strategies x %d scenarios x %d repetitions = %d runs of %s, seed %d, into %s\n",
					len(b.Strategies), len(b.Scenarios), max(b.Count, 1), len(b.Runs), b.Duration, b.Seed, folder)
			}
			fmt.Fprintf(w, "  strategies: %s\n  scenarios:  %s\n", strings.Join(b.Strategies, ", "), strings.Join(b.Scenarios, ", "))
			for _, in := range b.ScenarioInfo {
				if len(in.Faults) > 0 {
					fmt.Fprintf(w, "  %s faults (x%.2g): %s\n", in.Name, in.Scale, strings.Join(in.Faults, "; "))
				}
			}
		},
		Provisioned: func(srv *docker.Servers) {
			fmt.Fprintf(w, "servers: %s (%s); topology %s; PostgreSQL %s at %s, Redis %s at %s\n",
				srv.Provider, srv.Reason, srv.TopologyName(), srv.Postgres.Version, srv.Postgres.Addr, srv.Redis.Version, srv.Redis.Addr)
		},
		Unhealthy: func(err error) {
			fmt.Fprintf(w, "servers unhealthy after the last run (%v); provisioning new ones\n", err)
		},
		Round: func(r bench.RoundInfo) {
			if live {
				fmt.Fprint(w, "\r\033[K")
			}
			look = fmt.Sprintf("round %d/%d: %d decided, %d running", r.Round+1, r.Max, r.Cells-r.Undecided, r.Undecided)
			budget := ""
			if r.Budget > 0 {
				budget = fmt.Sprintf(" of %s", r.Budget)
			}
			fmt.Fprintf(w, "look after round %d: %d of %d cells decided, %d undecided (bench %s%s)\n",
				r.Round, r.Cells-r.Undecided, r.Cells, r.Undecided, r.Elapsed.Round(time.Second), budget)
		},
		RunFinished: func(i int, run *report.BenchRun, res *record.Run) {
			if live {
				fmt.Fprint(w, "\r\033[K")
			}
			fmt.Fprintf(w, "%s  %s  %.1fs%s\n", prefix(i, run), run.Status, run.ElapsedSeconds, runLine(res, run))
		},
	}
	if live {
		obs.RunStarting = func(i int, run *report.BenchRun) {
			fmt.Fprintf(w, "\r\033[K%s  starting (bench %s)", prefix(i, run), time.Since(started).Round(time.Second))
		}
		obs.RunProgress = func(i int, run *report.BenchRun, p runner.Progress) {
			fmt.Fprintf(w, "\r\033[K%s  %4.1fs  %7.0f ops/s  %5d errors  %5d stale  %3d ghost  (bench %s)",
				prefix(i, run), p.Elapsed.Seconds(), p.OpsPerSec, p.Errors, p.Stale, p.Ghost, time.Since(started).Round(time.Second))
		}
	}
	return obs
}

// runLine renders a finished run's headline numbers for the log.
func runLine(res *record.Run, rec *report.BenchRun) string {
	if res == nil || res.Metrics == nil {
		if rec.Error != "" {
			return "  " + rec.Error
		}
		return ""
	}
	s := report.Summarize(res)
	line := fmt.Sprintf("  %.0f ops/s  stale %d  ghost %d  stale-until-TTL %d  read p99 %s  write p99 %s",
		s.OpsPerSec, s.StaleReads, s.GhostReads, s.StaleUntilTTL, report.FormatMicros(s.ReadP99), report.FormatMicros(s.WriteP99))
	if rec.Error != "" {
		line += "  " + rec.Error
	}
	return line
}
