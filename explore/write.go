package explore

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ghostbench/ghostbench/report"
	"github.com/ghostbench/ghostbench/reproduce"
)

// Files of an exploration's folder.
const (
	ResultFile   = "explore.json"
	SummaryFile  = "summary.md"
	IndexFile    = "index.html"
	SchedulesDir = "schedules"
	ReplaysDir   = "anomalies"
)

// WriteDir writes the exploration's folder: explore.json, summary.md,
// index.html and, per anomaly, its smallest schedule as
// schedules/NN-SHAPE.json (what "ghostbench reproduce -schedule" takes).
// With replay options it also replays each of those schedules once and
// writes the replay's timeline, verdict and porcupine view under
// anomalies/NN-SHAPE/ (reproduce's folder), noting whether it showed the
// anomaly again.
func (r *Result) WriteDir(ctx context.Context, dir string, ro *ReplayOptions) error {
	if err := os.MkdirAll(filepath.Join(dir, SchedulesDir), 0o755); err != nil {
		return err
	}
	for i := range r.Anomalies {
		a := &r.Anomalies[i]
		name := fmt.Sprintf("%02d-%s", i+1, a.Shape)
		a.File = filepath.ToSlash(filepath.Join(SchedulesDir, name+".json"))
		if err := report.WriteJSON(filepath.Join(dir, a.File), a.Schedule); err != nil {
			return err
		}
		if ro == nil {
			continue
		}
		rep, err := ReplaySchedule(ctx, &a.Schedule, *ro)
		if err != nil {
			return fmt.Errorf("replay %s: %w", a.File, err)
		}
		a.Replayed, a.ReplayNote = rep.Replayed, rep.Why
		a.Replay = filepath.ToSlash(filepath.Join(ReplaysDir, name, reproduce.IndexFile))
		if err := rep.Result.WriteDir(filepath.Join(dir, ReplaysDir, name)); err != nil {
			return err
		}
	}
	if err := report.WriteJSON(filepath.Join(dir, ResultFile), r); err != nil {
		return err
	}
	var md strings.Builder
	if err := r.WriteSummary(&md); err != nil {
		return err
	}
	if err := report.WriteFileAtomic(filepath.Join(dir, SummaryFile), []byte(md.String())); err != nil {
		return err
	}
	var page strings.Builder
	if err := indexPage.Execute(&page, r); err != nil {
		return err
	}
	return report.WriteFileAtomic(filepath.Join(dir, IndexFile), []byte(page.String()))
}

// WriteSummary writes the exploration in Markdown: the outcome first, then
// each anomaly with its smallest schedule, then how the schedules ended.
func (r *Result) WriteSummary(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# explore %s\n\n", r.Strategy)
	fmt.Fprintf(&b, "**%s**\n\n", r.Summary)
	fmt.Fprintf(&b, "- workload: %d reader(s), %d writer(s), %d operation(s) each, %d key(s), %d instance(s); initial cache: %s\n",
		r.Workload.Readers, r.Workload.Writers, r.Workload.Ops, r.Workload.Keys, r.Workload.Instances, strings.Join(r.Starts, ", "))
	if r.Mode == ModeRandom {
		fmt.Fprintf(&b, "- search: random (PCT), seed %d, depth %d; %s\n", r.Seed, r.Depth, r.faultText())
		fmt.Fprintf(&b, "- %s\n", r.PCT)
	} else {
		fmt.Fprintf(&b, "- search: exhaustive within %d preemption(s); %s; exhausted: %v\n", r.Bound, r.faultText(), r.Exhausted)
	}
	points := "the strategy's declared points only"
	if r.Wire {
		points = "the strategy's declared points and every Redis command and PostgreSQL statement"
	}
	fmt.Fprintf(&b, "- scheduling points: %s; partial-order reduction: %v\n", points, r.Reduced)
	fmt.Fprintf(&b, "- %d schedules in %.1f s (%.0f schedules/s); ends: %s\n\n", r.Schedules, r.ElapsedSeconds, r.PerSecond, endsText(r.Ends))
	if len(r.Anomalies) > 0 {
		b.WriteString("| anomaly | schedules | smallest schedule | preemptions | faults | steps | replayed | file |\n")
		b.WriteString("|---|---:|---|---:|---:|---:|---|---|\n")
		for _, a := range r.Anomalies {
			rep := "not replayed"
			if a.Replay != "" {
				rep = "yes"
				if !a.Replayed {
					rep = "NO: " + a.ReplayNote
				}
			}
			fmt.Fprintf(&b, "| %s | %d | `%s` | %d | %d | %d | %s | %s |\n", a.Shape, a.Count, a.Schedule.Text(),
				a.Schedule.Preemptions, a.Schedule.Faults, len(a.Schedule.Choices), rep, a.File)
		}
		b.WriteString("\n")
		for _, a := range r.Anomalies {
			fmt.Fprintf(&b, "## %s\n\nstarting from the %s cache:\n\n", a.Shape, a.Schedule.Start)
			for i, s := range a.Schedule.Steps {
				fmt.Fprintf(&b, "%d. %s%s\n", i+1, s.Actor, stepDetail(s))
			}
			b.WriteString("\nevidence:\n\n")
			for _, e := range a.Evidence {
				fmt.Fprintf(&b, "- %s\n", e)
			}
			fmt.Fprintf(&b, "\nreplay: `ghostbench reproduce -schedule %s`\n\n", a.File)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "- note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func stepDetail(s Step) string {
	d := " from " + s.At
	if s.Preemption {
		d += " (preemption)"
	}
	if s.Fault != "" {
		d += " with fault **" + s.Fault + "**"
	}
	return d
}

func endsText(m map[string]int) string {
	var parts []string
	for _, k := range []string{EndDone, EndDeadlock, EndDiverged, EndStuck, EndTooLong} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

var indexPage = template.Must(template.New("explore").Funcs(template.FuncMap{
	"detail": stepDetail,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>explore {{.Strategy}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:72em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}
.anomaly{color:#a00}.clean{color:#060}code{font-size:90%}ol{margin:.3em 0}
</style></head><body>
<h1>explore {{.Strategy}}</h1>
<p class="{{.Outcome}}"><strong>{{.Summary}}</strong></p>
<p>{{.Schedules}} schedules in {{printf "%.1f" .ElapsedSeconds}} s ({{printf "%.0f" .PerSecond}} schedules/s); mode {{.Mode}}{{if eq .Mode "exhaustive"}}, bound {{.Bound}}, exhausted {{.Exhausted}}{{end}}; at most {{.MaxFaults}} fault(s) per schedule{{if .Faults}} of {{range $i, $f := .Faults}}{{if $i}}, {{end}}{{$f}}{{end}}{{end}}.</p>
{{if .PCT}}<p>{{.PCT}}</p>{{end}}
{{range .Anomalies}}
<h2 class="anomaly">{{.Shape}} ({{.Count}} schedule(s))</h2>
<p>smallest schedule: {{.Schedule.Preemptions}} preemption(s), {{.Schedule.Faults}} fault(s), {{len .Schedule.Choices}} steps, from the {{.Schedule.Start}} cache
 &middot; <a href="{{.File}}">schedule file</a>{{if .Replay}} &middot; <a href="{{.Replay}}">replayed timeline</a> ({{if .Replayed}}the replay showed it again{{else}}the replay did NOT show it: {{.ReplayNote}}{{end}}){{end}}</p>
<ol>{{range .Schedule.Steps}}<li>{{.Actor}}{{detail .}}</li>{{end}}</ol>
<ul>{{range .Evidence}}<li>{{.}}</li>{{end}}</ul>
{{end}}
{{range .Notes}}<p>note: {{.}}</p>{{end}}
</body></html>
`))
