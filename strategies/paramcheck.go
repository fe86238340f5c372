package strategies

import (
	"fmt"
	"strings"
	"time"
)

// DurationParam returns a Param.Check that accepts what Params.Duration
// parses ("none", "0" or a duration such as 280ms) and is at least min.
func DurationParam(min time.Duration) func(v string) error {
	return func(v string) error {
		d, err := Params{"x": v}.Duration("x", 0)
		if err != nil {
			return fmt.Errorf("want a non-negative duration such as 280ms or 1s")
		}
		if d < min {
			return fmt.Errorf("want a duration of at least %s", min)
		}
		return nil
	}
}

// OneOfParam returns a Param.Check that accepts exactly the given values.
func OneOfParam(allowed ...string) func(v string) error {
	return func(v string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return fmt.Errorf("want %s", strings.Join(allowed, " or "))
	}
}

// checkValue checks the value of the declared parameter d, naming the
// strategy, the parameter and the value.
func (info Info) checkValue(d Param, v string) error {
	if d.Check == nil {
		return nil
	}
	if err := d.Check(v); err != nil {
		return fmt.Errorf("strategy %s: parameter %s = %q: %v", info.Name, d.Name, v, err)
	}
	return nil
}

// IntParam returns a Param.Check that accepts what Params.Int parses
// within lo to hi.
func IntParam(lo, hi int) func(v string) error {
	return func(v string) error {
		if _, err := (Params{"x": v}).Int("x", lo, lo, hi); err != nil {
			return fmt.Errorf("want an integer from %d to %d", lo, hi)
		}
		return nil
	}
}
