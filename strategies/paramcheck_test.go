package strategies_test

import (
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/strategies"
)

// TestCheckParamsValues: a declared parameter with a value its strategy
// cannot use is refused by CheckParams, before any server is started,
// naming the strategy, the parameter, the value and what is allowed
// (-param lag=abc used to fail only once the run began).
func TestCheckParamsValues(t *testing.T) {
	reg := strategies.Default()
	tests := []struct {
		strategy string
		params   strategies.Params
		want     string // "" for accepted
	}{
		{"async-invalidation", strategies.Params{"lag": "abc"}, `parameter lag = "abc": want a non-negative duration`},
		{"async-invalidation", strategies.Params{"lag": "-1s"}, `parameter lag = "-1s"`},
		{"async-invalidation", strategies.Params{"lag": "100ms"}, ""},
		{"async-invalidation", strategies.Params{"lag": "none"}, ""},
		{"delayed-double-delete", strategies.Params{"delay": "1x"}, `parameter delay = "1x"`},
		{"leases", strategies.Params{"hot-miss": "maybe"}, `parameter hot-miss = "maybe": want wait or read-through`},
		{"leases", strategies.Params{"hot-miss": "read-through", "wait": "5ms"}, ""},
		{"leases", strategies.Params{"lease": "0"}, `parameter lease = "0": want a duration of at least 1ms`},
		{"leases", strategies.Params{"wait": "soon"}, `parameter wait = "soon"`},
	}
	for _, tt := range tests {
		info, ok := reg.Lookup(tt.strategy)
		if !ok {
			t.Fatalf("%s not registered", tt.strategy)
		}
		err := info.CheckParams(tt.params)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s %v: got %v, want accepted", tt.strategy, tt.params, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s %v: got %v, want an error with %q", tt.strategy, tt.params, err, tt.want)
		}
	}
}

// TestParamDefaultsPassChecks: every parameter of a built-in strategy is
// checked up front, and its declared default passes its own Check (a
// Check that refused the default would refuse every run that names it).
func TestParamDefaultsPassChecks(t *testing.T) {
	for _, info := range strategies.Default().All() {
		for _, p := range info.Params {
			if p.Check == nil {
				t.Errorf("%s: parameter %s has no Check", info.Name, p.Name)
				continue
			}
			if err := p.Check(p.Default); err != nil {
				t.Errorf("%s: default %s=%s refused by its own Check: %v", info.Name, p.Name, p.Default, err)
			}
		}
	}
}
