package main

import (
	"context"
	"fmt"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
)

// faultBuilder returns the runner's fault builder for sc, or an error naming
// the fault that cannot run with the servers pcfg describes.
func faultBuilder(sc *scenarios.Scenario, _ docker.Config) (func(context.Context, runner.FaultEnv) ([]runner.Step, error), error) {
	if len(sc.Faults) == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("scenario %s: fault %q: fault injection is not available in this build", sc.Name, sc.Faults[0].Fault)
}
