package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
)

func TestCatalogueIsValid(t *testing.T) {
	for _, s := range All() {
		if err := s.Validate(); err != nil {
			t.Errorf("built-in %s: %v", s.Name, err)
		}
		if s.Description == "" {
			t.Errorf("built-in %s has no description", s.Name)
		}
	}
	for _, name := range []string{"steady-read-heavy", "write-heavy-hot-key", "write-heavy-zipfian", "redis-outage", "redis-oom", "redis-latency", "lost-replies", "partition", "pg-connection-kill"} {
		if _, ok := Builtin(name); !ok {
			t.Errorf("built-in scenario %q is missing", name)
		}
	}
}

func TestParse(t *testing.T) {
	s, err := Parse([]byte(`
name: checkout
keys: 500
distribution: {kind: hotkey, hot_ops: 80, hot_keys: 5}
readers: 3
writers: 2
duration: 20s
warmup: 2s
ttl: none
seed: 7
faults:
  - {at: 5s, for: 3s, fault: redis-lost-replies}
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Keys != 500 || s.Readers != 3 || s.TTL != 0 || s.Duration.D() != 20*time.Second || len(s.Faults) != 1 || s.Faults[0].For.D() != 3*time.Second {
		t.Errorf("parsed %+v", s)
	}
	if s.Timeouts.Redis == 0 || len(s.Probe.Offsets) != 5 || s.Postgres.SynchronousCommit != "on" {
		t.Errorf("defaults not filled: %+v", s)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	for in, want := range map[string]string{
		"keys: 0\nreaders: 1\nduration: 1s":                                                 "keys = 0: want 1 to 10000000",
		"keys: 1\nreaders: 1\nduration: 1s\nwarmup: 2s":                                     "warmup = 2s: want at least 0 and less than duration",
		"keys: 1\nreaders: 1\nduration: 1s\ndistribution: {kind: x}":                        `distribution.kind = "x": want uniform, zipfian or hotkey`,
		"keys: 1\nreaders: 1\nduration: ten":                                                `duration "ten": want a value such as 250ms, 10s or none`,
		"keys: 1\nreaderz: 1\nduration: 1s":                                                 "field readerz not found",
		"keys: 1\nrate: 10\nreaders: 1\nduration: 1s":                                       "readers/writers = 1/0: want 0 with rate",
		"keys: 1\nreaders: 1\nduration: 1s\nfaults: [{at: 2s, for: 1s, fault: redis-down}]": "faults[0].at = 2s",
		"keys: 1\nreaders: 1\nduration: 1s\npostgres: {synchronous_commit: maybe}":          `postgres.synchronous_commit = "maybe"`,
	} {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestLoadUnknownName(t *testing.T) {
	_, err := Load("steady")
	if err == nil || !strings.Contains(err.Error(), "built-in: ") || !strings.Contains(err.Error(), "steady-read-heavy") {
		t.Errorf("Load(unknown) = %v, want the built-in names listed", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("keys: 10\nreaders: 1\nduration: 1s"))
	f.Add([]byte("keys: 10\nrate: 100\nread_ratio: 0.5\nduration: 2s\nttl: none"))
	f.Add([]byte("faults: [{at: 1s, for: 1s, fault: x, params: {a: b}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Errorf("Parse accepted a scenario that Validate rejects: %v", err)
		}
	})
}

func TestKeyChooser(t *testing.T) {
	const keys, n = 1000, 100_000
	for _, d := range []Distribution{{Kind: "uniform"}, {Kind: "zipfian", S: 1.1}, {Kind: "hotkey", HotOps: 90, HotKeys: 1}} {
		a := NewKeyChooser(d, keys, NewRand(3, 1))
		b := NewKeyChooser(d, keys, NewRand(3, 1))
		hot := 0
		for i := 0; i < n; i++ {
			ka, kb := a(), b()
			if ka != kb {
				t.Fatalf("%s: same seed, different keys at %d: %d vs %d", d.Kind, i, ka, kb)
			}
			if ka < 0 || ka >= keys {
				t.Fatalf("%s: key %d out of range", d.Kind, ka)
			}
			if ka < gb.Key(keys/100) {
				hot++
			}
		}
		frac := float64(hot) / n
		switch d.Kind {
		case "hotkey": // 90% of operations on 1% of the keys
			if frac < 0.89 || frac > 0.91 {
				t.Errorf("hotkey: %.3f of operations on the hot 1%%, want 0.90", frac)
			}
		case "uniform":
			if frac < 0.008 || frac > 0.012 {
				t.Errorf("uniform: %.3f of operations on 1%% of keys, want 0.01", frac)
			}
		case "zipfian": // skewed towards low keys
			if frac < 0.3 {
				t.Errorf("zipfian: only %.3f of operations on the first 1%% of keys", frac)
			}
		}
	}
}

// TestLoadBounded: a scenario path that never ends (/dev/zero) or a file
// over the limit is refused at once, naming the limit.
func TestLoadBounded(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err == nil {
		_, err := Load("/dev/zero")
		if err == nil || !strings.Contains(err.Error(), "1 MiB") {
			t.Errorf("Load(/dev/zero): got %v, want an error naming the 1 MiB limit", err)
		}
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	data := "description: " + strings.Repeat("x", MaxFileSize) + "\n"
	if err := os.WriteFile(big, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("Load(2 MiB file): got %v, want an error naming the 1 MiB limit", err)
	}
}

// TestParseRejects: input that cannot be honoured is an error naming the
// field, never silently changed or ignored.
func TestParseRejects(t *testing.T) {
	base := "keys: 10\nreaders: 1\nwriters: 1\nduration: 2s\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"second document", base + "---\nkeys: 20\n", "second YAML document"},
		{"NaN rate", "keys: 10\nrate: .nan\nduration: 2s\n", "rate"},
		{"infinite read ratio", "keys: 10\nrate: 100\nread_ratio: .inf\nduration: 2s\n", "read_ratio"},
		{"NaN zipf s", base + "distribution: {kind: zipfian, s: .nan}\n", "distribution.s"},
		{"long description", base + "description: " + strings.Repeat("d", MaxDescriptionLen+1) + "\n", "description"},
		{"long name", base + "name: " + strings.Repeat("n", MaxNameLen+1) + "\n", "name"},
		{"control character in name", base + "name: \"a\\x1bb\"\n", "name"},
		{"duration too long", "keys: 10\nreaders: 1\nwriters: 1\nduration: 100000h\n", "duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
	if _, err := Parse([]byte(base)); err != nil {
		t.Errorf("valid scenario: %v", err)
	}
}

// FuzzParseDuration: a duration ParseDuration accepts is never
// negative and reads back as itself from its String form.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"10s", "250ms", "none", "0", "", "-2s", "-0s", "1h2m3.5s", "100000h", "9223372036854775807ns", "1e3s", " 5s ", "NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if d != 0 {
				t.Fatalf("ParseDuration(%q) = %v with error %v; want 0", s, d, err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v: negative accepted", s, d)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v, whose String %q reads back as %v, %v", s, d, d.String(), back, err)
		}
	})
}

func TestParseDurationNegative(t *testing.T) {
	for _, s := range []string{"-2s", "-1ns", "-1h"} {
		if _, err := ParseDuration(s); err == nil || !strings.Contains(err.Error(), "negative") {
			t.Errorf("ParseDuration(%q) = %v, want an error saying negative", s, err)
		}
	}
}
