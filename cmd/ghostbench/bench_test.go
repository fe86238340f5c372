package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/report"
)

func TestBenchUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string // in stderr
	}{
		{[]string{"bench", "-h"}, exitOK, "results folder"},
		{[]string{"bench", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"bench", "-duration", "0s"}, exitUsage, "-duration 0s"},
		{[]string{"bench", "-count", "0"}, exitUsage, "-count 0: want 1..1000 repetitions"},
		{[]string{"bench", "-min-count", "1"}, exitUsage, "-min-count 1: want 2..-count (10)"},
		{[]string{"bench", "-count", "6", "-min-count", "7"}, exitUsage, "-min-count 7: want 2..-count (6)"},
		{[]string{"bench", "-budget-time", "-1s"}, exitUsage, "-budget-time -1s: want a positive duration"},
		{[]string{"bench", "-strategies", "cache-aside,nosuch"}, exitUsage, `"nosuch" is not a registered strategy`},
		{[]string{"bench", "-scenarios", "nosuch"}, exitUsage, `scenario "nosuch"`},
		{[]string{"bench", "-scenarios", "steady-read-heavy,steady-read-heavy"}, exitUsage, "given twice"},
		{[]string{"bench", "-name", "a/b"}, exitUsage, "-name"},
		{[]string{"bench", "-scenarios", "steady-read-heavy", "-dir", notResults(t)}, exitUsage, "not a results folder"},
		{[]string{"bench", "-budget", "stale<=x"}, exitUsage, `-budget: budget term "stale<=x": value "x" is not a number`},
		{[]string{"report", "-budget", "nosuch<=1", t.TempDir()}, exitUsage, `-budget: budget term "nosuch<=1": unknown metric`},
		{[]string{"report"}, exitUsage, "want one results folder"},
		{[]string{"report", t.TempDir()}, exitUsage, "is not a results folder"},
		{[]string{"compare", "only-one"}, exitUsage, "want two results folders"},
		{[]string{"compare", "-format", "xml", "a", "b"}, exitUsage, `-format "xml"`},
		{[]string{"compare", t.TempDir(), t.TempDir()}, exitUsage, "is not a results folder"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := Run(context.Background(), tt.args, &out, &errb)
		if code != tt.wantCode || !strings.Contains(errb.String(), tt.wantErr) {
			t.Errorf("Run(%q) = %d, stderr %q; want %d, stderr with %q", tt.args, code, errb.String(), tt.wantCode, tt.wantErr)
		}
	}
}

// notResults returns a directory with a file in it and no bench.json.
func notResults(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// cancelOn is a stderr that cancels a context once a line containing
// match has been written.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	match  string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.match) {
		c.cancel()
	}
	return len(p), nil
}

// TestBenchInterrupted runs a small bench on real servers and interrupts
// it (as Ctrl-C does) once two of its three runs have finished: the
// finished runs are kept with all their files, the third is marked
// not-run, and the summary, plots and index are written for what finished.
// Then report renders the folder again and compare reads it.
func TestBenchInterrupted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bench")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelOn{match: "steady-read-heavy / cache-aside  ok", cancel: cancel}
	var stdout bytes.Buffer
	code := Run(ctx, []string{"bench", "-scenarios", "steady-read-heavy", "-strategies", "db-only,cache-aside,write-through",
		"-duration", "1s", "-count", "1", "-seed", "3", "-dir", dir, "-name", "interrupted"}, &stdout, stderr)
	if code != exitError || !strings.Contains(stderr.buf.String(), "bench interrupted") {
		t.Fatalf("exit code %d, stderr:\n%s\nwant %d and \"bench interrupted\"", code, stderr.buf.String(), exitError)
	}
	if want := filepath.Join(dir, report.IndexFile); !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %q does not give the report's path %s", stdout.String(), want)
	}
	// The class matrix, before the path, with a row per strategy.
	for _, want := range []string{"steady-read-heavy  proved races", "\ncache-aside ", "\nwrite-through ", "Which keep writes available when Redis fails?"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	b, runs, err := report.LoadBench(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != record.StatusInterrupted || b.Seed != 3 || b.Duration != "1s" || b.Flags["strategies"] != "db-only,cache-aside,write-through" {
		t.Errorf("bench.json: status %s, seed %d, duration %s, flags %v", b.Status, b.Seed, b.Duration, b.Flags)
	}
	if b.Load == nil || b.Load.Samples < 2 {
		t.Errorf("bench.json: load average %+v, want a sample before the runs and one after each", b.Load)
	}
	races := map[string]bool{}
	for _, p := range b.ProvedRaces {
		races[p.Strategy+" "+p.Class+" "+p.Source] = true
	}
	if !races["cache-aside stuck-stale reproduce cache-aside-stale-set"] || !races["write-through ghost reproduce write-through-lost-reply"] {
		t.Errorf("bench.json: proved races %+v lack cache-aside's stale set and write-through's lost reply", b.ProvedRaces)
	}
	wantStatus := []record.Status{record.StatusOK, record.StatusOK, record.StatusNotRun}
	if len(b.Runs) != 3 {
		t.Fatalf("%d runs in bench.json, want 3", len(b.Runs))
	}
	for i, r := range b.Runs {
		if r.Status != wantStatus[i] {
			t.Errorf("run %d (%s): status %s, want %s", i, r.Strategy, r.Status, wantStatus[i])
		}
		if r.Seed != 3 {
			t.Errorf("run %d: seed %d, want 3", i, r.Seed)
		}
		if (runs[i] != nil) != (r.Status == record.StatusOK) {
			t.Errorf("run %d (%s): run.json loaded %v", i, r.Status, runs[i] != nil)
		}
		if runs[i] != nil && (runs[i].Seed != 3 || runs[i].Metrics == nil || runs[i].Metrics.Reads.Total == 0) {
			t.Errorf("run %d: run.json seed %d, metrics %v", i, runs[i].Seed, runs[i].Metrics != nil)
		}
	}
	files := []string{report.BenchFile, report.SummaryFile, report.BenchFmtFile, report.IndexFile}
	for _, st := range []string{"db-only", "cache-aside"} {
		d := report.RunDir("steady-read-heavy", st)
		files = append(files, filepath.Join(d, report.RunFile), filepath.Join(d, "read.hgrm"), filepath.Join(d, "write.hgrm"))
	}
	for _, kind := range []string{report.PlotLatencyRead, report.PlotLatencyWrite, report.PlotStaleness, report.PlotStaleWindow, report.PlotTimeSeries, report.PlotTradeoff} {
		base := filepath.FromSlash(report.PlotBase("steady-read-heavy", kind))
		files = append(files, base+".png", base+".svg")
	}
	for _, f := range files {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, report.RunDir("steady-read-heavy", "write-through"))); err == nil {
		t.Error("the run that never started has a folder")
	}
	summary, _ := os.ReadFile(filepath.Join(dir, report.SummaryFile))
	if !strings.Contains(string(summary), "| write-through | not-run |") || !strings.Contains(string(summary), "| cache-aside | ok |") {
		t.Errorf("summary.md lacks the rows:\n%s", summary)
	}

	// report renders the same folder again.
	os.Remove(filepath.Join(dir, report.IndexFile))
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"report", "-budget", "stale-ratio<=0.5", dir}, &out, &errb); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, errb.String())
	}
	if summary, _ := os.ReadFile(filepath.Join(dir, report.SummaryFile)); !strings.Contains(string(summary), "within `stale-ratio<=0.5` in every run") {
		t.Errorf("report -budget: summary.md does not answer for the budget:\n%.3000s", summary)
	}
	if _, err := os.Stat(filepath.Join(dir, report.IndexFile)); err != nil {
		t.Errorf("report did not write index.html: %v", err)
	}
	// compare reads two folders (here the same one twice).
	out.Reset()
	if code := Run(context.Background(), []string{"compare", "-format", "csv", dir, dir}, &out, &errb); code != exitOK {
		t.Fatalf("compare: exit %d: %s", code, errb.String())
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("compare csv: %v, %d records, want a header and 3 rows", err, len(recs))
	}
	if recs[2][1] != "cache-aside" || recs[2][2] != string(record.StatusOK) || recs[3][2] != string(record.StatusNotRun) {
		t.Errorf("compare csv rows: %q", recs[1:])
	}
}
