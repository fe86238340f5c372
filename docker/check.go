package docker

import (
	"fmt"
	"strings"
)

// Check validates c without starting or contacting anything: the provider
// name, the server settings and, when the external provider is chosen
// (forced, or under "auto" by giving a URL), that both URLs are given and
// well-formed. Errors name the setting as the user gave it (a flag such as
// -pg-max-connections or an environment variable such as
// GHOSTBENCH_PROVIDER), the value and what is allowed, and never contain a
// password. Provision runs the same checks; calling Check first lets a
// command refuse bad input (exit code 2) before any server starts.
func (c Config) Check() error {
	switch c.Provider {
	case "", ProviderAuto, ProviderExternal, ProviderDocker, ProviderLocal:
	default:
		return fmt.Errorf("%s %q: unknown provider; want auto, external, docker or local", c.settingName("provider"), c.Provider)
	}
	if err := c.Postgres.withDefaults().validate(); err != nil {
		return settingFlag(err)
	}
	if err := c.Redis.withDefaults().validate(); err != nil {
		return settingFlag(err)
	}
	external := c.Provider == ProviderExternal ||
		(c.Provider == "" || c.Provider == ProviderAuto) && (c.PostgresURL != "" || c.RedisURL != "")
	if !external {
		return nil
	}
	if err := c.checkExternal(); err != nil {
		return err
	}
	if err := checkPostgresURL(c.PostgresURL); err != nil {
		return fmt.Errorf("%s: %w", c.settingName("postgres-url"), err)
	}
	if err := checkRedisURL(c.RedisURL); err != nil {
		return fmt.Errorf("%s: %w", c.settingName("redis-url"), err)
	}
	return nil
}

// settingFlags maps the setting an error of validate names to the flag
// RegisterFlags defines for it.
var settingFlags = []struct{ setting, flag string }{
	{"postgres synchronous_commit", "-pg-synchronous-commit"},
	{"postgres wal_level", "-pg-wal-level"},
	{"postgres max_connections", "-pg-max-connections"},
	{"redis maxmemory-policy", "-redis-maxmemory-policy"},
	{"redis maxmemory", "-redis-maxmemory"},
}

// settingFlag prefixes err, an error of a settings validate, with the flag
// that sets the setting it names.
func settingFlag(err error) error {
	for _, m := range settingFlags {
		if strings.HasPrefix(err.Error(), m.setting+":") {
			return fmt.Errorf("%s (%w)", m.flag, err)
		}
	}
	return err
}
