package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/runner"
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

// faultPlan is a scenario's fault schedule, checked before any server is
// provisioned. A nil *faultPlan is a schedule without faults.
type faultPlan struct {
	sc   *scenarios.Scenario
	opts faults.Options
}

// builder checks sc's fault schedule against the servers pcfg will
// provision (external ones cannot be stopped, and are reconfigured only
// with -allow-server-changes) before anything is provisioned. The error
// names the step, the field, the value and what is allowed.
func (f *faultFlags) builder(sc *scenarios.Scenario, pcfg docker.Config) (*faultPlan, error) {
	if len(sc.Faults) == 0 {
		return nil, nil
	}
	opts := faults.Options{AllowServerChanges: f.allowServerChanges}
	// prepare checks again against the servers really provisioned.
	if err := faults.Check(sc, expectedTarget(pcfg), opts); err != nil {
		return nil, err
	}
	return &faultPlan{sc: sc, opts: opts}, nil
}

// expectedTarget returns what faults may do to the servers pcfg selects:
// everything to servers the harness starts, neither stop nor reconfigure
// external ones (chosen explicitly, or under "auto" by giving a URL).
func expectedTarget(pcfg docker.Config) faults.Target {
	external := pcfg.Provider == docker.ProviderExternal ||
		(pcfg.Provider == "" || pcfg.Provider == docker.ProviderAuto) && (pcfg.PostgresURL != "" || pcfg.RedisURL != "")
	return faults.Target{RedisControl: !external, PostgresControl: !external}
}

// prepare readies the plan for one run on srv: it starts the proxies the
// faults need and returns the servers the runner must connect to (srv, or
// copies pointing at the proxies), the runner's BuildFaults, and a release
// that heals anything left and stops the proxies (call it after the run).
// A nil plan returns srv unchanged and no builder.
func (p *faultPlan) prepare(ctx context.Context, srv *docker.Servers) (*docker.Servers, func(context.Context, runner.FaultEnv) ([]runner.Step, error), func() error, error) {
	if p == nil {
		return srv, nil, func() error { return nil }, nil
	}
	setup, err := faults.Prepare(ctx, p.sc, srv, p.opts)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("faults: %w", err)
	}
	return setup.Servers(), setup.BuildFaults, setup.Close, nil
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
