package docker

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzURLs: whatever is given as -postgres-url or -redis-url,
// the checks and Config.Check never panic, a URL they accept has the
// scheme and host they promise, and no message quotes its password.
func FuzzURLs(f *testing.F) {
	for _, s := range []string{
		"postgres://ghostbench:s3cret-pw@127.0.0.1:5432/ghostbench?sslmode=disable",
		"postgresql://u@localhost/db",
		"redis://:s3cret-pw@127.0.0.1:6379/0",
		"rediss://user:s3cret-pw@cache.example:6380/1",
		"redis://127.0.0.1:6379/x",
		"127.0.0.1:5432",
		"postgres://u:pa%zzss@h/db",
		"postgres://u:p@ss@word@h/db",
		"host=h user=u password='s3cret pw' dbname=d",
		"http://h",
		"postgres:///db",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		pw := rawPassword(raw)
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok {
				pw = p
			}
		}
		secret := len(pw) >= 6 && pw != redactedPassword && !strings.Contains(redactedPassword, pw)
		for name, check := range map[string]func(string) error{"postgres": checkPostgresURL, "redis": checkRedisURL} {
			err := check(raw)
			if err == nil {
				u, perr := url.Parse(raw)
				if perr != nil || u.Host == "" {
					t.Fatalf("check%sURL accepted %q, which has no host (%v)", name, raw, perr)
				}
				ok := map[string][]string{"postgres": {"postgres", "postgresql"}, "redis": {"redis", "rediss"}}[name]
				if u.Scheme != ok[0] && u.Scheme != ok[1] {
					t.Fatalf("check%sURL accepted scheme %q in %q", name, u.Scheme, raw)
				}
			} else if secret && strings.Contains(err.Error(), pw) {
				t.Fatalf("check%sURL(%q) error quotes the password: %v", name, raw, err)
			}
		}
		if secret && strings.Contains(redactURL(raw), pw) {
			t.Fatalf("redactURL(%q) = %q keeps the password", raw, redactURL(raw))
		}
		cfg := Config{Provider: ProviderExternal, PostgresURL: raw, RedisURL: raw}
		if err := cfg.Check(); err != nil && secret && strings.Contains(err.Error(), pw) {
			t.Fatalf("Config.Check error quotes the password of %q: %v", raw, err)
		}
	})
}
