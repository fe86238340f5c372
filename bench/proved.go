package bench

import (
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/reproduce"
	"github.com/ghostbench/ghostbench/strategies"
)

// ProvedRaces returns what the reproduce catalogue proves about the named
// strategies, for bench.json: per case, the anomaly its scripted
// interleaving produces on its own strategy on every run (reproduce's
// package tests hold each case to it), the failed write an availability
// case shows on the strategies it names as not clean, and, with class
// clean, the strategies it names as running the interleaving clean. The
// parameters a proof needs (a case's lag, a local cache turned on) are
// recorded with it: the bench runs every strategy with its defaults. reg
// finds the parameters strategies declare (nil: strategies.Default()).
func ProvedRaces(reg *strategies.Registry, names []string) []report.ProvedRace {
	if reg == nil {
		reg = strategies.Default()
	}
	var out []report.ProvedRace
	add := func(c reproduce.Case, strategy string, params strategies.Params, class report.Class, why string) {
		if !slices.Contains(names, strategy) {
			return
		}
		_, p, err := c.Resolve(reg, strategy, params)
		if err != nil {
			return // a strategy this registry does not have
		}
		link := "ghostbench reproduce " + c.Name
		if strategy != c.Strategy {
			link += " -strategy " + strategy
		}
		if len(p) > 0 {
			link += " -param " + p.String()
		}
		out = append(out, report.ProvedRace{
			Strategy: strategy, Class: class.String(), Source: "reproduce " + c.Name, Bound: caseBound(c),
			Params: strings.ReplaceAll(p.String(), ",", ", "), Link: link, Why: why,
		})
	}
	for _, c := range reproduce.Cases() {
		if k := classOfFindings(c.Proves()); k > report.ClassClean {
			add(c, c.Strategy, nil, k, c.Summary)
		}
		for _, alt := range c.NotCleanWith {
			if c.Availability {
				add(c, alt.Strategy, alt.Params, report.ClassWritesFailed, alt.Why)
			}
		}
		for _, alt := range c.CleanWith {
			add(c, alt.Strategy, alt.Params, report.ClassClean, alt.Why)
		}
	}
	return out
}

// classOfFindings returns the worst class the kinds of finding make.
func classOfFindings(kinds []string) report.Class {
	k := report.ClassNone
	for _, f := range kinds {
		var c report.Class
		switch f {
		case reproduce.FindingGhostRead, reproduce.FindingGhostUntilTTL:
			c = report.ClassGhost
		case reproduce.FindingStaleUntilTTL:
			c = report.ClassStuckStale
		case reproduce.FindingStaleRead:
			c = report.ClassStaleReads
		case reproduce.FindingWriteUnavailable:
			c = report.ClassWritesFailed
		}
		k = max(k, c)
	}
	return k
}

// caseBound describes what a case's proof covers: one scripted
// interleaving, the points it holds actors at and the faults it injects.
func caseBound(c reproduce.Case) string {
	s := "one scripted interleaving"
	var pts []string
	for _, p := range c.Points {
		pts = append(pts, string(p))
	}
	if len(pts) > 0 {
		s += ", holding at " + strings.Join(pts, ", ")
	}
	var fs []string
	for _, f := range c.Faults {
		fs = append(fs, f.Fault)
	}
	if len(fs) > 0 {
		s += ", with " + strings.Join(fs, ", ")
	}
	return s
}

// loadAverage returns the machine's 1-minute load average, false where
// /proc/loadavg cannot be read (not Linux).
func loadAverage() (float64, bool) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}

// sampleLoad adds the load average now to b.Load.
func sampleLoad(b *report.Bench) {
	v, ok := loadAverage()
	if !ok {
		return
	}
	if b.Load == nil {
		b.Load = &report.LoadAverage{}
	}
	b.Load.Add(v)
}
