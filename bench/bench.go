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
	// RunFinished is called when run i ended with run's status and
	// elapsed time set and its run.json written, before bench.json is
	// rewritten. res is nil when the run could not be done at all (run's
	// Error says why).
	RunFinished func(i int, run *report.BenchRun, res *record.Run)
}

// Plan is a checked bench, ready to run.
type Plan struct {
	cfg   Config
	cells []cell
	infos []report.BenchScenario
	names []string // scenario names, in order
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
	}
	if cfg.Count == 0 {
		cfg.Count = 1
	}
	for _, st := range cfg.Strategies {
		if _, ok := cfg.Registry.Lookup(st); !ok {
			return nil, fmt.Errorf("bench: Strategies: %q is not a registered strategy; allowed: %s", st, strings.Join(cfg.Registry.Names(), ", "))
		}
	}
	p := &Plan{cfg: cfg}
	seen := map[string]bool{}
	type scPlan struct {
		sc *scenarios.Scenario
		fp *FaultPlan
	}
	var planned []scPlan
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
		planned = append(planned, scPlan{&sc, fp})
	}
	// Round-robin: repetition r of every cell before repetition r+1 of any.
	for rep := 1; rep <= cfg.Count; rep++ {
		for _, sp := range planned {
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
				c := cell{sc: sc, strategy: st, faults: fp, rep: rep, schema: cfg.Schema, prefix: cfg.Prefix}
				if cfg.Count > 1 {
					c.schema = fmt.Sprintf("%s_r%d", cmp.Or(cfg.Schema, store.DefaultSchema), rep)
					c.prefix = fmt.Sprintf("%sr%d:", cmp.Or(cfg.Prefix, "gb:"), rep)
				}
				p.cells = append(p.cells, c)
			}
		}
	}
	return p, nil
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
	}
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
	m := &matrix{cfg: &p.cfg, bench: b}
	runErr := m.run(ctx, p.cells)
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
