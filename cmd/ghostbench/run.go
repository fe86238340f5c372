package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ghostbench/ghostbench/bench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/store"
	"github.com/ghostbench/ghostbench/strategies"
)

const runUsage = `usage: ghostbench run -strategy NAME [-scenario NAME|FILE] [flags]

Runs one strategy through one scenario against real PostgreSQL and Redis
(provisioned as "ghostbench doctor" shows), prints the effective
configuration, live progress on a terminal and a summary, and writes
results/<run-id>/run.json.

examples:
  ghostbench run -strategy cache-aside -scenario steady-read-heavy -duration 10s
  ghostbench run -strategy async-invalidation -param lag=100ms -writers 8
  ghostbench run -strategy write-through -scenario my-scenario.yaml -seed 42 -format json
  ghostbench run -strategy my-strategy -budget ghost<=0,stale-until-ttl<=0,stale-ratio<=0.001
  ghostbench run -exec '/usr/bin/python3 examples/python/write_through.py' -scenario redis-outage

exit codes: 0 ok, 1 error (or an interrupted run: partial results are
written), 2 usage, 3 the -budget was broken.

flags:
`

// now is the clock of run ids and bench folder names; tests set it to
// start two in the same second.
var now = time.Now

// removeUnused removes a results folder this process made when nothing
// but a bench's lock file was written in it (the command failed before).
func removeUnused(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) > 1 || len(ents) == 1 && ents[0].Name() != bench.LockFile {
		return
	}
	_ = os.Remove(filepath.Join(dir, bench.LockFile))
	_ = os.Remove(dir)
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		sf       scenarioFlags
		strategy = fs.String("strategy", "", "strategy `name` (ghostbench list shows them)")
		params   = fs.String("param", "", "strategy parameters as `name=value,...`, e.g. lag=100ms")
		outDir   = fs.String("out", "results", "`directory` the run folder is written in")
		format   = fs.String("format", "text", "summary `format`: text, json or csv")
		quiet    = fs.Bool("quiet", false, "no progress lines, even on a terminal")
		budgetS  = fs.String("budget", "", "consistency `budget` to gate CI on, e.g. ghost<=0,stale-until-ttl<=0,stale-ratio<=0.001,availability>=1; exit 3 when broken")
		pcfg     = docker.ConfigFromEnv()
		ff       faultFlags
		ef       execFlags
		df       dataFlags
	)
	sf.register(fs, "steady-read-heavy")
	df.register(fs, store.DefaultSchema, runner.DefaultPrefix)
	ef.register(fs)
	pcfg.RegisterFlags(fs)
	ff.register(fs)
	fs.Usage = func() { fmt.Fprint(stderr, runUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run: unexpected argument %q", fs.Arg(0))
	}
	if *strategy == "" && !ef.set() {
		return usagef("run: -strategy (or -exec) is required; allowed: %v", strategies.Default().Names())
	}
	if *format != "text" && *format != "json" && *format != "csv" {
		return usagef("run: -format %q: want text, json or csv", *format)
	}
	if err := df.check(); err != nil {
		return err
	}
	reg := strategies.Default()
	var runID string
	if ef.set() {
		if *strategy != "" {
			return usagef("run: give -strategy or -exec, not both")
		}
		var err error
		if *strategy, err = ef.add(reg, ""); err != nil {
			return err
		}
	}
	info, ok := reg.Lookup(*strategy)
	if !ok {
		return usagef("-strategy %q: unknown; allowed: %v", *strategy, reg.Names())
	}
	p, err := strategies.ParseParams(*params)
	if err != nil {
		return usagef("-param: %v", err)
	}
	if err := info.CheckParams(p); err != nil {
		return usagef("-param: %v", err)
	}
	budget, err := report.ParseBudget(*budgetS)
	if err != nil {
		return usagef("-budget: %v", err)
	}
	sc, err := sf.load(fs)
	if err != nil {
		return err
	}
	if err := pcfg.Check(); err != nil {
		return usageError{err}
	}
	if err := checkOutDir("-out", *outDir); err != nil {
		return err
	}
	topo, err := newTopologyChoice(&pcfg)
	if err != nil {
		return err
	}
	if err := topo.apply(&pcfg, sc); err != nil {
		return err
	}
	if err := checkWorkers(pcfg, sc); err != nil {
		return err
	}
	// The run's folder, made now so that no other run takes it.
	runID, err = bench.NewDir(*outDir, runner.DefaultID(now(), *strategy, sc.Name))
	if err != nil {
		return usagef("-out %s: cannot create the run's folder: %v", *outDir, unwrapPath(err))
	}
	runDir := filepath.Join(*outDir, runID)
	defer removeUnused(runDir)
	if ef.set() {
		// The process's stderr goes into the run's folder.
		reg = strategies.Default()
		if _, err := ef.add(reg, filepath.Join(*outDir, runID, "process.stderr.log")); err != nil {
			return err
		}
	}
	plan, err := ff.builder(sc, pcfg)
	if err != nil {
		return usageError{err}
	}

	fmt.Fprintf(stderr, "ghostbench run: strategy %s", *strategy)
	if len(p) > 0 {
		fmt.Fprintf(stderr, " (%s)", p)
	}
	fmt.Fprintln(stderr)
	printScenario(stderr, sc)

	srv, err := docker.Provision(ctx, pcfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stderr, "servers: %s (%s); topology %s; PostgreSQL %s at %s, Redis %s at %s\n",
		srv.Provider, srv.Reason, srv.TopologyName(), srv.Postgres.Version, srv.Postgres.Addr, srv.Redis.Version, srv.Redis.Addr)
	for _, l := range srv.Topology.Describe() {
		fmt.Fprintf(stderr, "  %s\n", l)
	}

	var progress func(runner.Progress)
	if !*quiet && isTerminal(stderr) {
		progress = func(pr runner.Progress) {
			fmt.Fprintf(stderr, "\r%6.1fs  %8.0f ops/s  %9d ops  %6d errors  %6d stale  %4d ghost ",
				pr.Elapsed.Seconds(), pr.OpsPerSec, pr.Ops, pr.Errors, pr.Stale, pr.Ghost)
		}
	}
	res, err := bench.ExecuteRun(ctx, bench.RunSpec{
		Scenario: sc, Strategy: *strategy, Params: p, Registry: reg, Servers: srv, Faults: plan, Progress: progress, ID: runID,
		Schema: df.schema, Prefix: df.prefix, Keep: df.keep, IgnoreServerLock: df.ignoreLock,
	})
	if progress != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	path := filepath.Join(runDir, report.RunFile)
	if werr := bench.WriteRun(runDir, report.RunFile, res); werr != nil {
		return werr
	}
	if err := printRun(stdout, *format, res); err != nil {
		return err
	}
	if w := res.LagWarning(); w != "" {
		fmt.Fprintf(stderr, "warning: %s: %s\n", res.Strategy, w)
	}
	for _, n := range res.Notices {
		fmt.Fprintf(stderr, "warning: %s\n", n)
	}
	fmt.Fprintf(stderr, "wrote %s\n", path)
	switch res.Status {
	case record.StatusInterrupted:
		return errors.New(res.Error + " (partial results written)")
	case record.StatusError:
		return errors.New(res.Error)
	}
	if v := budget.Check(res); len(v) > 0 {
		msgs := make([]string, len(v))
		for i, x := range v {
			msgs[i] = x.String()
		}
		return budgetError{"budget broken: " + strings.Join(msgs, "; ")}
	}
	return nil
}

func printScenario(w io.Writer, sc *scenarios.Scenario) {
	b, _ := json.Marshal(sc)
	fmt.Fprintf(w, "scenario %s: %s\n  %s\n", sc.Name, sc.Description, b)
}

func printRun(w io.Writer, format string, res *record.Run) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "csv":
		return report.WriteSummaryCSV(w, []*record.Run{res})
	default:
		return report.WriteRunText(w, res)
	}
}
