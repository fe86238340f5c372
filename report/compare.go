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
)

// CompareMetric is one metric of a comparison, old -> new. Unit is "share"
// (a ratio shown as a percentage), "ratio", "reads", "keys" or "us"
// (microseconds). Old and New are
// null when that side has no value (run missing, not completed, or a ratio
// over nothing); Delta is New - Old, null unless both exist.
type CompareMetric struct {
	Name  string   `json:"name"`
	Unit  string   `json:"unit"`
	Old   *float64 `json:"old"`
	New   *float64 `json:"new"`
	Delta *float64 `json:"delta"`
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
}

// compareMetrics are the compared metrics: name, unit, value.
var compareMetrics = []struct {
	name, unit string
	value      func(r SummaryRow) *float64
}{
	{"stale ratio", "share", func(r SummaryRow) *float64 { return r.StaleRatio }},
	{"ghost reads", "reads", func(r SummaryRow) *float64 { return fptr(float64(r.GhostReads)) }},
	{"stale-until-TTL", "keys", func(r SummaryRow) *float64 { return fptr(float64(r.StaleUntilTTL)) }},
	{"write avail", "ratio", func(r SummaryRow) *float64 { return r.Availability }},
	{"read p99", "us", func(r SummaryRow) *float64 { return fptr(float64(r.ReadP99)) }},
	{"write p99", "us", func(r SummaryRow) *float64 { return fptr(float64(r.WriteP99)) }},
	{"inval lag p50", "us", func(r SummaryRow) *float64 { return optMicros(r.InvalidationLagP50Us) }},
	{"inval lag p99", "us", func(r SummaryRow) *float64 { return optMicros(r.InvalidationLagP99Us) }},
}

// optMicros returns v as a float, nil when absent.
func optMicros(v *int64) *float64 {
	if v == nil {
		return nil
	}
	return fptr(float64(*v))
}

func fptr(v float64) *float64 { return &v }

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
			m := CompareMetric{Name: cm.name, Unit: cm.unit}
			if oc.measured() {
				m.Old = cm.value(oc.Row)
			}
			if nc.measured() {
				m.New = cm.value(nc.Row)
			}
			if m.Old != nil && m.New != nil {
				m.Delta = fptr(*m.New - *m.Old)
			}
			row.Metrics = append(row.Metrics, m)
		}
		cmp.Rows = append(cmp.Rows, row)
	}
	return cmp
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
		return strconv.FormatFloat(*v, 'g', 4, 64)
	case "us":
		return FormatMicros(int64(math.Round(*v)))
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
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
		s = sign + strconv.FormatFloat(math.Abs(d), 'g', 3, 64)
	case "us":
		s = sign + FormatMicros(int64(math.Round(math.Abs(d))))
		if *m.Old > 0 {
			s += fmt.Sprintf(", %+.0f%%", d / *m.Old * 100)
		}
	default:
		s = sign + strconv.FormatFloat(math.Abs(d), 'f', -1, 64)
	}
	if d == 0 {
		s = "="
	}
	return s
}

// WriteText writes c as aligned columns, one line per scenario and
// strategy, each metric as "old -> new (delta)".
func (c *Comparison) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "old: %s\nnew: %s\n\n", c.Old, c.New)
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
			if d := formatDelta(m); d != "" {
				s += " (" + d + ")"
			}
			cells = append(cells, s)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	return ew.err
}

// WriteJSON writes c as indented JSON.
func (c *Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// WriteCSV writes a header and one row per scenario and strategy: status
// old and new, then per metric old, new and delta (latencies in
// microseconds, empty when null).
func (c *Comparison) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"scenario", "strategy", "old_status", "new_status"}
	for _, m := range compareMetrics {
		n := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(m.name))
		if m.unit == "us" {
			n += "_us"
		}
		head = append(head, n+"_old", n+"_new", n+"_delta")
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
			rec = append(rec, num(m.Old), num(m.New), num(m.Delta))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
