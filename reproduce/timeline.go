package reproduce

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/anishathalye/porcupine"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

// Event kinds in Event.Kind.
const (
	EventInvoke   = "invoke"   // an operation started
	EventComplete = "complete" // an operation returned, with its value or error
	EventDB       = "db"       // the store: UPDATE ran, COMMIT sent, acknowledged, failed
	EventCache    = "cache"    // a cache command the strategy sent, or the entry as read by the harness
	EventHold     = "hold"     // an actor arrived at a gate and waits
	EventRelease  = "release"  // the script let a held actor go on
	EventFault    = "fault"    // a fault injected, in effect, healed
	EventNote     = "note"     // what the script did or skipped
	EventAudit    = "audit"    // the end-of-run comparison of cache and database
)

// Event is one line of a timeline.
type Event struct {
	// AtNs is the offset from the start of the run, in nanoseconds.
	AtNs int64 `json:"at_ns"`
	// Actor is who acted: "reader-1", "writer-10", "worker", "harness"
	// (the script: faults, notes), "audit".
	Actor string `json:"actor"`
	// Kind is one of the Event* constants.
	Kind string `json:"kind"`
	// Effect says what happened, with values ("read returned v0/t0/b0
	// (cache hit)").
	Effect string `json:"effect"`
	// Anomaly, when set, is the kinds of finding this event shows, joined
	// by "+" ("stale-read", "ghost-read+early-read", "stale-until-ttl").
	Anomaly string `json:"anomaly,omitempty"`

	seq   int    // order among events at the same instant
	short string // a few words for the visualization's narrow boxes
}

// FaultWindow is when a fault was in effect: from Inject's return to
// Heal's.
type FaultWindow struct {
	Fault   string `json:"fault"`
	StartNs int64  `json:"start_ns"`
	EndNs   int64  `json:"end_ns"`
}

// buildTimeline merges the collector's events with the operations'
// invoke and complete events and the audit, marks the events that show an
// anomaly, and sorts by time.
func buildTimeline(col *collector, ops []scriptOp, run *record.Run, auditAt int64, key gb.Key) []Event {
	col.mu.Lock()
	events := append([]Event(nil), col.events...)
	col.mu.Unlock()
	type opKey struct {
		client int
		invoke int64
	}
	entries := map[opKey]check.HistoryEntry{}
	if run.Metrics != nil {
		for _, e := range run.Metrics.History {
			entries[opKey{e.Client, e.InvokeNs}] = e
		}
	}
	for _, so := range ops {
		op, name := so.op, ActorName(so.actor)
		e, ok := entries[opKey{op.Client, int64(op.Invoke)}]
		if op.Kind == gb.OpRead {
			events = append(events, Event{AtNs: int64(op.Invoke), Actor: name, Kind: EventInvoke, Effect: fmt.Sprintf("invoke read of key %d", op.Key), seq: math.MinInt})
		} else {
			events = append(events, Event{AtNs: int64(op.Invoke), Actor: name, Kind: EventInvoke, Effect: fmt.Sprintf(
				"invoke write of key %d: token %d, balance %+d", op.Key, op.Token, op.Delta), seq: math.MinInt})
		}
		ev := Event{AtNs: int64(op.Complete), Actor: name, Kind: EventComplete, seq: math.MaxInt}
		switch {
		case op.Kind == gb.OpRead && op.Err == nil:
			src := "cache hit"
			if !op.Hit {
				src = "cache miss: from PostgreSQL"
			}
			ev.Effect = fmt.Sprintf("read returned %s (%s)", op.Value, src)
			if ok {
				ev.Anomaly = readFindings(e)
			}
		case op.Kind == gb.OpRead:
			ev.Effect = fmt.Sprintf("read failed (%s): %v", op.Class, op.Err)
		case op.Err == nil:
			ev.Effect = "write returned ok"
			if ok && e.Version > 0 {
				ev.Effect = fmt.Sprintf("write returned ok: v%d committed", e.Version)
			}
		default:
			ev.Effect = fmt.Sprintf("write failed (%s): %v", op.Class, op.Err)
			if ok {
				ev.Effect += " → " + string(e.Outcome)
			}
		}
		events = append(events, ev)
	}
	if m := run.Metrics; m != nil {
		if len(m.Audit.Examples) == 0 {
			events = append(events, Event{AtNs: auditAt, Actor: "audit", Kind: EventAudit, Effect: fmt.Sprintf(
				"cache and database agree on every key (%d checked, %d cached)", m.Audit.Checked, m.Audit.Present), seq: math.MaxInt})
		}
		for _, x := range m.Audit.Examples {
			ttl := fmt.Sprintf("%s left", fmtDur(x.TTLUs*1000))
			if x.TTLUs < 0 {
				ttl = "no TTL"
			}
			ev := Event{AtNs: auditAt, Actor: "audit", Kind: EventAudit, seq: math.MaxInt, Effect: fmt.Sprintf(
				"key %d: cache holds %s, database %s: %s (%s)", x.Key, x.Cache, x.DB, x.Kind, ttl)}
			switch x.Kind {
			case check.AuditStale:
				ev.Anomaly = FindingStaleUntilTTL
			case check.AuditGhost:
				ev.Anomaly = FindingGhostUntilTTL
			}
			events = append(events, ev)
		}
	}
	sort.SliceStable(events, func(i, j int) bool {
		if events[i].AtNs != events[j].AtNs {
			return events[i].AtNs < events[j].AtNs
		}
		return events[i].seq < events[j].seq
	})
	return events
}

// readFindings returns the kinds of finding of a read's history entry
// joined by "+", "" for a fresh read.
func readFindings(e check.HistoryEntry) string {
	var cl []string
	if e.Stale {
		cl = append(cl, FindingStaleRead)
	}
	if e.Ghost {
		cl = append(cl, FindingGhostRead)
	}
	if e.Early {
		cl = append(cl, FindingEarlyRead)
	}
	return strings.Join(cl, "+")
}

// WriteText writes the timeline and the verdict for a terminal.
func (r *Result) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "reproduce %s with %s", r.Case, r.Strategy)
	if len(r.Params) > 0 {
		fmt.Fprintf(w, " (%s)", r.Params)
	}
	fmt.Fprintf(w, ", key %d, TTL %s\n  %s\n\n", r.Key, r.TTL, r.Summary)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTOR\tEVENT\t")
	for _, e := range r.Timeline {
		mark := ""
		if e.Anomaly != "" {
			mark = "<<< " + strings.ToUpper(e.Anomaly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", fmtStamp(e.AtNs), e.Actor, e.Effect, mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	v := r.Verdict
	fmt.Fprintf(w, "\nverdict: %s (%s)\n", strings.ToUpper(v.Result), strings.TrimPrefix(v.Normalized(), v.Result+": "))
	for _, f := range v.Findings {
		fmt.Fprintf(w, "  - [%s] %s\n", strings.Join(f.Kinds, "+"), f.Text)
	}
	if len(v.Findings) == 0 {
		fmt.Fprintln(w, "  every read was fresh, every write committed, the audit found cache and database in agreement")
	}
	for _, n := range v.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	fmt.Fprintf(w, "linearizability (porcupine, per key): %s over %d operations; %s\n",
		v.Linearizability.Result, v.Linearizability.Operations, v.Linearizability.Explanation)
	return nil
}

// fmtStamp renders a timeline instant with a fixed width: "   12.412ms".
func fmtStamp(ns int64) string {
	return fmt.Sprintf("%10.3fms", float64(ns)/1e6)
}

// annotations returns the porcupine annotations of a result: fault
// windows, holds, commits, cache commands and the anomalous reads.
func annotations(r *Result, col *collector) []porcupine.Annotation {
	var out []porcupine.Annotation
	for _, w := range r.Faults {
		out = append(out, porcupine.Annotation{Tag: "fault", Start: w.StartNs, End: w.EndNs,
			Description: w.Fault, Details: faultDescription(w.Fault), BackgroundColor: "#fbd5d5"})
	}
	held := map[string]Event{}
	for _, e := range r.Timeline {
		switch e.Kind {
		case EventHold:
			held[e.Actor] = e
		case EventRelease:
			if h, ok := held[e.Actor]; ok {
				out = append(out, porcupine.Annotation{Tag: "barrier", Start: h.AtNs, End: e.AtNs,
					Description: e.Actor + " held", Details: e.Actor + " " + h.Effect, BackgroundColor: "#fff3c4"})
				delete(held, e.Actor)
			}
		case EventDB:
			short := e.short
			if short == "" {
				short = e.Effect
			}
			out = append(out, porcupine.Annotation{Tag: "postgres", Start: e.AtNs,
				Description: short, Details: e.Actor + ": " + e.Effect, BackgroundColor: "#dbeafe"})
		case EventComplete:
			if e.Anomaly != "" {
				out = append(out, porcupine.Annotation{Tag: "anomaly", Start: e.AtNs,
					Description: e.Anomaly, Details: e.Actor + ": " + e.Effect, TextColor: "#ffffff", BackgroundColor: "#c0392b"})
			}
		}
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, c := range col.cmds {
		bg, short := "#e3f4e1", c.short
		if c.failed {
			bg, short = "#fbd5d5", short+" ✗"
		}
		out = append(out, porcupine.Annotation{Tag: "redis", Start: c.start, End: c.end,
			Description: short, Details: c.actor + ": " + c.text + " → " + c.result, BackgroundColor: bg})
	}
	return out
}
