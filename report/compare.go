package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ghostbench/ghostbench/stats"
)

// CompareMetric is one metric of a comparison, old -> new. Unit is "share"
// (a ratio shown as a percentage), "ratio", "reads", "keys", "us"
// (microseconds), "per-million", "per-second" (database reads) or
// "readers" (stampede width). Old and New are
// null when that side has no value (run missing, not completed, or a ratio
// over nothing); Delta is New - Old, null unless both exist.
//
// Old and New are the estimates across each bench's completed repetitions
// (Cell.Estimate), with their 95% intervals; P is the two-sided
// Mann-Whitney U p-value of the old repetitions against the new ones, and
// Significant says P < stats.Alpha (text output shows "~" otherwise, as
// benchstat does). With one repetition a side no test can separate them.
type CompareMetric struct {
	Name        string   `json:"name"`
	Unit        string   `json:"unit"`
	Old         *float64 `json:"old"`
	New         *float64 `json:"new"`
	Delta       *float64 `json:"delta"`
	OldLo       *float64 `json:"old_lo,omitempty"`
	OldHi       *float64 `json:"old_hi,omitempty"`
	NewLo       *float64 `json:"new_lo,omitempty"`
	NewHi       *float64 `json:"new_hi,omitempty"`
	OldN        int      `json:"old_n"`
	NewN        int      `json:"new_n"`
	P           *float64 `json:"p"`
	Significant bool     `json:"significant"`
}

// CompareRow compares one strategy in one scenario across two benches.
// A status is "missing" when that bench has no such cell.
type CompareRow struct {
	Scenario  string          `json:"scenario"`
	Strategy  string          `json:"strategy"`
	OldStatus string          `json:"old_status"`
	NewStatus string          `json:"new_status"`
	Metrics   []CompareMetric `json:"metrics"`
}

// Comparison is the difference between two benches, A (old) and B (new).
type Comparison struct {
	Old  string       `json:"old"`
	New  string       `json:"new"`
	Rows []CompareRow `json:"rows"`
	// Classes is the class matrix of both benches, cell by cell (every
	// strategy and scenario either has), in Rows' order.
	Classes []ClassChange `json:"classes"`
	// Verdicts compares the two benches' rankings scenario by scenario.
	Verdicts []Agreement `json:"verdicts"`
}

// ClassChange is one cell of the class matrix in two benches: its class
// (Class.String, "no-data" when a bench lacks the cell or completed no
// repetition of it) and what the matrix shows, old and new.
type ClassChange struct {
	Scenario string `json:"scenario"`
	Strategy string `json:"strategy"`
	Old      string `json:"old"`
	New      string `json:"new"`
	OldText  string `json:"old_text"`
	NewText  string `json:"new_text"`
	Changed  bool   `json:"changed"`
	// OldDecided and NewDecided say that at least two thirds of that
	// bench's repetitions (4 of 6) had the cell's class: a class the
	// bench is sure of. Two decided cells must agree.
	OldDecided bool `json:"old_decided"`
	NewDecided bool `json:"new_decided"`
}

// decided reports whether at least two thirds of cc's repetitions had
// its class.
func (cc CellClass) decided() bool {
	return cc.Reps > 0 && 3*cc.Counts[cc.Class] >= 2*cc.Reps
}

// compareMetrics are the compared metrics: name, unit, value.
var compareMetrics = []struct {
	name, unit string
	key        string
}{
	{"stale ratio", "share", MetricStaleRatio},
	{"ghost reads", "reads", MetricGhostReads},
	{"stale-until-TTL", "keys", MetricStaleUntilTTL},
	{"write avail", "ratio", MetricAvailability},
	{"read p99", "us", MetricReadP99},
	{"write p99", "us", MetricWriteP99},
	{"inval lag p50", "us", MetricInvalLagP50},
	{"inval lag p99", "us", MetricInvalLagP99},
	{"RYW per M", "per-million", MetricRYWPerMillion},
	{"db reads/s", "per-second", MetricDBReadsPerSec},
	{"db peak reads/s", "per-second", MetricDBPeakPerSec},
	{"stampede width p99", "readers", MetricWidthP99},
}

func fptr(v float64) *float64 { return &v }

// finite returns &v, nil for NaN.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// StatusMissing is a CompareRow status for a cell one bench does not have.
const StatusMissing = "missing"

// Compare returns the difference between old and new per scenario and
// strategy: every cell of old in its order, then the cells only new has.
// Values come only from runs with metrics; a run that did not complete is
// compared all the same, its status saying so.
func Compare(oldName string, old *Matrix, newName string, nw *Matrix) *Comparison {
	cmp := &Comparison{Old: oldName, New: newName}
	type key [2]string
	var order []key
	seen := map[key]bool{}
	add := func(m *Matrix) {
		for _, sc := range m.Scenarios {
			for _, c := range m.Row(sc) {
				k := key{sc, c.Strategy}
				if !seen[k] {
					seen[k] = true
					order = append(order, k)
				}
			}
		}
	}
	add(old)
	add(nw)
	for _, k := range order {
		row := CompareRow{Scenario: k[0], Strategy: k[1], OldStatus: StatusMissing, NewStatus: StatusMissing}
		oc, nc := old.Cell(k[0], k[1]), nw.Cell(k[0], k[1])
		if oc != nil {
			row.OldStatus = string(oc.Status)
		}
		if nc != nil {
			row.NewStatus = string(nc.Status)
		}
		for _, cm := range compareMetrics {
			row.Metrics = append(row.Metrics, compareMetric(cm.name, cm.unit, cm.key, oc, nc))
		}
		cmp.Rows = append(cmp.Rows, row)
		occ, ncc := oc.Classify(), nc.Classify()
		cmp.Classes = append(cmp.Classes, ClassChange{Scenario: k[0], Strategy: k[1], Old: occ.Class.String(), New: ncc.Class.String(),
			OldText: occ.Short(oc), NewText: ncc.Short(nc), Changed: occ.Class != ncc.Class, OldDecided: occ.decided(), NewDecided: ncc.decided()})
	}
	addLagStageMetrics(cmp, old, nw)
	cmp.Verdicts = Agree(old, nw)
	return cmp
}

// compareMetric compares metric key of two cells (either may be nil).
func compareMetric(name, unit, key string, oc, nc *Cell) CompareMetric {
	m := CompareMetric{Name: name, Unit: unit}
	if oc.measured() {
		e := oc.Estimate(key)
		m.Old, m.OldN = finite(e.Value), e.N
		if e.HasCI {
			m.OldLo, m.OldHi = finite(e.Lo), finite(e.Hi)
		}
	}
	if nc.measured() {
		e := nc.Estimate(key)
		m.New, m.NewN = finite(e.Value), e.N
		if e.HasCI {
			m.NewLo, m.NewHi = finite(e.Lo), finite(e.Hi)
		}
	}
	if m.Old != nil && m.New != nil {
		m.Delta = fptr(*m.New - *m.Old)
		p := stats.MannWhitney(oc.Samples(key), nc.Samples(key))
		m.P, m.Significant = &p, p < stats.Alpha
	}
	return m
}

// formatValue renders v in unit for people.
func formatValue(v *float64, unit string) string {
	if v == nil {
		return "-"
	}
	switch unit {
	case "share":
		return percent(v)
	case "ratio":
		return ratioText(*v)
	case "us":
		return usText(*v)
	case "per-million":
		return perMillionText(*v)
	}
	return countText(*v)
}

// formatDelta renders a delta with its sign; for latencies also relative
// to the old value.
func formatDelta(m CompareMetric) string {
	if m.Delta == nil {
		return ""
	}
	d := *m.Delta
	sign := "+"
	if d < 0 {
		sign = "-"
	}
	var s string
	switch m.Unit {
	case "share":
		s = sign + strconv.FormatFloat(math.Abs(d)*100, 'g', 3, 64) + " pp"
	case "ratio":
		s = sign + ratioText(math.Abs(d))
	case "us":
		s = sign + usText(math.Abs(d))
		if *m.Old > 0 {
			s += fmt.Sprintf(", %+.0f%%", d / *m.Old * 100)
		}
	case "per-million":
		s = sign + perMillionText(math.Abs(d))
	default:
		s = sign + countText(math.Abs(d))
	}
	if d == 0 {
		s = "="
	}
	return s
}

// WriteText writes c as aligned columns, one line per scenario and
// strategy, each metric as "old -> new (delta p=…)", or "(~ p=…)" when
// the Mann-Whitney U test at alpha 0.05 cannot tell old from new.
func (c *Comparison) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "old: %s\nnew: %s\n\n", c.Old, c.New)
	c.writeClassesText(ew)
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	head := []string{"scenario", "strategy", "status"}
	if len(c.Rows) > 0 {
		for _, m := range c.Rows[0].Metrics {
			head = append(head, m.Name)
		}
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range c.Rows {
		status := r.OldStatus
		if r.NewStatus != r.OldStatus {
			status = r.OldStatus + " -> " + r.NewStatus
		}
		cells := []string{r.Scenario, r.Strategy, status}
		for _, m := range r.Metrics {
			s := formatValue(m.Old, m.Unit) + " -> " + formatValue(m.New, m.Unit)
			switch {
			case m.P == nil:
			case !m.Significant:
				s += fmt.Sprintf(" (~ p=%.3g)", *m.P)
			default:
				d := formatDelta(m)
				s += fmt.Sprintf(" (%s p=%.3g)", d, *m.P)
			}
			cells = append(cells, s)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	writeAgreementText(ew, c.Verdicts)
	return ew.err
}

// WriteJSON writes c as indented JSON.
func (c *Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// metricHeads returns the metrics every row carries (name and unit): the
// fixed ones, then the lag stages of either bench.
func (c *Comparison) metricHeads() []CompareMetric {
	if len(c.Rows) > 0 {
		return c.Rows[0].Metrics
	}
	var out []CompareMetric
	for _, m := range compareMetrics {
		out = append(out, CompareMetric{Name: m.name, Unit: m.unit})
	}
	return out
}

// WriteCSV writes a header and one row per scenario and strategy: status
// old and new, then per metric old with its interval, new with its
// interval, delta, p-value and whether it is significant (latencies in
// microseconds, empty when null).
func (c *Comparison) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"scenario", "strategy", "old_status", "new_status"}
	for _, m := range c.metricHeads() {
		n := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(m.Name))
		if m.Unit == "us" {
			n += "_us"
		}
		head = append(head, n+"_old", n+"_old_lo", n+"_old_hi", n+"_new", n+"_new_lo", n+"_new_hi", n+"_delta", n+"_p", n+"_significant")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	for _, r := range c.Rows {
		rec := []string{r.Scenario, r.Strategy, r.OldStatus, r.NewStatus}
		for _, m := range r.Metrics {
			sig := ""
			if m.P != nil {
				sig = strconv.FormatBool(m.Significant)
			}
			rec = append(rec, num(m.Old), num(m.OldLo), num(m.OldHi), num(m.New), num(m.NewLo), num(m.NewHi), num(m.Delta), num(m.P), sig)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeClassesText prints the class matrix, one row per strategy and one
// column per scenario: "= ✓ clean" where the class did not change,
// "✓ clean -> ◐ stale 0.05%" where it did, and how many cells changed.
func (c *Comparison) writeClassesText(w io.Writer) {
	if len(c.Classes) == 0 {
		return
	}
	var scs, sts []string
	seenSc, seenSt := map[string]bool{}, map[string]bool{}
	cell := map[[2]string]ClassChange{}
	for _, k := range c.Classes {
		if !seenSc[k.Scenario] {
			seenSc[k.Scenario] = true
			scs = append(scs, k.Scenario)
		}
		if !seenSt[k.Strategy] {
			seenSt[k.Strategy] = true
			sts = append(sts, k.Strategy)
		}
		cell[[2]string{k.Scenario, k.Strategy}] = k
	}
	fmt.Fprintf(w, "classes, old -> new (= unchanged; the median class over each bench's repetitions):\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "strategy\t"+strings.Join(scs, "\t"))
	changed, n := 0, 0
	for _, st := range sts {
		row := []string{st}
		for _, sc := range scs {
			k, ok := cell[[2]string{sc, st}]
			switch {
			case !ok:
				row = append(row, "")
				continue
			case k.Changed:
				changed++
				row = append(row, k.OldText+" -> "+k.NewText)
			default:
				row = append(row, "= "+k.NewText)
			}
			n++
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d of %d cells changed class\n", changed, n)
	both, same := 0, 0
	var differ []string
	for _, k := range c.Classes {
		if !k.OldDecided || !k.NewDecided {
			continue
		}
		both++
		if !k.Changed {
			same++
		} else {
			differ = append(differ, fmt.Sprintf("%s / %s (%s -> %s)", k.Scenario, k.Strategy, k.Old, k.New))
		}
	}
	fmt.Fprintf(w, "decided in both (at least 2/3 of the repetitions in the cell's class): %d cells, %d of them the same class", both, same)
	if len(differ) > 0 {
		fmt.Fprintf(w, "; different: %s", strings.Join(differ, ", "))
	}
	fmt.Fprint(w, "\n\n")
}
