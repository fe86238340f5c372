package report

import (
	"fmt"
	"strconv"
	"strings"
)

// benchSub is the one line under the title of index.html: what ran, with
// the load average, before the matrix.
func benchSub(m *Matrix) string {
	s := fmt.Sprintf("%d strategies × %d scenarios × %d repetitions of %s; started %s",
		len(m.Strategies), len(m.Scenarios), m.Count(), m.Bench.Duration, m.Bench.Started.UTC().Format("2006-01-02 15:04 UTC"))
	if l := m.Bench.Load; l != nil {
		s += fmt.Sprintf("; load average %.1f (%.1f–%.1f)", l.Mean, l.Min, l.Max)
	}
	return s + "."
}

// htmlAnswerOf converts m's answer for the template.
func htmlAnswerOf(m *Matrix) htmlAnswer {
	a := m.Answer()
	h := htmlAnswer{Scenarios: a.Scenarios, Reps: m.Count(), Baseline: a.Baseline, Legend: a.Legend(), Notes: a.Notes}
	for _, c := range a.Costs {
		h.Costs = append(h.Costs, htmlHead{Text: c.Head, Title: c.Title + "; " + BaselineStrategy + " if the bench has it, else its first strategy"})
	}
	for _, r := range a.Rows {
		hr := htmlAnswerRow{Strategy: r.Strategy, RacesTitle: r.RacesTitle}
		for _, c := range r.Cells {
			text := strings.TrimPrefix(c.Main, c.Class.Symbol()+" ")
			hr.Cells = append(hr.Cells, htmlClassCell{Class: classInfo[c.Class].css, Symbol: c.Class.Symbol(), Text: text, Extra: c.Extra, Title: c.Title,
				Sort: strconv.Itoa(int(c.Class))})
		}
		for _, g := range groupRaces(m.Races(r.Strategy, false)) {
			t := shortWord[g.class]
			if len(g.races) > 1 {
				t += fmt.Sprintf(" ×%d", len(g.races))
			}
			if g.params {
				t += "*"
			}
			hr.Races = append(hr.Races, htmlRace{Class: classInfo[g.class].css, Symbol: g.class.Symbol(), Text: t, Title: raceTitle(g.races)})
		}
		if n := len(r.Handled); n > 0 {
			hr.Handled = raceTitle(r.Handled)
		}
		for _, c := range r.Costs {
			sort := ""
			if c.Ratio == c.Ratio { // not NaN
				sort = strconv.FormatFloat(c.Ratio, 'g', 6, 64)
			}
			hr.Costs = append(hr.Costs, htmlClassCell{Text: c.Text, Title: c.Title, Sort: sort})
		}
		h.Rows = append(h.Rows, hr)
	}
	for _, q := range a.Questions {
		h.Questions = append(h.Questions, htmlQuestion{Q: q.Q, A: mdToHTML(q.A)})
	}
	return h
}
