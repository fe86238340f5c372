package faults

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/scenarios"
)

// AllowServerChangesFlag is the command-line flag that sets
// Options.AllowServerChanges; refusals name it.
const AllowServerChangesFlag = "-allow-server-changes"

// Options configures Check and Prepare.
type Options struct {
	// AllowServerChanges lets faults change a server the harness does not
	// own for every client of it (redis-oom's CONFIG SET maxmemory on an
	// external Redis). Heal restores the old values, but a harness killed
	// in the middle of the fault cannot: that is the risk this option
	// accepts.
	AllowServerChanges bool
	// Registry finds fault kinds; default Default().
	Registry *Registry
	// Log receives debug messages; default discards.
	Log *slog.Logger
}

func (o *Options) defaults() {
	if o.Registry == nil {
		o.Registry = Default()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Target is what the faults will run against, as far as Check cares.
type Target struct {
	// RedisControl and PostgresControl say whether the harness started the
	// server and may stop, kill and pause it (docker.Server.Control is not
	// nil). Servers it does not own are never stopped or reconfigured
	// without permission.
	RedisControl, PostgresControl bool
	// Topology is the servers' topology (docker.TopologySingle when
	// empty): faults of a topology need it, and the Redis proxy sits in
	// front of one Redis server only.
	Topology string
}

// TargetOf returns the target srv describes.
func TargetOf(srv *docker.Servers) Target {
	var t Target
	if srv != nil && srv.Redis != nil {
		t.RedisControl = srv.Redis.Control != nil
	}
	if srv != nil && srv.Postgres != nil {
		t.PostgresControl = srv.Postgres.Control != nil
	}
	t.Topology = srv.TopologyName()
	return t
}

// step is one validated step of a schedule.
type step struct {
	index  int
	kind   Kind
	params Params
	needs  Needs
	fs     scenarios.FaultStep
}

// Check validates sc's fault schedule against t before anything runs:
// every fault must be a registered kind, every parameter declared and
// allowed, every fault possible on t, and faults that take over the same
// resource must not overlap. It returns one error, for the first problem,
// naming the step index, the field, the value and what is allowed, e.g.
//
//	scenario s: faults[1].params.latency = "10x": want a duration in whole milliseconds such as 100ms, or 0
func Check(sc *scenarios.Scenario, t Target, opts Options) error {
	_, err := plan(sc, t, opts)
	return err
}

// plan is Check, returning the validated steps.
func plan(sc *scenarios.Scenario, t Target, opts Options) ([]step, error) {
	opts.defaults()
	if sc == nil {
		return nil, fmt.Errorf("faults: no scenario")
	}
	bad := func(i int, field, value, msg string) error {
		return fmt.Errorf("scenario %s: faults[%d].%s = %s: %s", sc.Name, i, field, value, msg)
	}
	steps := make([]step, 0, len(sc.Faults))
	for i, fs := range sc.Faults {
		k, ok := opts.Registry.Lookup(fs.Fault)
		if !ok {
			return nil, bad(i, "fault", strconv.Quote(fs.Fault), "unknown fault; allowed: "+strings.Join(opts.Registry.Names(), ", "))
		}
		if fs.At < 0 {
			return nil, bad(i, "at", fs.At.String(), "want a duration of at least 0")
		}
		if fs.For <= 0 {
			return nil, bad(i, "for", fs.For.String(), "want a positive duration")
		}
		p, ferr := k.resolve(fs.Params)
		if ferr != nil {
			return nil, bad(i, ferr.field, ferr.value, ferr.msg)
		}
		needs := k.Needs(p)
		if err := checkTopology(k, needs, t); err != "" {
			return nil, bad(i, "fault", strconv.Quote(fs.Fault), err)
		}
		switch {
		case needs&NeedsRedisControl != 0 && !t.RedisControl:
			msg := fmt.Sprintf("%s stops or freezes the Redis process, which the harness may not do to a server it did not start (external URL)", k.Name)
			if k.Name == "redis-down" {
				msg += `; use params via: proxy to cut Redis off at a proxy instead`
			}
			return nil, bad(i, "fault", strconv.Quote(fs.Fault), msg)
		case needs&ChangesRedisServer != 0 && !t.RedisControl && !opts.AllowServerChanges:
			return nil, bad(i, "fault", strconv.Quote(fs.Fault), fmt.Sprintf(
				"%s runs CONFIG SET maxmemory on a Redis the harness does not own, which changes it for every client until heal "+
					"(or for good if the harness is killed first); pass %s to accept that risk", k.Name, AllowServerChangesFlag))
		}
		steps = append(steps, step{index: i, kind: k, params: p, needs: needs, fs: fs})
	}
	for j := range steps {
		for i := 0; i < j; i++ {
			a, b := steps[i], steps[j]
			if a.kind.Exclusive == "" || a.kind.Exclusive != b.kind.Exclusive {
				continue
			}
			if a.fs.At < b.fs.At+b.fs.For && b.fs.At < a.fs.At+a.fs.For {
				return nil, bad(j, "at", b.fs.At.String(), fmt.Sprintf(
					"%s from %v to %v overlaps faults[%d] (%s from %v to %v), and both take over %s; schedule them apart",
					b.kind.Name, b.fs.At, b.fs.At+b.fs.For, i, a.kind.Name, a.fs.At, a.fs.At+a.fs.For, a.kind.Exclusive))
			}
		}
	}
	return steps, nil
}
