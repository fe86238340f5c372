package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/bench"
	"github.com/ghostbench/ghostbench/report"
)

// sameSecond makes every run id and bench folder name of the test start
// in the same second.
func sameSecond(t *testing.T) {
	t.Helper()
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	old := now
	now = func() time.Time { return fixed }
	t.Cleanup(func() { now = old })
}

// twice runs args twice at once and returns both exit codes and outputs.
func twice(args []string) (codes [2]int, outs, errs [2]string) {
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out, errb bytes.Buffer
			codes[i] = Run(context.Background(), args, &out, &errb)
			outs[i], errs[i] = out.String(), errb.String()
		}()
	}
	wg.Wait()
	return
}

// TestConcurrentRunsSameOut: two runs started in the same second with the
// same -out each write their own run.json.
func TestConcurrentRunsSameOut(t *testing.T) {
	sameSecond(t)
	dir := t.TempDir()
	codes, _, errs := twice([]string{"run", "-strategy", "cache-aside", "-duration", "1s", "-warmup", "0s", "-readers", "2", "-writers", "1", "-quiet", "-out", dir})
	paths := map[string]bool{}
	for i := range 2 {
		if codes[i] != exitOK {
			t.Fatalf("run %d: exit %d\n%s", i, codes[i], errs[i])
		}
		for _, l := range strings.Split(errs[i], "\n") {
			if p, ok := strings.CutPrefix(l, "wrote "); ok {
				paths[p] = true
			}
		}
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "*", report.RunFile))
	if len(paths) != 2 || len(runs) != 2 {
		t.Errorf("paths printed %v, run.json files %v; want two distinct", paths, runs)
	}
	for p := range paths {
		if _, err := report.ReadRun(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestConcurrentBenchesSameOut: two benches started in the same second
// with the same -out each get a folder of their own, whose bench.json
// lists the bench's runs, all present.
func TestConcurrentBenchesSameOut(t *testing.T) {
	sameSecond(t)
	dir := t.TempDir()
	codes, _, errs := twice([]string{"bench", "-strategies", "cache-aside", "-scenarios", "steady-read-heavy", "-count", "1", "-duration", "1s", "-light", "-quiet", "-out", dir})
	for i := range 2 {
		if codes[i] != exitOK {
			t.Fatalf("bench %d: exit %d\n%s", i, codes[i], errs[i])
		}
	}
	benches, _ := filepath.Glob(filepath.Join(dir, "*", report.BenchFile))
	if len(benches) != 2 {
		t.Fatalf("bench.json files %v, want two", benches)
	}
	for _, p := range benches {
		b, err := report.ReadBench(filepath.Dir(p))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		runs, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "runs", "*", "*", report.RunFile))
		if len(b.Runs) != 1 || len(runs) != 1 || b.Runs[0].Dir == "" {
			t.Errorf("%s lists %d runs, %d run.json in its folder; want one each", p, len(b.Runs), len(runs))
			continue
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), b.Runs[0].Dir, report.RunFile)); err != nil {
			t.Errorf("%s lists %s: %v", p, b.Runs[0].Dir, err)
		}
	}
}

// TestBenchDirHeld: a bench refuses (exit 2) a -dir another live bench
// holds, and clears nothing in it.
func TestBenchDirHeld(t *testing.T) {
	dir := t.TempDir()
	unlock, err := bench.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	keep := filepath.Join(dir, report.BenchFile)
	if err := os.WriteFile(keep, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"bench", "-strategies", "cache-aside", "-scenarios", "steady-read-heavy", "-duration", "1s", "-dir", dir}, &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "is writing a bench in "+dir) {
		t.Errorf("exit %d, stderr %q; want %d saying the folder is held", code, errb.String(), exitUsage)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the held folder was cleared: %v", err)
	}
	var busy *bench.BusyError
	if _, err := bench.LockDir(dir); !errors.As(err, &busy) || busy.PID != os.Getpid() {
		t.Errorf("LockDir of a held folder: %v, want a BusyError naming pid %d", err, os.Getpid())
	}
}
