package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// parseFlags parses args into fs. On -h it prints fs.Usage to fs's output
// and returns errHelp. Anything else wrong is a usage error of one line
// that names the flag, the value given and what the flag allows, never the
// whole usage text: a typo in a CI script should show what is wrong, not
// bury it under 75 lines of flags.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if err == nil {
		return nil
	}
	if errors.Is(err, flag.ErrHelp) {
		if usage != nil {
			usage()
		} else {
			fs.PrintDefaults()
		}
		return errHelp
	}
	return usageError{flagError(fs, err)}
}

// The flag package's error texts, whose flag name flagError looks up.
var (
	invalidValueRE = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-(\S+): `)
	needsArgRE     = regexp.MustCompile(`^flag needs an argument: -(\S+)$`)
)

// flagError rewrites err, as the flag package returned it for fs, into one
// line: the command, the flag, the value and what is allowed.
func flagError(fs *flag.FlagSet, err error) error {
	cmd := fs.Name()
	help := fmt.Sprintf("run \"ghostbench %s -h\" for the flags", cmd)
	msg := err.Error()
	if m := invalidValueRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s: -%s %q: %s", cmd, m[2], m[1], allowedOf(fs.Lookup(m[2])))
	}
	if m := needsArgRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s: -%s needs a value: %s", cmd, m[1], allowedOf(fs.Lookup(m[1])))
	}
	return fmt.Errorf("%s: %s; %s", cmd, msg, help)
}

// allowedOf says what fl accepts: the kind of value its type parses and
// its usage line.
func allowedOf(fl *flag.Flag) string {
	if fl == nil {
		return "not a flag of this command"
	}
	kind := "a value"
	if g, ok := fl.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case bool:
			kind = "true or false"
		case int, int64, uint, uint64:
			kind = "an integer"
		case float64:
			kind = "a number"
		case time.Duration:
			kind = "a duration such as 500ms or 10s"
		}
	}
	_, usage := flag.UnquoteUsage(fl)
	usage = strings.Join(strings.Fields(usage), " ")
	return fmt.Sprintf("want %s (%s)", kind, usage)
}

// checkOutDir makes sure dir, the folder a command writes its results in,
// exists (it is created) and takes a new file, before anything is run: a
// run whose results cannot be written is lost.
func checkOutDir(flagName, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usagef("%s %s: cannot create the folder: %v; want a writable directory", flagName, dir, unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".ghostbench-write-check-*")
	if err != nil {
		return usagef("%s %s: cannot write in the folder: %v; want a writable directory", flagName, dir, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
