package reproduce

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/check"
)

// Linearizability is porcupine's answer for a case's history.
//
// # The model
//
// Each key is a register (porcupine partitions the history by key) whose
// state is the committed row's (version, token), starting at the seed row
// v0/t0. A read that returned a value is legal at a point where the
// register holds exactly that version and token; a read that failed
// returned nothing and is left out. Writes are modelled by their outcome,
// as the ledger settled it at the end of the run (check.HistoryEntry's
// Verdict):
//
//   - committed, and the write returned success: it takes effect at one
//     instant inside [invoke, complete] and sets the register to the
//     version it produced, which must be the register's version + 1 (the
//     database bumps the version by one per committed transaction, so the
//     model also checks that the committed writes form one chain);
//   - committed although the write returned an error (an indeterminate
//     COMMIT the ledger found committed): as above, but its return is at
//     infinity (math.MaxInt64), because the COMMIT may have taken effect
//     after the client gave up: the Jepsen/porcupine convention for an
//     operation whose completion the client never saw;
//   - not committed (rolled back, aborted, never begun): it certainly had
//     no effect on the database. It stays in the history, with its real
//     interval, as a step that leaves the register unchanged, so that the
//     visualization shows it; a read that returned its value (a ghost) can
//     then never be linearized;
//   - unknown (the ledger could not be read): its return is at infinity and
//     its step sets the register when its version fits (register version +
//     1) and leaves it unchanged otherwise: it may or may not have taken
//     effect. Any linearization in which it had no effect can move it to
//     the end, where its effect is invisible, so this one deterministic
//     step covers both outcomes.
//
// Result maps porcupine's CheckResult: "Ok" (a linearization exists),
// "Illegal" (none does) and "Unknown" (the check timed out, or could not
// run): Unknown never counts as clean.
//
// # How it relates to the checker
//
// A stale or ghost read that the checker reports is a linearizability
// violation when the read began after the newer write returned (for a
// stale read) or at all (for a ghost): the cases are scripted so that the
// read that shows the anomaly is in the history and starts after the
// writes it missed returned. What porcupine cannot see: the audit (a key
// stale until TTL that no read observed is linearizable), availability (a
// failed write has no effect) and early reads (the read overlaps its
// write's interval, which also contains the COMMIT). Agrees and
// Explanation say how the two answers relate for the run.
type Linearizability struct {
	// Result is "Ok", "Illegal" or "Unknown".
	Result string `json:"result"`
	// Operations is the number of operations checked.
	Operations int `json:"operations"`
	// TimeoutMs is the check's time bound.
	TimeoutMs int64 `json:"timeout_ms"`
	// Agrees reports whether porcupine's answer matches the checker's:
	// Illegal exactly when the checker proved a stale or ghost read.
	Agrees bool `json:"agrees"`
	// Explanation says why the two answers differ, or what they agree on.
	Explanation string `json:"explanation"`
	// Error says why the check could not run (Result is then Unknown).
	Error string `json:"error,omitempty"`
}

// The porcupine results as strings.
const (
	LinOk      = string(porcupine.Ok)
	LinIllegal = string(porcupine.Illegal)
	LinUnknown = string(porcupine.Unknown)
)

// regInput is a porcupine operation's input.
type regInput struct {
	read    bool
	outcome check.Outcome // writes: check.Outcome*
	value   regValue
	key     gb.Key
	actor   string // for the visualization only
}

// regValue is the register's state and a read's output.
type regValue struct {
	version int64
	token   gb.Token
}

func (v regValue) String() string { return fmt.Sprintf("v%d/t%d", v.version, v.token) }

// opMeta is a porcupine operation's metadata, shown in its tooltip.
type opMeta struct {
	actor   string
	outcome check.Outcome
}

// registerModel is the model described on Linearizability.
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[gb.Key][]porcupine.Operation{}
		var keys []gb.Key
		for _, op := range history {
			k := op.Input.(regInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		out := make([][]porcupine.Operation, len(keys))
		for i, k := range keys {
			out[i] = byKey[k]
		}
		return out
	},
	Init: func() any { return regValue{} },
	Step: func(state, input, output any) (bool, any) {
		st := state.(regValue)
		in := input.(regInput)
		if in.read {
			return output.(regValue) == st, st
		}
		switch in.outcome {
		case check.OutcomeCommitted:
			if in.value.version != st.version+1 {
				return false, st
			}
			return true, in.value
		case check.OutcomeUnknown:
			if in.value.version == st.version+1 {
				return true, in.value
			}
			return true, st
		default: // not committed: no effect
			return true, st
		}
	},
	Equal: func(a, b any) bool { return a.(regValue) == b.(regValue) },
	DescribeOperation: func(input, output any) string {
		in := input.(regInput)
		if in.read {
			return fmt.Sprintf("%s: read → %s", in.actor, output.(regValue))
		}
		switch in.outcome {
		case check.OutcomeCommitted:
			return fmt.Sprintf("%s: write %s (committed)", in.actor, in.value)
		case check.OutcomeUnknown:
			return fmt.Sprintf("%s: write %s (outcome unknown)", in.actor, in.value)
		default:
			return fmt.Sprintf("%s: write t%d (not committed: no effect)", in.actor, in.value.token)
		}
	},
	DescribeState: func(state any) string { return state.(regValue).String() },
	DescribeOperationMetadata: func(info any) string {
		m, ok := info.(opMeta)
		if !ok {
			return ""
		}
		return m.actor + ": " + string(m.outcome)
	},
}

// lincheck is a finished check, kept for the visualization.
type lincheck struct {
	info porcupine.LinearizationInfo
	ok   bool // info is usable
}

// checkHistory builds porcupine operations from the run's history and
// checks them with CheckOperationsVerbose within timeout. names maps an
// operation's Client to its actor's name; clients maps it to porcupine's
// dense client number.
func checkHistory(h []check.HistoryEntry, names map[int]string, timeout time.Duration) (Linearizability, *lincheck) {
	clients := map[int]int{}
	var ops []porcupine.Operation
	for _, e := range h {
		in := regInput{key: e.Key, read: e.Kind == gb.OpRead.String(), actor: names[e.Client]}
		var out regValue
		ret := e.CompleteNs
		meta := opMeta{actor: names[e.Client], outcome: e.Outcome}
		if in.read {
			if e.Error != "" || e.Value == nil {
				continue // returned nothing: no constraint
			}
			out = regValue{version: e.Value.Version, token: e.Value.Token}
		} else {
			in.outcome = e.Outcome
			in.value = regValue{version: e.Version, token: e.Token}
			switch {
			case e.Outcome == check.OutcomeCommitted && e.Error != "":
				ret = math.MaxInt64 // committed after the client gave up, perhaps
			case e.Outcome == check.OutcomeUnknown:
				ret = math.MaxInt64
			case e.Outcome != check.OutcomeCommitted:
				in.outcome = check.OutcomeNotCommitted
			}
		}
		cid, ok := clients[e.Client]
		if !ok {
			cid = len(clients)
			clients[e.Client] = cid
		}
		ops = append(ops, porcupine.Operation{ClientId: cid, Input: in, Call: e.InvokeNs, Output: out, Return: ret, Metadata: meta})
	}
	lin := Linearizability{Operations: len(ops), TimeoutMs: timeout.Milliseconds()}
	res, info := porcupine.CheckOperationsVerbose(registerModel, ops, timeout)
	lin.Result = string(res)
	return lin, &lincheck{info: info, ok: true}
}

// visualize renders porcupine's visualization of lc with annotations.
func visualize(lc *lincheck, notes []porcupine.Annotation) ([]byte, error) {
	if lc == nil || !lc.ok {
		return nil, fmt.Errorf("no linearizability check to visualize")
	}
	info := lc.info
	info.AddAnnotations(notes)
	var b bytes.Buffer
	if err := porcupine.Visualize(registerModel, info, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
