package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/runner"
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

// load returns the scenario with the flags that were set applied. A flag
// that cannot be honoured as given is a usage error naming it, never a
// silent change: open-loop and closed-loop flags together, a duration that
// is not positive, a warm-up not shorter than the duration, a rate or
// ratio that is not a finite number in range, a flag that the scenario's
// loop ignores.
func (f *scenarioFlags) load(fs *flag.FlagSet) (*scenarios.Scenario, error) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if err := f.check(set); err != nil {
		return nil, err
	}
	sc, err := scenarios.Load(f.scenario)
	if err != nil {
		return nil, usageError{err}
	}
	openFlags := set["rate"] || set["read-ratio"] || set["concurrency"]
	if set["duration"] {
		// The same rule as bench: warm-up and fault schedule keep their
		// place in the run; an explicit -warmup is applied after this.
		d, _ := scenarios.ParseDuration(f.duration)
		sc.Scale(d.D())
	}
	if set["instances"] {
		sc.Instances = f.instances
	}
	if set["warmup"] {
		sc.Warmup, _ = scenarios.ParseDuration(f.warmup)
	}
	if set["ttl"] {
		sc.TTL, _ = scenarios.ParseDuration(f.ttl)
	}
	if set["seed"] {
		sc.Seed = f.seed
	}
	if set["keys"] {
		sc.Keys = f.keys
	}
	if set["readers"] || set["writers"] {
		// Closed loop: the flags replace the scenario's loop entirely.
		sc.Rate = 0
		if set["readers"] {
			sc.Readers = f.readers
		}
		if set["writers"] {
			sc.Writers = f.writers
		}
	}
	if set["rate"] {
		sc.Rate, sc.Readers, sc.Writers = f.rate, 0, 0
		if sc.ReadRatio == 0 && !set["read-ratio"] {
			sc.ReadRatio = 0.9
		}
	}
	if openFlags && !sc.OpenLoop() {
		flagName := "-read-ratio"
		if set["concurrency"] {
			flagName = "-concurrency"
		}
		return nil, usagef("%s applies to open loop only and scenario %s runs closed loop: give -rate too, or leave %s out", flagName, sc.Name, flagName)
	}
	if set["read-ratio"] {
		sc.ReadRatio = f.readRatio
	}
	if set["concurrency"] {
		sc.Concurrency = f.concurrency
	}
	if set["synchronous-commit"] {
		sc.Postgres.SynchronousCommit = f.syncCommit
	}
	if sc.Warmup >= sc.Duration {
		what := fmt.Sprintf("the scenario's warm-up %s", sc.Warmup)
		if set["warmup"] {
			what = fmt.Sprintf("-warmup %s", sc.Warmup)
		}
		return nil, usagef("%s is not shorter than the run's duration %s: want a warm-up less than the duration (give -warmup or -duration)", what, sc.Duration)
	}
	sc.Defaults()
	if err := sc.Validate(); err != nil {
		return nil, usageError{err}
	}
	return sc, nil
}

// check refuses the scenario flags in set whose values cannot be honoured,
// before the scenario is even read.
func (f *scenarioFlags) check(set map[string]bool) error {
	if set["rate"] && (set["readers"] || set["writers"]) {
		other := "-readers"
		if !set["readers"] {
			other = "-writers"
		}
		return usagef("-rate %v with %s: conflicting flags: -rate runs open loop (paced, with -concurrency), -readers and -writers run closed loop; give one or the other", f.rate, other)
	}
	for _, fl := range []string{"read-ratio", "concurrency"} {
		if set[fl] && (set["readers"] || set["writers"]) {
			return usagef("-%s with -readers/-writers: conflicting flags: -%s is for open loop (-rate), -readers and -writers run closed loop", fl, fl)
		}
	}
	if set["duration"] {
		d, err := scenarios.ParseDuration(f.duration)
		switch {
		case err != nil, d <= 0:
			return usagef("-duration %q: want a positive duration such as 10s (at most %s)", f.duration, scenarios.MaxDuration)
		case d.D() > scenarios.MaxDuration:
			return usagef("-duration %q: want at most %s", f.duration, scenarios.MaxDuration)
		}
	}
	for _, x := range []struct{ name, v, allowed string }{
		{"warmup", f.warmup, "a duration of 0 (none) or more, such as 2s, shorter than the run"},
		{"ttl", f.ttl, "a positive duration such as 30s, or none"},
	} {
		if !set[x.name] {
			continue
		}
		if d, err := scenarios.ParseDuration(x.v); err != nil || d < 0 || d.D() > scenarios.MaxDuration {
			return usagef("-%s %q: want %s (at most %s)", x.name, x.v, x.allowed, scenarios.MaxDuration)
		}
	}
	if set["rate"] && !(f.rate > 0 && f.rate <= maxRate) { // also false for NaN
		return usagef("-rate %v: want a number of operations per second above 0 and at most %d (for closed loop give -readers/-writers instead)", f.rate, maxRate)
	}
	if set["read-ratio"] && !(f.readRatio >= 0 && f.readRatio <= 1) { // also false for NaN
		return usagef("-read-ratio %v: want a fraction from 0 to 1", f.readRatio)
	}
	return nil
}

// maxRate is the highest -rate (the scenario's own limit on rate).
const maxRate = 1_000_000

// pickStrategies returns the strategy names list names ("all": every
// registered one), checked against reg.
func pickStrategies(reg *strategies.Registry, list string) ([]string, error) {
	if strings.TrimSpace(list) == "all" {
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
		return nil, usagef("bench: -strategies %q: no strategy named; want a comma-separated list of %s, or all", list, strings.Join(reg.Names(), ", "))
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

// dataFlags choose where a run keeps its data on the servers and what it
// may do beside other runs: -schema, -prefix, -keep, -ignore-server-lock.
type dataFlags struct {
	schema     string
	prefix     string
	keep       bool
	ignoreLock bool
}

// maxPrefix bounds -prefix: every cache key starts with it.
const maxPrefix = 64

func (f *dataFlags) register(fs *flag.FlagSet, defSchema, defPrefix string) {
	fs.StringVar(&f.schema, "schema", defSchema, "PostgreSQL `schema` for the run's tables; on servers given by URL one that ghostbench did not create is refused, never dropped")
	fs.StringVar(&f.prefix, "prefix", defPrefix, "Redis key `prefix` of the run's cache keys; on servers given by URL a prefix holding keys ghostbench did not write is refused, never cleared")
	fs.BoolVar(&f.keep, "keep", false, "leave the run's tables and keys on servers given by URL after the run (they are removed by default)")
	fs.BoolVar(&f.ignoreLock, "ignore-server-lock", false, "inject whole-server faults (pg-conn-kill, redis-oom, redis-pause) even while another ghostbench run uses the same server, and run beside a run that injects them")
}

var schemaRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// check refuses a schema that is not a plain identifier and a prefix that
// is empty, too long or holds spaces, control or glob characters.
func (f *dataFlags) check() error {
	if !schemaRE.MatchString(f.schema) {
		return usagef("-schema %q: want a lower-case identifier ([a-z_][a-z0-9_]*, at most 63 characters)", f.schema)
	}
	bad := func(r rune) bool { return r <= ' ' || r == 0x7f || strings.ContainsRune(`*?[]\{}`, r) }
	if f.prefix == "" || len(f.prefix) > maxPrefix || strings.IndexFunc(f.prefix, bad) >= 0 || !utf8.ValidString(f.prefix) {
		return usagef("-prefix %q: want 1 to %d printable characters without spaces or any of *?[]\\{}, such as gb:", f.prefix, maxPrefix)
	}
	return nil
}

// checkWorkers refuses, before any server starts, a scenario with more
// workers than the PostgreSQL server the harness would start takes
// connections (its max_connections, 3 of them reserved for superusers).
// On servers given by URL the runner checks the server's own limit once
// connected, before it changes anything.
func checkWorkers(pcfg docker.Config, sc *scenarios.Scenario) error {
	if pcfg.External() {
		return nil
	}
	maxConns := pcfg.Postgres.MaxConnections
	if maxConns == 0 {
		maxConns = docker.DefaultPostgresSettings().MaxConnections
	}
	workers, what := sc.Readers+sc.Writers, fmt.Sprintf("-readers %d + -writers %d", sc.Readers, sc.Writers)
	if sc.OpenLoop() {
		workers, what = sc.Concurrency, fmt.Sprintf("-concurrency %d", sc.Concurrency)
	}
	const reserved = 3
	if need := runner.PostgresConnections(workers); need > maxConns-reserved {
		return usagef("scenario %s: %s = %d workers need up to %d PostgreSQL connections, but the server the harness starts allows max_connections %d (%d reserved): give at most %d workers", sc.Name, what, workers, need, maxConns, reserved, maxConns-reserved-(need-workers))
	}
	return nil
}
