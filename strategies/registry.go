package strategies

import (
	"fmt"
	"strings"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/registry"
)

// Factory builds a strategy from env. It starts the strategy's background
// work, which the strategy's Close stops.
type Factory func(env Env) (gb.Strategy, error)

// Param declares one parameter a strategy accepts.
type Param struct {
	Name    string
	Default string
	Help    string
	// Check, when set, returns an error saying what is allowed when v is
	// not an allowed value (DurationParam, OneOfParam). CheckParams calls
	// it, so that a bad value is refused before any server starts rather
	// than when the strategy is built.
	Check func(v string) error
}

// Info describes a registered strategy.
type Info struct {
	Name string
	// Description is one line for listings.
	Description string
	// Params are the parameters the strategy accepts.
	Params []Param
	// Points are the interleaving points on its paths.
	Points []gb.Point
	// AnyParams says the strategy checks its own parameters (a foreign
	// process does, when it starts): CheckParams accepts any name.
	AnyParams bool
	// NeedsTTL is set for a strategy that cannot run without a TTL (its
	// library puts one on every entry it writes): New refuses ttl none.
	NeedsTTL bool
	New      Factory
}

// Registry finds strategies by name. The zero value is empty and ready to
// use; Default returns one with the built-in strategies.
type Registry struct {
	set registry.Set[Info]
}

// Register adds a strategy. It panics when the name is empty or already
// registered, or the factory is missing: that is a programming error, found
// at start-up.
func (r *Registry) Register(info Info) {
	if info.New == nil {
		panic("strategies: Register needs a factory for " + info.Name)
	}
	r.set.Add("strategies", info.Name, info)
}

// Lookup returns the strategy registered as name.
func (r *Registry) Lookup(name string) (Info, bool) { return r.set.Get(name) }

// Names returns the registered names, sorted.
func (r *Registry) Names() []string { return r.set.Names() }

// All returns every registered strategy, sorted by name.
func (r *Registry) All() []Info { return r.set.All() }

// New builds the strategy registered as name. It returns an error naming the
// strategy and the allowed values for an unknown name or parameter.
func (r *Registry) New(name string, env Env) (gb.Strategy, error) {
	info, ok := r.set.Get(name)
	if !ok {
		return nil, fmt.Errorf("strategy %q: unknown; allowed: %s", name, strings.Join(r.Names(), ", "))
	}
	if err := info.CheckParams(env.Params); err != nil {
		return nil, err
	}
	if env.Prefix == "" {
		env.Prefix = "gb:"
	}
	if info.NeedsTTL && env.TTL <= 0 {
		return nil, fmt.Errorf("strategy %s: ttl none: its library puts a TTL on every entry it writes; want a positive ttl such as 30s", name)
	}
	if err := checkTopologyParams(info, &env); err != nil {
		return nil, fmt.Errorf("strategy %s: %w", name, err)
	}
	s, err := info.New(env)
	if err != nil {
		return nil, fmt.Errorf("strategy %s: %w", name, err)
	}
	return s, nil
}

// CheckParams returns an error naming the parameter and the allowed ones
// when p holds a name the strategy does not declare, and an error naming
// the parameter, the value and what is allowed when a declared
// parameter's Check refuses its value.
func (info Info) CheckParams(p Params) error {
	if info.AnyParams {
		return nil
	}
	for k, v := range p {
		found := false
		names := make([]string, 0, len(info.Params))
		for _, d := range info.Params {
			names = append(names, d.Name)
			if d.Name == k {
				found = true
				if err := info.checkValue(d, v); err != nil {
					return err
				}
			}
		}
		if !found {
			allowed := "none"
			if len(names) > 0 {
				allowed = strings.Join(names, ", ")
			}
			return fmt.Errorf("strategy %s: unknown parameter %q; allowed: %s", info.Name, k, allowed)
		}
	}
	return nil
}

// Default returns a new registry holding the built-in strategies.
func Default() *Registry {
	all := &Registry{}
	registerBuiltins(all)
	registerExtras(all)
	r := &Registry{}
	for _, info := range all.All() {
		r.Register(withTopologyParams(info))
	}
	return r
}
