package strategies

import (
	"fmt"
	"sort"
	"strings"

	gb "github.com/ghostbench/ghostbench"
)

// Factory builds a strategy from env. It starts the strategy's background
// work, which the strategy's Close stops.
type Factory func(env Env) (gb.Strategy, error)

// Param declares one parameter a strategy accepts.
type Param struct {
	Name    string
	Default string
	Help    string
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
	New    Factory
}

// Registry finds strategies by name. The zero value is empty and ready to
// use; Default returns one with the built-in strategies.
type Registry struct {
	m map[string]Info
}

// Register adds a strategy. It panics when the name is empty or already
// registered: that is a programming error, found at start-up.
func (r *Registry) Register(info Info) {
	if info.Name == "" || info.New == nil {
		panic("strategies: Register needs a name and a factory")
	}
	if r.m == nil {
		r.m = map[string]Info{}
	}
	if _, dup := r.m[info.Name]; dup {
		panic("strategies: duplicate strategy name " + info.Name)
	}
	r.m[info.Name] = info
}

// Lookup returns the strategy registered as name.
func (r *Registry) Lookup(name string) (Info, bool) {
	info, ok := r.m[name]
	return info, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.m))
	for n := range r.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// All returns every registered strategy, sorted by name.
func (r *Registry) All() []Info {
	out := make([]Info, 0, len(r.m))
	for _, n := range r.Names() {
		out = append(out, r.m[n])
	}
	return out
}

// New builds the strategy registered as name. It returns an error naming the
// strategy and the allowed values for an unknown name or parameter.
func (r *Registry) New(name string, env Env) (gb.Strategy, error) {
	info, ok := r.m[name]
	if !ok {
		return nil, fmt.Errorf("strategy %q: unknown; allowed: %s", name, strings.Join(r.Names(), ", "))
	}
	if err := info.CheckParams(env.Params); err != nil {
		return nil, err
	}
	if env.Prefix == "" {
		env.Prefix = "gb:"
	}
	s, err := info.New(env)
	if err != nil {
		return nil, fmt.Errorf("strategy %s: %w", name, err)
	}
	return s, nil
}

// CheckParams returns an error naming the parameter and the allowed ones
// when p holds a name the strategy does not declare.
func (info Info) CheckParams(p Params) error {
	for k := range p {
		found := false
		names := make([]string, 0, len(info.Params))
		for _, d := range info.Params {
			names = append(names, d.Name)
			if d.Name == k {
				found = true
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
	r := &Registry{}
	registerBuiltins(r)
	registerExtras(r)
	return r
}
