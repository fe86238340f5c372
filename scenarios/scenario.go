// Package scenarios defines workloads: how many keys, how they are chosen,
// the read/write mix, closed-loop concurrency or an open-loop target rate,
// duration, warm-up, TTL, seed, client timeouts and the fault schedule. A
// scenario is plain data: it comes from the built-in catalogue or from a
// YAML file, and Validate names the field, the value and what is allowed
// when something is wrong.
package scenarios

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"math"
	"unicode"

	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Scenario is one workload.
type Scenario struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`

	// Keys is the number of rows (and cache keys).
	Keys int `yaml:"keys" json:"keys"`
	// Distribution chooses the key of each operation.
	Distribution Distribution `yaml:"distribution" json:"distribution"`

	// Closed loop: Readers goroutines read and Writers goroutines write,
	// each as fast as the servers answer (WriteInterval between writes).
	Readers int `yaml:"readers" json:"readers"`
	Writers int `yaml:"writers" json:"writers"`
	// WriteInterval is a pause between one writer's writes (0: none).
	WriteInterval Duration `yaml:"write_interval" json:"write_interval"`

	// Instances is the number of application instances: independent
	// strategy objects, each with its own clients and in-process state, as
	// K application servers sharing PostgreSQL and Redis. Workers are
	// dealt to them round-robin (the run records the assignment). 0 or 1:
	// one instance.
	Instances int `yaml:"instances" json:"instances,omitempty"`

	// Open loop: Rate operations per second in total, ReadRatio of them
	// reads, at most Concurrency in flight. Rate > 0 selects open loop;
	// latency is then measured from each operation's intended start.
	Rate        float64 `yaml:"rate" json:"rate,omitempty"`
	ReadRatio   float64 `yaml:"read_ratio" json:"read_ratio,omitempty"`
	Concurrency int     `yaml:"concurrency" json:"concurrency,omitempty"`

	Duration Duration `yaml:"duration" json:"duration"`
	Warmup   Duration `yaml:"warmup" json:"warmup"`
	// TTL is put on every cache entry; 0 (written "none") means none.
	TTL  Duration `yaml:"ttl" json:"ttl"`
	Seed int64    `yaml:"seed" json:"seed"`

	// Timeouts bound every client call so that a fault shows up as an
	// error, not as a hung run.
	Timeouts Timeouts `yaml:"timeouts" json:"timeouts"`

	// Probe configures the convergence prober.
	Probe Probe `yaml:"probe" json:"probe"`

	// Postgres holds PostgreSQL session settings that change results
	// (the runner sets them on each of its connections).
	Postgres SessionSettings `yaml:"postgres" json:"postgres"`

	// Faults is the fault schedule.
	Faults []FaultStep `yaml:"faults" json:"faults,omitempty"`

	// Topology is the servers the scenario needs: single (also when
	// empty), pg-replica, redis-replica or redis-cluster. The -topology
	// flag overrides it.
	Topology string `yaml:"topology" json:"topology,omitempty"`
}

// topologies are the values Scenario.Topology allows (docker.Topologies).
var topologies = []string{"single", "pg-replica", "redis-replica", "redis-cluster"}

// Distribution chooses keys.
type Distribution struct {
	// Kind is "uniform", "zipfian" or "hotkey".
	Kind string `yaml:"kind" json:"kind"`
	// S is the zipfian exponent (> 1; 1.1 is a common choice).
	S float64 `yaml:"s" json:"s,omitempty"`
	// HotOps percent of operations go to HotKeys percent of the keys
	// (hotkey).
	HotOps  float64 `yaml:"hot_ops" json:"hot_ops,omitempty"`
	HotKeys float64 `yaml:"hot_keys" json:"hot_keys,omitempty"`
}

// Timeouts bound client calls.
type Timeouts struct {
	// Redis is go-redis's dial, read and write timeout.
	Redis Duration `yaml:"redis" json:"redis"`
	// Postgres bounds each database call (connect and statement).
	Postgres Duration `yaml:"postgres" json:"postgres"`
	// Op bounds one whole strategy call (0: no bound beyond the above).
	Op Duration `yaml:"op" json:"op"`
}

// Probe configures the convergence prober (DESIGN.md section 4).
type Probe struct {
	// Offsets after commit-ack at which a sampled write's cache entry is
	// read; default 1ms, 10ms, 100ms, 1s, 10s.
	Offsets []Duration `yaml:"offsets" json:"offsets"`
	// PerSecond caps how many writes are sampled per second (0: 200).
	PerSecond int `yaml:"per_second" json:"per_second"`
}

// SessionSettings are the PostgreSQL settings a scenario may fix for the
// runner's sessions (not the server's: those are docker.PostgresSettings).
type SessionSettings struct {
	// SynchronousCommit is "on" (default) or "off".
	SynchronousCommit string `yaml:"synchronous_commit" json:"synchronous_commit"`
}

// FaultStep schedules one fault: injected at At after the run's start
// (warm-up included), healed For later.
type FaultStep struct {
	At     Duration          `yaml:"at" json:"at"`
	For    Duration          `yaml:"for" json:"for"`
	Fault  string            `yaml:"fault" json:"fault"`
	Params map[string]string `yaml:"params" json:"params,omitempty"`
}

// OpenLoop reports whether the scenario paces operations at a target rate.
func (s *Scenario) OpenLoop() bool { return s.Rate > 0 }

// Defaults fills zero fields with defaults.
func (s *Scenario) Defaults() {
	if s.Distribution.Kind == "" {
		s.Distribution.Kind = "uniform"
	}
	if s.Distribution.Kind == "zipfian" && s.Distribution.S == 0 {
		s.Distribution.S = 1.1
	}
	if s.Timeouts.Redis == 0 {
		s.Timeouts.Redis = Duration(500 * time.Millisecond)
	}
	if s.Timeouts.Postgres == 0 {
		s.Timeouts.Postgres = Duration(2 * time.Second)
	}
	if len(s.Probe.Offsets) == 0 {
		s.Probe.Offsets = []Duration{
			Duration(time.Millisecond), Duration(10 * time.Millisecond),
			Duration(100 * time.Millisecond), Duration(time.Second), Duration(10 * time.Second),
		}
	}
	if s.Probe.PerSecond == 0 {
		s.Probe.PerSecond = 200
	}
	if s.Postgres.SynchronousCommit == "" {
		s.Postgres.SynchronousCommit = "on"
	}
	if s.OpenLoop() && s.Concurrency == 0 {
		s.Concurrency = 64
	}
}

// Limits on scenario input: a scenario is small, human-written data, and a
// file or field beyond these is a mistake (or /dev/zero), not a workload.
const (
	// MaxFileSize is the largest scenario file Load reads.
	MaxFileSize = 1 << 20
	// MaxNameLen and MaxDescriptionLen bound the name and description
	// (in bytes): both are echoed into every run.json and report.
	MaxNameLen        = 100
	MaxDescriptionLen = 4096
	// MaxDuration bounds a run's duration; load and fault tests must stop
	// by themselves.
	MaxDuration = 24 * time.Hour
)

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Validate returns an error naming the first field whose value is not
// allowed, its value and what is allowed.
func (s *Scenario) Validate() error {
	bad := func(field string, v any, allowed string) error {
		name := s.Name
		if len(name) > MaxNameLen {
			name = name[:MaxNameLen] + "..."
		}
		return fmt.Errorf("scenario %s: %s = %v: %s", name, field, v, allowed)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"rate", s.Rate}, {"read_ratio", s.ReadRatio}, {"distribution.s", s.Distribution.S},
		{"distribution.hot_ops", s.Distribution.HotOps}, {"distribution.hot_keys", s.Distribution.HotKeys}} {
		if !finite(f.v) {
			return bad(f.name, f.v, "want a finite number")
		}
	}
	switch {
	case len(s.Name) > MaxNameLen:
		return bad("name", fmt.Sprintf("(%d bytes)", len(s.Name)), fmt.Sprintf("want at most %d bytes", MaxNameLen))
	case strings.ContainsFunc(s.Name, func(r rune) bool { return !unicode.IsPrint(r) }):
		return bad("name", strconv.Quote(s.Name), "want printable characters only")
	case len(s.Description) > MaxDescriptionLen:
		return bad("description", fmt.Sprintf("(%d bytes)", len(s.Description)), fmt.Sprintf("want at most %d bytes", MaxDescriptionLen))
	case s.Duration > Duration(MaxDuration):
		return bad("duration", s.Duration, fmt.Sprintf("want at most %s", MaxDuration))
	case s.Keys < 1 || s.Keys > 10_000_000:
		return bad("keys", s.Keys, "want 1 to 10000000")
	case s.Duration <= 0:
		return bad("duration", s.Duration, "want a positive duration such as 10s")
	case s.Warmup < 0 || s.Warmup >= s.Duration:
		return bad("warmup", s.Warmup, "want at least 0 and less than duration")
	case s.TTL < 0:
		return bad("ttl", s.TTL, "want a positive duration or none")
	case s.Timeouts.Redis < 0, s.Timeouts.Postgres < 0, s.Timeouts.Op < 0:
		return bad("timeouts", s.Timeouts, "want non-negative durations")
	case s.WriteInterval < 0:
		return bad("write_interval", s.WriteInterval, "want a non-negative duration")
	case s.Instances < 0 || s.Instances > 64:
		return bad("instances", s.Instances, "want 1 to 64 (0 means 1)")
	case s.Postgres.SynchronousCommit != "on" && s.Postgres.SynchronousCommit != "off":
		return bad("postgres.synchronous_commit", strconv.Quote(s.Postgres.SynchronousCommit), `want "on" or "off"`)
	}
	if s.OpenLoop() {
		switch {
		case s.Rate > 1_000_000:
			return bad("rate", s.Rate, "want at most 1000000 operations per second")
		case s.ReadRatio < 0 || s.ReadRatio > 1:
			return bad("read_ratio", s.ReadRatio, "want a fraction from 0 to 1")
		case s.Concurrency < 1 || s.Concurrency > 4096:
			return bad("concurrency", s.Concurrency, "want 1 to 4096")
		case s.Readers != 0 || s.Writers != 0:
			return bad("readers/writers", fmt.Sprintf("%d/%d", s.Readers, s.Writers), "want 0 with rate (open loop); use concurrency")
		}
	} else {
		switch {
		case s.Rate < 0:
			return bad("rate", s.Rate, "want a positive rate (open loop) or 0 (closed loop)")
		case s.Readers < 0 || s.Readers > 4096:
			return bad("readers", s.Readers, "want 0 to 4096")
		case s.Writers < 0 || s.Writers > 4096:
			return bad("writers", s.Writers, "want 0 to 4096")
		case s.Readers+s.Writers == 0:
			return bad("readers+writers", 0, "want at least one reader or writer (or a rate for open loop)")
		}
	}
	if err := s.Distribution.validate(s.Name); err != nil {
		return err
	}
	if s.Topology != "" && !slices.Contains(topologies, s.Topology) {
		return bad("topology", strconv.Quote(s.Topology), "want one of "+strings.Join(topologies, ", "))
	}
	for i, o := range s.Probe.Offsets {
		if o <= 0 {
			return bad(fmt.Sprintf("probe.offsets[%d]", i), o, "want a positive duration")
		}
	}
	if s.Probe.PerSecond < 0 {
		return bad("probe.per_second", s.Probe.PerSecond, "want a non-negative count")
	}
	for i, f := range s.Faults {
		field := fmt.Sprintf("faults[%d]", i)
		switch {
		case f.Fault == "":
			return bad(field+".fault", `""`, "want a fault name (ghostbench list shows them)")
		case f.At < 0 || f.At >= s.Duration:
			return bad(field+".at", f.At, "want at least 0 and less than duration")
		case f.For <= 0:
			return bad(field+".for", f.For, "want a positive duration")
		}
	}
	return nil
}

func (d Distribution) validate(name string) error {
	switch d.Kind {
	case "uniform":
	case "zipfian":
		if d.S <= 1 || d.S > 10 {
			return fmt.Errorf("scenario %s: distribution.s = %v: want more than 1 and at most 10 (zipfian exponent)", name, d.S)
		}
	case "hotkey":
		if d.HotOps <= 0 || d.HotOps > 100 {
			return fmt.Errorf("scenario %s: distribution.hot_ops = %v: want a percentage of operations in (0, 100]", name, d.HotOps)
		}
		if d.HotKeys <= 0 || d.HotKeys > 100 {
			return fmt.Errorf("scenario %s: distribution.hot_keys = %v: want a percentage of keys in (0, 100]", name, d.HotKeys)
		}
	default:
		return fmt.Errorf("scenario %s: distribution.kind = %q: want uniform, zipfian or hotkey", name, d.Kind)
	}
	return nil
}

// Parse decodes a scenario from YAML, fills defaults and validates it.
// Unknown fields are errors (a misspelt field must not be ignored).
func Parse(data []byte) (*Scenario, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("scenario: %d bytes: want at most %d bytes (1 MiB)", len(data), MaxFileSize)
	}
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		// yaml.v3 puts each problem on a line of its own: one line here.
		return nil, fmt.Errorf("scenario: %s", oneLine(err.Error()))
	}
	// A zipfian s written as 0 is a value, not a field left out: it is
	// refused rather than replaced by the default.
	var given struct {
		Distribution map[string]any `yaml:"distribution"`
	}
	if yaml.Unmarshal(data, &given) == nil && s.Distribution.Kind == "zipfian" && s.Distribution.S == 0 {
		if _, ok := given.Distribution["s"]; ok {
			return nil, fmt.Errorf("scenario %s: distribution.s = 0: want more than 1 and at most 10 (zipfian exponent), or leave it out for 1.1", cmp.Or(s.Name, "custom"))
		}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, errors.New("scenario: a second YAML document follows the first: want exactly one document per file")
	}
	if s.Name == "" {
		s.Name = "custom"
	}
	s.Defaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// oneLine joins the lines of a message with "; ".
func oneLine(msg string) string {
	var parts []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, strings.TrimSuffix(l, ":"))
		}
	}
	return strings.Join(parts, ": ")
}

// Load returns the built-in scenario called nameOrPath, or else parses the
// file at that path. The error for an unknown name lists the built-in ones.
func Load(nameOrPath string) (*Scenario, error) {
	if s, ok := Builtin(nameOrPath); ok {
		return s, nil
	}
	if !strings.ContainsAny(nameOrPath, "/.") {
		return nil, fmt.Errorf("scenario %q: not a built-in name nor a file; built-in: %s", nameOrPath, strings.Join(Names(), ", "))
	}
	data, err := readBounded(nameOrPath, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("scenario file: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameOrPath, err)
	}
	return s, nil
}

// Duration is a time.Duration written as "250ms", "10s" or "none" (zero) in
// YAML and JSON.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns "none" for zero, else time.Duration's form.
func (d Duration) String() string {
	if d == 0 {
		return "none"
	}
	return time.Duration(d).String()
}

// ParseDuration parses "none", "0" or a time.ParseDuration string; a
// negative duration is an error.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "none" || s == "0" || s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a value such as 250ms, 10s or none", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q: negative; want 0 (none) or more, such as 250ms or 10s", s)
	}
	return Duration(d), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalText implements encoding.TextMarshaler (used by JSON).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// readBounded reads the file at path, failing as soon as it holds more
// than limit bytes (a device such as /dev/zero never ends).
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes (1 MiB), the limit for a scenario file", path, limit)
	}
	return data, nil
}
