package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/stats"
)

// BenchSchemaVersion is the version of the bench.json layout. It changes
// when a field changes meaning or is removed; adding a field does not
// change it.
const BenchSchemaVersion = 1

// Bench is a matrix of runs, strategies x scenarios, as written to
// bench.json at the top of a results folder. Every run of one scenario used
// the same seed and the same effective scenario, so that rows of one table
// differ only by strategy. It is the index the report is rendered from:
// Runs lists every cell of the matrix, finished or not, in the order they
// were (or would have been) run.
type Bench struct {
	Schema int    `json:"schema"`
	Name   string `json:"name"`
	// Started is when the bench began; ElapsedSeconds how long it took,
	// provisioning included.
	Started        time.Time `json:"started"`
	ElapsedSeconds float64   `json:"elapsed_s"`
	// Status is record.StatusOK when every run was attempted, record.StatusInterrupted when
	// the bench was cancelled.
	Status record.Status `json:"status"`
	// Seed is the seed of the first repetition; repetition r used Seed+r-1.
	Seed int64 `json:"seed"`
	// Count is the number of repetitions of every cell (0 in benches
	// written before repetitions: 1); in a sequential bench, the largest. Runs lists them interleaved: the
	// whole matrix once, then again, Count times.
	Count int `json:"count,omitempty"`
	// Duration is each run's duration, warm-up included ("3s"); every
	// scenario's warm-up and fault schedule were scaled by Scale.
	Duration string `json:"duration"`
	// Flags are the command line's effective flag values by name (every
	// flag, defaults included; passwords redacted).
	Flags map[string]string `json:"flags"`
	// Scenarios and Strategies are the matrix's axes, in order.
	Scenarios  []string `json:"scenarios"`
	Strategies []string `json:"strategies"`
	// ScenarioInfo describes each scenario as it ran (after scaling).
	ScenarioInfo []BenchScenario `json:"scenario_info"`
	// Env is where the bench ran (the first run's environment).
	Env *record.Environment `json:"env,omitempty"`
	// Provisions counts how many times servers were provisioned (1, plus
	// one per run that broke them).
	Provisions int `json:"provisions"`
	// Runs is every cell of the matrix.
	Runs []BenchRun `json:"runs"`
	// Sequential is the design of a bench whose later repetitions ran
	// only where a verdict was undecided (nil: every cell ran Count
	// times). Its verdicts test each look at Sequential.Level.
	Sequential *SequentialDesign `json:"sequential,omitempty"`
	// ProvedRaces are the anomalies shown possible for the bench's
	// strategies by driven interleavings (and the interleavings shown
	// handled), beside the measured rates.
	ProvedRaces []ProvedRace `json:"proved_races,omitempty"`
	// Load is the machine's load average while the bench ran; nil where
	// it could not be read.
	Load *LoadAverage `json:"load,omitempty"`
	// Budget is the consistency budget (ParseBudget) the summary asks
	// which strategies keep; empty: none given.
	Budget string `json:"budget,omitempty"`
}

// SequentialDesign is a sequential bench's design (stats.Sequential) and
// how it ended. Every cell ran First repetitions; after each round from
// First on, a round of the cells whose place in a group was undecided ran,
// Max rounds at most; Count is Max.
type SequentialDesign struct {
	// Method names the method (stats.SequentialMethod).
	Method string `json:"method"`
	// Alpha is the level of a comparison over all its looks, Level the
	// level of each of the Looks looks (Alpha/Looks).
	Alpha float64 `json:"alpha"`
	Looks int     `json:"looks"`
	Level float64 `json:"level"`
	// First and Max are the repetitions before the first look and the
	// largest number of rounds.
	First int `json:"first"`
	Max   int `json:"max"`
	// Futility is the p-value from which a comparison is decided not
	// different.
	Futility float64 `json:"futility"`
	// BudgetSeconds is the time budget (0: none).
	BudgetSeconds float64 `json:"budget_s,omitempty"`
	// Rounds is the number of rounds run; Undecided the cells still
	// undecided when the bench ended; Stopped why it ended: "decided",
	// "max rounds", "budget" or "interrupted".
	Rounds    int    `json:"rounds"`
	Undecided int    `json:"undecided"`
	Stopped   string `json:"stopped"`
}

// Design returns d as a stats.Sequential.
func (d *SequentialDesign) Design() stats.Sequential {
	return stats.Sequential{Alpha: d.Alpha, First: d.First, Max: d.Max, Futility: d.Futility}
}

// LoadAverage summarizes the 1-minute load average sampled while a bench
// ran (before the first run and after each one): on a shared machine it
// says how much of a latency is the machine's.
type LoadAverage struct {
	Samples int     `json:"samples"`
	Min     float64 `json:"min"`
	Mean    float64 `json:"mean"`
	Max     float64 `json:"max"`
}

// Add adds one sample.
func (l *LoadAverage) Add(v float64) {
	if l.Samples == 0 || v < l.Min {
		l.Min = v
	}
	if l.Samples == 0 || v > l.Max {
		l.Max = v
	}
	l.Mean = (l.Mean*float64(l.Samples) + v) / float64(l.Samples+1)
	l.Samples++
}

// String renders "mean 6.2 (min 4.1, max 9.8) over 451 samples".
func (l *LoadAverage) String() string {
	return fmt.Sprintf("mean %.1f (min %.1f, max %.1f) over %d samples", l.Mean, l.Min, l.Max, l.Samples)
}

// BenchScenario describes one scenario of a bench as it ran.
type BenchScenario struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Scale is the factor applied to the scenario's duration, warm-up and
	// fault schedule (run duration / catalogue duration).
	Scale float64 `json:"scale"`
	// Faults describes the scaled fault schedule, one entry per step:
	// "redis-down at 900ms for 900ms".
	Faults []string `json:"faults,omitempty"`
}

// BenchRun is one cell of the matrix.
type BenchRun struct {
	Scenario string `json:"scenario"`
	Strategy string `json:"strategy"`
	// Status is one of the Status* constants.
	Status record.Status `json:"status"`
	Error  string        `json:"error,omitempty"`
	// Dir is the run's folder relative to the bench folder (run.json and
	// the .hgrm files are in it); empty when nothing was written.
	Dir string `json:"dir,omitempty"`
	// Rep is the repetition, 1..Bench.Count (0 in a bench of schema 1
	// written before repetitions: read as 1).
	Rep int `json:"rep,omitempty"`
	// Seed is the run's seed: the bench's Seed plus Rep-1.
	Seed int64 `json:"seed"`
	// Schema and Prefix are the PostgreSQL schema and the Redis key
	// prefix the run used (fresh for every repetition); empty: the
	// runner's defaults.
	Schema         string  `json:"schema,omitempty"`
	Prefix         string  `json:"prefix,omitempty"`
	ElapsedSeconds float64 `json:"elapsed_s"`
}

// StatusCounts counts b's runs by status, in the order ok, interrupted,
// error, not-run, leaving out the statuses no run has: "63 ok, 2 error".
func (b *Bench) StatusCounts() string {
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

// RunDir returns the folder, relative to a bench folder, that holds the
// files of the run of strategy in scenario: runs/<scenario>/<strategy>.
func RunDir(scenario, strategy string) string {
	return filepath.Join("runs", fileSafe(scenario), fileSafe(strategy))
}

// RepDir returns the folder of repetition rep (1-based) of a cell:
// runs/<scenario>/<strategy>/<rep>.
func RepDir(scenario, strategy string, rep int) string {
	return filepath.Join(RunDir(scenario, strategy), strconv.Itoa(rep))
}

// fileSafe replaces every character outside [A-Za-z0-9._-] by '_'.
func fileSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' {
		return "_" + string(b)
	}
	return string(b)
}

// Bench file names inside a results folder.
const (
	BenchFile    = "bench.json"
	RunFile      = "run.json"
	SummaryFile  = "summary.md"
	BenchFmtFile = "bench.txt"
	IndexFile    = "index.html"
	PlotsDir     = "plots"
)

// WriteBench writes b to dir/bench.json, atomically.
func WriteBench(dir string, b *Bench) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileIn(dir, BenchFile, append(data, '\n'))
}

// ReadBench reads dir/bench.json. It returns an error for a missing file,
// invalid JSON or another schema version.
func ReadBench(dir string) (*Bench, error) {
	path := filepath.Join(dir, BenchFile)
	data, err := ReadFileIn(dir, BenchFile)
	if err != nil {
		return nil, err
	}
	var b Bench
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if b.Schema != BenchSchemaVersion {
		return nil, fmt.Errorf("%s: schema %d, this ghostbench reads schema %d", path, b.Schema, BenchSchemaVersion)
	}
	seen := map[string]int{}
	for i, br := range b.Runs {
		if br.Dir == "" {
			continue
		}
		if _, err := checkRunDir(dir, br.Dir, fmt.Sprintf("runs[%d].dir", i)); err != nil {
			return nil, err
		}
		// One run counted twice would pass for two repetitions.
		d := filepath.Clean(br.Dir)
		if j, ok := seen[d]; ok {
			return nil, fmt.Errorf("%s: runs[%d] and runs[%d] list the same run %s; each run is listed once", path, j, i, br.Dir)
		}
		seen[d] = i
	}
	return &b, nil
}

// LoadBench reads dir/bench.json and the run.json of every run that has
// one. runs[i] belongs to b.Runs[i] and is nil when the run wrote nothing.
// A run.json that is listed but cannot be read is an error.
func LoadBench(dir string) (b *Bench, runs []*record.Run, err error) {
	b, err = ReadBench(dir)
	if err != nil {
		return nil, nil, err
	}
	runs = make([]*record.Run, len(b.Runs))
	for i, br := range b.Runs {
		if br.Dir == "" {
			continue
		}
		r, err := readRunIn(dir, filepath.Join(br.Dir, RunFile))
		if errors.Is(err, os.ErrNotExist) && br.Status != record.StatusOK {
			continue // an error or interrupted run that measured nothing
		}
		if err != nil {
			return nil, nil, err
		}
		runs[i] = r
	}
	return b, runs, nil
}
