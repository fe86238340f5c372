package claims

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ghostbench/ghostbench/bench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/reproduce"
	"github.com/ghostbench/ghostbench/scenarios"
)

// Options configures Run.
type Options struct {
	// Servers are the provisioned servers; required. Config is the
	// configuration they came from (for the fault schedule check).
	Servers *docker.Servers
	Config  docker.Config
	// Dir is the claim's evidence folder (created).
	Dir string
	// Reps overrides the claim's repetition count when > 0.
	Reps int
	// Seed is the first repetition's seed; repetition i uses Seed+i.
	Seed int64
	// Log, when set, receives one line per run.
	Log func(format string, args ...any)
}

// Result is a claim's run: its decision and where the evidence is.
type Result struct {
	Claim    string   `json:"claim"`
	Decision Decision `json:"decision"`
	Dir      string   `json:"dir"`
	Command  string   `json:"command"`
	Reps     int      `json:"reps"`
	Elapsed  float64  `json:"elapsed_s"`
	// Outcomes are the repro outcomes per label (reproduce claims).
	Outcomes map[string][]string `json:"outcomes,omitempty"`
	// Runs are the run.json paths per cell label (bench claims).
	Runs map[string][]string `json:"runs,omitempty"`
}

// ResultFile is the file Run writes in the evidence folder.
const ResultFile = "claim.json"

// Run runs claim cl and decides it. Bench cells run interleaved: for each
// repetition every cell in turn, each repetition with its own seed (the
// runner recreates its schema and clears its key prefix before each run).
// A run that fails is recorded and makes the claim not decided. Run returns
// an error only when the evidence could not be written or ctx was
// cancelled (with the result so far).
func Run(ctx context.Context, cl Claim, o Options) (*Result, error) {
	start := time.Now()
	reps := cl.Reps
	if o.Reps > 0 {
		reps = o.Reps
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	ev := &Evidence{Runs: map[string][]*record.Run{}, Outcomes: map[string][]string{}}
	res := &Result{Claim: cl.Name, Dir: o.Dir, Command: cl.Command(), Reps: reps}
	var err error
	if len(cl.Cells) > 0 {
		res.Runs = map[string][]string{}
		err = runCells(ctx, cl, o, reps, ev, res)
	} else {
		err = runRepros(ctx, cl, o, reps, ev)
		res.Outcomes = ev.Outcomes
	}
	if err != nil {
		res.Decision = notDecided(err.Error())
	} else {
		res.Decision = cl.Decide(ev)
	}
	res.Elapsed = time.Since(start).Seconds()
	data, jerr := json.MarshalIndent(res, "", "  ")
	if jerr == nil {
		jerr = os.WriteFile(filepath.Join(o.Dir, ResultFile), append(data, '\n'), 0o644)
	}
	if err == nil {
		err = jerr
	}
	return res, err
}

func runCells(ctx context.Context, cl Claim, o Options, reps int, ev *Evidence, res *Result) error {
	for rep := 0; rep < reps; rep++ {
		for _, c := range cellOrder(cl.Cells, rep) {
			if err := ctx.Err(); err != nil {
				return err
			}
			sc, ok := scenarios.Builtin(c.Scenario)
			if !ok {
				return fmt.Errorf("claim %s: cell %s: unknown scenario %q", cl.Name, c.Label, c.Scenario)
			}
			if c.Adjust != nil {
				c.Adjust(sc)
			}
			sc.Scale(cl.Duration)
			sc.Seed = o.Seed + int64(rep)
			if err := sc.Validate(); err != nil {
				return fmt.Errorf("claim %s: cell %s: %w", cl.Name, c.Label, err)
			}
			fp, err := bench.PlanFaults(sc, o.Config, faults.Options{})
			if err != nil {
				return fmt.Errorf("claim %s: cell %s: %w", cl.Name, c.Label, err)
			}
			id := fmt.Sprintf("claim-%s-%s-rep%d", cl.Name, c.Label, rep+1)
			r, err := bench.ExecuteRun(ctx, bench.RunSpec{Scenario: sc, Strategy: c.Strategy, Params: c.Params, Servers: o.Servers, Faults: fp, ID: id})
			if err != nil {
				o.Log("%s: %s rep %d: %v", cl.Name, c.Label, rep+1, err)
				ev.Runs[c.Label] = append(ev.Runs[c.Label], nil)
				continue
			}
			path := filepath.Join(o.Dir, fmt.Sprintf("rep-%d", rep+1), c.Label, "run.json")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := writeCompact(path, r); err != nil {
				return err
			}
			o.Log("%s: %s rep %d: %s (%.1fs)", cl.Name, c.Label, rep+1, r.Status, r.ElapsedSeconds)
			ev.Runs[c.Label] = append(ev.Runs[c.Label], r)
			res.Runs[c.Label] = append(res.Runs[c.Label], path)
		}
	}
	return nil
}

// cellOrder is the order of the cells in repetition rep: as listed in even
// repetitions, reversed in odd ones, so that no cell always runs first
// (after the servers' idle time) or second (after another strategy's run).
func cellOrder(cells []Cell, rep int) []Cell {
	if rep%2 == 0 {
		return cells
	}
	out := slices.Clone(cells)
	slices.Reverse(out)
	return out
}

// writeCompact writes a run.json without indentation: the evidence of
// make reference is committed, and a claim has dozens of runs.
func writeCompact(path string, r *record.Run) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return report.WriteFileAtomic(path, append(data, '\n'))
}

func runRepros(ctx context.Context, cl Claim, o Options, reps int, ev *Evidence) error {
	for rep := 0; rep < reps; rep++ {
		for _, rp := range cl.Repros {
			if err := ctx.Err(); err != nil {
				return err
			}
			c, ok := reproduce.Lookup(rp.Case)
			if !ok {
				return fmt.Errorf("claim %s: unknown reproduce case %q", cl.Name, rp.Case)
			}
			r, err := reproduce.Run(ctx, c, reproduce.Options{Servers: o.Servers, Strategy: rp.Strategy, Params: rp.Params})
			outcome := "error"
			if r != nil {
				dir := filepath.Join(o.Dir, fmt.Sprintf("%s-%d", rp.Label, rep+1))
				if werr := r.WriteDir(dir); werr != nil {
					return werr
				}
				if err == nil {
					outcome = r.Verdict.Result
				}
			}
			if err != nil {
				o.Log("%s: %s run %d: %v", cl.Name, rp.Label, rep+1, err)
			} else {
				o.Log("%s: %s run %d: %s", cl.Name, rp.Label, rep+1, outcome)
			}
			ev.Outcomes[rp.Label] = append(ev.Outcomes[rp.Label], outcome)
		}
	}
	return nil
}
