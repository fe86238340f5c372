package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/explore"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/reproduce"
	"github.com/ghostbench/ghostbench/strategies"
)

const reproduceUsage = `usage: ghostbench reproduce [CASE [flags]]

Without a case, lists the cases. With -schedule FILE, replays a schedule
that "ghostbench explore" found, in the same way. With one, runs the case's scripted
interleaving (barriers at the strategies' interleaving points, faults
injected and healed at scripted moments) against real PostgreSQL and Redis,
provisioned as "ghostbench doctor" shows; prints the timeline and the
verdict (DESIGN.md section 4, plus a porcupine linearizability check), and
writes results/reproduce-<case>-<strategy>-<time>/ with index.html,
timeline.json, run.json and linearizability.html.

-strategy runs the same interleaving against another strategy, to check a
fix. The script degrades gracefully rather than refusing: a hold at a point
the strategy never reaches on that path is skipped (the timeline says so),
and the case's parameters go only to strategies that declare them.

exit codes: 0 the run was clean, 1 error (or a verdict that could not be
verified), 2 usage, 3 the anomaly was reproduced.

examples:
  ghostbench reproduce
  ghostbench reproduce cache-aside-stale-set
  ghostbench reproduce cache-aside-stale-set -strategy version-checked
  ghostbench reproduce cache-aside-stale-set -exec '/usr/bin/python3 examples/python/cache_aside.py'
  ghostbench reproduce async-invalidation-lag -param lag=100ms -format json
  ghostbench reproduce write-through-lost-reply -out /tmp/repros
  ghostbench reproduce -schedule results/explore-cache-aside-.../schedules/01-stale-read.json

flags:
`

func cmdReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		strategy     = fs.String("strategy", "", "run the interleaving against this strategy `name` (default: the case's own)")
		params       = fs.String("param", "", "strategy parameters as `name=value,...`, e.g. lag=100ms")
		outDir       = fs.String("out", "results", "`directory` the case's folder is written in")
		format       = fs.String("format", "text", "output `format`: text or json")
		ttl          = fs.Duration("ttl", reproduce.DefaultTTL, "cache entry TTL (the anomalies last until it expires)")
		redisTimeout = fs.Duration("redis-timeout", reproduce.DefaultRedisTimeout, "Redis client timeout: how long a lost reply or a partition takes to surface")
		schedule     = fs.String("schedule", "", "replay a schedule `file` written by ghostbench explore instead of a case")
		allowChanges = fs.Bool(strings.TrimPrefix(faults.AllowServerChangesFlag, "-"), false,
			"let redis-oom run CONFIG SET maxmemory on a Redis the harness does not own (restored at heal)")
		pcfg = docker.ConfigFromEnv()
		ef   execFlags
		df   dataFlags
	)
	df.register(fs, reproduce.DefaultSchema, reproduce.DefaultPrefix)
	pcfg.RegisterFlags(fs)
	ef.register(fs)
	fs.Usage = func() { fmt.Fprint(stderr, reproduceUsage); fs.PrintDefaults() }
	// The case comes first ("reproduce CASE -strategy S"), but flags
	// before it work too.
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var name string
	if fs.NArg() > 0 {
		name = fs.Arg(0)
		if err := parseFlags(fs, fs.Args()[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("reproduce: unexpected argument %q after the case", fs.Arg(0))
		}
	}
	if *format != "text" && *format != "json" {
		return usagef("reproduce: -format %q: want text or json", *format)
	}
	if err := df.check(); err != nil {
		return err
	}
	if *schedule != "" {
		if name != "" || *strategy != "" || *params != "" || ef.set() {
			return usagef("reproduce: -schedule replays the file's own strategy, workload and choices: give no case, -strategy, -param or -exec with it")
		}
		return replaySchedule(ctx, *schedule, pcfg, df, *outDir, *format, stdout, stderr)
	}
	if name == "" {
		return listCases(stdout)
	}
	c, ok := reproduce.Lookup(name)
	if !ok {
		return usagef("reproduce: unknown case %q; allowed: %s", name, strings.Join(reproduce.Names(), ", "))
	}
	if *ttl <= 0 || *redisTimeout <= 0 {
		return usagef("reproduce: -ttl and -redis-timeout must be positive durations")
	}
	p, err := strategies.ParseParams(*params)
	if err != nil {
		return usagef("-param: %v", err)
	}
	reg := strategies.Default()
	if ef.set() {
		if *strategy != "" {
			return usagef("reproduce: give -strategy or -exec, not both")
		}
		// The process's stderr goes beside the case's folders.
		name, err := ef.add(reg, filepath.Join(*outDir, "reproduce-"+name+".stderr.log"))
		if err != nil {
			return err
		}
		*strategy = name
	}
	info, p, err := c.Resolve(reg, *strategy, p)
	if err != nil {
		return usageError{err}
	}
	if err := pcfg.Check(); err != nil {
		return usageError{err}
	}
	if err := checkOutDir("-out", *outDir); err != nil {
		return err
	}

	srv, err := provision(ctx, pcfg, stderr)
	if err != nil {
		return err
	}
	defer srv.Close()

	res, err := reproduce.Run(ctx, c, reproduce.Options{
		Servers: srv, Strategy: info.Name, Params: p, Registry: reg, TTL: *ttl, RedisTimeout: *redisTimeout,
		Faults: faults.Options{AllowServerChanges: *allowChanges},
		Schema: df.schema, Prefix: df.prefix, Keep: df.keep, IgnoreServerLock: df.ignoreLock,
	})
	var ue *reproduce.UsageError
	if errors.As(err, &ue) {
		return usageError{err}
	}
	if res == nil {
		return err
	}
	runErr := err
	dir := filepath.Join(*outDir, res.DirName())
	if err := res.WriteDir(dir); err != nil {
		return errors.Join(runErr, fmt.Errorf("write %s: %w", dir, err))
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*reproduce.Result
			Dir string `json:"dir"`
		}{res, dir}); err != nil {
			return err
		}
	default:
		if err := res.WriteText(stdout); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(dir, reproduce.IndexFile))
	if runErr != nil {
		return fmt.Errorf("%w (partial timeline written)", runErr)
	}
	v := res.Verdict
	switch v.Result {
	case reproduce.ResultAnomaly:
		return budgetError{fmt.Sprintf("reproduce %s: anomaly reproduced on %s (%s)", c.Name, res.Strategy, v.Normalized())}
	case reproduce.ResultClean:
		return nil
	default:
		return fmt.Errorf("reproduce %s: verdict unknown on %s (%s): nothing was proved, but not everything could be verified", c.Name, res.Strategy, v.Normalized())
	}
}

// listCases prints the catalogue: one line per case.
func listCases(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASES (ghostbench reproduce CASE [-strategy S] [-out DIR] [-format text|json])")
	for _, row := range reproduceRows() {
		fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

// reproduceRows are the cases as name and one-line description, for the
// listing above and the REPRODUCE section of "ghostbench list".
func reproduceRows() [][2]string {
	var rows [][2]string
	for _, c := range reproduce.Cases() {
		rows = append(rows, [2]string{c.Name, c.Summary})
	}
	return rows
}

// reproduceListing is the REPRODUCE section of "ghostbench list".
func reproduceListing() listing {
	return listing{title: "REPRODUCE (ghostbench reproduce CASE)", rows: reproduceRows()}
}

// replaySchedule runs a schedule file once as a reproduce case and writes
// its folder; exit 3 when the replay shows the schedule's anomaly.
func replaySchedule(ctx context.Context, file string, pcfg docker.Config, df dataFlags, outDir, format string, stdout, stderr io.Writer) error {
	s, err := explore.ReadSchedule(file)
	if err != nil {
		return usagef("-schedule: %v", err)
	}
	if err := pcfg.Check(); err != nil {
		return usageError{err}
	}
	if err := checkOutDir("-out", outDir); err != nil {
		return err
	}
	srv, err := provision(ctx, pcfg, stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	rep, err := explore.ReplaySchedule(ctx, s, explore.ReplayOptions{Servers: srv, Schema: df.schema, Prefix: df.prefix})
	var ue *explore.UsageError
	if errors.As(err, &ue) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	res := rep.Result
	dir := filepath.Join(outDir, res.DirName())
	if err := res.WriteDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*reproduce.Result
			Dir      string `json:"dir"`
			Replayed bool   `json:"replayed"`
			Why      string `json:"why,omitempty"`
		}{res, dir, rep.Replayed, rep.Why}); err != nil {
			return err
		}
	} else if err := res.WriteText(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(dir, reproduce.IndexFile))
	if !rep.Replayed {
		return fmt.Errorf("reproduce -schedule %s: the schedule did not show %s again: %s", file, s.Shape, rep.Why)
	}
	if res.Verdict.Result == reproduce.ResultAnomaly {
		return budgetError{fmt.Sprintf("reproduce -schedule %s: anomaly reproduced on %s (%s)", file, res.Strategy, res.Verdict.Normalized())}
	}
	return nil
}

// provision starts or finds the servers as pcfg says and prints which, in
// one line.
func provision(ctx context.Context, pcfg docker.Config, stderr io.Writer) (*docker.Servers, error) {
	srv, err := docker.Provision(ctx, pcfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "servers: %s (%s); PostgreSQL %s at %s, Redis %s at %s\n",
		srv.Provider, srv.Reason, srv.Postgres.Version, srv.Postgres.Addr, srv.Redis.Version, srv.Redis.Addr)
	return srv, nil
}
