package main

import (
	"errors"
	"flag"
	"io"
	"math"
	"testing"

	"github.com/ghostbench/ghostbench/scenarios"
)

// FuzzScenarioFlags: whatever values the scenario flags get,
// load either returns a usage error (exit 2) or a scenario that validates,
// with the values given honoured: a warm-up shorter than the duration, a
// duration within the bound, a finite rate, never a silent change.
func FuzzScenarioFlags(f *testing.F) {
	f.Add("steady-read-heavy", "2s", "", "", "", "", "", "")
	f.Add("steady-read-heavy", "-2s", "", "", "", "", "", "")
	f.Add("steady-read-heavy", "5s", "5s", "none", "", "", "", "")
	f.Add("steady-read-heavy", "2s", "", "", "500", "0.5", "4", "")
	f.Add("steady-read-heavy", "", "", "", "NaN", "NaN", "", "")
	f.Add("open-loop-read-heavy", "100000h", "1s", "30s", "Inf", "2", "", "8")
	f.Add("redis-outage", "1s", "0", "1ms", "", "", "", "")
	f.Fuzz(func(t *testing.T, name, duration, warmup, ttl, rate, ratio, readers, concurrency string) {
		var sf scenarioFlags
		fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		sf.register(fs, "steady-read-heavy")
		var args []string
		for _, kv := range [][2]string{{"scenario", name}, {"duration", duration}, {"warmup", warmup}, {"ttl", ttl},
			{"rate", rate}, {"read-ratio", ratio}, {"readers", readers}, {"concurrency", concurrency}} {
			if kv[1] != "" {
				args = append(args, "-"+kv[0]+"="+kv[1])
			}
		}
		if err := fs.Parse(args); err != nil {
			return // the flag package refuses it: a usage error too
		}
		if _, err := scenarios.Load(sf.scenario); err != nil {
			return // not a built-in scenario: a file, which the fuzzer must not read
		}
		sc, err := sf.load(fs)
		if err != nil {
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("load(%q): %v is not a usage error (exit 2)", args, err)
			}
			return
		}
		if err := sc.Validate(); err != nil {
			t.Fatalf("load(%q) returned a scenario that does not validate: %v", args, err)
		}
		if sc.Warmup >= sc.Duration || sc.Duration.D() > scenarios.MaxDuration || sc.Duration <= 0 {
			t.Fatalf("load(%q): warm-up %v, duration %v out of bounds", args, sc.Warmup, sc.Duration)
		}
		if math.IsNaN(sc.Rate) || math.IsInf(sc.Rate, 0) || math.IsNaN(sc.ReadRatio) {
			t.Fatalf("load(%q): rate %v, read ratio %v", args, sc.Rate, sc.ReadRatio)
		}
		if duration != "" {
			if d, _ := scenarios.ParseDuration(duration); d != sc.Duration {
				t.Fatalf("load(%q): -duration %s became %v", args, duration, sc.Duration)
			}
		}
		if warmup != "" {
			if d, _ := scenarios.ParseDuration(warmup); d != sc.Warmup {
				t.Fatalf("load(%q): -warmup %s became %v", args, warmup, sc.Warmup)
			}
		}
	})
}
