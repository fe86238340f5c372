package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

func cmdList(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: ghostbench list

Lists the registered strategies (with their parameters and interleaving
points), the built-in scenarios and the faults a scenario can schedule.

example:
  ghostbench list
`)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("list: unexpected argument %q", fs.Arg(0))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STRATEGIES")
	for _, s := range strategies.Default().All() {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Name, s.Description)
		for _, p := range s.Params {
			fmt.Fprintf(tw, "  \t  -param %s=%s\t%s\n", p.Name, p.Default, p.Help)
		}
		if len(s.Points) > 0 {
			pts := make([]string, len(s.Points))
			for i, p := range s.Points {
				pts[i] = string(p)
			}
			fmt.Fprintf(tw, "  \t  points: %s\n", strings.Join(pts, ", "))
		}
	}
	fmt.Fprintln(tw, "\nSCENARIOS")
	for _, s := range scenarios.All() {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Name, s.Description)
	}
	for _, l := range extraListings() {
		fmt.Fprintln(tw, "\n"+l.title)
		for _, row := range l.rows {
			fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
		}
	}
	return tw.Flush()
}

// listing is an extra section of "ghostbench list" (faults, reproduce
// cases) contributed by the packages that define them.
type listing struct {
	title string
	rows  [][2]string
}

func extraListings() []listing {
	var out []listing
	out = append(out, faultListing())
	out = append(out, reproduceListing())
	return out
}
