package reproduce

import (
	"fmt"
	"sort"
	"strings"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

// Verdict outcomes.
const (
	// ResultAnomaly: the run proved at least one anomaly.
	ResultAnomaly = "anomaly"
	// ResultClean: nothing was found and everything could be verified.
	ResultClean = "clean"
	// ResultUnknown: nothing was proved, but something could not be
	// verified (never reported as clean).
	ResultUnknown = "unknown"
)

// Kinds of finding, in report order. Each counts in Verdict.Counts.
const (
	// FindingStaleRead: a read returned a version older than one
	// acknowledged before it began (DESIGN.md section 4, stale).
	FindingStaleRead = "stale-read"
	// FindingGhostRead: a read returned a value whose write never committed.
	FindingGhostRead = "ghost-read"
	// FindingEarlyRead: a read completed before its value's COMMIT was
	// sent. Informational: it makes no anomaly alone.
	FindingEarlyRead = "early-read"
	// FindingStaleUntilTTL: at the end the cache held an older committed
	// version than the database (the audit).
	FindingStaleUntilTTL = "stale-until-ttl"
	// FindingGhostUntilTTL: at the end the cache held a value never
	// committed (the audit).
	FindingGhostUntilTTL = "ghost-until-ttl"
	// FindingWriteUnavailable: a write did not commit, in a case about
	// availability (Case.Availability).
	FindingWriteUnavailable = "write-unavailable"
	// FindingNotLinearizable: porcupine found the history not linearizable.
	FindingNotLinearizable = "not-linearizable"
	// FindingUnknown: something could not be verified.
	FindingUnknown = "unknown"
)

// Findings returns the kinds of finding in report order.
func Findings() []string {
	return []string{FindingStaleRead, FindingGhostRead, FindingEarlyRead, FindingStaleUntilTTL, FindingGhostUntilTTL,
		FindingWriteUnavailable, FindingNotLinearizable, FindingUnknown}
}

// anomalous reports whether kind makes an anomaly (early reads do not).
func anomalous(kind string) bool {
	return kind != FindingEarlyRead && kind != FindingUnknown
}

// Finding is one piece of evidence: the operations that make it, in
// words, with their instants.
type Finding struct {
	Kinds []string `json:"classes"`
	Actor string   `json:"actor,omitempty"`
	AtNs  int64    `json:"at_ns"`
	Text  string   `json:"text"`
}

// Verdict is what a case's run shows.
type Verdict struct {
	// Result is OutcomeAnomaly, OutcomeClean or OutcomeUnknown.
	Result string `json:"outcome"`
	// Counts holds every kind (zeros included).
	Counts map[string]int `json:"counts"`
	// Findings are the evidence, reads first (by time), then the audit,
	// the writes and the linearizability check.
	Findings []Finding `json:"findings"`
	// Notes are facts that are not findings (a write the fault made fail
	// in a case not about availability, warnings).
	Notes []string `json:"notes,omitempty"`
	// Linearizability is porcupine's answer.
	Linearizability Linearizability `json:"linearizability"`
}

// Normalized returns the verdict without times: the outcome, the non-zero
// counts by kind in report order, and porcupine's result, e.g.
// "anomaly: stale-read=1 stale-until-ttl=1 not-linearizable=1 linearizability=Illegal".
// Two runs of a deterministic case give the same string.
func (v Verdict) Normalized() string {
	var b strings.Builder
	b.WriteString(v.Result + ":")
	for _, c := range Findings() {
		if n := v.Counts[c]; n > 0 {
			fmt.Fprintf(&b, " %s=%d", c, n)
		}
	}
	b.WriteString(" linearizability=" + v.Linearizability.Result)
	return b.String()
}

// judge builds the verdict of a case's run from the checker's metrics,
// the audit and porcupine's answer. names maps an operation's Client to its
// actor's name.
func judge(c Case, run *record.Run, names map[int]string, owners map[gb.Token]string, lin Linearizability) Verdict {
	v := Verdict{Counts: map[string]int{}, Linearizability: lin}
	for _, cl := range Findings() {
		v.Counts[cl] = 0
	}
	add := func(f Finding) {
		for _, cl := range f.Kinds {
			v.Counts[cl]++
		}
		v.Findings = append(v.Findings, f)
	}
	m := run.Metrics
	if m == nil {
		add(Finding{Kinds: []string{FindingUnknown}, Text: "the run recorded no metrics: " + run.Error})
		v.Result = ResultUnknown
		return v
	}
	type opKey struct {
		client int
		invoke int64
	}
	examples := map[opKey]check.Anomaly{}
	for _, a := range m.Examples {
		examples[opKey{a.Client, a.InvokeNs}] = a
	}
	hist := append([]check.HistoryEntry(nil), m.History...)
	sort.SliceStable(hist, func(i, j int) bool { return hist[i].InvokeNs < hist[j].InvokeNs })
	tokenOf := func(t gb.Token) string {
		if a, ok := owners[t]; ok {
			return fmt.Sprintf("token %d of %s", t, a)
		}
		return fmt.Sprintf("token %d", t)
	}

	// Reads.
	for _, e := range hist {
		if e.Kind != gb.OpRead.String() || e.Value == nil {
			continue
		}
		if e.Unknown {
			add(Finding{Kinds: []string{FindingUnknown}, Actor: names[e.Client], AtNs: e.InvokeNs, Text: fmt.Sprintf(
				"read by %s at %s returned %s, whose write could not be resolved (ledger unreadable): neither fresh nor proven stale",
				names[e.Client], fmtDur(e.InvokeNs), e.Value)})
			continue
		}
		if !e.Stale && !e.Ghost && !e.Early {
			continue
		}
		a, hasEx := examples[opKey{e.Client, e.InvokeNs}]
		src := "cache hit"
		if !e.Hit {
			src = "cache miss: from PostgreSQL"
		}
		var classes, parts []string
		if e.Stale {
			classes = append(classes, FindingStaleRead)
			s := fmt.Sprintf("stale: a newer version was acknowledged before it began, age %s, version lag %d", fmtDur(e.AgeNs), e.Lag)
			if hasEx {
				s = fmt.Sprintf("stale: v%d (%s) was acknowledged at %s, age %s, version lag %d",
					a.NewerVersion, tokenOf(a.NewerToken), fmtDur(a.NewerAckNs), fmtDur(e.AgeNs), e.Lag)
			}
			parts = append(parts, s)
		}
		if e.Ghost {
			classes = append(classes, FindingGhostRead)
			s := fmt.Sprintf("ghost: %s never committed", tokenOf(e.Value.Token))
			if hasEx {
				s += " (" + statusText(a) + ")"
			}
			parts = append(parts, s)
		}
		if e.Early {
			classes = append(classes, FindingEarlyRead)
			s := "early: it completed before its write's COMMIT was sent"
			if hasEx && a.CommitSentNs >= 0 {
				s = fmt.Sprintf("early: it completed at %s, before its write's COMMIT was sent at %s", fmtDur(e.CompleteNs), fmtDur(a.CommitSentNs))
			} else if hasEx && a.CommitSentNs == -1 {
				s = fmt.Sprintf("early: it completed at %s and its write never sent COMMIT", fmtDur(e.CompleteNs))
			}
			parts = append(parts, s)
		}
		add(Finding{Kinds: classes, Actor: names[e.Client], AtNs: e.InvokeNs, Text: fmt.Sprintf(
			"read by %s at %s returned %s (%s), %s", names[e.Client], fmtDur(e.InvokeNs), e.Value, src, strings.Join(parts, "; "))})
	}

	// Audit.
	for _, x := range m.Audit.Examples {
		ttl := fmt.Sprintf("%s of TTL left", fmtDur(x.TTLUs*1000))
		if x.TTLUs < 0 {
			ttl = "no TTL: it stays"
		}
		switch x.Kind {
		case check.AuditStale:
			add(Finding{Kinds: []string{FindingStaleUntilTTL}, Actor: "audit", Text: fmt.Sprintf(
				"key %d stays stale until TTL: at the end (audit) the cache holds %s while the database holds %s (%s)", x.Key, x.Cache, x.DB, ttl)})
		case check.AuditGhost:
			add(Finding{Kinds: []string{FindingGhostUntilTTL}, Actor: "audit", Text: fmt.Sprintf(
				"key %d stays ghost until TTL: at the end (audit) the cache holds %s, never committed, while the database holds %s (%s)", x.Key, x.Cache, x.DB, ttl)})
		default:
			add(Finding{Kinds: []string{FindingUnknown}, Actor: "audit", Text: fmt.Sprintf(
				"key %d: the audit could not resolve the cached %s (ledger unreadable)", x.Key, x.Cache)})
		}
	}

	// Writes.
	w := m.Writes
	for _, e := range hist {
		if e.Kind != gb.OpWrite.String() || e.Outcome == check.OutcomeCommitted {
			continue
		}
		what := fmt.Sprintf("write by %s (token %d) at %s", names[e.Client], e.Token, fmtDur(e.InvokeNs))
		why := "returned no error"
		if e.Error != "" {
			msg := e.Error
			if !strings.HasPrefix(msg, e.Class+": ") {
				msg = e.Class + ": " + msg
			}
			why = fmt.Sprintf("failed after %s (%s)", fmtDur(e.CompleteNs-e.InvokeNs), msg)
		}
		switch {
		case e.Outcome == check.OutcomeUnknown:
			add(Finding{Kinds: []string{FindingUnknown}, Actor: names[e.Client], AtNs: e.InvokeNs, Text: what + " " + why + "; whether it committed is unknown (ledger unreadable)"})
		case c.Availability:
			add(Finding{Kinds: []string{FindingWriteUnavailable}, Actor: names[e.Client], AtNs: e.InvokeNs, Text: fmt.Sprintf(
				"%s %s and did not commit: write availability %d/%d", what, why, w.Committed, w.Attempted)})
		default:
			v.Notes = append(v.Notes, fmt.Sprintf("%s %s and did not commit (not a finding in this case: reads are what it is about)", what, why))
		}
	}
	if m.Warnings > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("%d cache error(s) after COMMIT did not fail a write (a best-effort cache command): warnings", m.Warnings))
	}
	if m.FillWarnings > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("%d cache error(s) on the read path did not fail a read (a GET that fell back to the database, a refused fill): fill warnings", m.FillWarnings))
	}
	v.Notes = append(v.Notes, rywNotes(run, names)...)
	if m.Resolution.Unresolved > 0 || m.HarnessErrors > 0 {
		add(Finding{Kinds: []string{FindingUnknown}, Text: fmt.Sprintf(
			"%d write outcome(s) unresolved, %d harness error(s): the checker could not verify everything", m.Resolution.Unresolved, m.HarnessErrors)})
	}

	// Linearizability.
	readAnomaly := v.Counts[FindingStaleRead]+v.Counts[FindingGhostRead] > 0
	switch lin.Result {
	case LinIllegal:
		add(Finding{Kinds: []string{FindingNotLinearizable}, Actor: "porcupine", Text: fmt.Sprintf(
			"the history of %d operation(s) is not linearizable (porcupine: Illegal): no order of the operations inside their intervals explains every read; see linearizability.html", lin.Operations)})
	case LinOk:
	default:
		why := "the check timed out"
		if lin.Error != "" {
			why = lin.Error
		}
		add(Finding{Kinds: []string{FindingUnknown}, Actor: "porcupine", Text: "linearizability unknown: " + why + " (never counted as clean)"})
	}
	v.Linearizability.Agrees, v.Linearizability.Explanation = agreement(v, lin.Result, readAnomaly)

	v.Result = ResultClean
	for cl, n := range v.Counts {
		if n == 0 {
			continue
		}
		if anomalous(cl) {
			v.Result = ResultAnomaly
			break
		}
		if cl == FindingUnknown {
			v.Result = ResultUnknown
		}
	}
	return v
}

// agreement compares porcupine's result with the checker's read verdicts.
func agreement(v Verdict, res string, readAnomaly bool) (bool, string) {
	var other []string
	for _, cl := range []string{FindingStaleUntilTTL, FindingGhostUntilTTL, FindingWriteUnavailable, FindingEarlyRead} {
		if v.Counts[cl] > 0 {
			other = append(other, cl)
		}
	}
	switch {
	case res != LinOk && res != LinIllegal:
		return false, "porcupine could not decide, so it neither confirms nor refutes the checker"
	case res == LinIllegal && readAnomaly:
		return true, "porcupine agrees with the checker: the stale or ghost read fits no order of the operations that respects their intervals"
	case res == LinOk && !readAnomaly && len(other) == 0:
		return true, "porcupine agrees with the checker: the history is linearizable and no read was stale or ghost"
	case res == LinOk && !readAnomaly:
		return true, fmt.Sprintf("linearizable, and no read was stale or ghost; the other findings (%s) are outside what a linearizability check sees: "+
			"the audit looks at the cache after the last read, a failed write has no effect, and an early read overlaps its write's interval", strings.Join(other, ", "))
	case res == LinOk:
		return false, "the checker's stale or ghost read overlaps a write in the history, so porcupine can order them: the checker uses commit instants, porcupine only the operations' intervals"
	default:
		return false, "porcupine found a violation that no stale or ghost read explains (reads that go back in time while a write is in flight)"
	}
}

func statusText(a check.Anomaly) string {
	switch a.TokenStatus {
	case check.TokenAborted:
		return "its transaction rolled back"
	case check.TokenNotCommitted:
		return "its COMMIT was indeterminate and the ledger has no row for it"
	case check.TokenSuperseded:
		return "another write committed that version"
	case check.TokenUnknown:
		return "whether it committed is unknown"
	}
	return string(a.TokenStatus)
}

// fmtDur renders a nanosecond offset or duration as milliseconds: "12.4ms"
// (two decimals under 10 ms, "0.35ms"), or seconds from 10 s up ("59.9s").
func fmtDur(ns int64) string {
	ms := float64(ns) / 1e6
	switch {
	case ns >= 10e9 || ns <= -10e9:
		return fmt.Sprintf("%.1fs", ms/1000)
	case ms < 10 && ms > -10:
		return fmt.Sprintf("%.2fms", ms)
	default:
		return fmt.Sprintf("%.1fms", ms)
	}
}
