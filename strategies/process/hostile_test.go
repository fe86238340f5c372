package process_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/process"
)

// hostile returns the command of testdata/hostile.py in mode, with a
// token on its command line that finds every process of this test in
// /proc. It needs only Debian's python3, no client library.
func hostile(t testing.TB, mode string) (argv []string, token string) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Skipf("SKIPPED, NOT PASSED: %s is missing (make deps installs it): %v", python, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	token = "gbtest-" + hex.EncodeToString(b)
	script, err := filepath.Abs(filepath.Join("testdata", "hostile.py"))
	if err != nil {
		t.Fatal(err)
	}
	return []string{python, script, mode, token}, token
}

// processesWith returns the processes (zombies included) whose command line
// holds token.
func processesWith(token string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(token)) {
			out = append(out, e.Name()+" "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// TestEscapedGrandchild: a process whose grandchild calls setsid() (and
// keeps stdout and stderr open, or closes them) neither holds the run nor
// outlives it: Close returns within the shutdown grace plus 2 s with an
// error naming the grandchild, and no process of the test's is left.
func TestEscapedGrandchild(t *testing.T) {
	srv := servertest.Start(t)
	for i, mode := range []string{"escape-pipes", "escape-closed"} {
		t.Run(mode, func(t *testing.T) {
			argv, token := hostile(t, mode)
			e := env(t, srv, "gbproc_escape_"+strconv.Itoa(i))
			st, err := process.New(context.Background(), process.Config{Command: argv, Name: "hostile", RequestTimeout: 5 * time.Second}, e)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := st.Read(ctx, 1); err != nil {
				t.Fatalf("Read: %v", err)
			}
			// The grandchild is forked by a child that the process does
			// not wait for: poll until it is there.
			for deadline := time.Now().Add(5 * time.Second); len(processesWith(token)) < 2; {
				if time.Now().After(deadline) {
					t.Fatalf("the grandchild did not start: processes %q", processesWith(token))
				}
				time.Sleep(10 * time.Millisecond)
			}
			t0 := time.Now()
			cerr := st.Close()
			took := time.Since(t0)
			t.Logf("Close took %v: %v", took, cerr)
			if bound := 2*time.Second + 2*time.Second; took > bound {
				t.Errorf("Close took %v, want at most the shutdown grace plus 2s (%v)", took, bound)
			}
			if cerr == nil || !strings.Contains(cerr.Error(), "left 1 process(es) running after it ended, killed by the harness: pid ") ||
				!strings.Contains(cerr.Error()[strings.Index(cerr.Error(), "killed by the harness"):], token) {
				t.Errorf("Close: %v, want an error naming the grandchild (%s)", cerr, token)
			}
			if left := processesWith(token); len(left) > 0 {
				t.Errorf("processes of the test left after Close: %q", left)
			}
		})
	}
}

// TestEscapedGrandchildRun: the same through the runner, on real servers:
// the run ends with status error naming the grandchild.
func TestEscapedGrandchildRun(t *testing.T) {
	srv := servertest.Start(t)
	argv, token := hostile(t, "escape-pipes")
	res := runHostile(t, srv, argv)
	if res.Status != record.StatusError || !strings.Contains(res.Error, "left 1 process(es) running") || !strings.Contains(res.Error, token) {
		t.Errorf("run: status %s, error %q; want error naming the grandchild", res.Status, res.Error)
	}
	if left := processesWith(token); len(left) > 0 {
		t.Errorf("processes of the test left after the run: %q", left)
	}
}

// runHostile runs argv as the strategy of a 2 s scenario with one reader and
// one writer.
func runHostile(t *testing.T, srv *docker.Servers, argv []string) *record.Run {
	t.Helper()
	return runHostileLog(t, srv, argv, filepath.Join(t.TempDir(), "process.stderr.log"))
}

// runHostileLog is runHostile with the process's stderr log at logPath.
func runHostileLog(t *testing.T, srv *docker.Servers, argv []string, logPath string) *record.Run {
	t.Helper()
	info := process.Info(process.Config{Command: argv, Name: "hostile", StderrPath: logPath})
	sc := &scenarios.Scenario{Name: "hostile", Keys: 20, Readers: 1, Writers: 1, Duration: scenarios.Duration(2 * time.Second), TTL: scenarios.Duration(time.Minute), Seed: 1}
	sc.Defaults()
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reg := strategies.Default()
	reg.Register(info)
	res, err := runner.Run(ctx, runner.Config{Scenario: sc, Strategy: info.Name, Registry: reg, Servers: srv})
	if err != nil {
		t.Fatalf("runner.Run: %v", err)
	}
	return res
}

// TestLyingWriteOK: a process that answers write_ok with a version for
// writes it never committed breaks the run, naming the write and what the
// ledger says, although the reply carries a version (one the harness need
// not look up).
func TestLyingWriteOK(t *testing.T) {
	srv := servertest.Start(t)
	argv, _ := hostile(t, "lie-version")
	res := runHostile(t, srv, argv)
	if res.Status != record.StatusError || !lyingWrite.MatchString(res.Error) {
		t.Errorf("run: status %s, error %q; want error naming the write and the ledger's answer", res.Status, res.Error)
	}
	// It broke mid-run: not an error of the audit's.
	if strings.HasPrefix(res.Error, "audit:") {
		t.Errorf("error %q is labelled audit, want the strategy's", res.Error)
	}
}

// TestNegativeVersionRead: a read reply with a negative version breaks the
// run (no write makes one), rather than being counted as unknown reads.
func TestNegativeVersionRead(t *testing.T) {
	srv := servertest.Start(t)
	argv, _ := hostile(t, "negative-read")
	res := runHostile(t, srv, argv)
	if res.Status != record.StatusError || !strings.Contains(res.Error, "answered with version -3, want a version >= 0") {
		t.Errorf("run: status %s, error %q; want error naming the version", res.Status, res.Error)
	}
	if res.Metrics != nil && res.Metrics.Reads.Unknown > 0 {
		t.Errorf("%d reads counted unknown", res.Metrics.Reads.Unknown)
	}
}

var lyingWrite = regexp.MustCompile(`write key \d+ token \d+: write_ok with version \d+, but the ledger has no such committed write`)

// TestStderrLogCapped: a process that writes 10 MiB to stderr leaves a log
// of about process.DefaultMaxLog, its first and last lines kept, the cut
// said in the log and in the run's notes.
func TestStderrLogCapped(t *testing.T) {
	srv := servertest.Start(t)
	argv, _ := hostile(t, "spew")
	logPath := filepath.Join(t.TempDir(), "process.stderr.log")
	res := runHostileLog(t, srv, argv, logPath)
	if res.Status != record.StatusOK {
		t.Fatalf("run: status %s, error %q", res.Status, res.Error)
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > process.DefaultMaxLog+1024 {
		t.Errorf("log of %d bytes, want at most about %d", len(b), process.DefaultMaxLog)
	}
	log := string(b)
	for _, want := range []string{"spew: the first line", "spew: the last line", "bytes of the process's stderr left out here"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "its stderr log "+logPath+" was cut") {
		t.Errorf("notes %q, want one saying the log was cut", res.Notes)
	}
}

// TestFailedStartRecorded: a process that does not start gives a run
// record with status error saying so (written as run.json by the
// command), not just an error.
func TestFailedStartRecorded(t *testing.T) {
	srv := servertest.Start(t)
	res := runHostileLog(t, srv, []string{"/nonexistent/strategy"}, filepath.Join(t.TempDir(), "process.stderr.log"))
	if res.Status != record.StatusError || !strings.HasPrefix(res.Error, "start strategy: ") || !strings.Contains(res.Error, `process hostile (/nonexistent/strategy): command "/nonexistent/strategy" does not start`) {
		t.Errorf("run: status %s, error %q; want error saying the process did not start", res.Status, res.Error)
	}
}
