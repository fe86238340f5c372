package reproduce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"path/filepath"
	"strings"
	"time"

	"github.com/ghostbench/ghostbench/report"
)

// The files WriteDir writes.
const (
	TimelineFile        = "timeline.json"
	RunFile             = "run.json"
	IndexFile           = "index.html"
	LinearizabilityFile = "linearizability.html"
)

// DirName returns the results folder name of a result:
// "reproduce-<case>-<strategy>-<UTC time stamp>".
func (r *Result) DirName() string {
	return fmt.Sprintf("reproduce-%s-%s-%s", r.Case, r.Strategy, r.Started.UTC().Format("20060102-150405.000"))
}

// WriteDir writes the result into dir (created when missing): timeline.json
// (the Result: timeline, verdict, fault windows), run.json (the session's
// run record with the full history), linearizability.html (porcupine's
// visualization, annotated with the fault windows, holds, commits, cache
// commands and anomalies) and index.html (verdict and timeline table,
// with the visualization in a frame). Every file is written atomically.
func (r *Result) WriteDir(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := report.WriteFileAtomic(filepath.Join(dir, TimelineFile), append(b, '\n')); err != nil {
		return err
	}
	if r.Run != nil {
		if err := report.WriteJSON(filepath.Join(dir, RunFile), r.Run); err != nil {
			return err
		}
	}
	vis := false
	if r.lin != nil {
		page, err := visualize(r.lin, annotations(r, r.col))
		if err != nil {
			return fmt.Errorf("linearizability visualization: %w", err)
		}
		if err := report.WriteFileAtomic(filepath.Join(dir, LinearizabilityFile), page); err != nil {
			return err
		}
		vis = true
	}
	var page bytes.Buffer
	if err := r.writeIndex(&page, vis); err != nil {
		return err
	}
	return report.WriteFileAtomic(filepath.Join(dir, IndexFile), page.Bytes())
}

var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{
	"stamp": fmtStamp,
	"upper": strings.ToUpper,
	"join":  strings.Join,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>ghostbench reproduce {{.R.Case}} ({{.R.Strategy}})</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;width:100%}
td,th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.t{font-family:ui-monospace,monospace;text-align:right;white-space:nowrap}
td.a{white-space:nowrap}
tr.anomaly td{background:#fde2e2;font-weight:600}
tr.fault td{background:#fff3e0}tr.hold td,tr.release td{background:#fffbe6}
tr.db td.e{color:#1d4ed8}tr.cache td.e{color:#166534}tr.note td.e{color:#666;font-style:italic}
.mark{color:#c0392b;font-weight:700}
.outcome{display:inline-block;padding:.1em .6em;border-radius:4px;color:#fff}
.anomaly-o{background:#c0392b}.clean-o{background:#2e7d32}.unknown-o{background:#888}
pre{white-space:pre-wrap}iframe{width:100%;height:520px;border:1px solid #ddd}
</style></head><body>
<h1>reproduce <code>{{.R.Case}}</code> with <code>{{.R.Strategy}}</code>{{if .Params}} ({{.Params}}){{end}}</h1>
<p>{{.R.Summary}}</p>
<pre>{{.Description}}</pre>
<p>Key {{.R.Key}}, TTL {{.R.TTL}}, started {{.Started}}.</p>
<h2>Verdict: <span class="outcome {{.R.Verdict.Result}}-o">{{upper .R.Verdict.Result}}</span></h2>
<p><code>{{.Normalized}}</code></p>
<ul>{{range .R.Verdict.Findings}}<li><b>{{join .Kinds "+"}}</b>: {{.Text}}</li>{{else}}<li>every read was fresh, every write committed, the audit found cache and database in agreement</li>{{end}}</ul>
{{if .R.Verdict.Notes}}<p>Notes:</p><ul>{{range .R.Verdict.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p>Linearizability (porcupine, one register per key): <b>{{.R.Verdict.Linearizability.Result}}</b> over {{.R.Verdict.Linearizability.Operations}} operations. {{.R.Verdict.Linearizability.Explanation}}.</p>
{{if .R.Faults}}<h2>Fault windows</h2><ul>{{range .R.Faults}}<li>{{.Fault}}: {{stamp .StartNs}} to {{stamp .EndNs}}</li>{{end}}</ul>{{end}}
<h2>Timeline</h2>
<table><tr><th>time</th><th>actor</th><th>event</th><th></th></tr>
{{range .R.Timeline}}<tr class="{{if .Anomaly}}anomaly{{else}}{{.Kind}}{{end}}"><td class="t">{{stamp .AtNs}}</td><td class="a">{{.Actor}}</td><td class="e">{{.Effect}}</td><td>{{if .Anomaly}}<span class="mark">{{upper .Anomaly}}</span>{{end}}</td></tr>
{{end}}</table>
{{if .Vis}}<h2>Linearizability check</h2>
<p>porcupine's visualization of the history (<a href="linearizability.html">open on its own</a>); the rows after the clients are annotations: fault windows, holds, PostgreSQL commits, Redis commands and the anomalous reads.</p>
<iframe src="linearizability.html" title="porcupine visualization"></iframe>{{end}}
<p>Files: <a href="timeline.json">timeline.json</a>, <a href="run.json">run.json</a>.</p>
</body></html>
`))

func (r *Result) writeIndex(w *bytes.Buffer, vis bool) error {
	desc := ""
	if c, ok := Lookup(r.Case); ok {
		desc = c.Description
	}
	return indexTmpl.Execute(w, map[string]any{
		"R": r, "Params": r.Params.String(), "Description": desc, "Vis": vis,
		"Normalized": r.Verdict.Normalized(), "Started": r.Started.UTC().Format(time.RFC3339),
	})
}
