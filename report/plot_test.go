package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/record"
)

// renderTestBench renders testdata/bench into a fresh directory (the
// recorded JSON copied there) and returns it with the matrix.
func renderTestBench(t *testing.T) (string, *Matrix) {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, benchDir, dir)
	m, err := RenderBench(dir, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// copyTree copies the regular files under src into dst.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return WriteFileAtomic(filepath.Join(dst, rel), data)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testPlots checks that every plot of m was rendered into dir: each PNG
// decodes, has the expected size and is not blank, each SVG is XML.
func testPlots(t *testing.T, dir string, m *Matrix) {
	want := len(m.Scenarios) * len(plotKinds)
	n := 0
	for _, sc := range m.Scenarios {
		for _, kind := range plotKinds {
			n++
			base := filepath.Join(dir, filepath.FromSlash(PlotBase(sc, kind)))
			t.Run(sc+"/"+kind, func(t *testing.T) {
				checkPNG(t, base+".png", kind)
				checkSVG(t, base+".svg")
			})
		}
	}
	if n != want || n == 0 {
		t.Fatalf("checked %d plots, want %d", n, want)
	}
}

func checkPNG(t *testing.T, path, kind string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	w, h := PlotSize(kind)
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
	colours, nonWhite, coloured := pixelStats(img)
	total := img.Bounds().Dx() * img.Bounds().Dy()
	// Text and axes alone give grey levels; lines give hues.
	if colours < 20 {
		t.Errorf("%s: %d distinct colours, want at least 20 (blank plot?)", path, colours)
	}
	if share := float64(nonWhite) / float64(total); share < 0.01 {
		t.Errorf("%s: %.3f%% non-white pixels, want at least 1%%", path, share*100)
	}
	if coloured < 200 {
		t.Errorf("%s: %d saturated pixels, want at least 200 (no data lines drawn?)", path, coloured)
	}
}

// pixelStats counts distinct colours, non-white pixels and pixels with a
// clear hue (not grey).
func pixelStats(img image.Image) (colours, nonWhite, coloured int) {
	count := func(c color.RGBA, n int) {
		if c.R < 250 || c.G < 250 || c.B < 250 {
			nonWhite += n
		}
		if max(c.R, c.G, c.B)-min(c.R, c.G, c.B) > 60 {
			coloured += n
		}
	}
	if p, ok := img.(*image.Paletted); ok { // the plots' own format: fast
		used := make([]int, len(p.Palette))
		for _, i := range p.Pix {
			used[i]++
		}
		for i, n := range used {
			if n > 0 {
				colours++
				count(color.RGBAModel.Convert(p.Palette[i]).(color.RGBA), n)
			}
		}
		return colours, nonWhite, coloured
	}
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			seen[c] = true
			count(c, 1)
		}
	}
	return len(seen), nonWhite, coloured
}

func checkSVG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	elems := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			elems++
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element %q, want svg", path, root)
	}
	if elems < 50 {
		t.Errorf("%s: %d elements, want a drawing (at least 50)", path, elems)
	}
}

// An empty scenario (every run failed) still renders axes and a note.
func TestPlotsWithoutData(t *testing.T) {
	m := matrixOf("empty", []cellSpec{{"a", record.StatusError, SummaryRow{}}})
	for _, kind := range plotKinds {
		data, err := m.figure("empty", kind).render("png")
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if colours, _, _ := pixelStats(img); colours < 5 {
			t.Errorf("%s: %d colours: not even axes drawn", kind, colours)
		}
	}
}

func TestNinesTicks(t *testing.T) {
	var labels []string
	for _, tk := range (ninesTicks{}).Ticks(1, 1e4) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got, want := strings.Join(labels, " "), "0% 90% 99% 99.9% 99.99%"; got != want {
		t.Errorf("nines ticks: got %q, want %q", got, want)
	}
}

func TestLinearTicks(t *testing.T) {
	for _, tt := range []struct {
		lo, hi float64
		want   string
	}{
		{0.3, 3, "0.5 1.0 1.5 2.0 2.5 3.0"},
		{0, 10, "0 1 2 3 4 5 6 7 8 9 10"},
		{0, 100, "0 10 20 30 40 50 60 70 80 90 100"},
	} {
		var labels []string
		for _, tk := range (linearTicks{}).Ticks(tt.lo, tt.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != tt.want {
			t.Errorf("linear ticks %v..%v: got %q, want %q", tt.lo, tt.hi, got, tt.want)
		}
	}
}
