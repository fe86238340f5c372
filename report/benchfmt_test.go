package report

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/ghostbench/ghostbench/record"
)

// benchstatVersion is the golang.org/x/perf version whose benchstat the
// test runs (go run fetches it through the module proxy once).
const benchstatVersion = "v0.0.0-20260908200009-22c9c6c9d4da"

func TestBenchFmtGolden(t *testing.T) {
	m := loadTestBench(t)
	var buf bytes.Buffer
	if err := WriteBenchFmt(&buf, m); err != nil {
		t.Fatal(err)
	}
	golden(t, "bench.txt", buf.Bytes())
	results := checkBenchFormat(t, buf.String())
	want := 0
	for _, c := range m.cells {
		if c.Status == record.StatusOK && c.measured() {
			want++
		}
	}
	if results != want || want == 0 {
		t.Errorf("%d result lines, want one per completed run (%d)", results, want)
	}
}

// checkBenchFormat checks text against the Go benchmark data format
// (golang.org/design/14313-benchmark-data) and returns the number of
// result lines.
func checkBenchFormat(t *testing.T, text string) int {
	t.Helper()
	results := 0
	for i, line := range strings.Split(text, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "Benchmark"):
			f := strings.Fields(line)
			name := f[0]
			if len(name) <= len("Benchmark") || unicode.IsLower(rune(name[len("Benchmark")])) {
				t.Errorf("line %d: name %q must be Benchmark followed by a non-lower-case letter", i+1, name)
			}
			if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
				t.Errorf("line %d: iterations %q: %v", i+1, f[1], err)
			}
			rest := f[2:]
			if len(rest) == 0 || len(rest)%2 != 0 {
				t.Errorf("line %d: want value unit pairs after the iterations: %q", i+1, rest)
			}
			for j := 0; j+1 < len(rest); j += 2 {
				if _, err := strconv.ParseFloat(rest[j], 64); err != nil {
					t.Errorf("line %d: value %q: %v", i+1, rest[j], err)
				}
			}
			if rest[1] != "ns/op" {
				t.Errorf("line %d: first unit %q, want ns/op", i+1, rest[1])
			}
			results++
		case strings.HasPrefix(line, "Unit "):
			f := strings.Fields(line)
			if len(f) < 3 || !strings.Contains(f[2], "=") {
				t.Errorf("line %d: unit metadata %q: want Unit <unit> key=value", i+1, line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok || k == "" || !unicode.IsLower(rune(k[0])) || strings.IndexFunc(k, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsUpper(r) }) >= 0 {
				t.Errorf("line %d: %q is neither a result, a unit line nor a key: value configuration line", i+1, line)
			}
			if !strings.HasPrefix(v, " ") {
				t.Errorf("line %d: configuration value must follow \": \"", i+1)
			}
		}
	}
	return results
}

// TestBenchstatReadsTwoBenches runs the real benchstat on the bench.txt of
// the recorded bench and of a changed copy: it must read both without a
// complaint and report the change.
func TestBenchstatReadsTwoBenches(t *testing.T) {
	if testing.Short() {
		t.Skip("builds benchstat with the go command (module proxy on first use)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build benchstat: %v", err)
	}
	m := repeatCells(loadTestBench(t), 6)
	var old bytes.Buffer
	if err := WriteBenchFmt(&old, m); err != nil {
		t.Fatal(err)
	}
	// The new bench: every cache-aside run got 5 ghost reads.
	for _, sc := range m.Scenarios {
		if c := m.Cell(sc, "cache-aside"); c != nil {
			editRows(c, func(r *SummaryRow) { r.GhostReads += 5 })
		}
	}
	var nw bytes.Buffer
	if err := WriteBenchFmt(&nw, m); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "old.txt"), filepath.Join(dir, "new.txt")
	if err := os.WriteFile(oldPath, old.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newPath, nw.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "run", "golang.org/x/perf/cmd/benchstat@"+benchstatVersion, oldPath, newPath)
	cmd.Dir = dir // outside this module: go run pkg@version
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("benchstat: %v\nstderr:\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, "go: downloading") && !strings.HasPrefix(line, "go: finding") {
			t.Errorf("benchstat complained: %s", line)
		}
	}
	out := stdout.String()
	for _, want := range []string{"sec/op", "stale-ratio", "ghost-reads", "write-availability", "read-p99-sec", "Ghost/scenario=", "strategy=cache-aside"} {
		if !strings.Contains(out, want) {
			t.Errorf("benchstat output lacks %q:\n%s", want, out)
		}
	}
	// The ghost-reads table shows the change for cache-aside.
	_, ghost, _ := strings.Cut(out, "ghost-reads")
	ghost, _, _ = strings.Cut(ghost, "geomean")
	found := false
	for _, line := range strings.Split(ghost, "\n") {
		if strings.Contains(line, "strategy=cache-aside") && strings.Contains(line, " 5.000 ") {
			found = true
		}
	}
	if !found {
		t.Errorf("benchstat's ghost-reads table does not show cache-aside going to 5:\n%s", ghost)
	}
	// With one line per repetition (6), benchstat computes intervals and
	// p-values instead of complaining about too few samples.
	if strings.Contains(out, "need >=") || !strings.Contains(out, "p=0.002") {
		t.Errorf("benchstat shows no interval or p-value over the repetitions:\n%s", out)
	}
}
