package faults_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/scenarios"
)

func sec(f float64) scenarios.Duration {
	return scenarios.Duration(time.Duration(f * float64(time.Second)))
}

func scenarioWith(steps ...scenarios.FaultStep) *scenarios.Scenario {
	sc := &scenarios.Scenario{Name: "t", Keys: 10, Readers: 1, Duration: sec(10), Seed: 1, Faults: steps}
	sc.Defaults()
	return sc
}

func TestCheck(t *testing.T) {
	own := faults.Target{RedisControl: true, PostgresControl: true}
	external := faults.Target{}
	step := func(fault string, params map[string]string) scenarios.FaultStep {
		return scenarios.FaultStep{At: sec(1), For: sec(1), Fault: fault, Params: params}
	}
	tests := []struct {
		name   string
		steps  []scenarios.FaultStep
		target faults.Target
		allow  bool
		want   []string // substrings of the error; none means no error
	}{
		{"steady", nil, external, false, nil},
		{"every kind with defaults", []scenarios.FaultStep{
			step("redis-down", nil), step("redis-latency", nil), step("redis-lost-replies", nil),
			step("redis-partition", nil), step("pg-latency", nil), step("pg-conn-kill", nil),
			step("app-delay", map[string]string{"point": "after-db-read", "delay": "10ms"}),
			step("app-barrier", map[string]string{"point": "before-commit"}),
		}, own, false, nil},
		{"unknown fault", []scenarios.FaultStep{step("redis-latency", nil), step("redis-dwn", nil)}, own, false,
			[]string{`scenario t: faults[1].fault = "redis-dwn": unknown fault; allowed: app-barrier, app-crash, app-delay, app-freeze,`}},
		{"unknown param", []scenarios.FaultStep{step("redis-latency", map[string]string{"latncy": "5ms"})}, own, false,
			[]string{`faults[0].params.latncy = "5ms": redis-latency has no such parameter; allowed: latency, jitter`}},
		{"param of a kind without any", []scenarios.FaultStep{step("redis-oom", map[string]string{"size": "1"})}, own, false,
			[]string{`faults[0].params.size = "1": redis-oom has no such parameter; it takes no parameters`}},
		{"bad duration", []scenarios.FaultStep{step("redis-latency", map[string]string{"latency": "10x"})}, own, false,
			[]string{`faults[0].params.latency = "10x": want a duration in whole milliseconds such as 100ms, or 0`}},
		{"sub-millisecond latency", []scenarios.FaultStep{step("pg-latency", map[string]string{"latency": "1500us"})}, own, false,
			[]string{`faults[0].params.latency = "1500us"`, "whole milliseconds"}},
		{"bad probability", []scenarios.FaultStep{step("pg-commit-fail", map[string]string{"probability": "1.5"})}, own, false,
			[]string{`faults[0].params.probability = "1.5": want a probability from 0 to 1`}},
		{"missing required", []scenarios.FaultStep{step("app-delay", map[string]string{"point": "before-commit"})}, own, false,
			[]string{`faults[0].params.delay = (missing): app-delay needs it: want a positive duration`}},
		{"bad point", []scenarios.FaultStep{step("app-barrier", map[string]string{"point": "before-lunch"})}, own, false,
			[]string{`faults[0].params.point = "before-lunch": want one of after-db-read,`}},
		{"bad via", []scenarios.FaultStep{step("redis-down", map[string]string{"via": "magic"})}, own, false,
			[]string{`faults[0].params.via = "magic": want process or proxy`}},
		{"negative at", []scenarios.FaultStep{{At: sec(-1), For: sec(1), Fault: "redis-partition"}}, own, false,
			[]string{`faults[0].at = -1s`}},
		{"down on external", []scenarios.FaultStep{step("redis-down", nil)}, external, false,
			[]string{`faults[0].fault = "redis-down"`, "external", "via: proxy"}},
		{"down via proxy on external", []scenarios.FaultStep{step("redis-down", map[string]string{"via": "proxy"})}, external, false, nil},
		{"pause on external", []scenarios.FaultStep{step("redis-pause", nil)}, external, false,
			[]string{`faults[0].fault = "redis-pause"`, "may not do to a server it did not start"}},
		{"restart on external", []scenarios.FaultStep{step("redis-restart", nil)}, external, true,
			[]string{`faults[0].fault = "redis-restart"`}},
		{"oom on external", []scenarios.FaultStep{step("redis-oom", nil)}, external, false,
			[]string{`faults[0].fault = "redis-oom"`, "CONFIG SET maxmemory", "pass -allow-server-changes"}},
		{"oom on external, allowed", []scenarios.FaultStep{step("redis-oom", nil)}, external, true, nil},
		{"oom on own server", []scenarios.FaultStep{step("redis-oom", nil)}, own, false, nil},
		{"own-session faults on external", []scenarios.FaultStep{step("pg-conn-kill", map[string]string{"every": "100ms"}),
			step("pg-commit-fail", nil), step("redis-partition", nil)}, external, false, nil},
		{"overlap on the Redis server", []scenarios.FaultStep{
			{At: sec(1), For: sec(2), Fault: "redis-down"}, {At: sec(2.5), For: sec(1), Fault: "redis-oom"}}, own, false,
			[]string{`faults[1].at = 2.5s: redis-oom from 2.5s to 3.5s overlaps faults[0] (redis-down from 1s to 3s)`, "the Redis server"}},
		{"back to back on the Redis server", []scenarios.FaultStep{
			{At: sec(1), For: sec(1), Fault: "redis-down"}, {At: sec(2), For: sec(1), Fault: "redis-pause"}}, own, false, nil},
		{"overlapping network faults", []scenarios.FaultStep{
			{At: sec(1), For: sec(2), Fault: "redis-latency"}, {At: sec(2), For: sec(2), Fault: "redis-partition"},
			{At: sec(1), For: sec(3), Fault: "redis-oom"}}, own, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := faults.Check(scenarioWith(tt.steps...), tt.target, faults.Options{AllowServerChanges: tt.allow})
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Check: %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check: no error, want one containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check error\n  %v\nwant it to contain\n  %s", err, w)
				}
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	r := faults.Default()
	want := []string{"app-barrier", "app-crash", "app-delay", "app-freeze", "pg-commit-fail", "pg-conn-kill", "pg-failover", "pg-latency", "pg-replica-lag",
		"redis-cluster-failover", "redis-down", "redis-failover", "redis-latency", "redis-lost-replies", "redis-oom", "redis-partition",
		"redis-pause", "redis-restart", "redis-slot-migration", "redis-tracking-kill"}
	if got := strings.Join(r.Names(), " "); got != strings.Join(want, " ") {
		t.Errorf("Names() = %s, want %s", got, strings.Join(want, " "))
	}
	for _, k := range r.All() {
		if k.Description == "" || strings.Contains(k.Description, "\n") {
			t.Errorf("%s: description %q, want one line", k.Name, k.Description)
		}
		for _, p := range k.Params {
			if p.Help == "" || p.Allowed == "" {
				t.Errorf("%s: parameter %s lacks help or allowed values", k.Name, p.Name)
			}
			if !p.Required && p.Check != nil && p.Check(p.Default) != nil {
				t.Errorf("%s: parameter %s: default %q is not allowed", k.Name, p.Name, p.Default)
			}
		}
	}
	// Every kind named by the catalogue exists.
	for _, sc := range scenarios.All() {
		target := faults.Target{RedisControl: true, PostgresControl: true, Topology: sc.Topology}
		if err := faults.Check(sc, target, faults.Options{}); err != nil {
			t.Errorf("built-in scenario %s: %v", sc.Name, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a duplicate kind did not panic")
		}
	}()
	r.Register(faults.Kind{Name: "redis-down", Needs: func(faults.Params) faults.Needs { return 0 },
		New: func(context.Context, faults.Env, faults.Params) (fault.Fault, error) { return nil, nil }})
}

// FuzzCheck feeds Check arbitrary fault names and parameters: it must
// return an error or nil, never panic, and an error must name the step.
func FuzzCheck(f *testing.F) {
	f.Add("redis-latency", "latency", "100ms")
	f.Add("app-delay", "delay", "-1s")
	f.Add("pg-commit-fail", "probability", "NaN")
	f.Add("redis-down", "via", "proxy")
	f.Add("nope", "", "")
	f.Fuzz(func(t *testing.T, fault, param, value string) {
		sc := scenarioWith(scenarios.FaultStep{At: sec(1), For: sec(1), Fault: fault, Params: map[string]string{param: value}})
		err := faults.Check(sc, faults.Target{}, faults.Options{})
		if err != nil && !strings.Contains(err.Error(), "faults[0].") {
			t.Errorf("error %q does not name the step", err)
		}
	})
}

func TestAppFaultsNeedAProcess(t *testing.T) {
	for _, name := range []string{"app-crash", "app-freeze"} {
		k, ok := faults.Default().Lookup(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		_, err := k.New(context.Background(), faults.Env{}, faults.Params{"point": ""})
		if err == nil || !strings.Contains(err.Error(), "not a foreign process; use ghostbench run -exec CMD") {
			t.Errorf("%s on a built-in strategy: %v", name, err)
		}
	}
}
