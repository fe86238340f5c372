package main

import (
	"flag"
	"time"

	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/process"
)

// execFlags put a foreign strategy (a process speaking docs/protocol.md)
// where a built-in one goes: run, bench, reproduce and conform.
type execFlags struct {
	cmd     string
	name    string
	timeout time.Duration
}

func (f *execFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cmd, "exec", "", "run a strategy in any language: the `command` of a process speaking docs/protocol.md, e.g. '/usr/bin/python3 examples/python/cache_aside.py' (split on spaces, no shell)")
	fs.StringVar(&f.name, "exec-name", "", "`name` of the -exec strategy in results (default exec-<script name>, e.g. exec-cache-aside)")
	fs.DurationVar(&f.timeout, "exec-timeout", process.DefaultRequestTimeout, "-exec: a request the process has not answered within this `duration` breaks the run")
}

// set reports whether -exec was given.
func (f *execFlags) set() bool { return f.cmd != "" }

// add registers the -exec strategy in reg, its stderr appended to
// stderrPath, and returns its name. It returns a usage error for a bad
// flag.
func (f *execFlags) add(reg *strategies.Registry, stderrPath string) (string, error) {
	argv, err := process.ParseCommand(f.cmd)
	if err != nil {
		return "", usageError{err}
	}
	if f.timeout <= 0 {
		return "", usagef("-exec-timeout %v: want a positive duration such as 10s", f.timeout)
	}
	name := f.name
	if name == "" {
		name = process.DefaultName(argv)
	}
	if _, ok := reg.Lookup(name); ok {
		return "", usagef("-exec-name %q: a built-in strategy has that name; choose another", name)
	}
	reg.Register(process.Info(process.Config{Command: argv, Name: name, StderrPath: stderrPath, RequestTimeout: f.timeout}))
	return name, nil
}
