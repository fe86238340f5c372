// Package registry is the name-to-value table behind the strategy and fault
// registries: names are unique, listings are sorted.
package registry

import "sort"

// Set maps names to values. The zero value is empty and ready to use. It is
// not safe for concurrent writes: registries are filled at start-up.
type Set[T any] struct {
	m map[string]T
}

// Add stores v under name. It panics, naming what (e.g. "strategy"), when
// the name is empty or already taken: a programming error, found at
// start-up.
func (s *Set[T]) Add(what, name string, v T) {
	if name == "" {
		panic(what + ": empty name")
	}
	if s.m == nil {
		s.m = map[string]T{}
	}
	if _, dup := s.m[name]; dup {
		panic(what + ": duplicate name " + name)
	}
	s.m[name] = v
}

// Get returns the value stored under name.
func (s *Set[T]) Get(name string) (T, bool) {
	v, ok := s.m[name]
	return v, ok
}

// Names returns the names, sorted.
func (s *Set[T]) Names() []string {
	out := make([]string, 0, len(s.m))
	for n := range s.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// All returns the values in name order.
func (s *Set[T]) All() []T {
	out := make([]T, 0, len(s.m))
	for _, n := range s.Names() {
		out = append(out, s.m[n])
	}
	return out
}
