package report

import (
	"fmt"
	"sort"
	"strings"
)

// ProvedRace is an anomaly shown to be possible for a strategy by an
// interleaving that was driven to it on real servers, as opposed to a rate
// measured under load: a bench that saw no stale read of cache-aside did
// not show that cache-aside cannot serve one. The bench records the races
// it knows in bench.json (Bench.ProvedRaces) and the report puts them
// beside the measured classes.
//
// Any source can fill it: today the reproduce catalogue (a scripted
// interleaving per case, proved on every run by its package tests), later
// a search of interleavings that reports the smallest schedule it found.
type ProvedRace struct {
	// Strategy is the strategy the race was proved on.
	Strategy string `json:"strategy"`
	// Class is the Class name of what the interleaving produced: ghost,
	// stuck-stale, stale-reads or writes-failed; clean when it proved the
	// strategy handles that interleaving.
	Class string `json:"class"`
	// Source says where the proof comes from, "reproduce CASE" or the name
	// of a search; Bound what it covers (the scripted interleaving, a
	// search's bound).
	Source string `json:"source"`
	Bound  string `json:"bound,omitempty"`
	// Params are the strategy parameters the proof needs ("local=true");
	// empty when it holds for the strategy as the bench runs it.
	Params string `json:"params,omitempty"`
	// Link reproduces or shows the proof: a command line, or a path
	// relative to the bench folder (a schedule file), which index.html
	// links when it exists.
	Link string `json:"link,omitempty"`
	// Why says in one line what happens.
	Why string `json:"why,omitempty"`
}

// class returns the race's class (ClassNone for a name this version
// does not know).
func (p ProvedRace) class() Class {
	k, err := ParseClass(p.Class)
	if err != nil {
		return ClassNone
	}
	return k
}

// proof renders the race for a sentence: "ghostbench reproduce X (with
// local=true)".
func (p ProvedRace) proof() string {
	s := p.Link
	if s == "" {
		s = p.Source
	}
	if p.Params != "" {
		s += " (with " + p.Params + ")"
	}
	return s
}

// Races returns the proved races of strategy in m's bench, worst class
// first, then by source; with clean true only the interleavings it was
// proved to handle, otherwise only the anomalies.
func (m *Matrix) Races(strategy string, clean bool) []ProvedRace {
	var out []ProvedRace
	for _, p := range m.Bench.ProvedRaces {
		if p.Strategy != strategy || (p.class() == ClassClean) != clean {
			continue
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].class() != out[j].class() {
			return out[i].class() > out[j].class()
		}
		return out[i].Source < out[j].Source
	})
	return out
}

// worstRace returns strategy's proved race of the worst class that holds
// for the strategy as the bench ran it (no parameters), and false when it
// has none.
func (m *Matrix) worstRace(strategy string) (ProvedRace, bool) {
	for _, p := range m.Races(strategy, false) {
		if p.Params == "" && p.class() > ClassClean {
			return p, true
		}
	}
	return ProvedRace{}, false
}

// raceNote is the words a cell of class k gets when its strategy has a
// proved race worse than what this load showed: "no stale read in this
// load; can serve stale until TTL (proved: ghostbench reproduce
// cache-aside-stale-set)". Empty when the race is no worse than k.
func (m *Matrix) raceNote(strategy string, k Class) string {
	p, ok := m.worstRace(strategy)
	if !ok || p.class() <= k || k == ClassNone {
		return ""
	}
	absent := classInfo[p.class()].absent
	if p.class() != ClassGhost && k < ClassStaleReads {
		absent = "no stale read"
	}
	return fmt.Sprintf("%s in this load; %s (proved: %s)", absent, classInfo[p.class()].proved, p.proof())
}

// racesShort renders strategy's proved races for a matrix cell: one
// symbol and class per class, with the number of proofs ("▲ stuck stale",
// "✖ ghost ×3"), "-" without any.
func (m *Matrix) racesShort(strategy string) string {
	rs := m.Races(strategy, false)
	if len(rs) == 0 {
		return "-"
	}
	var parts []string
	for _, g := range groupRaces(rs) {
		s := g.class.Symbol() + " " + g.class.Label()
		if len(g.races) > 1 {
			s += fmt.Sprintf(" ×%d", len(g.races))
		}
		if g.params {
			s += "*"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// raceGroup is the races of one class.
type raceGroup struct {
	class  Class
	races  []ProvedRace
	params bool // every race of the group needs parameters
}

func groupRaces(rs []ProvedRace) []raceGroup {
	var out []raceGroup
	for _, p := range rs {
		if len(out) == 0 || out[len(out)-1].class != p.class() {
			out = append(out, raceGroup{class: p.class(), params: true})
		}
		g := &out[len(out)-1]
		g.races = append(g.races, p)
		g.params = g.params && p.Params != ""
	}
	return out
}

// raceTitle describes races in full for a title attribute or a list.
func raceTitle(rs []ProvedRace) string {
	var parts []string
	for _, p := range rs {
		s := fmt.Sprintf("%s: %s", classOrClean(p), p.Source)
		if p.Bound != "" {
			s += " (" + p.Bound + ")"
		}
		if p.Params != "" {
			s += ", with " + p.Params
		}
		if p.Why != "" {
			s += ": " + p.Why
		}
		if p.Link != "" && p.Link != p.Source {
			s += "; reproduce: " + p.Link
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "\n")
}

func classOrClean(p ProvedRace) string {
	if p.class() == ClassClean {
		return "handled"
	}
	return p.class().Label()
}
