package docker

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Doctor writes to w which provider Provision would use for cfg and why,
// with the availability of each provider and what to do about a missing
// one; then it provisions the servers, prints their versions and settings,
// the time from nothing to both servers ready, and the teardown time, and
// tears them down. It returns an error when no servers could be had, after
// printing how to fix that. Passwords never appear in what it writes.
func Doctor(ctx context.Context, cfg Config, w io.Writer) error {
	out := &scrubWriter{w: w}
	p := func(format string, args ...any) { fmt.Fprintf(out, format, args...) }

	provider := cfg.Provider
	if provider == "" {
		provider = ProviderAuto
	}
	p("provider setting: %s", provider)
	if n := cfg.settingName("provider"); cfg.Provider != "" {
		p(" (from %s)", n)
	}
	p("\nproviders, in the order \"auto\" tries them:\n")
	// The fixes worth printing are those of the providers that were in
	// the running: the forced one, or external when a URL is set, or all.
	relevant := func(name string) bool {
		switch {
		case provider != ProviderAuto:
			return name == provider
		case cfg.External():
			return name == ProviderExternal
		}
		return true
	}
	var fixes []string
	sts := providerStatuses(ctx, &cfg)
	for _, st := range sts {
		p("  %-9s %s\n", st.name, st.detail)
		if st.fix != "" && relevant(st.name) {
			fixes = append(fixes, st.fix)
		}
	}
	if line := autoFallback(provider, &cfg, sts); line != "" {
		p("%s\n", line)
	}

	start := time.Now()
	s, err := Provision(ctx, cfg)
	ready := time.Since(start)
	if err != nil {
		p("\ncannot provision servers: %v\n", err)
		if len(fixes) > 0 {
			p("to fix:\n")
			for _, f := range fixes {
				p("  - %s\n", f)
			}
		}
		return err
	}
	p("\nusing: %s (%s)\n", s.Provider, s.Reason)
	for _, srv := range []*Server{s.Postgres, s.Redis} {
		p("  %-9s %s at %s\n", srv.Name, srv.Version, srv.Redacted())
		p("  %-9s %s\n", "", formatSettings(srv.Settings))
	}
	p("  %-9s %s\n", "topology", s.TopologyName())
	for _, l := range s.Topology.Describe() {
		p("  %-9s %s\n", "", l)
	}
	p("ready in %v (from nothing to every server accepting connections)\n", ready.Round(time.Millisecond))
	start = time.Now()
	cerr := s.Close()
	p("teardown in %v\n", time.Since(start).Round(time.Millisecond))
	if cerr != nil {
		return fmt.Errorf("teardown: %w", cerr)
	}
	return nil
}

// providerStatus is one provider's availability as Doctor prints it.
type providerStatus struct {
	name   string
	detail string
	fix    string // what to do when it is not available
	why    string // why it is not available, one line; empty when it is
	hint   string // what to do to use it when "auto" passes it by
}

// providerStatuses checks every provider.
func providerStatuses(ctx context.Context, cfg *Config) []providerStatus {
	var out []providerStatus
	ext := providerStatus{name: ProviderExternal}
	switch err := cfg.checkExternal(); {
	case err == nil:
		ext.detail = fmt.Sprintf("configured: postgres %s, redis %s", redactURL(cfg.PostgresURL), redactURL(cfg.RedisURL))
	case cfg.PostgresURL == "" && cfg.RedisURL == "":
		ext.detail = "not configured: " + err.Error()
	default:
		ext.detail = "misconfigured: " + err.Error()
		ext.fix = "set both " + EnvPostgresURL + " and " + EnvRedisURL + ", or neither"
	}
	out = append(out, ext)
	out = append(out, dockerStatus(ctx, cfg))
	if bins, err := findLocal(); err == nil {
		out = append(out, providerStatus{name: ProviderLocal, detail: "available: " + bins.String()})
	} else {
		out = append(out, providerStatus{name: ProviderLocal, detail: "unavailable: " + err.Error(), fix: err.Error(), why: err.Error()})
	}
	return out
}

// formatSettings prints settings as sorted name=value pairs.
func formatSettings(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := m[k]
		if v == "" {
			v = `""`
		}
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, " ")
}

// scrubWriter replaces the passwords of the URLs in everything written
// through it (scrub). Each Write must carry whole URLs, which holds for the
// formatted lines Doctor writes.
type scrubWriter struct {
	w io.Writer
}

func (s *scrubWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(s.w, scrub(string(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}
