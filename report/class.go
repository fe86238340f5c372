package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ghostbench/ghostbench/stats"
)

// Class is what a person needs to know first about a strategy in a
// scenario, in one glance: did it serve a value that was never committed,
// leave keys stale until their TTL, serve stale reads, fail writes, or
// none of these. Classes are ordered by severity: a larger Class is worse.
//
// One repetition's class is the worst thing it showed (RepClass); a
// cell's class is the median of its repetitions' classes (CellClass), so
// that one unusual repetition on a loaded machine does not change the
// matrix, while the worst class any repetition showed is kept beside it.
type Class int

// The classes, from best to worst. Their names (Class.String) are the
// words bench.json, compare's JSON and the tests use.
const (
	// ClassNone: no completed repetition, nothing to classify.
	ClassNone Class = iota
	// ClassClean: no ghost, no key stale at the audit, no stale read, and
	// every write committed.
	ClassClean
	// ClassUnknown: nothing proved wrong, but some reads could not be
	// verified (unknown is never clean).
	ClassUnknown
	// ClassWritesFailed: reads were fine, but write availability was
	// below 1.
	ClassWritesFailed
	// ClassStaleReads: some reads returned a version older than one
	// acknowledged before they began; nothing stayed stale.
	ClassStaleReads
	// ClassStuckStale: the end-of-run audit found keys stale in the
	// cache: they stay wrong until their TTL expires.
	ClassStuckStale
	// ClassGhost: a read returned, or the audit found cached, a value
	// whose write never committed.
	ClassGhost
)

var classInfo = []struct {
	name, symbol, label, css string
	// proved says what a proved race of the class means for a strategy.
	proved string
	// absent says that the class was not seen ("no stale read in this
	// load").
	absent string
}{
	ClassNone:         {"no-data", "·", "no data", "none", "", ""},
	ClassClean:        {"clean", "✓", "clean", "clean", "runs the interleaving clean", ""},
	ClassUnknown:      {"unknown", "?", "unverified", "unknown", "", ""},
	ClassWritesFailed: {"writes-failed", "⊘", "writes failed", "writes", "can fail writes", "no failed write"},
	ClassStaleReads:   {"stale-reads", "◐", "stale reads", "stale", "can serve stale reads", "no stale read"},
	ClassStuckStale:   {"stuck-stale", "▲", "stuck stale", "stuck", "can serve stale until TTL", "no key stale until TTL"},
	ClassGhost:        {"ghost", "✖", "ghost", "ghost", "can serve a value never committed", "no ghost"},
}

// Classes returns every class that a cell can have, worst first.
func Classes() []Class {
	return []Class{ClassGhost, ClassStuckStale, ClassStaleReads, ClassWritesFailed, ClassUnknown, ClassClean, ClassNone}
}

// String returns the class's name: ghost, stuck-stale, stale-reads,
// writes-failed, unknown, clean or no-data.
func (c Class) String() string {
	if c < 0 || int(c) >= len(classInfo) {
		return "class(" + strconv.Itoa(int(c)) + ")"
	}
	return classInfo[c].name
}

// Symbol returns the class's one-character mark, the same in a terminal,
// in Markdown and in HTML, so that the matrix reads without colour.
func (c Class) Symbol() string { return classInfo[c].symbol }

// Label returns the class in words for people: "stuck stale".
func (c Class) Label() string { return classInfo[c].label }

// ParseClass returns the class named s (Class.String).
func ParseClass(s string) (Class, error) {
	for i, ci := range classInfo {
		if ci.name == s {
			return Class(i), nil
		}
	}
	var names []string
	for _, c := range Classes() {
		names = append(names, c.String())
	}
	return ClassNone, fmt.Errorf("class %q: unknown; allowed: %s", s, strings.Join(names, ", "))
}

// RepClass returns the class of one completed repetition: the worst of
// ghost (a ghost read or a ghost-until-TTL key), stuck stale (a
// stale-until-TTL key), stale reads, unknown reads, failed writes, else
// clean.
func RepClass(r SummaryRow) Class {
	switch {
	case r.GhostReads > 0 || r.GhostUntilTTL > 0:
		return ClassGhost
	case r.StaleUntilTTL > 0:
		return ClassStuckStale
	case r.StaleReads > 0:
		return ClassStaleReads
	case r.Availability != nil && *r.Availability < 1:
		return ClassWritesFailed
	case r.UnknownReads > 0:
		return ClassUnknown
	}
	return ClassClean
}

// CellClass is the classification of one cell of the matrix over its
// completed repetitions.
type CellClass struct {
	// Class is the median of the repetitions' classes: the worst class
	// that more than half of them reached (with 6 repetitions, 4 of them
	// at least that bad). ClassNone without a completed repetition.
	Class Class
	// Reps is the number of completed repetitions; Counts how many had
	// each class.
	Reps   int
	Counts map[Class]int
	// Worst is the worst class of any repetition, WorstReps how many
	// had it.
	Worst     Class
	WorstReps int
	// WritesFailedReps counts repetitions with write availability below
	// 1 (whatever their class); WritesFailed says the median availability
	// is below 1 (the rule that keeps a strategy out of the safest group).
	WritesFailedReps int
	WritesFailed     bool
}

// Classify returns the classification of c.
func (c *Cell) Classify() CellClass {
	cc := CellClass{Counts: map[Class]int{}}
	if c == nil {
		return cc
	}
	var classes []Class
	for i := range c.Reps {
		r := &c.Reps[i]
		if !r.measured() {
			continue
		}
		k := RepClass(r.Row)
		classes = append(classes, k)
		cc.Counts[k]++
		if r.Row.Availability != nil && *r.Row.Availability < 1 {
			cc.WritesFailedReps++
		}
	}
	cc.Reps = len(classes)
	if cc.Reps == 0 {
		return cc
	}
	sort.Slice(classes, func(i, j int) bool { return classes[i] > classes[j] })
	cc.Class = classes[cc.Reps/2]
	cc.Worst = classes[0]
	cc.WorstReps = cc.Counts[cc.Worst]
	if a := c.Samples(MetricAvailability); len(a) > 0 {
		cc.WritesFailed = stats.Median(a) < 1
	}
	return cc
}

// rate returns the number behind class k of c, rendered: the stale-read
// ratio, the ghost reads and ghost-until-TTL keys, the stale-until-TTL
// keys per repetition, or the write availability; "" for the others.
func (c *Cell) classRate(k Class, withCI bool) string {
	show := func(key string, f func(float64) string) string {
		e := c.Estimate(key)
		if withCI {
			return estText(e, f)
		}
		if e.N == 0 {
			return "-"
		}
		return f(e.Value)
	}
	switch k {
	case ClassStaleReads:
		if withCI {
			return show(MetricStaleRatio, pctText)
		}
		return show(MetricStaleRatio, pct2Text)
	case ClassStuckStale:
		return show(MetricStaleUntilTTL, countText) + " keys"
	case ClassGhost:
		g, gt := c.Estimate(MetricGhostReads), c.Estimate(MetricGhostUntilTTL)
		if g.Value == 0 && gt.Value > 0 {
			return show(MetricGhostUntilTTL, countText) + " keys"
		}
		return show(MetricGhostReads, countText) + " reads"
	case ClassWritesFailed:
		if withCI {
			return show(MetricAvailability, ratioText)
		}
		return show(MetricAvailability, pct2Text)
	}
	return ""
}

// Describe says in one sentence what the classification of c means, with
// the numbers behind it: the HTML title of a matrix cell.
func (cc CellClass) Describe(c *Cell) string {
	if cc.Reps == 0 {
		if c == nil {
			return "not in this bench"
		}
		return fmt.Sprintf("no completed repetition (%s)", c.Status)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s in %d of %d repetitions (the median class)", cc.Class.Label(), cc.Counts[cc.Class], cc.Reps)
	switch cc.Class {
	case ClassStaleReads:
		fmt.Fprintf(&b, "; stale-read ratio %s", c.classRate(ClassStaleReads, true))
	case ClassStuckStale:
		fmt.Fprintf(&b, "; keys stale until TTL at the audit %s per repetition; stale reads %s", c.classRate(ClassStuckStale, true), c.classRate(ClassStaleReads, true))
	case ClassGhost:
		fmt.Fprintf(&b, "; ghost reads %s, ghost-until-TTL keys %s per repetition", estText(c.Estimate(MetricGhostReads), countText), estText(c.Estimate(MetricGhostUntilTTL), countText))
	}
	if cc.Worst > cc.Class {
		fmt.Fprintf(&b, "; worst repetition: %s (%d of %d)", cc.Worst.Label(), cc.WorstReps, cc.Reps)
	}
	fmt.Fprintf(&b, "; write availability %s", c.classRate(ClassWritesFailed, true))
	if cc.WritesFailedReps > 0 {
		fmt.Fprintf(&b, ", below 1 in %d of %d repetitions", cc.WritesFailedReps, cc.Reps)
	}
	return b.String() + "."
}

// Short renders the classification in a few characters for a matrix
// cell: the symbol, the class and its rate ("◐ stale 0.05%"), then a
// worse class seen in a minority of repetitions ("✖1/6") and, when the
// median write availability is below 1 but the class is about reads, the
// failed-writes mark with the availability.
func (cc CellClass) Short(c *Cell) string {
	main, extra := cc.ShortParts(c)
	if extra != "" {
		return main + " " + extra
	}
	return main
}

// ShortParts is Short in two parts: the class with its rate, and the
// marks after it (a worse minority class, failed writes), for a page that
// sets them smaller.
func (cc CellClass) ShortParts(c *Cell) (main, extra string) {
	if cc.Reps == 0 {
		return ClassNone.Symbol() + " " + noDataWord(c), ""
	}
	main = cc.Class.Symbol() + " " + shortWord[cc.Class]
	if r := c.classRate(cc.Class, false); r != "" {
		main += " " + r
		if cc.Class == ClassWritesFailed {
			main += " ok"
		}
	}
	var ex []string
	if cc.Worst > cc.Class {
		ex = append(ex, fmt.Sprintf("(%s%d/%d)", cc.Worst.Symbol(), cc.WorstReps, cc.Reps))
	}
	if cc.WritesFailed && cc.Class != ClassWritesFailed {
		ex = append(ex, ClassWritesFailed.Symbol()+" "+c.classRate(ClassWritesFailed, false)+" ok")
	}
	return main, strings.Join(ex, " ")
}

// shortWord is the word a matrix cell shows after the symbol.
var shortWord = map[Class]string{
	ClassClean: "clean", ClassUnknown: "unverified", ClassWritesFailed: "writes", ClassStaleReads: "stale",
	ClassStuckStale: "stuck", ClassGhost: "ghost",
}

func noDataWord(c *Cell) string {
	if c == nil {
		return "-"
	}
	return string(c.Status)
}
