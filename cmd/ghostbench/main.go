// Command ghostbench runs caching strategies against real PostgreSQL and
// Redis servers under load and faults, and measures how stale their reads
// get. Run "ghostbench help" for the subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/runner"
)

// Exit codes, part of the public interface.
const (
	exitOK     = 0 // success; for reproduce: the run was clean
	exitError  = 1 // the harness failed
	exitUsage  = 2 // bad flags, names or values
	exitBudget = 3 // an anomaly appeared or a budget was violated
)

// usageError marks an error as the user's input being wrong (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error (exit code 2).
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// budgetError marks an anomaly or a violated budget (exit code 3).
type budgetError struct{ msg string }

func (e budgetError) Error() string { return e.msg }

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"claims":  {"test the advice people follow about caching, claim by claim", cmdClaims},
		"bench":   {"run strategies x scenarios and write a results folder with report", cmdBench},
		"compare": {"show how two benches differ, per scenario and strategy", cmdCompare},
		"conform": {"run the conformance checks on a strategy (-exec CMD: one in any language)", cmdConform},
		"doctor":  {"show which servers would be used and why", cmdDoctor},
		"explore": {"find the races a strategy can have: a scheduler over its interleaving points", cmdExplore},
		"list":    {"list strategies, scenarios and faults", cmdList},
		"report":  {"render a bench's summary, plots and index.html again from its JSON", cmdReport},
		"run":     {"run one strategy through one scenario", cmdRun},

		"reproduce": {"run a named ghost-data bug as a deterministic, explained repro", cmdReproduce},
	}
}

// quietRedisLog drops go-redis's own log lines ("failed to dial ..."):
// under an injected fault they would flood the terminal, and every failure
// that matters is already counted as an operation error.
type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}

func main() {
	redis.SetLogger(quietRedisLog{})
	// SIGHUP (the terminal closed) tears down like Ctrl-C. After the first
	// signal the default handling returns, so that a second Ctrl-C ends a
	// harness stuck in teardown (the next run reaps what it left).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() { <-ctx.Done(); stop() }()
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Run executes the command line args and returns the process exit code.
// Cancelling ctx (Ctrl-C) stops the work in progress; what was measured is
// still written.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		printUsage(stdout, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ghostbench: unknown command %q; run \"ghostbench help\" for the list\n", args[0])
		return exitUsage
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	return exitCode(err, stderr)
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	var be budgetError
	var re *runner.RefusedError
	switch {
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue), errors.As(err, &re):
		fmt.Fprintln(stderr, "ghostbench:", err)
		return exitUsage
	case errors.As(err, &be):
		fmt.Fprintln(stderr, "ghostbench:", err)
		return exitBudget
	default:
		fmt.Fprintln(stderr, "ghostbench:", err)
		return exitError
	}
}

// errHelp is returned by a subcommand that printed its help on -h.
var errHelp = errors.New("help requested")

func printUsage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: ghostbench <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "exit codes: 0 ok, 1 error, 2 usage, 3 anomaly found or budget violated")
	fmt.Fprintln(w, "run \"ghostbench <command> -h\" for a command's flags and examples")
}
