package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

const benchUsage = `usage: ghostbench bench [flags]

Runs a matrix of strategies x scenarios against real PostgreSQL and Redis
and writes one results folder, <out>/<timestamp>-<name>/ (or -dir):

  bench.json                    the matrix: flags, seed, every run and its status
  runs/<scenario>/<strategy>/   run.json, read.hgrm and write.hgrm per run
  summary.md                    a table per scenario and who is safest and fastest
  bench.txt                     Go benchmark format: benchstat old.txt new.txt
  plots/*.png, plots/*.svg      latency spectra, staleness, stale windows,
                                time series with faults, trade-off
  index.html                    all of the above on one self-contained page

Every run of a scenario uses the same seed, on servers provisioned once for
the whole bench (again only after a run that broke them); the runner
recreates the schema and clears the key prefix before each run. Runs are
short: each scenario's duration is replaced by -duration and its warm-up
and fault schedule are scaled by the same factor (redis-outage, 3s down at
3s of 10s, becomes 0.75s down at 0.75s of 2.5s).

Ctrl-C stops the current run; finished runs are kept, the rest marked
not-run, and the summary, plots and index are still written.
"ghostbench report DIR" renders them again from the JSON files.

examples:
  ghostbench bench
  ghostbench bench -duration 10s -strategies cache-aside,write-through -name ca-vs-wt
  ghostbench bench -scenarios redis-outage,lost-replies -seed 7

flags:
`

// defaultBenchScenarios cover steady load and the main Redis faults.
var defaultBenchScenarios = []string{"steady-read-heavy", "write-heavy-hot-key", "redis-outage", "redis-oom", "lost-replies"}

// defaultBenchDuration keeps the default matrix (every strategy x five
// scenarios) within five minutes on a two-core machine, build and report
// included: 65 runs take about 3.2 s each (set-up, drain and audit around
// the 2.5 s of load), measured on a busy machine.
const defaultBenchDuration = 2500 * time.Millisecond

// benchCell is one run to do.
type benchCell struct {
	sc       *scenarios.Scenario
	strategy string
	faults   *faultPlan
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		duration   = fs.Duration("duration", defaultBenchDuration, "each run's `duration`, warm-up included; warm-up and faults are scaled to it")
		scList     = fs.String("scenarios", strings.Join(defaultBenchScenarios, ","), "comma-separated built-in scenario `names` or YAML files")
		stList     = fs.String("strategies", "all", "comma-separated strategy `names`, or all")
		seed       = fs.Int64("seed", 1, "random `seed` of every run")
		outDir     = fs.String("out", "results", "`directory` the results folder is created in")
		name       = fs.String("name", "bench", "`name` of the bench, the suffix of its folder")
		dir        = fs.String("dir", "", "write into exactly this `directory` instead of <out>/<timestamp>-<name>, replacing the bench files already there")
		light      = fs.Bool("light", false, "keep the folder small (PNG plots only, no SVG or .hgrm, compact run.json), as for results/reference")
		quiet      = fs.Bool("quiet", false, "no progress line, even on a terminal")
		pcfg       = docker.ConfigFromEnv()
		ff         faultFlags
		regFactory = strategies.Default
	)
	pcfg.RegisterFlags(fs)
	ff.register(fs)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("bench: unexpected argument %q", fs.Arg(0))
	}
	if *duration <= 0 {
		return usagef("bench: -duration %v: want a positive duration such as 3s", *duration)
	}
	if strings.TrimSpace(*name) == "" || strings.ContainsAny(*name, `/\`) {
		return usagef("bench: -name %q: want a non-empty name without slashes", *name)
	}
	reg := regFactory()
	stNames, err := pickStrategies(reg, *stList)
	if err != nil {
		return err
	}
	var cells []benchCell
	var infos []report.BenchScenario
	var scNames []string
	seen := map[string]bool{}
	for _, n := range splitList(*scList) {
		sc, err := scenarios.Load(n)
		if err != nil {
			return usageError{err}
		}
		if seen[sc.Name] {
			return usagef("bench: -scenarios: %s given twice", sc.Name)
		}
		seen[sc.Name] = true
		scale := scaleScenario(sc, *duration)
		sc.Seed = *seed
		if err := sc.Validate(); err != nil {
			return usageError{err}
		}
		build, err := ff.builder(sc, pcfg)
		if err != nil {
			return usageError{err}
		}
		scNames = append(scNames, sc.Name)
		infos = append(infos, report.BenchScenario{Name: sc.Name, Description: sc.Description, Scale: scale, Faults: describeFaults(sc)})
		for _, st := range stNames {
			cells = append(cells, benchCell{sc: sc, strategy: st, faults: build})
		}
	}
	if len(cells) == 0 {
		return usagef("bench: -scenarios: none given")
	}

	started := time.Now()
	folder := *dir
	if folder == "" {
		folder = filepath.Join(*outDir, started.UTC().Format("20060102-150405")+"-"+*name)
	} else if err := clearBenchDir(folder); err != nil {
		return err
	}
	flags := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { flags[f.Name] = f.Value.String() })
	b := &report.Bench{
		Schema: report.BenchSchemaVersion, Name: *name, Started: started.UTC(), Status: record.StatusInterrupted,
		Seed: *seed, Duration: duration.String(), Flags: flags,
		Scenarios: scNames, Strategies: stNames, ScenarioInfo: infos,
	}
	for _, c := range cells {
		b.Runs = append(b.Runs, report.BenchRun{Scenario: c.sc.Name, Strategy: c.strategy, Status: record.StatusNotRun, Seed: c.sc.Seed})
	}
	if err := report.WriteBench(folder, b); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	fmt.Fprintf(stderr, "ghostbench bench: %d strategies x %d scenarios = %d runs of %v, seed %d, into %s\n",
		len(stNames), len(scNames), len(cells), *duration, *seed, folder)
	fmt.Fprintf(stderr, "  strategies: %s\n  scenarios:  %s\n", strings.Join(stNames, ", "), strings.Join(scNames, ", "))
	for _, in := range infos {
		if len(in.Faults) > 0 {
			fmt.Fprintf(stderr, "  %s faults (x%.2g): %s\n", in.Name, in.Scale, strings.Join(in.Faults, "; "))
		}
	}

	br := &benchRunner{
		pcfg: pcfg, reg: reg, stderr: stderr, folder: folder, bench: b, started: started,
		live: !*quiet && isTerminal(stderr),
	}
	runErr := br.run(ctx, cells)
	b.ElapsedSeconds = time.Since(started).Seconds()
	if ctx.Err() == nil && runErr == nil {
		b.Status = record.StatusOK
	}
	werr := report.WriteBench(folder, b)
	if _, rerr := report.RenderBench(folder, report.RenderOptions{Light: *light}); rerr != nil && werr == nil {
		werr = rerr
	}
	failed := 0
	for _, r := range b.Runs {
		if r.Status == record.StatusError {
			failed++
		}
	}
	fmt.Fprintf(stderr, "bench %s in %.0fs: %s\n", b.Status, b.ElapsedSeconds, countStatuses(b))
	if werr == nil {
		fmt.Fprintf(stdout, "report: %s\n", filepath.Join(folder, report.IndexFile))
	}
	switch {
	case runErr != nil:
		return fmt.Errorf("bench: %w (finished runs written to %s)", runErr, folder)
	case werr != nil:
		return fmt.Errorf("bench: writing the report: %w", werr)
	case ctx.Err() != nil:
		return fmt.Errorf("bench interrupted: %w (finished runs written to %s)", context.Cause(ctx), folder)
	case failed > 0:
		return fmt.Errorf("bench: %d of %d runs failed; see %s", failed, len(b.Runs), filepath.Join(folder, report.SummaryFile))
	}
	return nil
}

// clearBenchDir removes what an earlier bench wrote into dir (bench.json,
// the runs and plots folders, the derived files), and nothing else, so
// that no run or plot of the earlier bench survives into the new one. A
// directory that exists, is not empty and has no bench.json is not a
// results folder: it is refused (usage error) rather than cleared.
func clearBenchDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bench: -dir %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, report.BenchFile)); len(entries) > 0 && err != nil {
		return usagef("bench: -dir %s: not empty and not a results folder (no %s); give a new or empty directory", dir, report.BenchFile)
	}
	for _, n := range []string{report.BenchFile, report.SummaryFile, report.BenchFmtFile, report.IndexFile, "runs", report.PlotsDir} {
		if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("bench: -dir %s: %w", dir, err)
		}
	}
	return nil
}

// countStatuses renders "63 ok, 2 error".
func countStatuses(b *report.Bench) string {
	n := map[record.Status]int{}
	for _, r := range b.Runs {
		n[r.Status]++
	}
	var parts []string
	for _, s := range []record.Status{record.StatusOK, record.StatusInterrupted, record.StatusError, record.StatusNotRun} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

// pickStrategies returns the strategy names list names ("all": every
// registered one), checked against reg.
func pickStrategies(reg *strategies.Registry, list string) ([]string, error) {
	if strings.TrimSpace(list) == "all" || strings.TrimSpace(list) == "" {
		return reg.Names(), nil
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range splitList(list) {
		if _, ok := reg.Lookup(n); !ok {
			return nil, usagef("bench: -strategies: %q is not a registered strategy; allowed: %s", n, strings.Join(reg.Names(), ", "))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, usagef("bench: -strategies: none given")
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// scaleScenario sets sc's duration to d and scales its warm-up and fault
// schedule by the same factor, which it returns, so that a shortened run
// keeps the scenario's shape (faults at the same fraction of the run).
// Durations are rounded to the millisecond.
func scaleScenario(sc *scenarios.Scenario, d time.Duration) float64 {
	if sc.Duration <= 0 {
		sc.Duration = scenarios.Duration(d)
		return 1
	}
	f := float64(d) / float64(sc.Duration)
	scale := func(v scenarios.Duration) scenarios.Duration {
		return scenarios.Duration(time.Duration(float64(v) * f).Round(time.Millisecond))
	}
	sc.Duration = scenarios.Duration(d)
	sc.Warmup = scale(sc.Warmup)
	for i := range sc.Faults {
		sc.Faults[i].At = scale(sc.Faults[i].At)
		sc.Faults[i].For = max(scale(sc.Faults[i].For), scenarios.Duration(time.Millisecond))
	}
	return f
}

// describeFaults renders sc's fault schedule: "redis-down at 750ms for 750ms".
func describeFaults(sc *scenarios.Scenario) []string {
	var out []string
	for _, f := range sc.Faults {
		s := fmt.Sprintf("%s at %v for %v", f.Fault, f.At, f.For)
		if len(f.Params) > 0 {
			keys := make([]string, 0, len(f.Params))
			for k := range f.Params {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var ps []string
			for _, k := range keys {
				ps = append(ps, k+"="+f.Params[k])
			}
			s += " (" + strings.Join(ps, ", ") + ")"
		}
		out = append(out, s)
	}
	return out
}

// benchRunner runs the cells of a bench one after the other on shared
// servers.
type benchRunner struct {
	pcfg    docker.Config
	reg     *strategies.Registry
	stderr  io.Writer
	folder  string
	bench   *report.Bench
	started time.Time
	live    bool

	srv    *docker.Servers
	broken bool // the last run may have left the servers unusable
}

// run executes cells in order, recording each in b.Runs and rewriting
// bench.json after each. It stops at the first cell when ctx is done,
// leaving the rest not-run. It returns an error only when servers cannot
// be provisioned.
func (br *benchRunner) run(ctx context.Context, cells []benchCell) error {
	defer func() { br.srv.Close() }()
	for i, c := range cells {
		if ctx.Err() != nil {
			return nil
		}
		if err := br.servers(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		rec := &br.bench.Runs[i]
		t0 := time.Now()
		prefix := fmt.Sprintf("[%*d/%d] %s / %s", len(fmt.Sprint(len(cells))), i+1, len(cells), c.sc.Name, c.strategy)
		var progress func(runner.Progress)
		if br.live {
			progress = func(p runner.Progress) {
				fmt.Fprintf(br.stderr, "\r\033[K%s  %4.1fs  %7.0f ops/s  %5d errors  %5d stale  %3d ghost  (bench %s)",
					prefix, p.Elapsed.Seconds(), p.OpsPerSec, p.Errors, p.Stale, p.Ghost, time.Since(br.started).Round(time.Second))
			}
			fmt.Fprintf(br.stderr, "\r\033[K%s  starting (bench %s)", prefix, time.Since(br.started).Round(time.Second))
		}
		res, err := executeRun(ctx, runSpec{
			sc: c.sc, strategy: c.strategy, reg: br.reg, srv: br.srv, faults: c.faults, progress: progress,
			id: br.bench.Name + "-" + c.sc.Name + "-" + c.strategy,
		})
		rec.ElapsedSeconds = time.Since(t0).Seconds()
		switch {
		case err != nil:
			rec.Status, rec.Error = record.StatusError, err.Error()
			if ctx.Err() != nil {
				rec.Status, rec.Error = record.StatusNotRun, ""
			}
			br.broken = true
		default:
			rec.Status, rec.Error = res.Status, res.Error
			if br.bench.Env == nil {
				env := res.Env
				br.bench.Env = &env
			}
			rec.Dir = report.RunDir(c.sc.Name, c.strategy)
			if werr := writeRun(filepath.Join(br.folder, rec.Dir, report.RunFile), res); werr != nil {
				return werr
			}
			if res.Status == record.StatusError {
				br.broken = true
			}
			for _, f := range res.Faults {
				if f.HealError != "" {
					br.broken = true
				}
			}
		}
		if br.live {
			fmt.Fprint(br.stderr, "\r\033[K")
		}
		fmt.Fprintf(br.stderr, "%s  %s  %.1fs%s\n", prefix, rec.Status, rec.ElapsedSeconds, runLine(res, rec))
		if err := report.WriteBench(br.folder, br.bench); err != nil {
			return fmt.Errorf("write bench.json: %w", err)
		}
	}
	return nil
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

// servers makes sure br.srv is usable: provisioned the first time, and
// again after a run that may have broken it (an error, or a fault whose
// heal failed) and that no longer answers a ping. Provisioning once per
// bench keeps the runs fast (a Docker start takes seconds); the runner
// isolates runs by recreating the schema and clearing the key prefix.
func (br *benchRunner) servers(ctx context.Context) error {
	if br.srv != nil && br.broken {
		br.broken = false
		err := pingServers(ctx, br.srv)
		if err == nil {
			return nil
		}
		fmt.Fprintf(br.stderr, "servers unhealthy after the last run (%v); provisioning new ones\n", err)
		br.srv.Close()
		br.srv = nil
	}
	if br.srv != nil {
		return nil
	}
	srv, err := docker.Provision(ctx, br.pcfg)
	if err != nil {
		return err
	}
	br.srv = srv
	br.bench.Provisions++
	fmt.Fprintf(br.stderr, "servers: %s; PostgreSQL %s at %s, Redis %s at %s\n",
		srv.Provider, srv.Postgres.Version, srv.Postgres.Addr, srv.Redis.Version, srv.Redis.Addr)
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
	return nil
}

// runSpec is one run of a strategy through a scenario on servers already
// provisioned: what ghostbench run does once and ghostbench bench once per
// cell.
type runSpec struct {
	sc       *scenarios.Scenario
	strategy string
	params   strategies.Params
	reg      *strategies.Registry
	srv      *docker.Servers
	faults   *faultPlan
	progress func(runner.Progress)
	id       string
}

// executeRun runs spec: the one path from provisioned servers to a
// record.Run that ghostbench run and ghostbench bench share (fault proxies
// started for this run, runner.Run, proxies stopped and faults healed).
// Write the result with writeRun.
func executeRun(ctx context.Context, spec runSpec) (*record.Run, error) {
	srv, buildFaults, closeFaults, err := spec.faults.prepare(ctx, spec.srv)
	if err != nil {
		return nil, err
	}
	defer closeFaults()
	return runner.Run(ctx, runner.Config{
		Scenario: spec.sc, Strategy: spec.strategy, Params: spec.params, Registry: spec.reg,
		Servers: srv, BuildFaults: buildFaults, Progress: spec.progress, ID: spec.id,
	})
}

// writeRun writes res to path (a run.json), atomically.
func writeRun(path string, res *record.Run) error {
	if err := report.WriteJSON(path, res); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
