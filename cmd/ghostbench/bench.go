package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
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

const benchUsage = `usage: ghostbench bench [flags]

Runs a matrix of strategies x scenarios against real PostgreSQL and Redis
and writes one results folder, <out>/<timestamp>-<name>/ (or -dir):

  bench.json                    the matrix: flags, seed, every run and its status
  runs/<scenario>/<strategy>/   run.json, read.hgrm and write.hgrm per run
  summary.md                    first the answer: a class matrix (ghost, stuck
                                stale, stale reads, writes failed, clean) per
                                strategy and scenario, proved races, costs
                                relative to db-only, questions answered; then
                                a table per scenario and who is safest and fastest
  bench.txt                     Go benchmark format: benchstat old.txt new.txt
  plots/*.png, plots/*.svg      latency spectra, staleness, stale windows,
                                time series with faults, trade-off
  index.html                    all of the above on one self-contained page

Every cell runs -min-count times, interleaved (the whole matrix once, then
again), repetition r with seed+r-1 and its own schema and key prefix, on
servers provisioned once for the whole bench (again only after a run that
broke them). Then, round after round, only the cells whose place in the
safest, fastest or highest-throughput group is still undecided run again,
up to -count rounds, or until -budget-time would be exceeded: a
group-sequential design whose level per look is corrected for the number
of looks (Bonferroni), so that alpha stays 0.05 per comparison.
-min-count equal to -count runs every cell exactly -count times. Tables
show the estimate across repetitions with its 95% interval; safest is the
best class, split by a rate only where it differs by a factor of 2
interval against interval, and fastest a group by the Mann-Whitney U test
(summary.md says how and at which level). At the end the class matrix is
printed, as summary.md starts with it. Runs are short: each scenario's duration is replaced by -duration and its warm-up
and fault schedule are scaled by the same factor (redis-outage, 3s down at
3s of 10s, becomes 0.225s down at 0.225s of 0.75s).

Ctrl-C stops the current run; finished runs are kept, the rest marked
not-run, and the summary, plots and index are still written.
"ghostbench report DIR" renders them again from the JSON files.

examples:
  ghostbench bench
  ghostbench bench -duration 10s -strategies cache-aside,write-through -name ca-vs-wt
  ghostbench bench -scenarios redis-outage,lost-replies -seed 7
  ghostbench bench -count 10 -duration 2s -strategies cache-aside,version-checked
  ghostbench bench -budget-time 5m
  ghostbench bench -count 6 -min-count 6     # the fixed design: 6 repetitions of every cell
  ghostbench bench -strategies write-through -exec '/usr/bin/python3 examples/python/write_through.py' -scenarios redis-outage
  ghostbench bench -topology redis-cluster -duration 2s

With -topology other than single the default scenarios are the steady
loads and that topology's faults (redis-cluster: cluster-failover and
slot-migration; redis-replica: redis-failover; pg-replica: replica-lag).

flags:
`

// defaultBenchScenarios cover steady load and the main Redis faults.
var defaultBenchScenarios = []string{"steady-read-heavy", "write-heavy-hot-key", "redis-outage", "redis-oom", "lost-replies"}

// defaultBenchMinCount, defaultBenchCount and defaultBenchDuration: the
// bench is sequential by default. Every cell runs 4 times (the exact
// Mann-Whitney U test can then reach p = 0.029, and a comparison can stop
// for futility), and the cells whose place in a group is still undecided
// get more rounds, 10 at most (with 6 the order-statistic 95% interval of
// the median exists, 1 - 2/2^6 = 0.969); the level per look is corrected
// for the looks (stats.Sequential). 0.75 s runs: the fixed 6-repetition
// matrix (15 strategies x 5 scenarios x 6 = 450 runs) took about eight
// minutes on a two-core machine (README, "Benchmarks", has the numbers).
const (
	defaultBenchCount    = 10
	defaultBenchMinCount = 4
	defaultBenchDuration = 750 * time.Millisecond
)

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		duration = fs.Duration("duration", defaultBenchDuration, "each run's `duration`, warm-up included; warm-up and faults are scaled to it")
		scList   = fs.String("scenarios", strings.Join(defaultBenchScenarios, ","), "comma-separated built-in scenario `names` or YAML files")
		stList   = fs.String("strategies", "all", "comma-separated strategy `names`, or all")
		seed     = fs.Int64("seed", 1, "random `seed` of the first repetition (repetition r uses seed+r-1)")
		count    = fs.Int("count", defaultBenchCount, "run every cell at most `n` times, interleaved over the matrix (exactly n with -min-count n)")
		minCount = fs.Int("min-count", defaultBenchMinCount, "run every cell `n` times, then add rounds only for the cells whose place in a group is undecided, up to -count (sequential; n = -count: every cell -count times)")
		budget   = fs.Duration("budget-time", 0, "end the bench within this `duration` (e.g. 5m): a run or round starts only when the runs so far say it fits; 0: no budget")
		outDir   = fs.String("out", "results", "`directory` the results folder is created in")
		name     = fs.String("name", "bench", "`name` of the bench, the suffix of its folder")
		dir      = fs.String("dir", "", "write into exactly this `directory` instead of <out>/<timestamp>-<name>, replacing the bench files already there")
		light    = fs.Bool("light", false, "keep the folder small (PNG plots only, no SVG or .hgrm, compact run.json), as for results/reference")
		quiet    = fs.Bool("quiet", false, "no progress line, even on a terminal")
		budgetS  = fs.String("budget", "", "consistency `budget` the summary asks about (which strategies kept it in every run), e.g. stale-ratio<=0.001,p99-staleness-ms<=100; it gates nothing")
		pcfg     = docker.ConfigFromEnv()
		ff       faultFlags
		ef       execFlags
		df       dataFlags
	)
	df.register(fs, store.DefaultSchema, runner.DefaultPrefix)
	pcfg.RegisterFlags(fs)
	ff.register(fs)
	ef.register(fs)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench: unexpected argument %q", fs.Arg(0))
	}
	if *duration <= 0 || *duration > scenarios.MaxDuration {
		return usagef("bench: -duration %v: want a positive duration such as 3s, at most %s", *duration, scenarios.MaxDuration)
	}
	if *count < 1 || *count > bench.MaxCount {
		return usagef("bench: -count %d: want 1..%d repetitions", *count, bench.MaxCount)
	}
	minSet := false
	fs.Visit(func(f *flag.Flag) { minSet = minSet || f.Name == "min-count" })
	if !minSet && *count < *minCount {
		*minCount = *count // -count 1, 2 or 3 alone: that many of every cell
	}
	if *minCount != *count && (*minCount < 2 || *minCount > *count) {
		return usagef("bench: -min-count %d: want 2..-count (%d) repetitions before the first look, or -min-count %d for a fixed count", *minCount, *count, *count)
	}
	if *budget < 0 {
		return usagef("bench: -budget-time %v: want a positive duration such as 5m, or 0 for none", *budget)
	}
	if err := df.check(); err != nil {
		return err
	}
	if _, err := report.ParseBudget(*budgetS); err != nil {
		return usagef("bench: -budget: %v", err)
	}
	if strings.TrimSpace(*name) == "" || strings.ContainsAny(*name, `/\`) {
		return usagef("bench: -name %q: want a non-empty name without slashes", *name)
	}
	scSet := false
	fs.Visit(func(f *flag.Flag) { scSet = scSet || f.Name == "scenarios" })
	if d, ok := topologyBenchScenarios[pcfg.Topology]; ok && !scSet {
		*scList = strings.Join(d, ",")
	}
	reg := strategies.Default()
	execName := ""
	if ef.set() {
		var err error
		if execName, err = ef.add(reg, ""); err != nil {
			return err
		}
	}
	stNames, err := pickStrategies(reg, *stList)
	if err != nil {
		return err
	}
	if execName != "" && !slices.Contains(stNames, execName) {
		stNames = append(stNames, execName) // beside the ones chosen
	}
	var scs []*scenarios.Scenario
	seen := map[string]bool{}
	topo, err := newTopologyChoice(&pcfg)
	if err != nil {
		return err
	}
	for _, n := range splitList(*scList) {
		sc, err := scenarios.Load(n)
		if err != nil {
			return usageError{err}
		}
		if seen[sc.Name] {
			return usagef("bench: -scenarios: %s given twice", sc.Name)
		}
		seen[sc.Name] = true
		if err := topo.apply(&pcfg, sc); err != nil {
			return err
		}
		if err := checkWorkers(pcfg, sc); err != nil {
			return err
		}
		scs = append(scs, sc)
	}
	if len(scs) == 0 {
		return usagef("bench: -scenarios %q: no scenario named; want a comma-separated list of %s, or YAML files", *scList, strings.Join(scenarios.Names(), ", "))
	}

	if err := pcfg.Check(); err != nil {
		return usageError{err}
	}

	started := now()
	folder := *dir
	if *dir == "" {
		if err := checkOutDir("bench: -out", *outDir); err != nil {
			return err
		}
		// A folder of its own, made now so that no other bench takes it.
		base, err := bench.NewDir(*outDir, started.UTC().Format("20060102-150405")+"-"+*name)
		if err != nil {
			return usagef("bench: -out %s: cannot create the bench's folder: %v", *outDir, unwrapPath(err))
		}
		folder = filepath.Join(*outDir, base)
		defer removeUnused(folder)
	}
	if execName != "" {
		// Again, now that the folder is known: the process's stderr goes
		// into it.
		reg = strategies.Default()
		if _, err := ef.add(reg, filepath.Join(folder, execName+".stderr.log")); err != nil {
			return err
		}
	}
	flags := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { flags[f.Name] = f.Value.String() })
	plan, err := bench.NewPlan(bench.Config{
		Name: *name, Dir: folder, Strategies: stNames, Registry: reg, Scenarios: scs,
		Duration: *duration, Seed: *seed, Count: *count, MinCount: *minCount, BudgetTime: *budget, Servers: pcfg, Faults: ff.options(), Flags: flags,
		Schema: df.schema, Prefix: df.prefix, Keep: df.keep, IgnoreServerLock: df.ignoreLock, Budget: *budgetS,
		Observer: benchLog(stderr, folder, started, !*quiet && isTerminal(stderr)),
	})
	if err != nil {
		// The scenario as scaled does not validate, or its faults do
		// not fit the servers.
		return usageError{err}
	}
	if *dir != "" {
		if err := checkOutDir("bench: -dir", folder); err != nil {
			return err
		}
		if err := bench.CheckDir(folder); errors.Is(err, bench.ErrNotResults) {
			return usagef("bench: -dir %s: %w", folder, err)
		}
	}
	unlock, err := bench.LockDir(folder)
	if busy := (*bench.BusyError)(nil); errors.As(err, &busy) {
		return usagef("bench: %v", err)
	} else if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer unlock()
	if *dir != "" {
		if err := bench.ClearDir(folder); errors.Is(err, bench.ErrNotResults) {
			return usagef("bench: -dir %s: %w", folder, err)
		} else if err != nil {
			return fmt.Errorf("bench: -dir %s: %w", folder, err)
		}
	}
	b, err := plan.Run(ctx)
	if b == nil {
		return fmt.Errorf("bench: %w", err)
	}
	var runErr, werr error
	if we := (*bench.WriteError)(nil); errors.As(err, &we) {
		werr = we.Err
	} else {
		runErr = err
	}
	m, rerr := report.RenderBench(folder, report.RenderOptions{Light: *light})
	if rerr != nil && werr == nil {
		werr = rerr
	}
	failed := 0
	for _, r := range b.Runs {
		if r.Status == record.StatusError {
			failed++
		}
	}
	fmt.Fprintf(stderr, "bench %s in %.0fs: %s\n", b.Status, b.ElapsedSeconds, b.StatusCounts())
	if m != nil {
		// The answer, as summary.md and index.html start with it.
		fmt.Fprintln(stdout)
		if err := m.Answer().WriteText(stdout); err != nil && werr == nil {
			werr = err
		}
		fmt.Fprintln(stdout)
	}
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
