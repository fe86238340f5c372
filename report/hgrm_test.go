package report

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/check"
)

// hgrmRow is one parsed line of a .hgrm file.
type hgrmRow struct {
	value, percentile float64
	count             int64
}

// parseHgrm reads the format HdrHistogram's plotters read: a header, rows
// of "value percentile count 1/(1-p)" and a "#[...]" footer.
func parseHgrm(t *testing.T, data []byte) (rows []hgrmRow, footer []string) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			// As the Java and C implementations write it, which some
			// parsers match literally.
			if want := "       Value     Percentile TotalCount 1/(1-Percentile)"; line != want {
				t.Fatalf("header %q, want %q", line, want)
			}
			first = false
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "#[") {
			footer = append(footer, line)
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			t.Fatalf("row %q: want 4 fields", line)
		}
		v, err1 := strconv.ParseFloat(f[0], 64)
		p, err2 := strconv.ParseFloat(f[1], 64)
		n, err3 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("row %q: %v %v %v", line, err1, err2, err3)
		}
		if f[3] != "inf" {
			// The percentile column is rounded to 6 decimals: compare
			// where that rounding does not matter.
			inv, err := strconv.ParseFloat(f[3], 64)
			if err != nil || p < 0.999 && math.Abs(inv-1/(1-p)) > 0.01*inv+0.01 {
				t.Errorf("row %q: 1/(1-p) column %q does not match p", line, f[3])
			}
		}
		if len(rows) > 0 {
			prev := rows[len(rows)-1]
			if v < prev.value || p < prev.percentile || n < prev.count {
				t.Errorf("row %q goes down after %+v", line, prev)
			}
		}
		rows = append(rows, hgrmRow{v, p, n})
	}
	return rows, footer
}

func TestWriteHgrm(t *testing.T) {
	var ds []time.Duration
	for i := int64(1); i <= 10000; i++ {
		ds = append(ds, time.Duration(i)*time.Microsecond) // 1µs .. 10ms, uniform
	}
	h, _ := check.DurationHistogram(ds)
	var buf bytes.Buffer
	if err := WriteHgrm(&buf, h); err != nil {
		t.Fatal(err)
	}
	rows, footer := parseHgrm(t, buf.Bytes())
	if len(rows) < 20 {
		t.Fatalf("%d rows, want a percentile ladder", len(rows))
	}
	last := rows[len(rows)-1]
	if last.percentile != 1 || last.count != 10000 {
		t.Errorf("last row %+v, want percentile 1 and count 10000", last)
	}
	// Values are milliseconds: the median of 1..10000 µs is about 5 ms.
	for _, r := range rows {
		if r.percentile >= 0.5 {
			if math.Abs(r.value-5.0) > 0.05 {
				t.Errorf("median row %+v, want about 5.000 (ms)", r)
			}
			break
		}
	}
	if math.Abs(last.value-10.0) > 0.02 {
		t.Errorf("max row %+v, want about 10.000 (ms)", last)
	}
	if len(footer) != 3 || !strings.Contains(footer[0], "Mean") || !strings.Contains(footer[1], "Total count") {
		t.Errorf("footer %q, want the Mean/StdDeviation, Max/Total count and Buckets lines", footer)
	}
	if !strings.Contains(footer[1], "Max     =       10.0") {
		t.Errorf("footer %q: Max should be 10.000 ms", footer[1])
	}
}

func TestWriteHgrmEmptyAndInvalid(t *testing.T) {
	h, _ := check.DurationHistogram(nil)
	var buf bytes.Buffer
	if err := WriteHgrm(&buf, h); err != nil {
		t.Fatalf("empty histogram: %v", err)
	}
	if _, footer := parseHgrm(t, buf.Bytes()); len(footer) != 3 {
		t.Errorf("empty histogram: footer %q", footer)
	}
	if err := WriteHgrm(&buf, &check.Histogram{HDR: "not base64"}); err == nil {
		t.Error("invalid HDR: no error")
	}
	if err := WriteHgrm(&buf, nil); err == nil {
		t.Error("nil histogram: no error")
	}
}

// testHgrmFiles checks that the .hgrm files written for the recorded runs
// agree with the runs' own histograms.
func testHgrmFiles(t *testing.T, dir string, m *Matrix) {
	n := 0
	for _, sc := range m.Scenarios {
		for _, c := range m.measuredCells(sc) {
			for _, kind := range []string{HgrmRead, HgrmWrite} {
				data := readFile(t, dir, c.Dir, kind+".hgrm")
				rows, footers := parseHgrm(t, data)
				footer := strings.Join(footers, "\n")
				h := latencyOf(c.Run, kind)
				d, err := h.Decode()
				if err != nil {
					t.Fatal(err)
				}
				if d.TotalCount() == 0 {
					continue
				}
				n++
				if got, want := rows[len(rows)-1].count, d.TotalCount(); got != want {
					t.Errorf("%s %s: total %d, want %d", c.Dir, kind, got, want)
				}
				// Milliseconds, within the recorded range.
				lo, hi := float64(d.Min())/1000, float64(d.Max())/1000
				for _, r := range rows {
					if r.value < lo-0.001 || r.value > hi*1.001+0.001 {
						t.Errorf("%s %s: row %+v outside [%v, %v] ms", c.Dir, kind, r, lo, hi)
						break
					}
				}
				if !strings.Contains(footer, fmt.Sprintf("%12.3f", hi)) {
					t.Errorf("%s %s: footer %q does not give Max = %.3f ms", c.Dir, kind, footer, hi)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no .hgrm checked")
	}
}

func readFile(t *testing.T, parts ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
