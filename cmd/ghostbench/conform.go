package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/strategytest"
)

const conformUsage = `usage: ghostbench conform (-exec CMD | -strategy NAME) [flags]

Runs the conformance suite every strategy must pass (the checks of package
strategies/strategytest: a cold read returns the seed row, a write is read
back after drain, every cache entry carries the TTL or none, Drain returns,
concurrent use gives no error, Close stops it) against real servers, and
prints one line per check. The process's stderr is appended to
<out>/conform-<name>.stderr.log.

examples:
  ghostbench conform -exec '/usr/bin/python3 examples/python/cache_aside.py'
  ghostbench conform -strategy version-checked

exit codes: 0 every check passed, 1 error, 2 usage, 3 a check failed (the
message names it).

flags:
`

func cmdConform(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("conform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		strategy = fs.String("strategy", "", "check this registered strategy `name` instead of -exec")
		outDir   = fs.String("out", "results", "`directory` the process's stderr log is written in")
		pcfg     = docker.ConfigFromEnv()
		ef       execFlags
	)
	ef.register(fs)
	pcfg.RegisterFlags(fs)
	fs.Usage = func() { fmt.Fprint(stderr, conformUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("conform: unexpected argument %q", fs.Arg(0))
	}
	reg := strategies.Default()
	switch {
	case ef.set() && *strategy != "":
		return usagef("conform: give -exec or -strategy, not both")
	case ef.set():
		name, err := ef.add(&strategies.Registry{}, "") // validates the flags
		if err != nil {
			return err
		}
		if _, err := ef.add(reg, filepath.Join(*outDir, "conform-"+name+".stderr.log")); err != nil {
			return err
		}
		*strategy = name
	case *strategy == "":
		return usagef("conform: -exec or -strategy is required")
	}
	info, ok := reg.Lookup(*strategy)
	if !ok {
		return usagef("conform: -strategy %q: unknown; allowed: %s", *strategy, strings.Join(reg.Names(), ", "))
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	srv, err := docker.Provision(ctx, pcfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stderr, "ghostbench conform: %s (%s)\n", info.Name, info.Description)
	var broken []string
	for _, r := range strategytest.Check(ctx, info, srv) {
		line := fmt.Sprintf("%-4s %s", r.Outcome, r.Name)
		if len(r.Messages) > 0 {
			line += ": " + strings.Join(r.Messages, "; ")
		}
		fmt.Fprintln(stdout, line)
		if r.Outcome == strategytest.Failed {
			msg := r.Name
			if len(r.Messages) > 0 {
				msg += " (" + r.Messages[0] + ")"
			}
			broken = append(broken, msg)
		}
	}
	if len(broken) > 0 {
		return budgetError{fmt.Sprintf("conform: %s failed %d check(s): %s", info.Name, len(broken), strings.Join(broken, "; "))}
	}
	fmt.Fprintf(stdout, "%s passes every conformance check\n", info.Name)
	return nil
}
