package main

import (
	"flag"
	"io"
	"os"
	"strings"

	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// scenarioFlags are the flags that override a scenario's fields; only the
// ones given on the command line are applied.
type scenarioFlags struct {
	scenario    string
	duration    string
	warmup      string
	ttl         string
	seed        int64
	keys        int
	readers     int
	writers     int
	rate        float64
	readRatio   float64
	concurrency int
	syncCommit  string
	instances   int
}

func (f *scenarioFlags) register(fs *flag.FlagSet, defScenario string) {
	fs.StringVar(&f.scenario, "scenario", defScenario, "built-in scenario `name` or YAML file (ghostbench list shows the names)")
	fs.StringVar(&f.duration, "duration", "", "run `duration` including warm-up, e.g. 10s; the scenario's warm-up and fault schedule are scaled to it")
	fs.StringVar(&f.warmup, "warmup", "", "warm-up `duration` not counted in the metrics")
	fs.StringVar(&f.ttl, "ttl", "", "cache entry TTL `duration`, or none")
	fs.Int64Var(&f.seed, "seed", 0, "random `seed` (same seed, same sequence of keys and operations)")
	fs.IntVar(&f.keys, "keys", 0, "number of keys (`n`)")
	fs.IntVar(&f.readers, "readers", 0, "closed-loop reader goroutines (`n`)")
	fs.IntVar(&f.writers, "writers", 0, "closed-loop writer goroutines (`n`)")
	fs.Float64Var(&f.rate, "rate", 0, "open-loop target `ops/s` (latency corrected for coordinated omission)")
	fs.Float64Var(&f.readRatio, "read-ratio", 0, "open loop: `fraction` of operations that are reads")
	fs.IntVar(&f.concurrency, "concurrency", 0, "open loop: at most `n` operations in flight")
	fs.StringVar(&f.syncCommit, "synchronous-commit", "", "PostgreSQL synchronous_commit for the run's sessions: on or off")
	fs.IntVar(&f.instances, "instances", 0, "application instances (`k`): independent strategy objects with their own clients and local caches")
}

// load returns the scenario with the flags that were set applied.
func (f *scenarioFlags) load(fs *flag.FlagSet) (*scenarios.Scenario, error) {
	sc, err := scenarios.Load(f.scenario)
	if err != nil {
		return nil, usageError{err}
	}
	var ferr error
	dur := func(name, v string, dst *scenarios.Duration) {
		d, err := scenarios.ParseDuration(v)
		if err != nil && ferr == nil {
			ferr = usagef("-%s %q: want a duration such as 10s, or none", name, v)
		}
		*dst = d
	}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "duration":
			// The same rule as bench: warm-up and fault schedule keep
			// their place in the run (flags visit in name order, so an
			// explicit -warmup is applied after this).
			var d scenarios.Duration
			dur("duration", f.duration, &d)
			if d > 0 {
				sc.Scale(d.D())
			}
		case "warmup":
			dur("warmup", f.warmup, &sc.Warmup)
		case "ttl":
			dur("ttl", f.ttl, &sc.TTL)
		case "seed":
			sc.Seed = f.seed
		case "keys":
			sc.Keys = f.keys
		case "readers":
			sc.Readers, sc.Rate = f.readers, 0
		case "writers":
			sc.Writers, sc.Rate = f.writers, 0
		case "rate":
			sc.Rate = f.rate
			if f.rate > 0 {
				sc.Readers, sc.Writers = 0, 0
				if sc.ReadRatio == 0 {
					sc.ReadRatio = 0.9
				}
			}
		case "read-ratio":
			sc.ReadRatio = f.readRatio
		case "concurrency":
			sc.Concurrency = f.concurrency
		case "synchronous-commit":
			sc.Postgres.SynchronousCommit = f.syncCommit
		case "instances":
			sc.Instances = f.instances
		}
	})
	if ferr != nil {
		return nil, ferr
	}
	if sc.Warmup >= sc.Duration {
		sc.Warmup = sc.Duration / 10
	}
	sc.Defaults()
	if err := sc.Validate(); err != nil {
		return nil, usageError{err}
	}
	return sc, nil
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

// isTerminal reports whether w is a terminal (progress lines are for
// people, not for logs).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
