package scenarios

import "time"

// Scale sets s's duration to d and scales its warm-up and fault schedule
// by the same factor, which it returns, so that a shortened (or
// lengthened) run keeps the scenario's shape: faults happen at the same
// fraction of the run. Durations are rounded to the millisecond, and a
// fault lasts at least 1ms. A scenario without a duration just gets d, at
// factor 1.
func (s *Scenario) Scale(d time.Duration) float64 {
	if s.Duration <= 0 {
		s.Duration = Duration(d)
		return 1
	}
	f := float64(d) / float64(s.Duration)
	scale := func(v Duration) Duration {
		return Duration(time.Duration(float64(v) * f).Round(time.Millisecond))
	}
	s.Duration = Duration(d)
	s.Warmup = scale(s.Warmup)
	for i := range s.Faults {
		s.Faults[i].At = scale(s.Faults[i].At)
		s.Faults[i].For = max(scale(s.Faults[i].For), Duration(time.Millisecond))
	}
	return f
}
