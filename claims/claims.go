// Package claims is a catalogue of the advice people follow about caching,
// each claim restated in our own words with the test that decides it: bench
// cells repeated on real servers (a built-in scenario, scaled, each
// repetition with its own seed, the cells interleaved) or a reproduce case
// run N times. A claim's verdict is Holds, Refuted or NotDecided; an
// interval that straddles the claim's bound, or a run that failed, is
// NotDecided, never a pass.
package claims

import (
	"fmt"
	"sort"
	"time"

	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// Verdict is a claim's outcome.
type Verdict string

// The verdicts.
const (
	Holds      Verdict = "holds"
	Refuted    Verdict = "refuted"
	NotDecided Verdict = "not decided"
)

// Cell is one bench cell of a claim: a strategy (with parameters) through
// a scenario, run once per repetition.
type Cell struct {
	// Label names the cell in the evidence folder and the numbers.
	Label    string
	Strategy string
	Params   strategies.Params
	// Scenario is a built-in scenario's name; Adjust, when set, changes
	// the fresh copy before it is scaled to the claim's Duration.
	Scenario string
	Adjust   func(*scenarios.Scenario)
}

// Repro is one reproduce case run on one strategy, N times.
type Repro struct {
	Label    string
	Case     string
	Strategy string
	Params   strategies.Params
	// Want is the outcome the claim expects for it to hold: "clean" or
	// "anomaly" (a control that shows the test can see the bug).
	Want string
}

// Claim is one piece of advice and the test that decides it.
type Claim struct {
	Name string
	// Statement is the claim in our own words.
	Statement string
	// Source says where such advice comes from, in general terms.
	Source string
	// Test describes the test: the scenario or case, the strategies.
	Test string
	// Metric names what is measured per repetition.
	Metric string
	// Rule states how the verdict follows from the numbers.
	Rule string
	// Cells (bench) or Repros (reproduce): one of them.
	Cells  []Cell
	Repros []Repro
	// Duration is each bench run's duration, warm-up included.
	Duration time.Duration
	// Reps is the number of repetitions (bench) or runs per repro.
	Reps int
	// decide computes the verdict from the evidence.
	decide func(ev *Evidence) Decision
}

// Decision is a verdict with the numbers behind it.
type Decision struct {
	Verdict Verdict `json:"verdict"`
	// Numbers are lines such as "p99 staleness: 291 ms [280, 300] (median
	// of 6, 95% CI)".
	Numbers []string `json:"numbers"`
	// Why says in one line which part of the rule applied.
	Why string `json:"why"`
}

// Evidence is what a claim's runs produced: per cell, one record per
// repetition (nil when the run could not be done); per repro, the outcome
// of each run ("clean", "anomaly", "unknown", or "error").
type Evidence struct {
	Runs     map[string][]*record.Run `json:"-"`
	Outcomes map[string][]string      `json:"outcomes,omitempty"`
}

// Catalogue is the set of claims by name; New registers, and a duplicate
// name panics (a programming error in the catalogue).
type Catalogue struct{ byName map[string]Claim }

func newCatalogue() *Catalogue { return &Catalogue{byName: map[string]Claim{}} }

func (c *Catalogue) add(cl Claim) {
	if _, dup := c.byName[cl.Name]; dup {
		panic(fmt.Sprintf("claims: duplicate claim %q", cl.Name))
	}
	if (len(cl.Cells) == 0) == (len(cl.Repros) == 0) || cl.Reps <= 0 || cl.decide == nil {
		panic(fmt.Sprintf("claims: claim %q needs cells or repros, reps and a rule", cl.Name))
	}
	c.byName[cl.Name] = cl
}

// Lookup returns the claim called name.
func (c *Catalogue) Lookup(name string) (Claim, bool) {
	cl, ok := c.byName[name]
	return cl, ok
}

// Claims returns every claim in catalogue order (the order of the write-up,
// then our own strategies' claims).
func (c *Catalogue) Claims() []Claim {
	out := make([]Claim, 0, len(c.byName))
	for _, cl := range c.byName {
		out = append(out, cl)
	}
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].Name] < order[out[j].Name] })
	return out
}

// Names returns the claim names in catalogue order.
func (c *Catalogue) Names() []string {
	var out []string
	for _, cl := range c.Claims() {
		out = append(out, cl.Name)
	}
	return out
}

// Decide returns the claim's verdict on ev.
func (cl Claim) Decide(ev *Evidence) Decision { return cl.decide(ev) }

// Command is the command line that reproduces the claim's evidence.
func (cl Claim) Command() string { return "ghostbench claims " + cl.Name }

var order = map[string]int{}
