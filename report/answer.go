package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
)

// Answer is what a bench says at a glance, the first thing summary.md,
// index.html and the end of "ghostbench bench" show: the class matrix
// (one row per strategy, one column per scenario), each strategy's proved
// races and its costs beside it, and the questions people bring, answered
// from the data.
type Answer struct {
	Scenarios []string
	// Baseline is the strategy the costs are relative to.
	Baseline string
	Costs    []CostColumn
	Rows     []AnswerRow
	// Notes are the sentences behind the † marks, one per strategy and
	// note.
	Notes     []string
	Questions []Question
}

// AnswerRow is one strategy's row of the matrix.
type AnswerRow struct {
	Strategy string
	Cells    []AnswerCell // per scenario, in Answer.Scenarios order
	// Races is the short form of the proved races ("▲ stuck stale"),
	// RacesTitle every race in full; Handled the interleavings proved
	// handled.
	Races, RacesTitle string
	Handled           []ProvedRace
	Costs             []AnswerCost
}

// AnswerCell is one cell of the matrix.
type AnswerCell struct {
	CellClass
	// Text is what the cell shows (Main, then Extra: the marks after
	// the class); Title explains it in full; Note is set (and Text ends
	// with †) when the strategy has a proved race worse than what this
	// cell measured.
	Text, Main, Extra, Title, Note string
}

// AnswerCost is one cost of a row.
type AnswerCost struct {
	Cost
	Text, Title string
}

// Question is a question and its answer, computed from the bench.
type Question struct {
	Q, A string // A is markdown (**bold** only)
}

// Answer computes the answer of m.
func (m *Matrix) Answer() *Answer {
	a := &Answer{Scenarios: m.Scenarios, Baseline: m.baseline(), Costs: costColumns}
	noteSeen := map[string]bool{}
	for _, st := range m.Strategies {
		row := AnswerRow{Strategy: st, Races: m.racesShort(st), RacesTitle: raceTitle(m.Races(st, false)), Handled: m.Races(st, true)}
		noteScs := map[string][]string{}
		var noteOrder []string
		for _, sc := range m.Scenarios {
			c := m.Cell(sc, st)
			cc := c.Classify()
			main, extra := cc.ShortParts(c)
			ac := AnswerCell{CellClass: cc, Text: cc.Short(c), Main: main, Extra: extra, Title: sc + " / " + st + ": " + cc.Describe(c)}
			if note := m.raceNote(st, cc.Class); note != "" {
				ac.Note, ac.Text, ac.Extra = note, ac.Text+" †", strings.TrimSpace(ac.Extra+" †")
				ac.Title += " † " + note + "."
				if _, ok := noteScs[note]; !ok {
					noteOrder = append(noteOrder, note)
				}
				noteScs[note] = append(noteScs[note], sc)
			}
			row.Cells = append(row.Cells, ac)
		}
		for _, n := range noteOrder {
			s := fmt.Sprintf("† %s in %s: %s.", st, joinAnd(noteScs[n]), n)
			if !noteSeen[s] {
				noteSeen[s] = true
				a.Notes = append(a.Notes, s)
			}
		}
		for _, col := range costColumns {
			c := m.Cost(st, col)
			ac := AnswerCost{Cost: c, Text: factorText(c.Ratio), Title: m.costTitle(c, col)}
			if st == a.Baseline {
				ac.Text = "base"
			}
			row.Costs = append(row.Costs, ac)
		}
		a.Rows = append(a.Rows, row)
	}
	a.Questions = m.questions(a)
	return a
}

// Legend explains the symbols of the matrix, in one line of markdown.
func (a *Answer) Legend() string {
	return fmt.Sprintf("%s ghost: served a value never committed · %s stuck: keys stale until their TTL (per repetition) · %s stale: stale reads (share of reads) · %s writes: write availability below 1 · %s clean: none of these · %s unverified reads · the class is the median over the repetitions; (%s1/6): a worse class in a minority of them · †: a proved race can do worse than this load showed · proved races: anomalies driven on real servers (*: with parameters other than the bench's) · costs: median relative to %s in the same scenario, geometric mean over the scenarios.",
		ClassGhost.Symbol(), ClassStuckStale.Symbol(), ClassStaleReads.Symbol(), ClassWritesFailed.Symbol(), ClassClean.Symbol(), ClassUnknown.Symbol(), ClassGhost.Symbol(), a.Baseline)
}

// header returns the matrix's column names.
func (a *Answer) header() []string {
	h := append([]string{"strategy"}, a.Scenarios...)
	h = append(h, "proved races")
	for _, c := range a.Costs {
		h = append(h, c.Head)
	}
	return h
}

// cells returns a row's texts in header order.
func (r AnswerRow) cells() []string {
	out := []string{r.Strategy}
	for _, c := range r.Cells {
		out = append(out, c.Text)
	}
	out = append(out, r.Races)
	for _, c := range r.Costs {
		out = append(out, c.Text)
	}
	return out
}

// WriteMarkdown writes the matrix as a Markdown table (no HTML, readable
// as it is in a terminal), the legend, the notes and the questions.
func (a *Answer) WriteMarkdown(w io.Writer) {
	h := a.header()
	align := make([]string, len(h))
	for i := range align {
		align[i] = "---"
		if i > len(a.Scenarios)+1 {
			align[i] = "---:"
		}
	}
	fmt.Fprintf(w, "| %s |\n|%s|\n", strings.Join(h, " | "), strings.Join(align, "|"))
	for _, r := range a.Rows {
		cs := r.cells()
		for i := range cs {
			cs[i] = strings.ReplaceAll(cs[i], "|", `\|`)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cs, " | "))
	}
	fmt.Fprintf(w, "\n%s\n", a.Legend())
	if len(a.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range a.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	fmt.Fprintln(w)
	for _, q := range a.Questions {
		fmt.Fprintf(w, "- **%s** %s\n", q.Q, q.A)
	}
}

// WriteText writes the matrix as aligned columns for a terminal, then the
// questions, without markdown.
func (a *Answer) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(a.header(), "\t"))
	for _, r := range a.Rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
	}
	tw.Flush()
	fmt.Fprintf(ew, "%s\n", a.Legend())
	for _, n := range a.Notes {
		fmt.Fprintf(ew, "%s\n", n)
	}
	for _, q := range a.Questions {
		fmt.Fprintf(ew, "%s %s\n", q.Q, strings.ReplaceAll(q.A, "**", ""))
	}
	return ew.err
}

// redisFaultScenarios returns the scenarios of m whose fault schedule
// makes Redis fail (a fault named redis-*).
func (m *Matrix) redisFaultScenarios() []string {
	var out []string
	for _, sc := range m.Scenarios {
		for _, f := range m.Info(sc).Faults {
			if strings.HasPrefix(f, "redis-") {
				out = append(out, sc)
				break
			}
		}
	}
	return out
}

// questions answers the questions people bring to a bench, from its data.
func (m *Matrix) questions(a *Answer) []Question {
	var qs []Question
	measured := func(st string) bool {
		for _, sc := range m.Scenarios {
			if m.Cell(sc, st).Completed() > 0 {
				return true
			}
		}
		return false
	}
	// 1. Never served a value never committed.
	var never, served []string
	neverSet := map[string]bool{}
	for _, r := range a.Rows {
		if !measured(r.Strategy) {
			continue
		}
		var where []string
		for i, c := range r.Cells {
			if n := c.Counts[ClassGhost]; n > 0 {
				where = append(where, fmt.Sprintf("%s %d/%d", a.Scenarios[i], n, c.Reps))
			}
		}
		if len(where) == 0 {
			never = append(never, r.Strategy)
			neverSet[r.Strategy] = true
		} else {
			served = append(served, fmt.Sprintf("%s (%s)", r.Strategy, strings.Join(where, ", ")))
		}
	}
	ans := "in no repetition of any scenario: " + orNone(never) + "."
	if len(served) > 0 {
		ans += " Served one: " + strings.Join(served, "; ") + " (repetitions with a ghost read or ghost-until-TTL key)."
	}
	var provedGhost []string
	for _, st := range never {
		for _, p := range m.Races(st, false) {
			if p.class() == ClassGhost {
				provedGhost = append(provedGhost, st+" ("+p.proof()+")")
				break
			}
		}
	}
	if len(provedGhost) > 0 {
		ans += " Proved able to all the same: " + strings.Join(provedGhost, "; ") + "."
	}
	qs = append(qs, Question{"Which strategies never served a value that was never committed?", ans})

	// 2. Writes available when Redis fails.
	rf := m.redisFaultScenarios()
	availSet := map[string]bool{}
	if len(rf) == 0 {
		qs = append(qs, Question{"Which keep writes available when Redis fails?", "no scenario of this bench makes Redis fail (add redis-outage, redis-oom or lost-replies)."})
	} else {
		var kept, failed []string
		for _, st := range m.Strategies {
			var where []string
			seen := false
			for _, sc := range rf {
				c := m.Cell(sc, st)
				cc := c.Classify()
				if cc.Reps == 0 {
					continue
				}
				seen = true
				if cc.WritesFailedReps > 0 {
					where = append(where, fmt.Sprintf("%s %s, %d/%d", sc, c.classRate(ClassWritesFailed, false), cc.WritesFailedReps, cc.Reps))
				}
			}
			switch {
			case !seen:
			case len(where) == 0:
				kept = append(kept, st)
				availSet[st] = true
			default:
				failed = append(failed, fmt.Sprintf("%s (%s)", st, strings.Join(where, "; ")))
			}
		}
		ans := fmt.Sprintf("every write committed in every repetition of %s: %s.", joinAnd(rf), orNone(kept))
		if len(failed) > 0 {
			ans += " Failed writes (the median share committed, the repetitions with a failed write): " + strings.Join(failed, "; ") + "."
		}
		qs = append(qs, Question{"Which keep writes available when Redis fails?", ans})
	}

	// 3. Within the user's budget.
	budgetSet := map[string]bool{}
	budget, err := ParseBudget(m.Bench.Budget)
	switch {
	case m.Bench.Budget == "":
		qs = append(qs, Question{"Which keep staleness under your bound?", "give one with -budget (ghostbench bench or report), e.g. -budget 'stale-ratio<=0.001,p99-staleness-ms<=100'."})
	case err != nil:
		qs = append(qs, Question{"Which keep staleness under your bound?", fmt.Sprintf("the budget %q cannot be read: %v.", m.Bench.Budget, err)})
	default:
		var within, broke []string
		for _, st := range m.Strategies {
			runs, bad := 0, 0
			var first string
			for _, sc := range m.Scenarios {
				c := m.Cell(sc, st)
				if c == nil {
					continue
				}
				for i := range c.Reps {
					r := &c.Reps[i]
					if !r.measured() {
						continue
					}
					runs++
					if vs := budget.Check(r.Run); len(vs) > 0 {
						bad++
						if first == "" {
							first = sc + ": " + vs[0].String()
						}
					}
				}
			}
			switch {
			case runs == 0:
			case bad == 0:
				within = append(within, st)
				budgetSet[st] = true
			default:
				broke = append(broke, fmt.Sprintf("%s (%d of %d runs, e.g. %s)", st, bad, runs, first))
			}
		}
		ans := fmt.Sprintf("within %s in every run: %s.", "`"+m.Bench.Budget+"`", orNone(within))
		if len(broke) > 0 {
			ans += " Broke it: " + strings.Join(broke, "; ") + "."
		}
		qs = append(qs, Question{"Which keep staleness under your bound?", ans})
	}

	// 4. The cheapest of those.
	var cands []string
	for _, st := range m.Strategies {
		if neverSet[st] && (len(rf) == 0 || availSet[st]) && (m.Bench.Budget == "" || err != nil || budgetSet[st]) {
			cands = append(cands, st)
		}
	}
	what := "never served a ghost"
	if len(rf) > 0 {
		what += ", kept writes available"
	}
	if m.Bench.Budget != "" && err == nil {
		what += ", kept the budget"
	}
	qs = append(qs, Question{"Which is the cheapest of those?", m.cheapest(a, cands, what)})
	return qs
}

// cheapest names the candidate with the lowest p99 read latency relative
// to the baseline, with its other costs, and the one with the lowest p99
// write latency when that is another.
func (m *Matrix) cheapest(a *Answer, cands []string, what string) string {
	if len(cands) == 0 {
		return "no strategy " + what + "."
	}
	rowOf := map[string]AnswerRow{}
	for _, r := range a.Rows {
		rowOf[r.Strategy] = r
	}
	pick := func(col int) string {
		best, bv := "", math.Inf(1)
		for _, st := range cands {
			if v := rowOf[st].Costs[col].Ratio; v < bv {
				best, bv = st, v
			}
		}
		return best
	}
	costs := func(st string) string {
		var parts []string
		for i, c := range rowOf[st].Costs {
			parts = append(parts, a.Costs[i].Head+" "+factorText(c.Ratio))
		}
		return strings.Join(parts, ", ")
	}
	sorted := append([]string(nil), cands...)
	sort.Strings(sorted)
	r := pick(0)
	if r == "" {
		return fmt.Sprintf("of the strategies that %s (%s), none has costs to compare.", what, joinAnd(sorted))
	}
	s := fmt.Sprintf("of the %d that %s, **%s** by p99 read latency (%s, relative to %s)", len(cands), what, r, costs(r), a.Baseline)
	if w := pick(1); w != "" && w != r {
		s += fmt.Sprintf("; by p99 write latency %s (%s)", w, costs(w))
	}
	return s + "."
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return joinAnd(s)
}
