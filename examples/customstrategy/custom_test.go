package main

import (
	"testing"

	"github.com/ghostbench/ghostbench/strategies/strategytest"
)

// TestConformance runs ghostbench's conformance suite on the example
// strategy, on servers the suite provisions itself (docker.ConfigFromEnv
// decides how): the same checks every built-in strategy passes.
func TestConformance(t *testing.T) {
	strategytest.Run(t, Info(), nil)
}
