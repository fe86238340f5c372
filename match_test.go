package ghostbench_test

import (
	"testing"

	gb "github.com/ghostbench/ghostbench"
)

func TestMatch(t *testing.T) {
	reader1 := gb.Actor{Kind: "reader", ID: 1}
	for _, tc := range []struct {
		name string
		m    gb.Match
		a    gb.Actor
		p    gb.Point
		k    gb.Key
		want bool
	}{
		{"exact", gb.Match{Actor: "reader", ID: 1, Point: gb.PointAfterDBRead, Key: 3}, reader1, gb.PointAfterDBRead, 3, true},
		{"wildcards", gb.Match{ID: gb.AnyID, Point: gb.PointAfterDBRead, Key: gb.AnyKey}, reader1, gb.PointAfterDBRead, 7, true},
		{"other point", gb.Match{ID: gb.AnyID, Point: gb.PointBeforeCommit, Key: gb.AnyKey}, reader1, gb.PointAfterDBRead, 7, false},
		{"other kind", gb.Match{Actor: "writer", ID: gb.AnyID, Point: gb.PointAfterDBRead, Key: gb.AnyKey}, reader1, gb.PointAfterDBRead, 7, false},
		{"other id", gb.Match{Actor: "reader", ID: 2, Point: gb.PointAfterDBRead, Key: gb.AnyKey}, reader1, gb.PointAfterDBRead, 7, false},
		{"other key", gb.Match{ID: gb.AnyID, Point: gb.PointAfterDBRead, Key: 3}, reader1, gb.PointAfterDBRead, 7, false},
		{"no actor, kind wanted", gb.Match{Actor: "reader", ID: gb.AnyID, Point: gb.PointAfterDBRead, Key: gb.AnyKey}, gb.Actor{}, gb.PointAfterDBRead, 0, false},
		{"no actor, id 0", gb.Match{Point: gb.PointAfterDBRead, Key: gb.AnyKey}, gb.Actor{}, gb.PointAfterDBRead, 0, true},
	} {
		if got := tc.m.Matches(tc.a, tc.p, tc.k); got != tc.want {
			t.Errorf("%s: %+v.Matches(%+v, %s, %d) = %v, want %v", tc.name, tc.m, tc.a, tc.p, tc.k, got, tc.want)
		}
	}
}
