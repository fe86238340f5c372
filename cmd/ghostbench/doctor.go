package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ghostbench/ghostbench/docker"
)

const doctorUsage = `usage: ghostbench doctor [flags]

Shows which servers ghostbench would use and why (external URLs, Docker
containers or local server processes), then starts them, prints their
versions and settings, the time from nothing to both servers ready and the
teardown time, and removes them again. When no servers can be had it says
how to fix that.

With -hold it keeps the servers up instead, prints one line
"ready pids=... dirs=... containers=..." and their URLs, and tears them down
on Ctrl-C (SIGINT) or SIGTERM.

Environment: GHOSTBENCH_PROVIDER (auto, external, docker, local),
GHOSTBENCH_POSTGRES_URL, GHOSTBENCH_REDIS_URL; the flags override them.

examples:
  ghostbench doctor
  GHOSTBENCH_PROVIDER=local ghostbench doctor
  ghostbench doctor -postgres-url 'postgres://app:secret@db:5432/app' -redis-url redis://cache:6379/0
  ghostbench doctor -hold -pg-synchronous-commit off

flags:
`

// cmdDoctor implements "ghostbench doctor".
func cmdDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := docker.ConfigFromEnv()
	cfg.RegisterFlags(fs)
	hold := fs.Bool("hold", false, "keep the servers up until interrupted, for tests and manual use")
	verbose := fs.Bool("v", false, "log progress to standard error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, doctorUsage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return errHelp
		}
		return usageError{flagError(fs, err)}
	}
	if fs.NArg() > 0 {
		return usagef("doctor: unexpected argument %q (run \"ghostbench doctor -h\" for the flags)", fs.Arg(0))
	}
	if *verbose {
		cfg.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, "doctor: "+format+"\n", args...) }
	}
	if !*hold {
		return docker.Doctor(ctx, cfg, stdout)
	}
	return holdServers(ctx, cfg, stdout)
}

// holdServers provisions the servers, prints what it started, and waits
// for ctx to end (Ctrl-C) before tearing them down.
func holdServers(ctx context.Context, cfg docker.Config, stdout io.Writer) error {
	start := time.Now()
	s, err := docker.Provision(ctx, cfg)
	if err != nil {
		return err
	}
	ready := time.Since(start)
	fp := s.Footprint()
	pids := make([]string, len(fp.PIDs))
	for i, p := range fp.PIDs {
		pids[i] = strconv.Itoa(p)
	}
	fmt.Fprintf(stdout, "ready pids=%s dirs=%s containers=%s\n",
		strings.Join(pids, ","), strings.Join(fp.Dirs, ","), strings.Join(fp.Containers, ","))
	fmt.Fprintf(stdout, "provider %s (%s), ready in %v\n", s.Provider, s.Reason, ready.Round(time.Millisecond))
	fmt.Fprintf(stdout, "postgres %s %s\n", s.Postgres.Version, s.Postgres.Redacted())
	fmt.Fprintf(stdout, "redis %s %s\n", s.Redis.Version, s.Redis.Redacted())
	fmt.Fprintf(stdout, "topology %s\n", s.TopologyName())
	for _, l := range s.Topology.Describe() {
		fmt.Fprintf(stdout, "  %s\n", l)
	}
	fmt.Fprintln(stdout, "holding; Ctrl-C to tear down")
	<-ctx.Done()
	start = time.Now()
	if err := s.Close(); err != nil {
		return fmt.Errorf("teardown: %w", err)
	}
	fmt.Fprintf(stdout, "torn down in %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}
