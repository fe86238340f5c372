package registry

import (
	"reflect"
	"testing"
)

func TestSet(t *testing.T) {
	var s Set[int]
	s.Add("thing", "b", 2)
	s.Add("thing", "a", 1)
	if got, want := s.Names(), []string{"a", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	if got, want := s.All(), []int{1, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("All = %v, want %v", got, want)
	}
	if v, ok := s.Get("b"); !ok || v != 2 {
		t.Errorf("Get(b) = %v, %v", v, ok)
	}
	if _, ok := s.Get("c"); ok {
		t.Error("Get(c) found a value")
	}
	for _, name := range []string{"a", ""} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Add(%q) did not panic", name)
				}
			}()
			s.Add("thing", name, 3)
		}()
	}
}
