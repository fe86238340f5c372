package docker

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSettingsDefaults(t *testing.T) {
	if got, want := (PostgresSettings{}).withDefaults(), DefaultPostgresSettings(); got != want {
		t.Errorf("zero PostgresSettings with defaults = %+v, want %+v", got, want)
	}
	if got, want := (RedisSettings{}).withDefaults(), DefaultRedisSettings(); got != want {
		t.Errorf("zero RedisSettings with defaults = %+v, want %+v", got, want)
	}
	d := DefaultPostgresSettings()
	if d.Fsync || d.SynchronousCommit != "on" || d.WALLevel != "logical" || d.MaxConnections != 200 {
		t.Errorf("DefaultPostgresSettings() = %+v, want fsync off, synchronous_commit on, wal_level logical, max_connections 200", d)
	}
}

func TestPostgresSettingsArgs(t *testing.T) {
	tests := []struct {
		in   PostgresSettings
		want []string
	}{
		{DefaultPostgresSettings(), []string{"fsync=off", "synchronous_commit=on", "wal_level=logical",
			"max_wal_senders=10", "max_replication_slots=10", "max_connections=200"}},
		{PostgresSettings{Fsync: true, SynchronousCommit: "off", WALLevel: "minimal", MaxConnections: 50},
			[]string{"fsync=on", "synchronous_commit=off", "wal_level=minimal",
				"max_wal_senders=0", "max_replication_slots=0", "max_connections=50"}},
	}
	for _, tt := range tests {
		if got := tt.in.args(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v.args() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	pg := func(f func(*PostgresSettings)) PostgresSettings {
		s := DefaultPostgresSettings()
		f(&s)
		return s
	}
	rd := func(f func(*RedisSettings)) RedisSettings {
		s := DefaultRedisSettings()
		f(&s)
		return s
	}
	tests := []struct {
		name    string
		err     error
		wantSub string // "" means valid
	}{
		{"pg defaults", DefaultPostgresSettings().validate(), ""},
		{"pg sync off", pg(func(s *PostgresSettings) { s.SynchronousCommit = "off" }).validate(), ""},
		{"pg sync bad", pg(func(s *PostgresSettings) { s.SynchronousCommit = "maybe" }).validate(), "synchronous_commit"},
		{"pg wal bad", pg(func(s *PostgresSettings) { s.WALLevel = "archive" }).validate(), "wal_level"},
		{"pg conns bad", pg(func(s *PostgresSettings) { s.MaxConnections = -1 }).validate(), "max_connections"},
		{"redis defaults", DefaultRedisSettings().validate(), ""},
		{"redis 0", rd(func(s *RedisSettings) { s.MaxMemory = "0" }).validate(), ""},
		{"redis 256MB", rd(func(s *RedisSettings) { s.MaxMemory = "256MB" }).validate(), ""},
		{"redis mem bad", rd(func(s *RedisSettings) { s.MaxMemory = "lots" }).validate(), "maxmemory"},
		{"redis policy bad", rd(func(s *RedisSettings) { s.MaxMemoryPolicy = "lru" }).validate(), "maxmemory-policy"},
	}
	for _, tt := range tests {
		switch {
		case tt.wantSub == "" && tt.err != nil:
			t.Errorf("%s: unexpected error %v", tt.name, tt.err)
		case tt.wantSub != "" && (tt.err == nil || !strings.Contains(tt.err.Error(), tt.wantSub)):
			t.Errorf("%s: error %v, want one naming %q", tt.name, tt.err, tt.wantSub)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(EnvProvider, "local")
	t.Setenv(EnvPostgresURL, " postgres://u@h/db ")
	t.Setenv(EnvRedisURL, "redis://h:1/0")
	c := ConfigFromEnv()
	if c.Provider != "local" || c.PostgresURL != "postgres://u@h/db" || c.RedisURL != "redis://h:1/0" {
		t.Errorf("ConfigFromEnv() = %+v", c)
	}
	if c.Postgres != DefaultPostgresSettings() || c.Redis != DefaultRedisSettings() {
		t.Errorf("ConfigFromEnv() settings = %+v %+v, want defaults", c.Postgres, c.Redis)
	}
	if got := c.settingName("redis-url"); got != EnvRedisURL {
		t.Errorf("settingName(redis-url) = %q, want %q", got, EnvRedisURL)
	}
}

func TestRegisterFlags(t *testing.T) {
	t.Setenv(EnvRedisURL, "redis://:envsecret@h:1/0")
	t.Setenv(EnvPostgresURL, "")
	t.Setenv(EnvProvider, "")
	c := ConfigFromEnv()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var usage bytes.Buffer
	fs.SetOutput(&usage)
	c.RegisterFlags(fs)
	fs.PrintDefaults()
	if strings.Contains(usage.String(), "envsecret") {
		t.Errorf("usage shows the password of the default URL:\n%s", usage.String())
	}
	err := fs.Parse([]string{"-provider", "local", "-postgres-url", "postgres://u:pw@h/db",
		"-pg-fsync", "-pg-synchronous-commit", "off", "-pg-wal-level", "replica", "-pg-max-connections", "77",
		"-redis-maxmemory", "64mb", "-redis-maxmemory-policy", "noeviction"})
	if err != nil {
		t.Fatal(err)
	}
	want := PostgresSettings{Fsync: true, SynchronousCommit: "off", WALLevel: "replica", MaxConnections: 77}
	if c.Provider != "local" || c.PostgresURL != "postgres://u:pw@h/db" || c.RedisURL != "redis://:envsecret@h:1/0" ||
		c.Postgres != want || c.Redis != (RedisSettings{MaxMemory: "64mb", MaxMemoryPolicy: "noeviction"}) {
		t.Errorf("after parsing: %+v", c)
	}
	if got := c.settingName("postgres-url"); got != "-postgres-url" {
		t.Errorf("settingName(postgres-url) = %q, want -postgres-url (set by flag)", got)
	}
	if got := c.settingName("redis-url"); got != EnvRedisURL {
		t.Errorf("settingName(redis-url) = %q, want %s (from the environment)", got, EnvRedisURL)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"postgres://u:pw@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u@h:5432/db", "postgres://u@h:5432/db"},
		{"redis://:pw@h:6379/0", "redis://:xxxxx@h:6379/0"},
		{"redis://default:p%40ss@h:6379/0", "redis://default:xxxxx@h:6379/0"},
		{"redis://h:6379/0", "redis://h:6379/0"},
		// Malformed: the password is still found.
		{"postgres://u:p w%zz@h:bad/db", "postgres://u:xxxxx@h:bad/db"},
		{"host=h user=u password=secret dbname=d", "host=h user=u password=xxxxx dbname=d"},
		{"xx", "xx"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestScrubError(t *testing.T) {
	err := scrubError(&os.PathError{Op: "dial", Path: "redis://:p%40ss@h/0 and postgres://u:hunter2@h/db", Err: context.Canceled})
	if msg := err.Error(); strings.Contains(msg, "p%40ss") || strings.Contains(msg, "hunter2") {
		t.Errorf("scrubbed error still holds a password: %s", msg)
	}
	if want := "dial redis://:xxxxx@h/0 and postgres://u:xxxxx@h/db: context canceled"; err.Error() != want {
		t.Errorf("scrubbed error %q, want %q", err, want)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("scrubbed error no longer matches context.Canceled")
	}
}

// TestScrubKeepsText: masking works on the URLs' parts, never on the
// password's text wherever it appears: a password "e", or one equal to
// the database's name, leaves the rest of a message as it was.
func TestScrubKeepsText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"external provider: postgres://u:e@h:5432/db?sslmode=disable: refused",
			"external provider: postgres://u:xxxxx@h:5432/db?sslmode=disable: refused"},
		{"database ghostbench does not exist (postgres://ghostbench:ghostbench@h/ghostbench)",
			"database ghostbench does not exist (postgres://ghostbench:xxxxx@h/ghostbench)"},
		{"host=h user=u password=e dbname=e", "host=h user=u password=xxxxx dbname=e"},
		{"no URL here, e and ghostbench", "no URL here, e and ghostbench"},
	} {
		if got := scrub(tt.in); got != tt.want {
			t.Errorf("scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"postgres://u:e@h:bad%zz/external", "postgres://u:xxxxx@h:bad%zz/external"},
		{"postgres://db:db@h:bad/db%zz", "postgres://db:xxxxx@h:bad/db%zz"},
	} {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestProvisionBadSettings checks that every setting the user can get
// wrong gives one clear line naming the setting, quickly, without a
// password in it.
func TestProvisionBadSettings(t *testing.T) {
	emptyPath := t.TempDir()
	tests := []struct {
		name     string
		cfg      Config
		env      map[string]string
		wantSubs []string
	}{
		{name: "unknown provider", cfg: Config{Provider: "cloud"},
			wantSubs: []string{EnvProvider, `unknown provider "cloud"`}},
		{name: "malformed redis URL", cfg: Config{PostgresURL: "postgres://u@127.0.0.1:1/db", RedisURL: "xx"},
			wantSubs: []string{EnvRedisURL + `: malformed URL "xx"`}},
		{name: "malformed postgres URL with password", cfg: Config{PostgresURL: "postgres://u:topsecret@h:port/db", RedisURL: "redis://127.0.0.1:1/0"},
			wantSubs: []string{EnvPostgresURL + `: malformed URL "postgres://u:xxxxx@h:port/db"`}},
		{name: "wrong scheme", cfg: Config{PostgresURL: "mysql://u:topsecret@h:1/db", RedisURL: "redis://127.0.0.1:1/0"},
			wantSubs: []string{EnvPostgresURL, "scheme must be postgres://"}},
		{name: "only redis URL", cfg: Config{RedisURL: "redis://:topsecret@127.0.0.1:1/0"},
			wantSubs: []string{EnvPostgresURL + " is not set"}},
		{name: "only postgres URL", cfg: Config{PostgresURL: "postgres://u:topsecret@127.0.0.1:1/db"},
			wantSubs: []string{EnvRedisURL + " is not set"}},
		{name: "external forced without URLs", cfg: Config{Provider: "external"},
			wantSubs: []string{EnvProvider + "=external", EnvPostgresURL}},
		{name: "unreachable postgres", cfg: Config{PostgresURL: "postgres://u:topsecret@127.0.0.1:1/db", RedisURL: "redis://:topsecret@127.0.0.1:1/0"},
			wantSubs: []string{EnvPostgresURL + ": cannot use postgres at postgres://u:xxxxx@127.0.0.1:1/db", EnvRedisURL + ": cannot use redis at redis://:xxxxx@127.0.0.1:1/0"}},
		{name: "local without redis-server", cfg: Config{Provider: "local"}, env: map[string]string{"PATH": emptyPath},
			wantSubs: []string{EnvProvider + "=local: redis-server not found", "make deps", EnvRedisURL}},
		{name: "bad setting", cfg: Config{Provider: "local", Postgres: PostgresSettings{WALLevel: "archive"}},
			wantSubs: []string{"wal_level", "archive"}},
	}
	if _, err := pingDocker(context.Background()); err != nil {
		tests = append(tests, struct {
			name     string
			cfg      Config
			env      map[string]string
			wantSubs []string
		}{name: "docker forced without engine", cfg: Config{Provider: "docker"},
			wantSubs: []string{EnvProvider + "=docker: no Docker engine "}})
	} else {
		t.Log("a Docker engine is reachable: not testing the docker provider's absence")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Settings come from the environment, as for a user.
			t.Setenv(EnvProvider, tt.cfg.Provider)
			t.Setenv(EnvPostgresURL, tt.cfg.PostgresURL)
			t.Setenv(EnvRedisURL, tt.cfg.RedisURL)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg := ConfigFromEnv()
			if tt.cfg.Postgres != (PostgresSettings{}) {
				cfg.Postgres = tt.cfg.Postgres
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			s, err := Provision(ctx, cfg)
			if err == nil {
				s.Close()
				t.Fatalf("Provision succeeded, want an error")
			}
			msg := err.Error()
			t.Logf("error after %v: %s", time.Since(start).Round(time.Millisecond), msg)
			for _, sub := range tt.wantSubs {
				if !strings.Contains(msg, sub) {
					t.Errorf("error lacks %q", sub)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines")
			}
			if strings.Contains(msg, "topsecret") {
				t.Errorf("error shows the password")
			}
			if d := time.Since(start); d > 7*time.Second {
				t.Errorf("error took %v", d)
			}
		})
	}
}

func TestSettingNameWithoutEnvironment(t *testing.T) {
	t.Setenv(EnvRedisURL, "")
	c := Config{RedisURL: "xx"}
	_, err := Provision(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "Config.RedisURL") {
		t.Errorf("Provision(Config{RedisURL: \"xx\"}) = %v, want an error naming Config.RedisURL", err)
	}
}

func TestFindLocalPostgresFallback(t *testing.T) {
	// With a PATH holding neither postgres nor pg_config, the binaries
	// are still found under /usr/lib/postgresql when they are there.
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(matches) == 0 {
		t.Skip("no /usr/lib/postgresql/*/bin/postgres on this machine")
	}
	t.Setenv("PATH", t.TempDir())
	dir, ok := findPostgresBin()
	if !ok || !strings.HasPrefix(dir, "/usr/lib/postgresql/") {
		t.Errorf("findPostgresBin() = %q, %v; want a /usr/lib/postgresql/*/bin directory", dir, ok)
	}
}
