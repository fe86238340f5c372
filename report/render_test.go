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
