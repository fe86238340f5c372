package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderBench renders the recorded bench once and checks every derived
// file: the plots, the .hgrm files, and index.html in a real browser.
func TestRenderBench(t *testing.T) {
	dir, m := renderTestBench(t)
	for _, f := range []string{SummaryFile, BenchFmtFile, IndexFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("Render did not write %s: %v", f, err)
		}
	}
	// No temporary file of the atomic writes is left behind.
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp") {
			t.Errorf("left behind: %s", path)
		}
		return nil
	})
	t.Run("plots", func(t *testing.T) { testPlots(t, dir, m) })
	t.Run("hgrm", func(t *testing.T) { testHgrmFiles(t, dir, m) })
	t.Run("browser", func(t *testing.T) { testIndexInBrowser(t, dir, m) })
}

// A light render (results/reference) has PNG plots only, no .hgrm, compact
// run.json files, an index that links none of what is gone, and can be
// loaded and rendered again.
func TestRenderLight(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, benchDir, dir)
	// What a full render leaves, which light must remove.
	b, _, err := LoadBench(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range b.Scenarios {
		for _, kind := range plotKinds {
			if err := WriteFileAtomic(filepath.Join(dir, filepath.FromSlash(PlotBase(sc, kind))+".svg"), []byte("<svg/>")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, r := range b.Runs {
		if r.Dir != "" {
			if err := WriteFileAtomic(filepath.Join(dir, r.Dir, HgrmRead+".hgrm"), []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, err := RenderBench(dir, RenderOptions{Light: true})
	if err != nil {
		t.Fatal(err)
	}
	var svg, hgrm, png int
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		switch filepath.Ext(path) {
		case ".svg":
			svg++
		case ".hgrm":
			hgrm++
		case ".png":
			png++
		}
		return err
	})
	if svg != 0 || hgrm != 0 || png != len(m.Scenarios)*len(plotKinds) {
		t.Errorf("light render left %d SVG, %d .hgrm and %d PNG files, want 0, 0 and %d", svg, hgrm, png, len(m.Scenarios)*len(plotKinds))
	}
	index := string(readFile(t, dir, IndexFile))
	for _, gone := range []string{".svg", ".hgrm"} {
		if strings.Contains(index, gone) {
			t.Errorf("light index.html still links %s files", gone)
		}
	}
	for _, c := range m.measuredCells(m.Scenarios[0]) {
		if data := readFile(t, dir, c.Dir, RunFile); strings.Contains(string(data), "\n  ") {
			t.Errorf("%s/run.json is still indented", c.Dir)
		}
	}
	if _, _, err := LoadBench(dir); err != nil {
		t.Errorf("loading a light folder: %v", err)
	}
}
