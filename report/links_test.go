package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderRefusesLinks: with plots a symbolic link to a folder outside
// the results folder, rendering writes nothing there and says why; a run
// folder that is a link is not read.
func TestRenderRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, benchDir, dir)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, PlotsDir)); err != nil {
		t.Fatal(err)
	}
	_, err := RenderBench(dir, RenderOptions{Light: true})
	if !errors.Is(err, ErrLink) {
		t.Errorf("RenderBench through a plots link: %v, want ErrLink", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) > 0 {
		t.Errorf("files written through the link: %d, first %s", len(ents), ents[0].Name())
	}

	// A run folder that is a link to a run elsewhere is refused on reading
	// (by the check of runs[].dir, before the run is opened).
	dir2 := t.TempDir()
	copyTree(t, benchDir, dir2)
	b, err := ReadBench(dir2)
	if err != nil {
		t.Fatal(err)
	}
	var run string
	for _, r := range b.Runs {
		if r.Dir != "" {
			run = r.Dir
			break
		}
	}
	moved := filepath.Join(t.TempDir(), "run")
	if err := os.Rename(filepath.Join(dir2, run), moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(moved, filepath.Join(dir2, run)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadBench(dir2); err == nil {
		t.Errorf("LoadBench read a run through a link")
	}
}

// TestBenchListsRunTwice: a bench.json that lists one run twice is refused
// (it would pass for two repetitions, with intervals).
func TestBenchListsRunTwice(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, benchDir, dir)
	b, err := ReadBench(dir)
	if err != nil {
		t.Fatal(err)
	}
	var first BenchRun
	for _, r := range b.Runs {
		if r.Dir != "" {
			first = r
			break
		}
	}
	b.Runs = append(b.Runs, first)
	if err := WriteBench(dir, b); err != nil {
		t.Fatal(err)
	}
	_, err = ReadBench(dir)
	if err == nil || !strings.Contains(err.Error(), "list the same run "+first.Dir) {
		t.Errorf("ReadBench of a bench listing %s twice: %v, want an error naming it", first.Dir, err)
	}
}
