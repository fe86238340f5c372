package scenarios

import (
	"testing"
	"time"
)

func TestScale(t *testing.T) {
	sc, ok := Builtin("redis-outage")
	if !ok {
		t.Fatal("no redis-outage scenario")
	}
	if sc.Duration.D() != 10*time.Second || sc.Warmup.D() != time.Second || len(sc.Faults) != 1 ||
		sc.Faults[0].At.D() != 3*time.Second || sc.Faults[0].For.D() != 3*time.Second {
		t.Fatalf("the catalogue changed: %+v; update this test", sc)
	}
	f := sc.Scale(3 * time.Second)
	if f != 0.3 {
		t.Errorf("scale %v, want 0.3", f)
	}
	got := []time.Duration{sc.Duration.D(), sc.Warmup.D(), sc.Faults[0].At.D(), sc.Faults[0].For.D()}
	want := []time.Duration{3 * time.Second, 300 * time.Millisecond, 900 * time.Millisecond, 900 * time.Millisecond}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("duration, warm-up, fault at, fault for: got %v, want %v", got, want)
			break
		}
	}
	if err := sc.Validate(); err != nil {
		t.Errorf("scaled scenario invalid: %v", err)
	}
}

func TestScaleEdges(t *testing.T) {
	// No duration yet: it is set, nothing else moves.
	s := &Scenario{Warmup: Duration(time.Second)}
	if f := s.Scale(2 * time.Second); f != 1 || s.Duration.D() != 2*time.Second || s.Warmup.D() != time.Second {
		t.Errorf("no duration: factor %v, duration %v, warm-up %v; want 1, 2s, 1s", f, s.Duration, s.Warmup)
	}
	// A fault scaled below a millisecond keeps 1ms; At rounds to 0.
	s = &Scenario{Duration: Duration(10 * time.Second), Faults: []FaultStep{{Fault: "redis-down", At: Duration(time.Millisecond), For: Duration(time.Millisecond)}}}
	s.Scale(time.Second)
	if s.Faults[0].At != 0 || s.Faults[0].For.D() != time.Millisecond {
		t.Errorf("tiny fault: at %v for %v, want 0s for 1ms", s.Faults[0].At, s.Faults[0].For)
	}
}
