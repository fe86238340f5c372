// Package bench runs a matrix of strategies x scenarios against real
// PostgreSQL and Redis and records it as a results folder: bench.json (the
// matrix and every run's status, rewritten after each run) and
// runs/<scenario>/<strategy>/run.json. Rendering the folder (summary,
// plots, index.html) is package report's job: report.RenderBench.
//
// Every run of a scenario uses the same seed and the same scaled scenario
// (its duration replaced by Config.Duration, its warm-up and fault
// schedule scaled by the same factor), on servers provisioned once for the
// whole bench and again only after a run that broke them; the runner
// recreates the schema and clears the key prefix before each run.
//
//	plan, err := bench.NewPlan(bench.Config{
//		Name: "ca-vs-wt", Dir: dir, Duration: 2 * time.Second, Seed: 1,
//		Strategies: []string{"cache-aside", "write-through"},
//		Scenarios:  []*scenarios.Scenario{sc},
//		Servers:    docker.ConfigFromEnv(),
//	})
//	if err != nil { ... } // a bad Config: nothing was written
//	b, err := plan.Run(ctx)
package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/stats"
	"github.com/ghostbench/ghostbench/store"
	"github.com/ghostbench/ghostbench/strategies"
)

// Config describes a bench.
type Config struct {
	// Name names the bench: bench.json's name and the prefix of every
	// run's ID. Non-empty, without slashes.
	Name string
	// Dir is the results folder, created when missing. Files an earlier
	// bench left there are overwritten only where names collide: call
	// ClearDir first to reuse a folder.
	Dir string
	// Strategies are the names of the strategies to run, in order, each
	// registered in Registry (nil: strategies.Default()).
	Strategies []string
	Registry   *strategies.Registry
	// Scenarios are the scenarios to run, in order, with distinct names.
	// NewPlan works on copies: each is scaled to Duration (see
	// scenarios.Scenario.Scale), given Seed and validated.
	Scenarios []*scenarios.Scenario
	// Duration is each run's duration, warm-up included; positive.
	Duration time.Duration
	// Seed is the random seed of the first repetition; repetition r
	// (1-based) uses Seed+r-1.
	Seed int64
	// Count is the number of repetitions of every cell, 1 or more (0
	// means 1). They are interleaved: the whole matrix runs once, then
	// again, so that a noisy minute hits every strategy alike. With more
	// than one, every repetition has its own schema and key prefix.
	Count int
	// MinCount, when between 2 and Count-1, makes the bench sequential:
	// every cell runs MinCount repetitions, then rounds are added only
	// for the cells whose place in a group is still undecided
	// (report.Matrix.Undecided under the design stats.Sequential{Alpha:
	// stats.Alpha, First: MinCount, Max: Count, Futility:
	// stats.DefaultFutility}), until none is or Count rounds ran. Its
	// verdicts test each look at the design's corrected level. 0 (or
	// Count): every cell runs Count times.
	MinCount int
	// BudgetTime, when positive, bounds the bench's wall time: a run (or a
	// sequential round) starts only when the runs so far say it will end
	// within BudgetTime of the start; what does not fit stays not-run.
	BudgetTime time.Duration
	// Servers selects the servers to provision (docker.Provision).
	Servers docker.Config
	// Faults are the options of the scenarios' fault schedules.
	Faults faults.Options
	// Schema, Prefix, Keep and IgnoreServerLock are every run's
	// (runner.Config); empty Schema and Prefix take the runner's defaults.
	// With Count > 1 repetition r uses Schema+"_r<r>" and Prefix+"r<r>:"
	// (defaults ghostbench and gb:).
	Schema, Prefix         string
	Keep, IgnoreServerLock bool
	// Flags are recorded in bench.json as the effective settings (a
	// command line's flags by name); may be nil.
	Flags map[string]string
	// Observer receives the bench's events; its nil fields are skipped.
	Observer Observer
	// Budget is a consistency budget (report.ParseBudget) recorded in
	// bench.json: the summary says which strategies kept it. It gates
	// nothing.
	Budget string
}

// Observer receives a bench's events, one at a time, from the goroutine
// that called Run. Any field may be nil. i indexes the bench's Runs, and
// run is that cell's record (&b.Runs[i]).
type Observer struct {
	// Started is called once bench.json was first written, every run
	// not-run, before any server is provisioned.
	Started func(b *report.Bench)
	// Provisioned is called each time servers were provisioned.
	Provisioned func(srv *docker.Servers)
	// Unhealthy is called when the servers no longer answer after a run
	// that may have broken them, before they are replaced.
	Unhealthy func(err error)
	// RunStarting is called before run i starts.
	RunStarting func(i int, run *report.BenchRun)
	// RunProgress is run i's live progress, about once a second; when nil
	// the runner reports none.
	RunProgress func(i int, run *report.BenchRun, p runner.Progress)
	// Round is called at every look of a sequential bench, after round
	// MinCount and each later round.
	Round func(r RoundInfo)
	// RunFinished is called when run i ended with run's status and
	// elapsed time set and its run.json written, before bench.json is
	// rewritten. res is nil when the run could not be done at all (run's
	// Error says why).
	RunFinished func(i int, run *report.BenchRun, res *record.Run)
}

// Plan is a checked bench, ready to run.
type Plan struct {
	cfg   Config
	cells []cell // the first rounds
	// planned are the scenarios, scaled, with their fault plans.
	planned []scenarioPlan
	infos   []report.BenchScenario
	names   []string // scenario names, in order
}

// cell is one run to do.
type cell struct {
	sc       *scenarios.Scenario
	strategy string
	faults   *FaultPlan
	rep      int // 1-based
	schema   string
	prefix   string
}

// MaxCount bounds Config.Count.
const MaxCount = 1000

// NewPlan checks cfg and prepares its matrix without provisioning or
// writing anything. The error names the field, the value and what is
// allowed; a scenario's own error (scenarios.Scenario.Validate, a fault
// schedule the servers cannot take) is returned as it is.
func NewPlan(cfg Config) (*Plan, error) {
	if cfg.Registry == nil {
		cfg.Registry = strategies.Default()
	}
	switch {
	case cfg.Duration <= 0:
		return nil, fmt.Errorf("bench: Duration %v: want a positive duration such as 3s", cfg.Duration)
	case strings.TrimSpace(cfg.Name) == "" || strings.ContainsAny(cfg.Name, `/\`):
		return nil, fmt.Errorf("bench: Name %q: want a non-empty name without slashes", cfg.Name)
	case cfg.Dir == "":
		return nil, errors.New("bench: Dir is empty: want the results folder")
	case len(cfg.Strategies) == 0:
		return nil, errors.New("bench: Strategies: none given")
	case len(cfg.Scenarios) == 0:
		return nil, errors.New("bench: Scenarios: none given")
	case cfg.Count < 0 || cfg.Count > MaxCount:
		return nil, fmt.Errorf("bench: Count %d: want 1..%d repetitions", cfg.Count, MaxCount)
	case cfg.BudgetTime < 0:
		return nil, fmt.Errorf("bench: BudgetTime %v: want a positive duration such as 5m, or 0 for none", cfg.BudgetTime)
	}
	if _, err := report.ParseBudget(cfg.Budget); err != nil {
		return nil, fmt.Errorf("bench: Budget: %w", err)
	}
	if cfg.Count == 0 {
		cfg.Count = 1
	}
	if cfg.MinCount == cfg.Count {
		cfg.MinCount = 0
	}
	if cfg.MinCount != 0 && (cfg.MinCount < 2 || cfg.MinCount > cfg.Count) {
		return nil, fmt.Errorf("bench: MinCount %d: want 2..Count (%d) repetitions before the first look, or 0 for a fixed Count", cfg.MinCount, cfg.Count)
	}
	for _, st := range cfg.Strategies {
		if _, ok := cfg.Registry.Lookup(st); !ok {
			return nil, fmt.Errorf("bench: Strategies: %q is not a registered strategy; allowed: %s", st, strings.Join(cfg.Registry.Names(), ", "))
		}
	}
	p := &Plan{cfg: cfg}
	seen := map[string]bool{}
	var planned []scenarioPlan
	for _, orig := range cfg.Scenarios {
		if seen[orig.Name] {
			return nil, fmt.Errorf("bench: Scenarios: %s given twice", orig.Name)
		}
		seen[orig.Name] = true
		sc := *orig
		sc.Faults = slices.Clone(orig.Faults)
		scale := sc.Scale(cfg.Duration)
		sc.Seed = cfg.Seed
		if err := sc.Validate(); err != nil {
			return nil, err
		}
		fp, err := PlanFaults(&sc, cfg.Servers, cfg.Faults)
		if err != nil {
			return nil, err
		}
		p.names = append(p.names, sc.Name)
		p.infos = append(p.infos, report.BenchScenario{Name: sc.Name, Description: sc.Description, Scale: scale, Faults: describeFaults(&sc)})
		planned = append(planned, scenarioPlan{&sc, fp})
	}
	p.planned = planned
	// Round-robin: repetition r of every cell before repetition r+1 of
	// any (a sequential bench plans its first MinCount rounds here, the
	// others as it goes).
	rounds := cfg.Count
	if cfg.MinCount > 0 {
		rounds = cfg.MinCount
	}
	for rep := 1; rep <= rounds; rep++ {
		p.cells = append(p.cells, p.round(rep, nil)...)
	}
	return p, nil
}

// scenarioPlan is one scenario of a plan, scaled and checked.
type scenarioPlan struct {
	sc *scenarios.Scenario
	fp *FaultPlan
}

// round returns the cells of repetition rep, in scenario then strategy
// order; only those for which only(scenario, strategy) is true when only
// is not nil.
func (p *Plan) round(rep int, only func(sc, st string) bool) []cell {
	cfg := &p.cfg
	var out []cell
	for _, sp := range p.planned {
		sc := sp.sc
		fp := sp.fp
		if rep > 1 {
			c := *sp.sc
			c.Seed = cfg.Seed + int64(rep-1)
			sc = &c
			if fp != nil {
				fp = &FaultPlan{sc: sc, opts: fp.opts}
			}
		}
		for _, st := range cfg.Strategies {
			if only != nil && !only(sc.Name, st) {
				continue
			}
			c := cell{sc: sc, strategy: st, faults: fp, rep: rep, schema: cfg.Schema, prefix: cfg.Prefix}
			if cfg.Count > 1 {
				c.schema = fmt.Sprintf("%s_r%d", cmp.Or(cfg.Schema, store.DefaultSchema), rep)
				c.prefix = fmt.Sprintf("%sr%d:", cmp.Or(cfg.Prefix, "gb:"), rep)
			}
			out = append(out, c)
		}
	}
	return out
}

// design returns the sequential design of the plan, ok=false for a fixed
// Count.
func (p *Plan) design() (stats.Sequential, bool) {
	if p.cfg.MinCount == 0 {
		return stats.Sequential{}, false
	}
	return stats.Sequential{Alpha: stats.Alpha, First: p.cfg.MinCount, Max: p.cfg.Count, Futility: stats.DefaultFutility}, true
}

// Run checks cfg and runs its bench: NewPlan(cfg), then Plan.Run.
func Run(ctx context.Context, cfg Config) (*report.Bench, error) {
	p, err := NewPlan(cfg)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx)
}

// Run runs the matrix, one run after the other, and records it in the
// plan's Dir: bench.json first with every run not-run, each run's run.json
// when it ends (runs that could not be done at all are marked error), and
// bench.json again after each run and at the end, with the bench's status
// and elapsed time.
//
// Cancelling ctx stops the current run (it is kept, with the status the
// runner gave it, or marked not-run when it produced nothing) and leaves
// the rest not-run; the bench's status stays interrupted and Run returns
// the bench and a nil error. Otherwise the status is ok, even when runs
// failed (count them in the bench's Runs).
//
// Run returns a nil bench and an error when the first bench.json cannot be
// written. It returns the bench and an error when the matrix stopped early
// because servers could not be provisioned or a file could not be written,
// and the bench and a *WriteError when everything ran but the final
// bench.json could not be written.
func (p *Plan) Run(ctx context.Context) (*report.Bench, error) {
	started := time.Now()
	b := &report.Bench{
		Schema: report.BenchSchemaVersion, Name: p.cfg.Name, Started: started.UTC(), Status: record.StatusInterrupted,
		Seed: p.cfg.Seed, Count: p.cfg.Count, Duration: p.cfg.Duration.String(), Flags: p.cfg.Flags,
		Scenarios: p.names, Strategies: p.cfg.Strategies, ScenarioInfo: p.infos,
		ProvedRaces: ProvedRaces(p.cfg.Registry, p.cfg.Strategies), Budget: p.cfg.Budget,
	}
	d, seq := p.design()
	if seq {
		b.Sequential = &report.SequentialDesign{Method: stats.SequentialMethod, Alpha: d.Alpha, Looks: d.Looks(), Level: d.Level(),
			First: d.First, Max: d.Max, Futility: d.Futility, BudgetSeconds: p.cfg.BudgetTime.Seconds(), Rounds: d.First}
	}
	sampleLoad(b)
	for _, c := range p.cells {
		b.Runs = append(b.Runs, report.BenchRun{Scenario: c.sc.Name, Strategy: c.strategy, Status: record.StatusNotRun, Seed: c.sc.Seed,
			Rep: c.rep, Schema: c.schema, Prefix: c.prefix})
	}
	if err := report.WriteBench(p.cfg.Dir, b); err != nil {
		return nil, err
	}
	if f := p.cfg.Observer.Started; f != nil {
		f(b)
	}
	m := &matrix{cfg: &p.cfg, bench: b, started: started}
	defer m.close()
	runErr := m.run(ctx, p.cells, 0)
	if seq {
		if runErr == nil {
			runErr = p.sequential(ctx, m, d)
		}
		if runErr != nil {
			b.Sequential.Stopped = "error"
		}
	}
	b.ElapsedSeconds = time.Since(started).Seconds()
	if ctx.Err() == nil && runErr == nil {
		b.Status = record.StatusOK
	}
	werr := report.WriteBench(p.cfg.Dir, b)
	switch {
	case runErr != nil:
		return b, runErr
	case werr != nil:
		return b, &WriteError{werr}
	}
	return b, nil
}

// sequential runs the rounds after the first ones of a sequential bench:
// each round runs the cells report.Matrix.Undecided names, until none is,
// Max rounds ran, the budget has no room for the next round or ctx is
// done. It records how the bench ended in b.Sequential.
func (p *Plan) sequential(ctx context.Context, m *matrix, d stats.Sequential) error {
	b, sd := m.bench, m.bench.Sequential
	for round := d.First; ; round++ {
		if ctx.Err() != nil || m.outOfBudget {
			sd.Stopped = "interrupted"
			if m.outOfBudget {
				sd.Stopped = "budget"
			}
			return nil
		}
		mat := report.NewMatrix(b, m.runs)
		undecided := map[[2]string]bool{}
		for _, sc := range p.names {
			for _, st := range mat.Undecided(sc, d) {
				undecided[[2]string{sc, st}] = true
			}
		}
		sd.Rounds, sd.Undecided = round, len(undecided)
		cells := len(p.names) * len(p.cfg.Strategies)
		if f := p.cfg.Observer.Round; f != nil {
			f(RoundInfo{Round: round, Max: d.Max, Cells: cells, Undecided: len(undecided), Elapsed: time.Since(m.started), Budget: p.cfg.BudgetTime})
		}
		switch {
		case len(undecided) == 0:
			sd.Stopped = "decided"
			return nil
		case round >= d.Max:
			sd.Stopped = "max rounds"
			return nil
		case !m.fits(len(undecided)):
			sd.Stopped = "budget"
			return nil
		}
		next := p.round(round+1, func(sc, st string) bool { return undecided[[2]string{sc, st}] })
		base := len(b.Runs)
		for _, c := range next {
			b.Runs = append(b.Runs, report.BenchRun{Scenario: c.sc.Name, Strategy: c.strategy, Status: record.StatusNotRun, Seed: c.sc.Seed,
				Rep: c.rep, Schema: c.schema, Prefix: c.prefix})
		}
		if err := report.WriteBench(p.cfg.Dir, b); err != nil {
			return fmt.Errorf("write bench.json: %w", err)
		}
		if err := m.run(ctx, next, base); err != nil {
			return err
		}
	}
}

// RoundInfo is the state of a sequential bench at a look, after a round.
type RoundInfo struct {
	// Round is the number of rounds run, of at most Max.
	Round, Max int
	// Cells is the number of cells, Undecided those whose place in a
	// group is still undecided (the next round runs them).
	Cells, Undecided int
	// Elapsed is the bench's time so far, Budget its budget (0: none).
	Elapsed, Budget time.Duration
}

// WriteError is a bench whose runs all ended (or were interrupted) but
// whose final bench.json could not be written: the runs' files and the
// bench.json written after the last run are in the folder.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// ErrNotResults is returned by ClearDir for a folder that is not empty and
// holds no bench.json.
var ErrNotResults = errors.New("not empty and not a results folder (no " + report.BenchFile + "); give a new or empty directory")

// ClearDir removes what an earlier bench wrote into dir (bench.json, the
// runs and plots folders, the derived files), and nothing else, so that no
// run or plot of the earlier bench survives into the next one. A missing
// dir is fine. A directory that exists, is not empty and has no bench.json
// is not a results folder: it is refused with ErrNotResults rather than
// cleared. Other errors are the file system's.
func ClearDir(dir string) error {
	if err := CheckDir(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, n := range []string{report.BenchFile, report.SummaryFile, report.BenchFmtFile, report.IndexFile, "runs", report.PlotsDir} {
		if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return nil
}

// CheckDir returns ErrNotResults for a folder that is not empty and holds
// no bench.json (a lock file alone does not count), the file system's
// error when it cannot be read, and nil otherwise.
func CheckDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return e.Name() == LockFile })
	if _, err := os.Stat(filepath.Join(dir, report.BenchFile)); len(entries) > 0 && err != nil {
		return ErrNotResults
	}
	return nil
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
