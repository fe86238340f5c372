package docker

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

// Environment variables of the docker provider, read by ConfigFromEnv.
const (
	EnvPostgresImage = "GHOSTBENCH_POSTGRES_IMAGE"
	EnvRedisImage    = "GHOSTBENCH_REDIS_IMAGE"
	EnvPullTimeout   = "GHOSTBENCH_PULL_TIMEOUT"
)

// dockerFromEnv reads the docker provider's settings from the environment,
// and points Progress at standard error when that is a terminal.
func (c *Config) dockerFromEnv() {
	if v := strings.TrimSpace(os.Getenv(EnvPostgresImage)); v != "" {
		c.PostgresImage = v
		c.origin["postgres-image"] = EnvPostgresImage
	}
	if v := strings.TrimSpace(os.Getenv(EnvRedisImage)); v != "" {
		c.RedisImage = v
		c.origin["redis-image"] = EnvRedisImage
	}
	if v := strings.TrimSpace(os.Getenv(EnvPullTimeout)); v != "" {
		c.origin["pull-timeout"] = EnvPullTimeout
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			c.envErr = fmt.Errorf("%s: invalid value %q (want a positive duration such as 10m or 90s)", EnvPullTimeout, v)
		} else {
			c.PullTimeout = d
		}
	}
	if isTerminal(os.Stderr) {
		c.Progress = os.Stderr
	}
}

// isTerminal reports whether f is a character device, as terminals are.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// registerDockerFlags defines -postgres-image, -redis-image and
// -pull-timeout.
func (c *Config) registerDockerFlags(fs *flag.FlagSet) {
	if c.PostgresImage == "" {
		c.PostgresImage = PostgresImage
	}
	if c.RedisImage == "" {
		c.RedisImage = RedisImage
	}
	if c.PullTimeout == 0 {
		c.PullTimeout = DefaultPullTimeout
	}
	fs.Var(&stringFlag{p: &c.PostgresImage, key: "postgres-image", origin: c.origin}, "postgres-image",
		"PostgreSQL image of the docker provider (default from "+EnvPostgresImage+", else the pinned "+PostgresImage+")")
	fs.Var(&stringFlag{p: &c.RedisImage, key: "redis-image", origin: c.origin}, "redis-image",
		"Redis image of the docker provider (default from "+EnvRedisImage+", else the pinned "+RedisImage+")")
	fs.Var(&durationFlag{p: &c.PullTimeout, key: "pull-timeout", origin: c.origin, envErr: &c.envErr}, "pull-timeout",
		"longest wait for the docker provider's image pulls, all together (default from "+EnvPullTimeout+", else "+DefaultPullTimeout.String()+")")
}

// durationFlag is a positive duration flag that records that the user set
// it, and overrides an invalid environment value.
type durationFlag struct {
	p      *time.Duration
	key    string
	origin map[string]string
	envErr *error
}

func (f *durationFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return f.p.String()
}

func (f *durationFlag) Set(v string) error {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return fmt.Errorf("invalid value %q (want a positive duration such as 10m or 90s)", v)
	}
	*f.p = d
	f.origin[f.key] = "-" + f.key
	if f.envErr != nil {
		*f.envErr = nil
	}
	return nil
}

// imageRefRE matches an image reference: [registry[:port]/]path[:tag][@digest].
var imageRefRE = regexp.MustCompile(`^([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$`)

// withDockerDefaults fills in the docker provider's defaults.
func (c *Config) withDockerDefaults() {
	if c.PostgresImage == "" {
		c.PostgresImage = PostgresImage
	}
	if c.RedisImage == "" {
		c.RedisImage = RedisImage
	}
	if c.PullTimeout == 0 {
		c.PullTimeout = DefaultPullTimeout
	}
}

// validateDocker reports the first invalid docker provider setting, naming
// it as the user gave it. It expects defaults applied.
func (c *Config) validateDocker() error {
	if c.envErr != nil {
		return c.envErr
	}
	for _, s := range []struct{ key, value string }{{"postgres-image", c.PostgresImage}, {"redis-image", c.RedisImage}} {
		if !imageRefRE.MatchString(s.value) {
			return fmt.Errorf("%s: invalid image reference %q (want repository[:tag] or repository@sha256:digest, e.g. %s)", c.settingName(s.key), s.value, PostgresImage)
		}
	}
	if c.PullTimeout < 0 {
		return fmt.Errorf("%s: invalid value %v (want a positive duration)", c.settingName("pull-timeout"), c.PullTimeout)
	}
	return nil
}
