package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/reproduce"
)

// TestReproduceUsage checks the listing and the usage errors, none of
// which provisions servers.
func TestReproduceUsage(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"list", []string{"reproduce"}, exitOK, "cache-aside-stale-set", ""},
		{"help", []string{"reproduce", "-h"}, exitOK, "", "exit codes: 0 the run was clean"},
		{"unknown case", []string{"reproduce", "cache-aside-stale"}, exitUsage, "", `unknown case "cache-aside-stale"; allowed: cache-aside-stale-set`},
		{"unknown strategy", []string{"reproduce", "cache-aside-stale-set", "-strategy", "nope"}, exitUsage, "", `strategy "nope": unknown; allowed:`},
		{"undeclared parameter", []string{"reproduce", "cache-aside-stale-set", "-param", "lag=1s"}, exitUsage, "", `unknown parameter "lag"`},
		{"bad parameter syntax", []string{"reproduce", "async-invalidation-lag", "-param", "lag"}, exitUsage, "", "want name=value"},
		{"bad format", []string{"reproduce", "cache-aside-stale-set", "-format", "csv"}, exitUsage, "", `-format "csv": want text or json`},
		{"two cases", []string{"reproduce", "cache-aside-stale-set", "delete-before-update"}, exitUsage, "", `unexpected argument "delete-before-update"`},
		{"flags before the case", []string{"reproduce", "-format", "yaml", "cache-aside-stale-set"}, exitUsage, "", `-format "yaml"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), tt.args, &out, &errb)
			if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errb.String(), tt.err) {
				t.Errorf("Run(%q) = %d\nstdout: %s\nstderr: %s\nwant %d, stdout with %q, stderr with %q", tt.args, code, out.String(), errb.String(), tt.code, tt.out, tt.err)
			}
		})
	}
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"reproduce"}, &out, &errb); code != exitOK {
		t.Fatalf("listing: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1+len(reproduce.Cases()) {
		t.Errorf("listing has %d lines, want a header and one per case:\n%s", len(lines), out.String())
	}
	out.Reset()
	if code := Run(context.Background(), []string{"list"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "REPRODUCE") ||
		!strings.Contains(out.String(), "soft-write-through-oom") {
		t.Errorf("ghostbench list: exit %d, no REPRODUCE section with the cases:\n%s", code, out.String())
	}
}

// TestReproduceRun runs a case on real servers: the anomaly exits 3 with
// the timeline and the folder; the same interleaving on a strategy that
// handles it exits 0.
func TestReproduceRun(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"reproduce", "write-through-commit-fails", "-out", dir}, &out, &errb)
	if code != exitBudget {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitBudget, out.String(), errb.String())
	}
	for _, s := range []string{"COMMIT failed: v1 (token 101)", "<<< GHOST-READ", "verdict: ANOMALY", "linearizability (porcupine, per key): Illegal"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("stdout lacks %q:\n%s", s, out.String())
		}
	}
	if !strings.Contains(errb.String(), "anomaly reproduced on write-through") {
		t.Errorf("stderr: %s", errb.String())
	}
	folders, _ := filepath.Glob(filepath.Join(dir, "reproduce-write-through-commit-fails-write-through-*"))
	if len(folders) != 1 {
		t.Fatalf("folders %v, want one reproduce-write-through-commit-fails-write-through-<time>", folders)
	}
	for _, f := range []string{reproduce.IndexFile, reproduce.TimelineFile, reproduce.RunFile, reproduce.LinearizabilityFile} {
		if _, err := os.Stat(filepath.Join(folders[0], f)); err != nil {
			t.Error(err)
		}
	}

	out.Reset()
	errb.Reset()
	code = Run(context.Background(), []string{"reproduce", "write-through-commit-fails", "-strategy", "cache-aside", "-format", "json", "-out", dir}, &out, &errb)
	if code != exitOK {
		t.Fatalf("with cache-aside: exit %d, want 0\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	var got struct {
		Case, Strategy, Dir string
		Verdict             reproduce.Verdict
		Timeline            []reproduce.Event
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("json output: %v\n%s", err, out.String())
	}
	if got.Strategy != "cache-aside" || got.Verdict.Result != reproduce.ResultClean || len(got.Timeline) == 0 || got.Dir == "" {
		t.Errorf("json: strategy %s, outcome %s, %d events, dir %q", got.Strategy, got.Verdict.Result, len(got.Timeline), got.Dir)
	}
}
