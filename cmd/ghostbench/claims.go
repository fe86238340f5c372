package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ghostbench/ghostbench/claims"
	"github.com/ghostbench/ghostbench/docker"
)

const claimsUsage = `usage: ghostbench claims [NAME... | -all] [flags]

Without a name, lists the claims: advice people follow about caching, each
with the test that decides it. With names (or -all), runs each claim's test
on real PostgreSQL and Redis (bench cells repeated with their own seeds,
interleaved, or a reproduce case run N times), prints the verdict (holds,
refuted, not decided) with the numbers and their 95% intervals and the
command that reproduces the evidence, and writes the evidence to
-out/claims-<time>/<claim>/, or -dir/<claim>/ (run.json per repetition or
the case folders, and claim.json). -findings also writes the findings page
(docs/findings.md), which links each claim's evidence folder relative to
itself: the evidence must then be inside the current directory (make
reference: -dir results/claims).

exit codes: 0 every claim run holds, 1 error or a claim not decided,
2 usage, 3 a claim was refuted (and none was left not decided).

examples:
  ghostbench claims
  ghostbench claims write-through-no-stale-window
  ghostbench claims -all -dir results/claims -findings docs/findings.md

flags:
`

func cmdClaims(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("claims", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		all      = fs.Bool("all", false, "run every claim")
		outDir   = fs.String("out", "results", "`directory` the evidence folder claims-<time>/ is written in")
		exactDir = fs.String("dir", "", "write the evidence in this `directory` itself (each claim's folder replaced) instead of -out/claims-<time>/")
		findings = fs.String("findings", "", "write the findings page to this `file` (needs -all)")
		reps     = fs.Int("reps", 0, "repetitions (runs per case) instead of each claim's own `count`")
		seed     = fs.Int64("seed", 1, "seed of the first repetition; repetition i uses seed+i")
		pcfg     = docker.ConfigFromEnv()
	)
	pcfg.RegisterFlags(fs)
	fs.Usage = func() { fmt.Fprint(stderr, claimsUsage); fs.PrintDefaults() }
	var names []string
	rest := args
	for {
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	cat := claims.Builtin()
	if *all {
		if len(names) > 0 {
			return usagef("claims: give names or -all, not both")
		}
		names = cat.Names()
	}
	if len(names) == 0 {
		return listClaims(stdout, cat)
	}
	if *findings != "" && !*all {
		return usagef("claims: -findings %q needs -all (the page has a section per claim)", *findings)
	}
	if *reps < 0 {
		return usagef("claims: -reps %d: want a positive count, or 0 for each claim's own", *reps)
	}
	var list []claims.Claim
	for _, n := range names {
		cl, ok := cat.Lookup(n)
		if !ok {
			return usagef("claims: unknown claim %q; allowed: %s", n, strings.Join(cat.Names(), ", "))
		}
		list = append(list, cl)
	}

	start := time.Now()
	root := filepath.Join(*outDir, "claims-"+start.UTC().Format("20060102-150405"))
	if *exactDir != "" {
		root = filepath.Clean(*exactDir)
	}
	if *findings != "" {
		rel := root
		if filepath.IsAbs(root) {
			rel = ""
			if wd, err := os.Getwd(); err == nil {
				rel, _ = filepath.Rel(wd, root)
			}
		}
		if rel == "" || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return usagef("claims: evidence folder %q is outside the current directory: -findings links it relative to the repository; use -dir results/claims", root)
		}
		root = rel
	}
	// A folder that cannot be made (a file given as -dir) is a usage
	// error, found before any server starts.
	if *exactDir != "" {
		if err := checkOutDir("claims: -dir", root); err != nil {
			return err
		}
	} else if err := checkOutDir("claims: -out", *outDir); err != nil {
		return err
	}
	// An interruption is said as one: what was cancelled, and where the
	// evidence so far is, not the "context canceled" of whatever call
	// noticed it.
	interrupted := func(err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("claims interrupted: %v (evidence so far in %s)", context.Cause(ctx), root)
		}
		return err
	}

	srv, err := docker.Provision(ctx, pcfg)
	if err != nil {
		return interrupted(err)
	}
	defer srv.Close()
	fmt.Fprintf(stderr, "servers: %s (%s); PostgreSQL %s, Redis %s\n", srv.Provider, srv.Reason, srv.Postgres.Version, srv.Redis.Version)
	start = time.Now()
	loadStart := loadAverage()
	results := map[string]*claims.Result{}
	refuted, undecided := 0, 0
	for _, cl := range list {
		if err := os.RemoveAll(filepath.Join(root, cl.Name)); err != nil {
			return err
		}
		res, err := claims.Run(ctx, cl, claims.Options{
			Servers: srv, Config: pcfg, Dir: filepath.Join(root, cl.Name), Reps: *reps, Seed: *seed,
			Log: func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) },
		})
		if res == nil {
			return interrupted(err)
		}
		results[cl.Name] = res
		printClaim(stdout, cl, res)
		switch res.Decision.Verdict {
		case claims.Refuted:
			refuted++
		case claims.NotDecided:
			undecided++
		}
		if err != nil {
			return interrupted(err)
		}
	}
	if ctx.Err() != nil {
		return interrupted(nil)
	}
	fmt.Fprintf(stdout, "%d claims in %.0fs: %d refuted, %d not decided; evidence in %s\n",
		len(list), time.Since(start).Seconds(), refuted, undecided, root)
	if *findings != "" {
		if err := writeFindings(*findings, cat, results, start, loadStart); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", *findings)
	}
	switch {
	case undecided > 0:
		return fmt.Errorf("claims: %d claim(s) not decided", undecided)
	case refuted > 0:
		return budgetError{fmt.Sprintf("claims: %d claim(s) refuted", refuted)}
	}
	return nil
}

func printClaim(w io.Writer, cl claims.Claim, res *claims.Result) {
	fmt.Fprintf(w, "%s: %s (%s)\n", cl.Name, strings.ToUpper(string(res.Decision.Verdict)), res.Decision.Why)
	for _, n := range res.Decision.Numbers {
		fmt.Fprintf(w, "  %s\n", n)
	}
	fmt.Fprintf(w, "  rule: %s\n  evidence: %s (%.0fs)\n  reproduce: %s\n\n", cl.Rule, res.Dir, res.Elapsed, res.Command)
}

// loadAverage is the 1, 5 and 15 minute load averages, "" where the
// system does not say.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}

func writeFindings(path string, cat *claims.Catalogue, results map[string]*claims.Result, start time.Time, loadStart string) error {
	host, _ := os.Hostname()
	header := fmt.Sprintf("Run %s on %s with %d CPUs shared with other work (load average at the start: %s; at the end: %s), %.0f s for all claims.",
		start.UTC().Format("2006-01-02 15:04 UTC"), host, runtime.NumCPU(), loadStart, loadAverage(), time.Since(start).Seconds())
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := claims.WriteFindings(f, cat, results, header, filepath.Dir(path)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func listClaims(w io.Writer, cat *claims.Catalogue) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLAIMS (ghostbench claims NAME | -all)")
	for _, cl := range cat.Claims() {
		fmt.Fprintf(tw, "  %s\t%s\n", cl.Name, cl.Statement)
	}
	return tw.Flush()
}
