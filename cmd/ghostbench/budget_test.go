package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/internal/servertest"
)

func TestRunBudget(t *testing.T) {
	// A malformed budget is a usage error, before anything runs.
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"run", "-strategy", "cache-aside", "-budget", "ghosts<=0"}, &out, &errb); code != exitUsage {
		t.Errorf("bad -budget: exit %d, want %d (%s)", code, exitUsage, errb.String())
	}
	if !strings.Contains(errb.String(), `unknown metric "ghosts"`) {
		t.Errorf("bad -budget: stderr %q does not name the metric", errb.String())
	}

	srv := servertest.Start(t)
	t.Setenv("GHOSTBENCH_POSTGRES_URL", srv.Postgres.URL)
	t.Setenv("GHOSTBENCH_REDIS_URL", srv.Redis.URL)
	dir := t.TempDir()
	for _, tc := range []struct {
		budget string
		want   int
	}{
		{"ghost<=1000000", exitOK},
		{"stale<=-1", exitBudget}, // no run can meet it: the gate must fire
	} {
		out.Reset()
		errb.Reset()
		code := Run(context.Background(), []string{"run", "-strategy", "db-only", "-duration", "1s", "-keys", "10", "-out", dir, "-budget", tc.budget}, &out, &errb)
		if code != tc.want {
			t.Errorf("-budget %s: exit %d, want %d\n%s", tc.budget, code, tc.want, errb.String())
		}
	}
}
