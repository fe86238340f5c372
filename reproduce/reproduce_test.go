package reproduce_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/reproduce"
	"github.com/ghostbench/ghostbench/strategies"
)

var runs = flag.Int("reproduce.runs", 20, "runs of every case against its own strategy")

// want is each case's normalized verdict on its own strategy: what it must
// give on every run.
var want = map[string]string{
	"cache-aside-stale-set":        "anomaly: stale-read=1 stale-until-ttl=1 not-linearizable=1 linearizability=Illegal",
	"async-invalidation-lag":       "anomaly: stale-read=2 not-linearizable=1 linearizability=Illegal",
	"write-through-lost-reply":     "anomaly: ghost-read=1 early-read=1 ghost-until-ttl=1 not-linearizable=1 linearizability=Illegal",
	"write-through-commit-fails":   "anomaly: ghost-read=1 ghost-until-ttl=1 not-linearizable=1 linearizability=Illegal",
	"write-through-dirty-read":     "anomaly: ghost-read=2 early-read=1 ghost-until-ttl=1 not-linearizable=1 linearizability=Illegal",
	"soft-write-through-partition": "anomaly: stale-read=1 stale-until-ttl=1 not-linearizable=1 linearizability=Illegal",
	"soft-write-through-oom":       "clean: linearizability=Ok",
	"update-after-commit-reorder":  "anomaly: stale-read=1 stale-until-ttl=1 not-linearizable=1 linearizability=Illegal",
	"delete-before-update":         "anomaly: stale-read=1 stale-until-ttl=1 not-linearizable=1 linearizability=Illegal",
	"csc-invalidation-after-reply": "anomaly: stale-read=1 not-linearizable=1 linearizability=Illegal",
	"local-fill-vs-invalidation":   "anomaly: stale-read=1 stale-until-ttl=1 not-linearizable=1 linearizability=Illegal",
}

// fast are the options of the tests: a shorter Redis timeout and async
// lag than the command line's defaults, so the loop stays quick. The
// timeout keeps headroom for a loaded machine (at 100 ms a plain GET
// sometimes timed out under -race with other packages' tests running).
func fast(srv *docker.Servers, strategy string, p strategies.Params) reproduce.Options {
	return reproduce.Options{Servers: srv, Strategy: strategy, Params: p, RedisTimeout: 300 * time.Millisecond}
}

// testLag replaces the 280 ms of async-invalidation-lag in the loop.
const testLag = "40ms"

func run(t *testing.T, c reproduce.Case, o reproduce.Options) *reproduce.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := reproduce.Run(ctx, c, o)
	if err != nil {
		t.Fatalf("%s on %s: %v", c.Name, o.Strategy, err)
	}
	return res
}

// TestCases runs every case *runs times against its own strategy (same
// verdict every time: the anomaly 20/20, or clean 20/20 for a WantClean
// case), then once against each strategy that must run it clean, and each
// that must not. porcupine must agree with the checker on every run. One
// server pair serves the whole test.
func TestCases(t *testing.T) {
	srv := servertest.Start(t)
	t0 := time.Now()
	for _, c := range reproduce.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			w, ok := want[c.Name]
			if !ok {
				t.Fatalf("no expected verdict for case %s", c.Name)
			}
			var p strategies.Params
			if c.Strategy == "async-invalidation" {
				p = strategies.Params{"lag": testLag}
			}
			start := time.Now()
			for i := range *runs {
				res := run(t, c, fast(srv, "", p))
				if got := res.Verdict.Normalized(); got != w {
					var b strings.Builder
					res.WriteText(&b)
					t.Fatalf("run %d of %d: verdict %q, want %q\n%s", i+1, *runs, got, w, b.String())
				}
				if !res.Verdict.Linearizability.Agrees {
					t.Errorf("run %d: porcupine (%s) disagrees with the checker: %s", i+1,
						res.Verdict.Linearizability.Result, res.Verdict.Linearizability.Explanation)
				}
				if i == 0 {
					checkResult(t, c, res)
				}
			}
			t.Logf("%d runs on %s in %v", *runs, c.Strategy, time.Since(start).Round(time.Millisecond))

			for _, alt := range c.CleanWith {
				if _, ok := strategies.Default().Lookup(alt.Strategy); !ok {
					t.Errorf("CleanWith names %s, which is not registered", alt.Strategy)
					continue
				}
				res := run(t, c, fast(srv, alt.Strategy, alt.Params))
				v := res.Verdict
				if v.Result != reproduce.ResultClean || v.Linearizability.Result != reproduce.LinOk || !v.Linearizability.Agrees {
					var b strings.Builder
					res.WriteText(&b)
					t.Errorf("with %s (%s): verdict %q, want clean and linearizable\n%s", alt.Strategy, alt.Why, v.Normalized(), b.String())
				}
			}
			for _, alt := range c.NotCleanWith {
				res := run(t, c, fast(srv, alt.Strategy, alt.Params))
				v := res.Verdict
				if v.Result != reproduce.ResultAnomaly || !v.Linearizability.Agrees {
					t.Errorf("with %s (%s): verdict %q, want an anomaly that porcupine's answer is consistent with", alt.Strategy, alt.Why, v.Normalized())
				}
				if c.Availability && v.Counts[reproduce.FindingWriteUnavailable] == 0 {
					t.Errorf("with %s: verdict %q, want write-unavailable", alt.Strategy, v.Normalized())
				}
			}
		})
	}
	t.Logf("all cases in %v", time.Since(t0).Round(time.Millisecond))
}

// checkResult checks what a case's first run shows and writes: the marked
// events, the findings' evidence, and the results folder.
func checkResult(t *testing.T, c reproduce.Case, res *reproduce.Result) {
	t.Helper()
	if res.Case != c.Name || res.Strategy != c.Strategy {
		t.Errorf("result of %s on %s, want %s on %s", res.Case, res.Strategy, c.Name, c.Strategy)
	}
	marked := 0
	for _, e := range res.Timeline {
		if e.Anomaly != "" {
			marked++
		}
	}
	anomaly := res.Verdict.Result == reproduce.ResultAnomaly
	if anomaly != (marked > 0) {
		t.Errorf("%d marked events for outcome %s", marked, res.Verdict.Result)
	}
	for i := 1; i < len(res.Timeline); i++ {
		if res.Timeline[i].AtNs < res.Timeline[i-1].AtNs {
			t.Errorf("timeline not in time order at %d: %v after %v", i, res.Timeline[i], res.Timeline[i-1])
		}
	}
	for _, f := range res.Verdict.Findings {
		if strings.Contains(strings.Join(f.Kinds, " "), "stale-read") && !strings.Contains(f.Text, "was acknowledged at") {
			t.Errorf("stale finding without the newer write's ack: %s", f.Text)
		}
	}
	if len(c.Faults) > 0 && len(res.Faults) != len(c.Faults) {
		t.Errorf("%d fault windows, want %d", len(res.Faults), len(c.Faults))
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"TIME", "invoke", "verdict: " + strings.ToUpper(res.Verdict.Result), "linearizability"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, text.String())
		}
	}
	dir := filepath.Join(t.TempDir(), res.DirName())
	if err := res.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{reproduce.TimelineFile, reproduce.RunFile, reproduce.IndexFile, reproduce.LinearizabilityFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	index, _ := os.ReadFile(filepath.Join(dir, reproduce.IndexFile))
	if !strings.Contains(string(index), c.Name) || !strings.Contains(string(index), reproduce.LinearizabilityFile) {
		t.Errorf("index.html lacks the case name or the link to the visualization")
	}
	vis, _ := os.ReadFile(filepath.Join(dir, reproduce.LinearizabilityFile))
	for _, w := range c.Faults {
		if !strings.Contains(string(vis), w.Fault) {
			t.Errorf("linearizability.html does not annotate the %s window", w.Fault)
		}
	}
}

// TestDefaultLag runs async-invalidation-lag as the command line does (280
// ms): the last stale read is about as old as the lag.
func TestDefaultLag(t *testing.T) {
	srv := servertest.Start(t)
	c, _ := reproduce.Lookup("async-invalidation-lag")
	res := run(t, c, reproduce.Options{Servers: srv})
	if got := res.Verdict.Normalized(); got != want[c.Name] {
		t.Fatalf("verdict %q, want %q", got, want[c.Name])
	}
	if res.Params["lag"] != "280ms" {
		t.Errorf("params %v, want lag=280ms", res.Params)
	}
	var age time.Duration
	for _, e := range res.Run.Metrics.History {
		if e.Stale {
			age = max(age, time.Duration(e.AgeNs))
		}
	}
	if age < 280*time.Millisecond || age > 280*time.Millisecond+250*time.Millisecond {
		t.Errorf("oldest stale read %v after the commit, want just over the 280ms lag", age)
	}
}

func TestResolve(t *testing.T) {
	c, _ := reproduce.Lookup("async-invalidation-lag")
	reg := strategies.Default()
	for _, tt := range []struct {
		strategy string
		params   strategies.Params
		want     string // params, or an error substring
		usage    bool
	}{
		{"", nil, "lag=280ms", false},
		{"", strategies.Params{"lag": "10ms"}, "lag=10ms", false},
		{"cache-aside", nil, "", false}, // the lag is not passed to a strategy without it
		{"cache-asid", nil, `strategy "cache-asid": unknown`, true},
		{"cache-aside", strategies.Params{"lag": "1s"}, `unknown parameter "lag"`, true},
	} {
		info, p, err := c.Resolve(reg, tt.strategy, tt.params)
		if tt.usage {
			var ue *reproduce.UsageError
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Resolve(%q, %v) = %v, want an error with %q", tt.strategy, tt.params, err, tt.want)
			} else if !errors.As(err, &ue) {
				t.Errorf("Resolve(%q, %v) error %T, want *UsageError", tt.strategy, tt.params, err)
			}
			continue
		}
		if err != nil || p.String() != tt.want {
			t.Errorf("Resolve(%q, %v) = %s %v %v, want params %q", tt.strategy, tt.params, info.Name, p, err, tt.want)
		}
	}
}

func TestCatalogue(t *testing.T) {
	reg := strategies.Default()
	seen := map[string]bool{}
	for _, c := range reproduce.Cases() {
		if seen[c.Name] {
			t.Errorf("duplicate case %s", c.Name)
		}
		seen[c.Name] = true
		if _, ok := reg.Lookup(c.Strategy); !ok {
			t.Errorf("%s: strategy %s is not registered", c.Name, c.Strategy)
		}
		if c.Summary == "" || c.Description == "" || strings.Contains(c.Summary, "\n") {
			t.Errorf("%s: want a one-line summary and a description", c.Name)
		}
		if len(c.CleanWith) == 0 {
			t.Errorf("%s: no strategy runs it clean", c.Name)
		}
		if c.WantClean && len(c.NotCleanWith) == 0 {
			t.Errorf("%s: clean by design, but no strategy shows the contrast", c.Name)
		}
		if got, ok := reproduce.Lookup(c.Name); !ok || got.Name != c.Name {
			t.Errorf("Lookup(%s) failed", c.Name)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d cases, %d expected verdicts", len(seen), len(want))
	}
	if _, ok := reproduce.Lookup("nope"); ok {
		t.Error("Lookup(nope) found a case")
	}
}

// TestInterrupted cancels a case midway (as Ctrl-C does): Run still closes
// and audits the session and returns what ran with the error.
func TestInterrupted(t *testing.T) {
	srv := servertest.Start(t)
	c, _ := reproduce.Lookup("async-invalidation-lag")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	res, err := reproduce.Run(ctx, c, fast(srv, "", strategies.Params{"lag": "2s"}))
	if !errors.Is(err, context.DeadlineExceeded) || res == nil {
		t.Fatalf("Run = %v, %v; want the partial result and the context's error", res, err)
	}
	if res.Verdict.Counts[reproduce.FindingStaleRead] != 1 {
		t.Errorf("verdict %s, want the one stale read made before the interruption", res.Verdict.Normalized())
	}
	if err := res.WriteDir(t.TempDir()); err != nil {
		t.Errorf("WriteDir of the partial result: %v", err)
	}
}
