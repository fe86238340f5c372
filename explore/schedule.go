package explore

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/ghostbench/ghostbench/strategies"
)

// Workload is the small program a schedule interleaves: readers and
// writers, each running Ops operations on the workload's keys, on
// Instances application instances. A strategy's background worker is an
// actor too, without operations of its own.
type Workload struct {
	Readers   int `json:"readers"`
	Writers   int `json:"writers"`
	Ops       int `json:"ops"`
	Keys      int `json:"keys"`
	Instances int `json:"instances"`
}

// DefaultWorkload is two readers and one writer with one operation each on
// one key: the smallest workload that shows a stale fill.
func DefaultWorkload() Workload {
	return Workload{Readers: 2, Writers: 1, Ops: 1, Keys: 1, Instances: 1}
}

// Limits of a workload: the space grows exponentially with the actors and
// steps, so these are what an exhaustive search can still cover.
const (
	maxActors    = 6
	maxOps       = 4
	maxKeys      = 2
	maxInstances = 4
)

// Validate checks w and names the field, value and what is allowed.
func (w Workload) Validate() error {
	switch {
	case w.Readers < 0 || w.Writers < 0 || w.Readers+w.Writers < 1 || w.Readers+w.Writers > maxActors:
		return fmt.Errorf("readers %d, writers %d: want 1 to %d actors in all, neither negative", w.Readers, w.Writers, maxActors)
	case w.Ops < 1 || w.Ops > maxOps:
		return fmt.Errorf("ops %d: want 1 to %d operations per actor", w.Ops, maxOps)
	case w.Keys < 1 || w.Keys > maxKeys:
		return fmt.Errorf("keys %d: want 1 or %d", w.Keys, maxKeys)
	case w.Instances < 1 || w.Instances > maxInstances:
		return fmt.Errorf("instances %d: want 1 to %d application instances", w.Instances, maxInstances)
	}
	return nil
}

// Initial cache states a schedule starts from. The row is always at
// version 0 with token 0.
const (
	// StartEmpty: nothing cached.
	StartEmpty = "empty"
	// StartCached: the strategy has read the key (twice, so that a local
	// cache in front of Redis holds it too) before the actors start.
	StartCached = "cached"
)

// Starts returns the initial states, in the order they are explored.
func Starts() []string { return []string{StartEmpty, StartCached} }

// Choice is one decision of the scheduler: which parked actor runs next,
// and the fault, if any, injected on the step it takes.
type Choice struct {
	Actor string `json:"actor"`
	Fault string `json:"fault,omitempty"`
}

func (c Choice) String() string {
	if c.Fault == "" {
		return c.Actor
	}
	return c.Actor + "!" + c.Fault
}

// Step is one step as it ran: the actor, the point it was parked at when
// it was chosen, whether choosing it was a preemption, its fault, and the
// server commands it sent before its next point.
type Step struct {
	Actor      string   `json:"actor"`
	At         string   `json:"at"`
	Preemption bool     `json:"preemption,omitempty"`
	Fault      string   `json:"fault,omitempty"`
	Sent       []string `json:"sent,omitempty"`
}

// Schedule is a replayable interleaving: what to run (strategy or
// process, workload, initial state) and the scheduler's choices, in
// order. Replaying it runs the same choices against fresh servers; an
// anomaly explore reports must come back on every replay.
type Schedule struct {
	Strategy string            `json:"strategy"`
	Params   strategies.Params `json:"params,omitempty"`
	// Exec is the command of a strategy process (package
	// strategies/process); empty for a registered strategy.
	Exec     string   `json:"exec,omitempty"`
	Workload Workload `json:"workload"`
	Start    string   `json:"start"`
	// Wire says whether every Redis command and PostgreSQL statement was
	// a scheduling point (it changes what the choices refer to).
	Wire    bool     `json:"wire"`
	Choices []Choice `json:"choices"`

	// What the schedule showed when it was found (informational: replay
	// judges afresh).
	Steps       []Step   `json:"steps,omitempty"`
	Preemptions int      `json:"preemptions"`
	Faults      int      `json:"faults"`
	Classes     []string `json:"classes,omitempty"`
	Shape       string   `json:"shape,omitempty"`
}

// Text returns the choices in one line: "reader-1 writer-10 reader-1!lost-reply".
func (s *Schedule) Text() string {
	parts := make([]string, len(s.Choices))
	for i, c := range s.Choices {
		parts[i] = c.String()
	}
	return strings.Join(parts, " ")
}

// ReadSchedule reads a schedule file written by explore and checks it.
func ReadSchedule(path string) (*Schedule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Schedule
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("schedule %s: %w", path, err)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("schedule %s: %w", path, err)
	}
	return &s, nil
}

func (s *Schedule) validate() error {
	if s.Strategy == "" && s.Exec == "" {
		return fmt.Errorf("strategy: empty; want a registered strategy or an exec command")
	}
	if err := s.Workload.Validate(); err != nil {
		return fmt.Errorf("workload: %w", err)
	}
	if s.Start != StartEmpty && s.Start != StartCached {
		return fmt.Errorf("start %q: want %s or %s", s.Start, StartEmpty, StartCached)
	}
	if len(s.Choices) == 0 {
		return fmt.Errorf("choices: empty; want at least one")
	}
	for i, c := range s.Choices {
		if c.Actor == "" {
			return fmt.Errorf("choice %d: no actor", i)
		}
		if c.Fault != "" && !isFault(c.Fault) {
			return fmt.Errorf("choice %d: fault %q: want one of %s", i, c.Fault, strings.Join(FaultKinds(), ", "))
		}
	}
	return nil
}
