package process_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/reproduce"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/process"
	"github.com/ghostbench/ghostbench/strategies/strategytest"
)

// python is Debian's interpreter, the one python3-redis and python3-psycopg
// install for (make deps); not whatever python3 comes first on PATH.
const python = "/usr/bin/python3"

// pythonExample returns the registry entry of examples/python/<script>.
// It skips the test, loudly, only when /usr/bin/python3 cannot import the
// client libraries: make deps installs them, so CI has them.
func pythonExample(t testing.TB, script string) strategies.Info {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import redis, psycopg").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED, NOT PASSED: %s cannot import redis and psycopg (%v: %s); run make deps (apt-get install python3-redis python3-psycopg)",
			python, err, strings.TrimSpace(string(out)))
	}
	return process.Info(process.Config{Command: pythonCommand(t, script), StderrPath: filepath.Join(t.TempDir(), script+".stderr.log")})
}

// pythonCommand is the command line of examples/python/<script>.
func pythonCommand(t testing.TB, script string) []string {
	_, file, _, _ := runtime.Caller(0)
	return []string{python, filepath.Join(filepath.Dir(file), "..", "..", "examples", "python", script)}
}

func registryWith(info strategies.Info) *strategies.Registry {
	reg := strategies.Default()
	reg.Register(info)
	return reg
}

// TestPythonExamplesConform runs the conformance suite on the three Python
// examples.
func TestPythonExamplesConform(t *testing.T) {
	srv := servertest.Start(t)
	for _, script := range []string{"write_through.py", "soft_write_through.py", "cache_aside.py"} {
		t.Run(script, func(t *testing.T) {
			strategytest.Run(t, pythonExample(t, script), srv)
		})
	}
}

// TestPythonReproduce: the reproduce cases' barriers work through point
// messages. The Python cache-aside's fill lands after the writer's DEL
// (stale, stale until TTL); the Python strict write-through serves a value
// never committed after a lost reply (ghost).
func TestPythonReproduce(t *testing.T) {
	srv := servertest.Start(t)
	for _, c := range []struct {
		kase, script string
		want         []string
	}{
		{"cache-aside-stale-set", "cache_aside.py", []string{reproduce.FindingStaleRead, reproduce.FindingStaleUntilTTL}},
		{"write-through-lost-reply", "write_through.py", []string{reproduce.FindingGhostRead, reproduce.FindingGhostUntilTTL}},
	} {
		t.Run(c.kase, func(t *testing.T) {
			info := pythonExample(t, c.script)
			kase, ok := reproduce.Lookup(c.kase)
			if !ok {
				t.Fatalf("no case %s", c.kase)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := reproduce.Run(ctx, kase, reproduce.Options{Servers: srv, Strategy: info.Name, Registry: registryWith(info)})
			if err != nil {
				t.Fatalf("reproduce %s: %v", c.kase, err)
			}
			if res.Verdict.Result != reproduce.ResultAnomaly {
				t.Fatalf("verdict %s, want an anomaly: %v", res.Verdict.Result, res.Verdict.Counts)
			}
			for _, cls := range c.want {
				if res.Verdict.Counts[cls] == 0 {
					t.Errorf("%s: no %s (counts %v)", c.kase, cls, res.Verdict.Counts)
				}
			}
		})
	}
}

// runFor runs the scenario through the strategy with its fault schedule.
func runFor(t *testing.T, srv *docker.Servers, sc *scenarios.Scenario, info strategies.Info) *record.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setup, err := faults.Prepare(ctx, sc, srv, faults.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	res, err := runner.Run(ctx, runner.Config{
		Scenario: sc, Strategy: info.Name, Registry: registryWith(info),
		Servers: setup.Servers(), Faults: setup,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != record.StatusOK {
		t.Fatalf("run status %s: %s", res.Status, res.Error)
	}
	return res
}

// shortOutage is the redis-outage scenario in 3 seconds: Redis down from 1s
// to 2s.
func shortOutage(t *testing.T) *scenarios.Scenario {
	sc, err := scenarios.Load("redis-outage")
	if err != nil {
		t.Fatal(err)
	}
	sc.Duration, sc.Warmup = scenarios.Duration(3*time.Second), scenarios.Duration(300*time.Millisecond)
	sc.Faults[0].At, sc.Faults[0].For = scenarios.Duration(time.Second), scenarios.Duration(time.Second)
	sc.Readers, sc.Writers = 4, 4
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestPythonWriteThroughUnderRedisOutage: the strict write-through fails
// writes while Redis is down (availability < 1), the soft one never does.
func TestPythonWriteThroughUnderRedisOutage(t *testing.T) {
	srv := servertest.Start(t)
	strict := runFor(t, srv, shortOutage(t), pythonExample(t, "write_through.py")).Metrics.Writes
	if strict.Availability == nil || *strict.Availability >= 1 || strict.Failed[gb.ClassRedis.String()] == 0 {
		t.Errorf("strict write-through under redis-outage: %+v, want availability < 1 with redis failures", strict)
	}
	soft := runFor(t, srv, shortOutage(t), pythonExample(t, "soft_write_through.py")).Metrics.Writes
	if soft.Availability == nil || *soft.Availability != 1 || soft.Attempted == 0 {
		t.Errorf("soft write-through under redis-outage: %+v, want availability 1", soft)
	}
}

// TestPythonCacheAsideCrashBetweenCommitAndDel: the process dies while it
// waits at after-commit (app-crash's point mode). The write is
// indeterminate to the client, the ledger says it committed, and the old
// entry stays in the cache: stale until TTL, nothing unknown.
func TestPythonCacheAsideCrashBetweenCommitAndDel(t *testing.T) {
	srv := servertest.Start(t)
	info := pythonExample(t, "cache_aside.py")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sc := &scenarios.Scenario{Name: "crash", Keys: 2, Readers: 1, Duration: scenarios.Duration(time.Hour), TTL: scenarios.Duration(time.Minute), Seed: 1}
	sc.Defaults()
	sess, err := runner.Open(ctx, runner.Config{Scenario: sc, Strategy: info.Name, Registry: registryWith(info), Servers: srv, LazyPool: true})
	if err != nil {
		t.Fatal(err)
	}
	ps := process.Process(sess.FaultEnv().Strategy)
	if ps == nil {
		t.Fatal("the session's strategy is not a process")
	}
	reader, writer := gb.Actor{Kind: "reader", ID: 1}, gb.Actor{Kind: "writer", ID: 2}
	if op := sess.Read(ctx, reader, 0); op.Err != nil || op.Hit {
		t.Fatalf("first read: %+v", op)
	}
	ps.CrashAt(gb.PointAfterCommit)
	w := sess.Write(ctx, writer, 0, 101, 5)
	if w.Class != gb.ClassIndeterminate {
		t.Errorf("write whose process died after COMMIT: class %v (%v), want indeterminate", w.Class, w.Err)
	}
	if err := ps.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if op := sess.Read(ctx, reader, 0); op.Err != nil || op.Value.Version != 0 || !op.Hit {
		t.Errorf("read after the crash: %+v, want the old v0 from the cache", op)
	}
	run := sess.Close(ctx)
	if run.Status != record.StatusOK {
		t.Fatalf("session: %s %s", run.Status, run.Error)
	}
	m := run.Metrics
	if m.Audit.StaleUntilTTL != 1 || m.Audit.Unknown != 0 {
		t.Errorf("audit %+v, want 1 stale until TTL and nothing unknown", m.Audit)
	}
	if m.Writes.Committed != 1 || m.Writes.Unknown != 0 || m.Writes.CommittedDespiteError != 1 {
		t.Errorf("writes %+v, want the indeterminate write settled as committed", m.Writes)
	}
	if m.Reads.Stale != 1 {
		t.Errorf("reads %+v, want the read after the crash stale", m.Reads)
	}
}
