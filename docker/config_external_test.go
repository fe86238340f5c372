package docker

import "testing"

func TestConfigExternal(t *testing.T) {
	const pg, rd = "postgres://u@127.0.0.1:1/db", "redis://127.0.0.1:2"
	for _, tc := range []struct {
		cfg  Config
		want bool
	}{
		{Config{}, false},
		{Config{Provider: ProviderAuto}, false},
		{Config{PostgresURL: pg}, true},
		{Config{Provider: ProviderAuto, RedisURL: rd}, true},
		{Config{Provider: ProviderExternal}, true},
		{Config{Provider: ProviderLocal, PostgresURL: pg, RedisURL: rd}, false},
		{Config{Provider: ProviderDocker, RedisURL: rd}, false},
	} {
		if got := tc.cfg.External(); got != tc.want {
			t.Errorf("Config{Provider: %q, PostgresURL: %q, RedisURL: %q}.External() = %v, want %v",
				tc.cfg.Provider, tc.cfg.PostgresURL, tc.cfg.RedisURL, got, tc.want)
		}
	}
}
