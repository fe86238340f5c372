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

const compareUsage = `usage: ghostbench compare [-format text|json|csv] OLD NEW

Shows how two benches differ. First the class matrix (ghost, stuck stale,
stale reads, writes failed, clean; one row per strategy, one column per
scenario) cell by cell: "= class" where it did not change, "old -> new"
where it did (json: classes). Then per scenario and strategy: stale-read ratio,
ghost reads, stale-until-TTL keys, write availability, p99 read and write
latency, invalidation lag, read-your-writes violations, database reads/s,
their 100 ms peak and the stampede width p99, as old -> new:
each side the estimate across its repetitions (with its 95% interval in
json and csv), then the delta and the two-sided Mann-Whitney U p-value of
old's repetitions against new's, or "~" when p >= 0.05 (as benchstat
prints it). OLD and NEW are results folders written by "ghostbench bench".
Cells only one bench has are shown with the other side missing.

Then, per scenario, whether the two benches give the same verdict: their
safest and fastest groups, what the groups share, and every pair of
strategies one bench orders significantly one way and the other the other
way. Run the same bench twice and compare the two to see whether its
verdicts survive a re-run.

examples:
  ghostbench compare results/20260101-120000-bench results/20260102-120000-bench
  ghostbench compare -format csv results/reference results/20260102-120000-bench > diff.csv

flags:
`

func cmdCompare(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output `format`: text, json or csv")
	fs.Usage = func() { fmt.Fprint(stderr, compareUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("compare: want two results folders (OLD NEW), got %d arguments", fs.NArg())
	}
	if *format != "text" && *format != "json" && *format != "csv" {
		return usagef("compare: -format %q: want text, json or csv", *format)
	}
	load := func(dir string) (*report.Matrix, error) {
		if _, err := os.Stat(filepath.Join(dir, report.BenchFile)); err != nil {
			return nil, usagef("compare: %s is not a results folder (no %s): %v", dir, report.BenchFile, unwrapPath(err))
		}
		b, runs, err := report.LoadBench(dir)
		if errors.Is(err, os.ErrNotExist) && b == nil {
			return nil, fmt.Errorf("compare: %s lists a file that is missing: %w", filepath.Join(dir, report.BenchFile), err)
		}
		if err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		return report.NewMatrix(b, runs), nil
	}
	old, err := load(fs.Arg(0))
	if err != nil {
		return err
	}
	nw, err := load(fs.Arg(1))
	if err != nil {
		return err
	}
	c := report.Compare(fs.Arg(0), old, fs.Arg(1), nw)
	switch *format {
	case "json":
		return c.WriteJSON(stdout)
	case "csv":
		return c.WriteCSV(stdout)
	}
	return c.WriteText(stdout)
}
