package reproduce_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/reproduce"
)

// TestProvesMatchesVerdicts holds Case.Proves to the verdict TestCases
// demands of every run of the case on its own strategy: the anomalous
// kinds of finding in it, in report order, and nothing for a case that is
// clean by design.
func TestProvesMatchesVerdicts(t *testing.T) {
	anomalous := map[string]bool{}
	for _, k := range reproduce.Findings() {
		anomalous[k] = k != reproduce.FindingEarlyRead && k != reproduce.FindingNotLinearizable && k != reproduce.FindingUnknown
	}
	for _, c := range reproduce.Cases() {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("%s: no expected verdict", c.Name)
			continue
		}
		var kinds []string
		_, counts, _ := strings.Cut(w, ": ")
		for _, f := range strings.Fields(counts) {
			k, _, _ := strings.Cut(f, "=")
			if anomalous[k] {
				kinds = append(kinds, k)
			}
		}
		if got := c.Proves(); !reflect.DeepEqual(got, kinds) {
			t.Errorf("%s: Proves() = %v, but its verdict %q proves %v", c.Name, got, w, kinds)
		}
		if c.WantClean && len(c.Proves()) > 0 {
			t.Errorf("%s is clean by design but Proves() = %v", c.Name, c.Proves())
		}
	}
}
