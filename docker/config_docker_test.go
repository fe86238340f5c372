package docker

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestDockerSettingsFromEnvAndFlags(t *testing.T) {
	t.Setenv(EnvPostgresImage, "registry.example.com:5000/pg:15.8")
	t.Setenv(EnvRedisImage, "")
	t.Setenv(EnvPullTimeout, "90s")
	c := ConfigFromEnv()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"-redis-image", "redis:7.2.4"}); err != nil {
		t.Fatal(err)
	}
	c.withDockerDefaults()
	if err := c.validateDocker(); err != nil {
		t.Fatal(err)
	}
	if c.PostgresImage != "registry.example.com:5000/pg:15.8" || c.RedisImage != "redis:7.2.4" || c.PullTimeout != 90*time.Second {
		t.Errorf("images %q %q, pull timeout %v", c.PostgresImage, c.RedisImage, c.PullTimeout)
	}

	var d Config
	d.withDockerDefaults()
	if d.PostgresImage != PostgresImage || d.RedisImage != RedisImage || d.PullTimeout != DefaultPullTimeout {
		t.Errorf("defaults: %q %q %v, want the pinned images and %v", d.PostgresImage, d.RedisImage, d.PullTimeout, DefaultPullTimeout)
	}
}

func TestDockerSettingsInvalid(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"image from env", map[string]string{EnvPostgresImage: "Postgres 15"}, nil,
			EnvPostgresImage + `: invalid image reference "Postgres 15" (want repository[:tag] or repository@sha256:digest`},
		{"image from flag", nil, []string{"-redis-image", "redis:"},
			`-redis-image: invalid image reference "redis:"`},
		{"pull timeout from env", map[string]string{EnvPullTimeout: "soon"}, nil,
			EnvPullTimeout + `: invalid value "soon" (want a positive duration such as 10m or 90s)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{EnvPostgresImage, EnvRedisImage, EnvPullTimeout} {
				t.Setenv(k, tt.env[k])
			}
			c := ConfigFromEnv()
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			c.RegisterFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			c.withDockerDefaults()
			err := c.validateDocker()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("validateDocker = %v, want %q", err, tt.want)
			}
		})
	}
	// A bad flag value is refused by the flag itself, and a good flag
	// overrides a bad environment value.
	t.Setenv(EnvPullTimeout, "soon")
	c := ConfigFromEnv()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"-pull-timeout", "-1s"}); err == nil || !strings.Contains(err.Error(), `invalid value "-1s"`) {
		t.Errorf("-pull-timeout -1s: %v, want refused", err)
	}
	if err := fs.Parse([]string{"-pull-timeout", "2m"}); err != nil {
		t.Fatal(err)
	}
	if err := c.validateDocker(); err != nil || c.PullTimeout != 2*time.Minute {
		t.Errorf("after -pull-timeout 2m: %v, %v", err, c.PullTimeout)
	}
}

func TestImageRefs(t *testing.T) {
	for ref, ok := range map[string]bool{
		PostgresImage: true, RedisImage: true,
		"postgres": true, "library/postgres:15": true, "ghcr.io/acme/pg:1.2-x": true,
		"localhost:5000/pg@sha256:" + strings.Repeat("a", 64): true,
		"": false, "Postgres": false, "pg:": false, "pg:tag with space": false, "pg@sha256:short": false,
	} {
		if got := imageRefRE.MatchString(ref); got != ok {
			t.Errorf("image reference %q accepted = %v, want %v", ref, got, ok)
		}
	}
}
