package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/internal/registry"
	"github.com/ghostbench/ghostbench/scenarios"
)

// Needs says what a fault requires of the servers; Check refuses a fault
// whose needs the target cannot meet.
type Needs uint16

// The needs a fault may declare.
const (
	// NeedsRedisProxy: the fault works on the proxy between the harness
	// and Redis, which Prepare then starts.
	NeedsRedisProxy Needs = 1 << iota
	// NeedsPostgresProxy: likewise for PostgreSQL.
	NeedsPostgresProxy
	// NeedsRedisControl: the fault stops, kills or pauses the Redis
	// process, which only a server the harness started allows.
	NeedsRedisControl
	// ChangesRedisServer: the fault changes the Redis server for every
	// client (CONFIG SET); on a server the harness does not own it needs
	// Options.AllowServerChanges.
	ChangesRedisServer
	// NeedsAdminRedis: the fault talks to the real Redis directly (not
	// through a proxy), for CONFIG or confirmations.
	NeedsAdminRedis
	// NeedsHooks: the fault acts at interleaving points (the run's Hooks).
	NeedsHooks
)

// Kind is one kind of fault a scenario can schedule by name.
type Kind struct {
	// Name is what a scenario's faults[i].fault says.
	Name string
	// Description is one line for listings.
	Description string
	// Params are the parameters the kind accepts; any other is an error.
	Params []Param
	// Needs returns what the fault needs given its (validated) parameters.
	Needs func(p Params) Needs
	// Exclusive, when set, names a resource the fault takes over (the
	// Redis server, the store's commit-failure switch): two steps with the
	// same Exclusive must not overlap in time.
	Exclusive string
	// WholeServer, when set ("postgres" or "redis"), says that the fault
	// acts on that whole server, for every client of it, not only on this
	// run: on external servers such a run takes the server exclusively and
	// refuses to start beside another run (runner.WholeServer).
	WholeServer string
	// Topology, when set, is the topology the fault needs (a failover
	// needs Sentinel): Check refuses the step on other servers.
	Topology string
	// New builds the fault for one step, before the load starts. p holds
	// every declared parameter, defaults filled in, already checked. New
	// may open what Inject and Heal will use (a session of the fault's
	// own), so that they cost round trips, not connection setups; a fault
	// that holds such resources implements io.Closer, and Setup.Close
	// closes it after the run.
	New func(ctx context.Context, env Env, p Params) (fault.Fault, error)
}

// Param declares one parameter of a fault kind.
type Param struct {
	Name string
	// Default is used when the step does not give the parameter. Required
	// parameters have none.
	Default  string
	Required bool
	Help     string
	// Allowed says what values are allowed, for error messages ("a
	// duration such as 100ms").
	Allowed string
	// Check returns nil when v is allowed. Nil accepts anything.
	Check func(v string) error
}

// Params are a step's parameters by name, every declared parameter present
// (defaults filled in) and checked. The getters parse a value Check has
// accepted; they return the zero value for a parameter that was never
// declared.
type Params map[string]string

// Duration returns the parameter name as a duration.
func (p Params) Duration(name string) time.Duration {
	d, _ := scenarios.ParseDuration(p[name])
	return d.D()
}

// Float returns the parameter name as a float.
func (p Params) Float(name string) float64 {
	f, _ := strconv.ParseFloat(p[name], 64)
	return f
}

// Env is what a fault is built from: the run's clients and what Prepare
// knows about the real servers.
type Env struct {
	fault.Env
	// Real are the servers as provisioned: their real addresses and Control
	// (Env.Servers are the ones the runner connects to, perhaps
	// through proxies; they share Control).
	Real *docker.Servers
	// RedisProxy and PostgresProxy are the proxies in front of the
	// servers; nil when the schedule needs none.
	RedisProxy, PostgresProxy *Proxy
	// Admin is a Redis client connected straight to the real server; nil
	// unless the kind declares NeedsAdminRedis.
	Admin redis.UniversalClient
	// Points dispatches interleaving points to application faults; nil
	// unless the kind declares NeedsHooks.
	Points *Points
	// Rand is this step's random source, made from the scenario's seed and
	// the step index (the same seed gives the same choices).
	Rand *rand.Rand
	// Step is the step's index in the schedule; faults use it to name what
	// they create (toxics) so that overlapping steps do not collide.
	Step int
}

// Registry finds fault kinds by name. The zero value is empty and ready to
// use; Default returns one with the built-in kinds.
type Registry struct {
	set registry.Set[Kind]
}

// Register adds a kind. It panics when the name is empty or taken, or New
// or Needs is missing: that is a programming error, found at start-up.
func (r *Registry) Register(k Kind) {
	if k.New == nil || k.Needs == nil {
		panic("faults: Register needs New and Needs for " + k.Name)
	}
	r.set.Add("faults", k.Name, k)
}

// Lookup returns the kind registered as name.
func (r *Registry) Lookup(name string) (Kind, bool) { return r.set.Get(name) }

// Names returns the registered names, sorted.
func (r *Registry) Names() []string { return r.set.Names() }

// All returns every registered kind, sorted by name.
func (r *Registry) All() []Kind { return r.set.All() }

// Default returns a new registry holding the built-in fault kinds.
func Default() *Registry {
	r := &Registry{}
	for _, k := range []Kind{
		redisDownKind(), redisOOMKind(), redisLatencyKind(), redisLostRepliesKind(),
		redisPartitionKind(), redisRestartKind(), redisPauseKind(),
		pgLatencyKind(), pgConnKillKind(), pgCommitFailKind(),
		appDelayKind(), appBarrierKind(), appCrashKind(), appFreezeKind(), redisTrackingKillKind(),
		pgReplicaLagKind(), pgFailoverKind(), redisFailoverKind(), redisClusterFailoverKind(), redisSlotMigrationKind(),
	} {
		r.Register(k)
	}
	return r
}

// resolve returns raw with defaults filled in, or an error (without the
// step's position, which the caller adds) naming the parameter, its value
// and what is allowed.
func (k Kind) resolve(raw map[string]string) (Params, *fieldError) {
	names := make([]string, len(k.Params))
	for i, d := range k.Params {
		names[i] = d.Name
	}
	keys := make([]string, 0, len(raw))
	for n := range raw {
		keys = append(keys, n)
	}
	sort.Strings(keys) // the first bad one, deterministically
	for _, n := range keys {
		if !contains(names, n) {
			allowed := "it takes no parameters"
			if len(names) > 0 {
				allowed = "allowed: " + strings.Join(names, ", ")
			}
			return nil, &fieldError{field: "params." + n, value: strconv.Quote(raw[n]),
				msg: fmt.Sprintf("%s has no such parameter; %s", k.Name, allowed)}
		}
	}
	p := Params{}
	for _, d := range k.Params {
		v, ok := raw[d.Name]
		if !ok {
			if d.Required {
				return nil, &fieldError{field: "params." + d.Name, value: "(missing)",
					msg: fmt.Sprintf("%s needs it: want %s", k.Name, d.Allowed)}
			}
			v = d.Default
		}
		if d.Check != nil {
			if err := d.Check(v); err != nil {
				return nil, &fieldError{field: "params." + d.Name, value: strconv.Quote(v), msg: "want " + d.Allowed}
			}
		}
		p[d.Name] = v
	}
	return p, nil
}

// fieldError is a problem with one field of one step.
type fieldError struct {
	field, value, msg string
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Parameter declarations shared by the kinds.

func durationParam(name, def, help string, allowZero bool) Param {
	allowed := "a positive duration such as 100ms"
	if allowZero {
		allowed = "a duration such as 100ms, or 0"
	}
	return Param{Name: name, Default: def, Required: def == "", Help: help, Allowed: allowed,
		Check: func(v string) error {
			d, err := scenarios.ParseDuration(v)
			switch {
			case err != nil:
				return err
			case d < 0, d == 0 && !allowZero:
				return fmt.Errorf("out of range")
			}
			return nil
		}}
}

// msDurationParam is a duration the proxy applies in whole milliseconds.
func msDurationParam(name, def, help string) Param {
	p := durationParam(name, def, help, true)
	p.Allowed = "a duration in whole milliseconds such as 100ms, or 0"
	check := p.Check
	p.Check = func(v string) error {
		if err := check(v); err != nil {
			return err
		}
		if d, _ := scenarios.ParseDuration(v); d.D()%time.Millisecond != 0 {
			return fmt.Errorf("not whole milliseconds")
		}
		return nil
	}
	return p
}

func probabilityParam(help string) Param {
	return Param{Name: "probability", Default: "1", Help: help, Allowed: "a probability from 0 to 1 such as 0.5",
		Check: func(v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f >= 0 && f <= 1) {
				return fmt.Errorf("out of range")
			}
			return nil
		}}
}

func pointParam() Param {
	names := make([]string, 0, len(gb.AllPoints()))
	for _, pt := range gb.AllPoints() {
		names = append(names, string(pt))
	}
	return Param{Name: "point", Required: true, Help: "the interleaving point",
		Allowed: "one of " + strings.Join(names, ", "),
		Check: func(v string) error {
			if !contains(names, v) {
				return fmt.Errorf("unknown point")
			}
			return nil
		}}
}

func actorParam() Param {
	return Param{Name: "actor", Default: "", Help: `actor kind it applies to ("reader", "writer", "worker"); empty matches any`,
		Allowed: "an actor kind such as reader, writer or worker, or empty for any",
		Check: func(v string) error {
			if strings.TrimSpace(v) != v || strings.ContainsAny(v, " \t\n") {
				return fmt.Errorf("spaces")
			}
			return nil
		}}
}

func static(n Needs) func(Params) Needs { return func(Params) Needs { return n } }
