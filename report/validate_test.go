package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// editBench copies testdata/bench into a temporary folder and lets edit
// change bench.json's decoded form before it is written back.
func editBench(t *testing.T, edit func(b map[string]any)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bench")
	copyTree(t, benchDir, dir)
	path := filepath.Join(dir, BenchFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	edit(b)
	out, _ := json.Marshal(b)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRunDirTraversal: a runs[].dir that leads outside the folder, by ".."
// or an absolute path or a symbolic link, is refused, and rendering the
// folder touches nothing outside it.
func TestRunDirTraversal(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  func(outside string) string
	}{
		{"dotdot", func(string) string { return "../../../victim" }},
		{"absolute", func(outside string) string { return outside }},
		{"symlink", func(string) string { return "link" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outside := filepath.Join(t.TempDir(), "victim")
			if err := os.MkdirAll(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			victim := filepath.Join(outside, "read.hgrm")
			if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := editBench(t, func(b map[string]any) {
				runs := b["runs"].([]any)
				runs[0].(map[string]any)["dir"] = tc.dir(outside)
			})
			if tc.name == "symlink" {
				if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := LoadBench(dir)
			if err == nil || !strings.Contains(err.Error(), "runs[0].dir") {
				t.Fatalf("LoadBench: got %v, want an error naming runs[0].dir", err)
			}
			if _, err := RenderBench(dir, RenderOptions{Light: true}); err == nil {
				t.Errorf("RenderBench rendered a folder whose run leads outside it")
			}
			if data, err := os.ReadFile(victim); err != nil || string(data) != "keep me" {
				t.Errorf("outside file changed: %q, %v", data, err)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 1 {
				t.Errorf("outside folder has %d entries, want the 1 it had", len(ents))
			}
		})
	}
}

// TestRunOutOfDomain: counts and ratios out of their domain are rejected
// with the file and the field named.
func TestRunOutOfDomain(t *testing.T) {
	for _, tc := range []struct {
		field, want string
		set         func(m map[string]any)
	}{
		{"availability", "metrics.writes.availability", func(m map[string]any) { m["writes"].(map[string]any)["availability"] = -2.0 }},
		{"stale", "metrics.reads.stale", func(m map[string]any) { m["reads"].(map[string]any)["stale"] = -5 }},
		{"stale ratio", "metrics.reads.stale_ratio", func(m map[string]any) { m["reads"].(map[string]any)["stale_ratio"] = 1.5 }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "bench")
			copyTree(t, benchDir, dir)
			b, err := ReadBench(dir)
			if err != nil {
				t.Fatal(err)
			}
			var path string
			for _, br := range b.Runs {
				if br.Dir != "" {
					path = filepath.Join(dir, br.Dir, RunFile)
					break
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var r map[string]any
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			tc.set(r["metrics"].(map[string]any))
			out, _ := json.Marshal(r)
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = ReadRun(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("ReadRun: got %v, want an error naming %s and %s", err, path, tc.want)
			}
		})
	}
}

// TestValidRunsPass: every run of the test bench is in its domain.
func TestValidRunsPass(t *testing.T) {
	if _, _, err := LoadBench(benchDir); err != nil {
		t.Fatal(err)
	}
}
