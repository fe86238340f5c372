package reproduce

import (
	"strings"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

// Histories for the porcupine model, as good and bad pairs: the same
// operations, one order linearizable, one not.

func rd(client int, invoke, complete int64, version int64, token gb.Token) check.HistoryEntry {
	return check.HistoryEntry{Kind: "read", Client: client, InvokeNs: invoke, CompleteNs: complete,
		Value: &gb.Value{Version: version, Token: token}, Outcome: "fresh"}
}

func wr(client int, invoke, complete int64, version int64, token gb.Token, outcome check.Outcome, errText string) check.HistoryEntry {
	return check.HistoryEntry{Kind: "write", Client: client, InvokeNs: invoke, CompleteNs: complete,
		Version: version, Token: token, Outcome: outcome, Error: errText}
}

func TestRegisterModel(t *testing.T) {
	const (
		ok  = LinOk
		bad = LinIllegal
	)
	committed, aborted, unknown := check.OutcomeCommitted, check.OutcomeNotCommitted, check.OutcomeUnknown
	for _, tt := range []struct {
		name string
		h    []check.HistoryEntry
		want string
	}{
		{"empty", nil, ok},
		{"seed read", []check.HistoryEntry{rd(1, 0, 10, 0, 0)}, ok},
		{"read of a version that never existed", []check.HistoryEntry{rd(1, 0, 10, 3, 7)}, bad},
		{"read after the write returned: new value", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, committed, ""), rd(1, 20, 30, 1, 101)}, ok},
		{"read after the write returned: old value (stale)", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, committed, ""), rd(1, 20, 30, 0, 0)}, bad},
		{"read overlapping the write: old value", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, committed, ""), rd(1, 5, 15, 0, 0)}, ok},
		{"closed intervals: a read invoked when the write returned may see either", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, committed, ""), rd(1, 10, 15, 0, 0)}, ok},
		{"aborted write, old value read", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, aborted, "commit failed"), rd(1, 20, 30, 0, 0)}, ok},
		{"aborted write, its value read (ghost)", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, aborted, "commit failed"), rd(1, 20, 30, 1, 101)}, bad},
		{"ghost read even while the aborted write is in flight (dirty read)", []check.HistoryEntry{
			wr(10, 0, 40, 1, 101, aborted, "commit failed"), rd(1, 20, 30, 1, 101)}, bad},
		{"unknown outcome, its value read later", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, unknown, "timeout"), rd(1, 20, 30, 1, 101)}, ok},
		{"unknown outcome, old value read later (it may never have happened)", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, unknown, "timeout"), rd(1, 20, 30, 0, 0)}, ok},
		{"unknown outcome that did not commit: another write reuses its version", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, unknown, "timeout"), wr(11, 20, 30, 1, 111, committed, ""), rd(1, 40, 50, 1, 111)}, ok},
		{"committed after the client gave up: may take effect after its return", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, committed, "commit outcome unknown"), rd(1, 20, 30, 0, 0), rd(2, 40, 50, 1, 101)}, ok},
		{"committed after the client gave up: no going back once seen", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, committed, "commit outcome unknown"), rd(1, 20, 30, 1, 101), rd(2, 40, 50, 0, 0)}, bad},
		{"two writes in commit order, newest read", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, committed, ""), wr(11, 20, 30, 2, 111, committed, ""), rd(1, 40, 50, 2, 111)}, ok},
		{"two writes, the older read after both returned (reordered SETs)", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, committed, ""), wr(11, 20, 30, 2, 111, committed, ""), rd(1, 40, 50, 1, 101)}, bad},
		{"committed versions must chain: v2 before v1 is impossible", []check.HistoryEntry{
			wr(11, 0, 10, 2, 111, committed, ""), wr(10, 20, 30, 1, 101, committed, ""), rd(1, 40, 50, 1, 101)}, bad},
		{"a failed read constrains nothing", []check.HistoryEntry{
			wr(10, 0, 10, 1, 101, committed, ""),
			{Kind: "read", Client: 1, InvokeNs: 20, CompleteNs: 30, Error: "timeout", Class: "timeout", Outcome: "error"}}, ok},
	} {
		t.Run(tt.name, func(t *testing.T) {
			names := map[int]string{1: "reader-1", 2: "reader-2", 10: "writer-10", 11: "writer-11"}
			lin, lc := checkHistory(tt.h, names, 5*time.Second)
			if lin.Result != tt.want {
				t.Errorf("result %s, want %s", lin.Result, tt.want)
			}
			page, err := visualize(lc, nil)
			if err != nil || !strings.Contains(string(page), "<html") {
				t.Errorf("visualize: %v", err)
			}
		})
	}
}

func TestNormalized(t *testing.T) {
	v := Verdict{Result: ResultAnomaly, Counts: map[string]int{FindingGhostRead: 2, FindingEarlyRead: 1, FindingStaleRead: 0},
		Linearizability: Linearizability{Result: LinIllegal}}
	if got, want := v.Normalized(), "anomaly: ghost-read=2 early-read=1 linearizability=Illegal"; got != want {
		t.Errorf("Normalized() = %q, want %q", got, want)
	}
}

// TestJudge checks the outcome rules on recorded runs: an early read alone
// is informational, an unknown is never clean, a failed write is a finding
// only in a case about availability.
func TestJudge(t *testing.T) {
	early := check.HistoryEntry{Kind: "read", Client: 1, InvokeNs: 5, CompleteNs: 6, Value: &gb.Value{Version: 1, Token: 101}, Early: true, Outcome: "early"}
	failed := wr(10, 0, 10, 1, 101, check.OutcomeNotCommitted, "OOM")
	names := map[int]string{1: "reader-1", 10: "writer-10"}
	linOK := Linearizability{Result: LinOk}
	for _, tt := range []struct {
		name  string
		c     Case
		h     []check.HistoryEntry
		lin   Linearizability
		want  string
		agree bool
	}{
		{"early alone", Case{}, []check.HistoryEntry{early}, linOK, "clean: early-read=1 linearizability=Ok", true},
		{"failed write, reads only", Case{}, []check.HistoryEntry{failed}, linOK, "clean: linearizability=Ok", true},
		{"failed write, availability", Case{Availability: true}, []check.HistoryEntry{failed}, linOK,
			"anomaly: write-unavailable=1 linearizability=Ok", true},
		{"porcupine timed out", Case{}, nil, Linearizability{Result: LinUnknown}, "unknown: unknown=1 linearizability=Unknown", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run := &record.Run{Metrics: &check.Metrics{History: tt.h, Writes: check.WriteMetrics{Attempted: 1}}}
			v := judge(tt.c, run, names, nil, tt.lin)
			if got := v.Normalized(); got != tt.want {
				t.Errorf("verdict %q, want %q", got, tt.want)
			}
			if v.Linearizability.Agrees != tt.agree {
				t.Errorf("agrees = %v, want %v (%s)", v.Linearizability.Agrees, tt.agree, v.Linearizability.Explanation)
			}
		})
	}
}

func TestFmtDur(t *testing.T) {
	for _, tt := range []struct {
		ns   int64
		want string
	}{
		{350_000, "0.35ms"}, {12_400_000, "12.4ms"}, {280_123_000, "280.1ms"}, {59_900_000_000, "59.9s"},
	} {
		if got := fmtDur(tt.ns); got != tt.want {
			t.Errorf("fmtDur(%d) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}
