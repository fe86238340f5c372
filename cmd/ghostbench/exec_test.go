package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requirePython skips, loudly, only when Debian's python3 lacks the client
// libraries (make deps installs them).
func requirePython(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import redis, psycopg").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED, NOT PASSED: /usr/bin/python3 cannot import redis and psycopg (%v: %s); run make deps", err, strings.TrimSpace(string(out)))
	}
}

func TestExecUsage(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		err  string
	}{
		{"run both", []string{"run", "-strategy", "cache-aside", "-exec", "x"}, "give -strategy or -exec, not both"},
		{"run blank exec", []string{"run", "-exec", " "}, `-exec "": want a command such as`},
		{"name taken", []string{"run", "-exec", "x.py", "-exec-name", "cache-aside"}, `-exec-name "cache-aside": a built-in strategy has that name`},
		{"bad timeout", []string{"conform", "-exec", "x.py", "-exec-timeout", "0s"}, "-exec-timeout 0s: want a positive duration"},
		{"conform nothing", []string{"conform"}, "conform: -exec or -strategy is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := Run(context.Background(), tt.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tt.err) {
				t.Errorf("Run(%q) = %d, stderr %q; want %d with %q", tt.args, code, errb.String(), exitUsage, tt.err)
			}
		})
	}
}

// TestConformExec: conform passes a Python example and fails a
// deliberately broken process, naming the check it breaks.
func TestConformExec(t *testing.T) {
	requirePython(t)
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"conform", "-exec", "/usr/bin/python3 ../../examples/python/cache_aside.py", "-out", dir}, &out, &errb)
	if code != exitOK || !strings.Contains(out.String(), "exec-cache-aside passes every conformance check") {
		t.Fatalf("conform cache_aside.py: exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	code = Run(context.Background(), []string{"conform", "-exec", "/usr/bin/python3 testdata/broken_cache_aside.py", "-out", dir}, &out, &errb)
	if code != exitBudget {
		t.Fatalf("conform of a broken process: exit %d, want %d\nstdout: %s\nstderr: %s", code, exitBudget, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "exec-broken-cache-aside failed 1 check(s): ReadYourWrite (") || !strings.Contains(out.String(), "FAIL ReadYourWrite") {
		t.Errorf("the failure does not name ReadYourWrite:\nstdout: %s\nstderr: %s", out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "conform-exec-broken-cache-aside.stderr.log")); err != nil {
		t.Errorf("stderr log: %v", err)
	}
}

// TestRunExecBroken: a process that dies mid-run ends the run with one
// line naming it, and the results measured so far are written.
func TestRunExecBroken(t *testing.T) {
	requirePython(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "dies.py")
	// Answers init like cache_aside.py, then exits on the 50th request.
	src := `import os, sys
sys.path.insert(0, ` + "'" + mustAbs(t, "../../examples/python") + "'" + `)
import ghostproto, cache_aside
n = [0]
orig = ghostproto.Harness.handle
def handle(self, m):
    n[0] += 1
    if n[0] == 50:
        print("dies.py: exiting on purpose", file=sys.stderr, flush=True)
        os._exit(4)
    orig(self, m)
ghostproto.Harness.handle = handle
ghostproto.main(cache_aside.CacheAside, "dies")
`
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"run", "-exec", "/usr/bin/python3 " + script, "-duration", "20s", "-quiet", "-out", dir}, &out, &errb)
	if code != exitError {
		t.Fatalf("exit %d, want %d\nstderr: %s", code, exitError, errb.String())
	}
	last := strings.TrimSpace(errb.String())
	last = last[strings.LastIndex(last, "\n")+1:]
	for _, want := range []string{"process exec-dies", "exited (status 4)", "stderr: ", "dies.py: exiting on purpose"} {
		if !strings.Contains(last, want) {
			t.Errorf("last line %q lacks %q", last, want)
		}
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "*-exec-dies-*", "run.json"))
	logs, _ := filepath.Glob(filepath.Join(dir, "*-exec-dies-*", "process.stderr.log"))
	if len(runs) != 1 || len(logs) != 1 {
		t.Errorf("run.json %v, stderr log %v: want one each", runs, logs)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
