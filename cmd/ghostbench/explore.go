package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/explore"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/process"
)

const exploreUsage = `usage: ghostbench explore -strategy NAME [flags]

Finds the races a strategy can have, not only the ones a load happens to
hit. A small workload (by default two readers and one writer with one
operation each, on one key) runs against real PostgreSQL and Redis under a
scheduler: every passage through an interleaving point, and every Redis
command and PostgreSQL statement, parks the actor; the scheduler lets one
actor at a time go on to its next point, so the order of their commands is
the schedule. The strategy's background worker is an actor too. At a
command the scheduler may also choose a fault (the reply lost after the
command took effect, the command refused for lack of memory, Redis
unreachable for the rest of the operation, COMMIT failing).

Exhaustive mode runs every schedule with at most -bound preemptions and
-faults faults, from an empty cache and from one holding the row; random
mode runs PCT schedules (seeded) and states its probability bound. Each
schedule ends with a final read and the audit, judged by the same checker
as a run. Writes results/explore-<strategy>-<time>/ with explore.json,
summary.md, index.html, and for each anomaly its smallest schedule
(schedules/NN-SHAPE.json, for "ghostbench reproduce -schedule") replayed
once into anomalies/NN-SHAPE/.

"clean within bound N" is what a clean exhaustive search proves: no
schedule within the bound, the workload and the faults explored shows an
anomaly. It is not "safe" (docs/explore.md).

exit codes: 0 the bounded space was exhausted clean, 1 error (or no
anomaly but not exhausted), 2 usage, 3 an anomaly was found.

examples:
  ghostbench explore -strategy cache-aside
  ghostbench explore -strategy write-through -faults lost-reply,commit-fail
  ghostbench explore -strategy update-after-commit -writers 2 -readers 1
  ghostbench explore -strategy leases -bound 3 -faults all
  ghostbench explore -strategy async-invalidation -mode random -schedules 500 -seed 7
  ghostbench explore -exec '/usr/bin/python3 examples/python/cache_aside.py' -max-faults 0

flags:
`

func cmdExplore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	w := explore.DefaultWorkload()
	var (
		strategy  = fs.String("strategy", "", "the registered strategy `name` to explore")
		execCmd   = fs.String("exec", "", "explore a strategy in any language: the `command` of a process speaking docs/protocol.md (split on spaces, no shell); its Redis commands and PostgreSQL statements are points at the harness's proxies")
		execName  = fs.String("exec-name", "", "`name` of the -exec strategy (default exec-<script name>)")
		params    = fs.String("param", "", "strategy parameters as `name=value,...` (time parameters lag and delay default to 0s: the scheduler holds the worker instead)")
		mode      = fs.String("mode", explore.ModeExhaustive, "search `mode`: exhaustive or random (PCT)")
		bound     = fs.Int("bound", explore.DefaultBound, "exhaustive mode: at most `n` preemptions per schedule")
		maxFaults = fs.Int("max-faults", explore.DefaultMaxFaults, "at most `n` faults per schedule (0: none)")
		faultList = fs.String("faults", "all", "fault `kinds` the scheduler may choose: lost-reply,refused,unreachable,commit-fail, all or none")
		start     = fs.String("start", "", "initial cache `state`: empty or cached (default: both)")
		noWire    = fs.Bool("no-wire", false, "schedule at the strategy's declared points only, not at every server command")
		noReduce  = fs.Bool("no-reduce", false, "turn the partial-order reduction off (for measuring what it saves)")
		seed      = fs.Int64("seed", 1, "random mode: the `seed` (the same seed gives the same schedules)")
		depth     = fs.Int("depth", explore.DefaultDepth, "random mode: PCT's bug `depth` d")
		schedules = fs.Int("schedules", 0, "stop after `n` schedules (random mode default 1000; exhaustive: none)")
		budget    = fs.Duration("time", 0, "stop after this wall `duration` (0: none)")
		outDir    = fs.String("out", "results", "`directory` the exploration's folder is written in")
		format    = fs.String("format", "text", "output `format`: text or json")
		pcfg      = docker.ConfigFromEnv()
		df        dataFlags
	)
	fs.IntVar(&w.Readers, "readers", w.Readers, "reader `actors`")
	fs.IntVar(&w.Writers, "writers", w.Writers, "writer `actors`")
	fs.IntVar(&w.Ops, "ops", w.Ops, "operations per actor")
	fs.IntVar(&w.Keys, "keys", w.Keys, "keys (1 or 2)")
	fs.IntVar(&w.Instances, "instances", w.Instances, "application instances the actors are spread over")
	df.register(fs, explore.DefaultSchema, explore.DefaultPrefix)
	pcfg.RegisterFlags(fs)
	fs.Usage = func() { fmt.Fprint(stderr, exploreUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("explore: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case *strategy == "" && *execCmd == "":
		return usagef("explore: -strategy: missing; give a registered strategy (ghostbench list) or -exec CMD")
	case *strategy != "" && *execCmd != "":
		return usagef("explore: give -strategy or -exec, not both")
	case *execName != "" && *execCmd == "":
		return usagef("explore: -exec-name %q without -exec", *execName)
	}
	if *execCmd != "" {
		*strategy = *execName
	}
	if *format != "text" && *format != "json" {
		return usagef("explore: -format %q: want text or json", *format)
	}
	if err := df.check(); err != nil {
		return err
	}
	p, err := strategies.ParseParams(*params)
	if err != nil {
		return usagef("-param: %v", err)
	}
	kinds, err := explore.ParseFaults(*faultList)
	if err != nil {
		return usagef("-faults: %v", err)
	}
	if *maxFaults < 0 {
		return usagef("-max-faults %d: want 0 or more", *maxFaults)
	}
	mf := *maxFaults
	if mf == 0 || len(kinds) == 0 {
		mf = explore.NoFaults
	}
	if *bound < 0 {
		return usagef("-bound %d: want 0 or more", *bound)
	}
	if *schedules < 0 || *budget < 0 {
		return usagef("-schedules and -time: want 0 (no bound) or more")
	}
	var starts []string
	if *start != "" {
		starts = []string{*start}
	}
	if err := pcfg.Check(); err != nil {
		return usageError{err}
	}
	if err := checkOutDir("-out", *outDir); err != nil {
		return err
	}
	opts := explore.Options{
		Strategy: *strategy, Params: p, Workload: w, Starts: starts, Mode: *mode, Bound: *bound,
		MaxFaults: mf, Faults: kinds, NoWire: *noWire, NoReduce: *noReduce, Seed: *seed, Depth: *depth,
		Schedules: *schedules, Time: *budget, Schema: df.schema, Prefix: df.prefix,
		Exec: *execCmd, ExecLog: filepath.Join(*outDir, "explore-exec.stderr.log"),
		Progress: func(pr explore.Progress) {
			fmt.Fprintf(stderr, "\rexplore: %d schedules, %d with an anomaly", pr.Schedules, pr.Anomalous)
		},
	}
	if *bound == 0 {
		opts.Bound = explore.NoPreemptions
	}
	if err := checkExplore(opts); err != nil {
		return err
	}

	srv, err := provision(ctx, pcfg, stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	opts.Servers = srv
	res, err := explore.Run(ctx, opts)
	fmt.Fprintln(stderr)
	var ue *explore.UsageError
	if errors.As(err, &ue) {
		return usageError{err}
	}
	if res == nil {
		return err
	}
	runErr := err
	dir := filepath.Join(*outDir, fmt.Sprintf("explore-%s-%s", res.Strategy, time.Now().UTC().Format("20060102-150405.000")))
	var ro *explore.ReplayOptions
	if runErr == nil {
		ro = &explore.ReplayOptions{Servers: srv, Schema: df.schema, Prefix: df.prefix}
	}
	if err := res.WriteDir(ctx, dir, ro); err != nil {
		return errors.Join(runErr, fmt.Errorf("write %s: %w", dir, err))
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*explore.Result
			Dir string `json:"dir"`
		}{res, dir}); err != nil {
			return err
		}
	} else if err := res.WriteSummary(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(dir, explore.IndexFile))
	if runErr != nil {
		return fmt.Errorf("%w (partial results written)", runErr)
	}
	for _, a := range res.Anomalies {
		if !a.Replayed {
			return fmt.Errorf("explore: the smallest schedule of %s did not replay (%s): a harness bug, not a finding", a.Shape, a.ReplayNote)
		}
	}
	switch res.Outcome {
	case explore.OutcomeAnomaly:
		return budgetError{fmt.Sprintf("explore %s: %s", res.Strategy, res.Summary)}
	case explore.OutcomeClean:
		return nil
	default:
		return fmt.Errorf("explore %s: %s", res.Strategy, res.Summary)
	}
}

// checkExplore validates the options that need no servers, so that bad
// input is refused before anything starts.
func checkExplore(o explore.Options) error {
	if err := o.Workload.Validate(); err != nil {
		return usagef("explore: %v", err)
	}
	if o.Mode != explore.ModeExhaustive && o.Mode != explore.ModeRandom {
		return usagef("explore: -mode %q: want %s or %s", o.Mode, explore.ModeExhaustive, explore.ModeRandom)
	}
	if o.Depth < 1 {
		return usagef("explore: -depth %d: want 1 or more", o.Depth)
	}
	if len(o.Starts) == 1 && o.Starts[0] != explore.StartEmpty && o.Starts[0] != explore.StartCached {
		return usagef("explore: -start %q: want %s or %s", o.Starts[0], explore.StartEmpty, explore.StartCached)
	}
	if o.Exec != "" {
		if _, err := process.ParseCommand(o.Exec); err != nil {
			return usageError{err}
		}
		return nil
	}
	info, ok := strategies.Default().Lookup(o.Strategy)
	if !ok {
		return usagef("explore: -strategy %q: unknown; run \"ghostbench list\" for the strategies", o.Strategy)
	}
	if err := info.CheckParams(o.Params); err != nil {
		return usageError{err}
	}
	return nil
}
