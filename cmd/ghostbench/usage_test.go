package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
)

// deadURLs returns flags that point the run at servers nobody listens on:
// a command that got as far as provisioning would fail to connect (exit
// 1), so exit 2 proves the usage error came before any server was used.
func deadURLs(t *testing.T) []string {
	t.Helper()
	port := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	return []string{"-postgres-url", "postgres://u:secret@" + port() + "/db", "-redis-url", "redis://" + port() + "/0"}
}

// TestUsageErrorsBeforeServers: every flag that cannot be honoured is a
// usage error (exit 2) of one line that names the flag and the value,
// found before any server is contacted.
func TestUsageErrorsBeforeServers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := []string{"run", "-strategy", "cache-aside"}
	tests := []struct {
		name string
		args []string
		env  string // GHOSTBENCH_PROVIDER
		want string
	}{
		{"rate with readers", append(run, "-rate", "500", "-readers", "4"), "", "-rate 500 with -readers: conflicting flags"},
		{"rate with writers", append(run, "-writers", "2", "-rate", "500"), "", "-rate 500 with -writers: conflicting"},
		{"read-ratio closed loop", append(run, "-readers", "2", "-read-ratio", "0.5"), "", "-read-ratio with -readers/-writers: conflicting"},
		{"concurrency on a closed-loop scenario", append(run, "-concurrency", "4"), "", "-concurrency applies to open loop only"},
		{"negative duration", append(run, "-duration", "-2s"), "", `-duration "-2s": want a positive duration`},
		{"zero duration", append(run, "-duration", "0"), "", `-duration "0": want a positive duration`},
		{"none duration", append(run, "-duration", "none"), "", `-duration "none"`},
		{"huge duration", append(run, "-duration", "100000h"), "", `-duration "100000h": want at most 24h0m0s`},
		{"warmup beyond duration", append(run, "-warmup", "5s", "-duration", "2s"), "", "-warmup 5s is not shorter than the run's duration 2s"},
		{"rate NaN", append(run, "-rate", "NaN"), "", "-rate NaN: want a number"},
		{"rate Inf", append(run, "-rate", "+Inf"), "", "-rate +Inf"},
		{"read-ratio NaN", append(run, "-rate", "100", "-read-ratio", "NaN"), "", "-read-ratio NaN: want a fraction"},
		{"bad ttl", append(run, "-ttl", "-1s"), "", `-ttl "-1s"`},
		{"param value", []string{"run", "-strategy", "async-invalidation", "-param", "lag=abc"}, "", `parameter lag = "abc": want a non-negative duration`},
		{"pg setting", append(run, "-pg-max-connections", "-1"), "", "-pg-max-connections (postgres max_connections: invalid value -1"},
		{"pg wal level", append(run, "-pg-wal-level", "max"), "", "-pg-wal-level"},
		{"redis setting", append(run, "-redis-maxmemory", "lots"), "", "-redis-maxmemory (redis maxmemory: invalid value \"lots\""},
		{"redis policy", append(run, "-redis-maxmemory-policy", "lru"), "", "want noeviction, allkeys-lru"},
		{"provider flag", append(run, "-provider", "bogus"), "", `-provider "bogus": unknown provider; want auto, external, docker or local`},
		{"provider env", run, "bogus", `GHOSTBENCH_PROVIDER "bogus": unknown provider`},
		{"flag value parse", append(run, "-readers", "abc"), "", `run: -readers "abc": want an integer (closed-loop reader goroutines`},
		{"unknown flag", append(run, "-nosuch"), "", "run: flag provided but not defined: -nosuch; run \"ghostbench run -h\" for the flags"},
		{"flag without value", append(run, "-seed"), "", "run: -seed needs a value: want an integer"},
		{"out is a file", append(run, "-out", file), "", "-out " + file + ": cannot create the folder"},
		{"scenario /dev/zero", append(run, "-scenario", "/dev/zero"), "", "larger than 1048576 bytes (1 MiB)"},
		{"bench no strategies", []string{"bench", "-strategies", ""}, "", `bench: -strategies "": no strategy named`},
		{"bench no scenarios", []string{"bench", "-scenarios", " , "}, "", `bench: -scenarios " , ": no scenario named`},
		{"bench huge duration", []string{"bench", "-duration", "25h"}, "", "bench: -duration 25h0m0s: want a positive duration such as 3s, at most 24h0m0s"},
		{"bench flag parse", []string{"bench", "-seed", "x"}, "", `bench: -seed "x": want an integer`},
		{"bench out is a file", []string{"bench", "-scenarios", "steady-read-heavy", "-out", file}, "", "bench: -out " + file},
		{"bench pg setting", []string{"bench", "-pg-synchronous-commit", "maybe"}, "", "-pg-synchronous-commit"},
		{"reproduce provider", []string{"reproduce", "cache-aside-stale-set", "-provider", "nope"}, "", `-provider "nope"`},
		{"reproduce schedule missing", []string{"reproduce", "-schedule", file + ".none"}, "", "-schedule: open " + file + ".none"},
		{"reproduce schedule not json", []string{"reproduce", "-schedule", file}, "", "-schedule: schedule " + file},
		{"reproduce schedule with case", []string{"reproduce", "cache-aside-stale-set", "-schedule", file}, "", "give no case, -strategy, -param or -exec with it"},
		{"explore no strategy", []string{"explore"}, "", "explore: -strategy: missing"},
		{"explore unknown strategy", []string{"explore", "-strategy", "nope"}, "", `explore: -strategy "nope": unknown`},
		{"explore fault", []string{"explore", "-strategy", "cache-aside", "-faults", "meteor"}, "", `-faults: fault "meteor": unknown; allowed: lost-reply`},
		{"explore readers", []string{"explore", "-strategy", "cache-aside", "-readers", "9"}, "", "explore: readers 9, writers 1: want 1 to 6 actors"},
		{"explore keys", []string{"explore", "-strategy", "cache-aside", "-keys", "3"}, "", "explore: keys 3: want 1 or 2"},
		{"explore mode", []string{"explore", "-strategy", "cache-aside", "-mode", "smart"}, "", `explore: -mode "smart": want exhaustive or random`},
		{"explore bound", []string{"explore", "-strategy", "cache-aside", "-bound", "-1"}, "", "-bound -1: want 0 or more"},
		{"explore start", []string{"explore", "-strategy", "cache-aside", "-start", "warm"}, "", `explore: -start "warm": want empty or cached`},
		{"explore param", []string{"explore", "-strategy", "async-invalidation", "-param", "lag=abc"}, "", `parameter lag = "abc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GHOSTBENCH_PROVIDER", tt.env)
			// The URLs go first: the flags under test end the line.
			args := append(append([]string{tt.args[0]}, deadURLs(t)...), tt.args[1:]...)
			var out, errb bytes.Buffer
			code := Run(context.Background(), args, &out, &errb)
			got := errb.String()
			if code != exitUsage || !strings.Contains(got, tt.want) {
				t.Fatalf("Run(%q) = %d, stderr %q; want %d with %q", args, code, got, exitUsage, tt.want)
			}
			if n := strings.Count(got, "\n"); n != 1 {
				t.Errorf("stderr has %d lines, want one: %q", n, got)
			}
			if strings.Contains(got, "secret") {
				t.Errorf("stderr shows the password: %q", got)
			}
		})
	}
}

// TestHelpStillPrintsUsage: the usage text is printed on -h, and only then.
func TestHelpStillPrintsUsage(t *testing.T) {
	for _, cmd := range []string{"run", "bench", "report", "compare", "list", "reproduce"} {
		var out, errb bytes.Buffer
		if code := Run(context.Background(), []string{cmd, "-h"}, &out, &errb); code != exitOK {
			t.Errorf("%s -h: exit %d, want 0", cmd, code)
		}
		if !strings.Contains(errb.String()+out.String(), "usage: ghostbench "+cmd) {
			t.Errorf("%s -h: no usage text: %q", cmd, errb.String())
		}
	}
}

// TestReportMissingRunFile: a folder with bench.json whose listed run.json
// is missing is reported as such, not as "no bench.json" (defect 8).
func TestReportMissingRunFile(t *testing.T) {
	dir := t.TempDir()
	b := &report.Bench{
		Schema: report.BenchSchemaVersion, Name: "b", Status: record.StatusOK, Duration: "1s",
		Scenarios: []string{"steady-read-heavy"}, Strategies: []string{"cache-aside"},
		Runs: []report.BenchRun{{Scenario: "steady-read-heavy", Strategy: "cache-aside", Status: record.StatusOK,
			Dir: report.RunDir("steady-read-heavy", "cache-aside")}},
	}
	if err := report.WriteBench(dir, b); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"report", dir}, {"compare", dir, dir}} {
		var out, errb bytes.Buffer
		code := Run(context.Background(), args, &out, &errb)
		got := errb.String()
		if code != exitError || strings.Contains(got, "no bench.json") || !strings.Contains(got, "lists a file that is missing") ||
			!strings.Contains(got, report.RunFile) {
			t.Errorf("%q: exit %d, stderr %q; want exit 1 naming the missing run.json", args, code, got)
		}
	}
}
