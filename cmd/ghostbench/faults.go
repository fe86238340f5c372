package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/ghostbench/ghostbench/bench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/scenarios"
)

// faultFlags are the command-line flags about faults.
type faultFlags struct {
	allowServerChanges bool
}

func (f *faultFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.allowServerChanges, strings.TrimPrefix(faults.AllowServerChangesFlag, "-"), false,
		"let faults change a server the harness does not own for every client of it (redis-oom runs CONFIG SET "+
			"maxmemory on an external Redis; heal restores it, a killed harness cannot)")
}

// options returns the fault options the flags set.
func (f *faultFlags) options() faults.Options {
	return faults.Options{AllowServerChanges: f.allowServerChanges}
}

// builder checks sc's fault schedule against the servers pcfg will
// provision before anything is provisioned (see bench.PlanFaults).
func (f *faultFlags) builder(sc *scenarios.Scenario, pcfg docker.Config) (*bench.FaultPlan, error) {
	return bench.PlanFaults(sc, pcfg, f.options())
}

// faultListing is the FAULTS section of "ghostbench list": every fault
// kind with its parameters.
func faultListing() listing {
	l := listing{title: "FAULTS (scenario faults[].fault, with params)"}
	for _, k := range faults.Default().All() {
		l.rows = append(l.rows, [2]string{k.Name, k.Description})
		for _, p := range k.Params {
			def := p.Default
			switch {
			case p.Required:
				def = "(required)"
			case def == "":
				def = `""`
			}
			l.rows = append(l.rows, [2]string{"", fmt.Sprintf("  %s=%s  %s", p.Name, def, p.Help)})
		}
	}
	return l
}
