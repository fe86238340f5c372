package claims

import (
	"os"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

func run(status record.Status, p99us int64) *record.Run {
	r := &record.Run{Status: status, Metrics: &check.Metrics{}}
	if p99us > 0 {
		r.Metrics.Reads.StalenessAge = &check.Histogram{Count: 10, P99: p99us, Max: p99us}
	}
	return r
}

func TestAsyncClaimRule(t *testing.T) {
	cl, ok := Builtin().Lookup("async-invalidation-280ms")
	if !ok {
		t.Fatal("claim missing")
	}
	reps := func(status record.Status, ms ...int64) []*record.Run {
		var out []*record.Run
		for _, m := range ms {
			out = append(out, run(status, m*1000))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		runs []*record.Run
		want Verdict
	}{
		{"inside", reps(record.StatusOK, 280, 285, 290, 291, 295, 300), Holds},
		{"outside", reps(record.StatusOK, 100, 110, 120, 130, 140, 150), Refuted},
		{"straddles", reps(record.StatusOK, 200, 240, 260, 280, 300, 310), NotDecided},
		{"too few", reps(record.StatusOK, 280, 285, 290), NotDecided},
		{"failed run", append(reps(record.StatusOK, 280, 285, 290, 291, 295), run(record.StatusError, 0)), NotDecided},
		{"no stale read", append(reps(record.StatusOK, 280, 285, 290, 291, 295), run(record.StatusOK, 0)), NotDecided},
	} {
		got := cl.Decide(&Evidence{Runs: map[string][]*record.Run{"async": tc.runs}})
		if got.Verdict != tc.want {
			t.Errorf("%s: got %s (%s), want %s", tc.name, got.Verdict, got.Why, tc.want)
		}
	}
}

func TestReproRule(t *testing.T) {
	cl, _ := Builtin().Lookup("version-check-and-leases-close-stale-set")
	all := func(o string) []string { return []string{o, o, o} }
	for _, tc := range []struct {
		name                string
		control, vc, leases []string
		want                Verdict
	}{
		{"holds", all("anomaly"), all("clean"), all("clean"), Holds},
		{"refuted", all("anomaly"), []string{"clean", "anomaly", "clean"}, all("clean"), Refuted},
		{"control blind", all("clean"), all("clean"), all("clean"), NotDecided},
		{"unknown run", all("anomaly"), []string{"clean", "unknown", "clean"}, all("clean"), NotDecided},
		{"too few runs", all("anomaly"), []string{"clean"}, all("clean"), NotDecided},
	} {
		ev := &Evidence{Outcomes: map[string][]string{"control": tc.control, "version-checked": tc.vc, "leases": tc.leases}}
		if got := cl.Decide(ev); got.Verdict != tc.want {
			t.Errorf("%s: got %s (%s), want %s", tc.name, got.Verdict, got.Why, tc.want)
		}
	}
}

func TestCountRule(t *testing.T) {
	cl, _ := Builtin().Lookup("write-through-no-stale-window")
	mk := func(stale ...int64) []*record.Run {
		var out []*record.Run
		for _, s := range stale {
			r := run(record.StatusOK, 0)
			r.Metrics.Reads.Stale, r.Metrics.Reads.OK = s, 10000
			out = append(out, r)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		runs []*record.Run
		want Verdict
	}{
		{"none", mk(0, 0, 0, 0, 0, 0), Holds},
		{"every repetition", mk(10, 12, 9, 11, 13, 10), Refuted},
		{"clustered in two", mk(0, 0, 0, 0, 40, 1), Refuted},
	} {
		if got := cl.Decide(&Evidence{Runs: map[string][]*record.Run{"write-through": tc.runs}}); got.Verdict != tc.want {
			t.Errorf("%s: got %s (%s), want %s", tc.name, got.Verdict, got.Why, tc.want)
		}
	}
}

// TestFindingsCurrent checks that docs/findings.md has a section for every
// claim in the catalogue, none for a claim that is not, and that each
// section's catalogue part is what the catalogue generates today.
func TestFindingsCurrent(t *testing.T) {
	data, err := os.ReadFile("../docs/findings.md")
	if err != nil {
		t.Fatalf("docs/findings.md: %v (run make reference)", err)
	}
	got := Sections(string(data))
	cat := Builtin()
	for _, cl := range cat.Claims() {
		sec, ok := got[cl.Name]
		if !ok {
			t.Errorf("docs/findings.md has no section %q", Heading(cl))
			continue
		}
		if want := CatalogueSection(cl); sec != want {
			t.Errorf("docs/findings.md section %s is not current with the catalogue (run make reference):\ngot:\n%s\nwant:\n%s", cl.Name, sec, want)
		}
		delete(got, cl.Name)
	}
	for name := range got {
		t.Errorf("docs/findings.md has a section %q for no claim in the catalogue", name)
	}
	if !strings.Contains(string(data), "**Verdict: ") {
		t.Error("docs/findings.md has no verdict")
	}
}

func TestCatalogueComplete(t *testing.T) {
	for _, cl := range Builtin().Claims() {
		if cl.Statement == "" || cl.Source == "" || cl.Test == "" || cl.Metric == "" || cl.Rule == "" {
			t.Errorf("%s: every claim needs a statement, a source, a test, a metric and a rule", cl.Name)
		}
		if len(cl.Cells) > 0 && cl.Reps < 6 {
			t.Errorf("%s: %d repetitions give no 95%% interval of the median (need 6)", cl.Name, cl.Reps)
		}
	}
}
