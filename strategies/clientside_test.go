package strategies_test

import (
	"testing"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/strategytest"
)

// withParams is the strategy registered as name, renamed name-suffix with
// fixed parameters, to run the conformance suite on one configuration.
func withParams(t *testing.T, name, suffix string, p strategies.Params) strategies.Info {
	t.Helper()
	info, ok := strategies.Default().Lookup(name)
	if !ok {
		t.Fatalf("%s is not registered", name)
	}
	newFn := info.New
	info.Name = name + "-" + suffix
	info.Params = nil
	info.New = func(env strategies.Env) (gb.Strategy, error) {
		env.Params = p
		return newFn(env)
	}
	return info
}

// The default configurations run in TestConformance; these are the
// in-process cache configurations beyond them.
func TestConformanceLocalCaches(t *testing.T) {
	srv := servertest.Start(t)
	for _, info := range []strategies.Info{
		withParams(t, "go-redis-cache", "local", strategies.Params{"local": "true"}),
		withParams(t, "go-redis-cache", "guard", strategies.Params{"local": "true", "local-guard": "true", "local-ttl": "2s"}),
		withParams(t, "rueidis-csc", "ryw", strategies.Params{"ryw": "true", "local-ttl": "5s"}),
	} {
		t.Run(info.Name, func(t *testing.T) { strategytest.Run(t, info, srv) })
	}
}
