package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ghostbench/ghostbench/report"
)

const reportUsage = `usage: ghostbench report [-light] DIR

Renders a bench's results folder again from its JSON files, without running
anything: reads DIR/bench.json and every run's run.json, and rewrites
summary.md, bench.txt, each run's read.hgrm and write.hgrm, the plots
(plots/*.png and *.svg) and index.html. Useful after upgrading ghostbench,
or after editing bench.json by hand (to drop a run, say).

examples:
  ghostbench report results/20260101-120000-bench
  ghostbench report -budget 'stale-ratio<=0.001,p99-staleness-ms<=100' results/20260101-120000-bench
  ghostbench report -light results/reference

flags:
`

func cmdReport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	light := fs.Bool("light", false, "keep the folder small: PNG plots only (SVG and .hgrm files removed), compact run.json")
	budget := fs.String("budget", "", "consistency `budget` the summary asks about instead of the one bench.json records, e.g. stale-ratio<=0.001")
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("report: want one results folder (DIR), got %d arguments", fs.NArg())
	}
	if _, err := report.ParseBudget(*budget); err != nil {
		return usagef("report: -budget: %v", err)
	}
	dir := fs.Arg(0)
	if _, err := os.Stat(filepath.Join(dir, report.BenchFile)); err != nil {
		return usagef("report: %s is not a results folder (no %s): %v", dir, report.BenchFile, unwrapPath(err))
	}
	m, err := report.RenderBench(dir, report.RenderOptions{Light: *light, Budget: *budget})
	if errors.Is(err, os.ErrNotExist) && m == nil {
		// bench.json is there: a file it lists is missing.
		return fmt.Errorf("report: %s lists a file that is missing: %w", filepath.Join(dir, report.BenchFile), err)
	}
	if m == nil && err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err != nil {
		return fmt.Errorf("report: some files could not be written: %w", err)
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dir, report.IndexFile))
	return nil
}
