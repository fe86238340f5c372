package report

import (
	"bytes"
	"strings"
	"testing"
)

// Two benches that order a and b the same way agree; a third that orders
// them significantly the other way on p99 read latency contradicts the
// first, and its fastest group shares nothing with the first's.
func TestAgree(t *testing.T) {
	bench := func(aP99, bP99 int64) *Matrix {
		return matrixOf("sc", []cellSpec{
			ok("a", func(r *SummaryRow) { r.ReadP99 = aP99 }),
			ok("b", func(r *SummaryRow) { r.ReadP99 = bP99; r.GhostReads = 2 }),
		})
	}
	one, two, flipped := bench(1000, 2000), bench(1100, 2100), bench(2000, 1000)

	as := Agree(one, two)
	if len(as) != 1 || !as[0].Agree || len(as[0].Contradictions) != 0 {
		t.Fatalf("same order: got %+v, want agreement", as)
	}
	if got := strings.Join(as[0].SharedSafest, ","); got != "a" {
		t.Errorf("shared safest: got %q, want a (b is set aside on ghost reads in both)", got)
	}

	as = Agree(one, flipped)
	if len(as) != 1 || as[0].Agree {
		t.Fatalf("flipped order: got %+v, want disagreement", as)
	}
	if len(as[0].SharedFastest) != 0 {
		t.Errorf("shared fastest: got %v, want none", as[0].SharedFastest)
	}
	var found bool
	for _, c := range as[0].Contradictions {
		if c.Criterion == MetricReadP99 && c.A == "a" && c.B == "b" {
			found = true
		}
	}
	if !found {
		t.Errorf("contradictions %+v: want a better than b on %s in old, worse in new", as[0].Contradictions, MetricReadP99)
	}

	var out bytes.Buffer
	if err := Compare("one", one, "flipped", flipped).WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sc: DISAGREE", "contradiction on read_p99_us: a better than b", "0 of 1 scenarios agree"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("compare text lacks %q:\n%s", want, out.String())
		}
	}
}

// With one repetition a side nothing is significant, so nothing can
// contradict; the groups hold every strategy.
func TestAgreeOneRepetition(t *testing.T) {
	one := repeatCells(matrixOf("sc", []cellSpec{ok("a", nil), ok("b", func(r *SummaryRow) { r.ReadP99 = 5000 })}), 1)
	flipped := repeatCells(matrixOf("sc", []cellSpec{ok("a", func(r *SummaryRow) { r.ReadP99 = 5000 }), ok("b", nil)}), 1)
	as := Agree(one, flipped)
	if len(as) != 1 || !as[0].Agree || len(as[0].Contradictions) != 0 {
		t.Errorf("one repetition: got %+v, want agreement without contradictions", as)
	}
}
