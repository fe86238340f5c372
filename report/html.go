package report

import (
	"html/template"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ghostbench/ghostbench/record"
)

// htmlPage is the data of index.html.
type htmlPage struct {
	Title    string
	Headline string
	Defs     template.HTML
	Heads    []htmlHead
	Files    []htmlLink
	Sections []htmlSection
}

type htmlHead struct{ Text, Title string }

type htmlLink struct{ Text, Href string }

type htmlSection struct {
	ID, Name    string
	Description string
	Ranking     template.HTML
	Rows        []htmlRow
	// DBHeads and DBRows are the database load table (none without).
	DBHeads []htmlHead
	DBRows  [][]string
	Plots   []htmlPlot
}

type htmlRow struct {
	Strategy string
	Status   record.Status
	Cells    []string
	Links    []htmlLink
}

type htmlPlot struct {
	Title, Caption string
	PNG, SVG       string
	Width, Height  int
}

var boldRE = regexp.MustCompile(`\*\*(.+?)\*\*`)

// mdToHTML renders the little markdown the generated sentences use
// (**bold**), escaping everything else.
func mdToHTML(s string) template.HTML {
	esc := template.HTMLEscapeString(s)
	return template.HTML(boldRE.ReplaceAllString(esc, "<strong>$1</strong>"))
}

// WriteIndexHTML writes index.html for the bench in dir: a self-contained
// page (inline CSS, no script, no font or file from the network) with the
// comparison table and verdict of every scenario, every plot (the PNG,
// linked to its SVG) and links to the raw files. Paths are relative to dir;
// a raw file is linked only when it exists in dir, so that a pruned folder
// (results/reference) has no dead links. Table rows carry data-scenario
// and data-strategy attributes for tools and tests.
func WriteIndexHTML(w io.Writer, dir string, m *Matrix, plots []PlotFile) error {
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
		return err == nil
	}
	pg := htmlPage{
		Title:    "ghostbench bench: " + m.Bench.Name,
		Headline: benchHeadline(m),
		Defs:     mdToHTML(Definitions),
	}
	for _, col := range tableColumns {
		pg.Heads = append(pg.Heads, htmlHead{Text: col.head, Title: col.title})
	}
	for _, f := range []string{BenchFile, SummaryFile, BenchFmtFile} {
		if exists(f) {
			pg.Files = append(pg.Files, htmlLink{Text: f, Href: f})
		}
	}
	for _, sc := range m.Scenarios {
		sec := htmlSection{ID: "sc-" + fileSafe(sc), Name: sc, Description: scenarioLine(m.Info(sc)), Ranking: mdToHTML(m.Rank(sc).Sentence())}
		for _, c := range m.Row(sc) {
			row := htmlRow{Strategy: c.Strategy, Status: c.Status, Cells: cellText(c)}
			if c.Dir != "" {
				d := filepath.ToSlash(c.Dir)
				for _, f := range []string{RunFile, HgrmRead + ".hgrm", HgrmWrite + ".hgrm"} {
					if rel := path.Join(d, f); exists(rel) {
						row.Links = append(row.Links, htmlLink{Text: f, Href: rel})
					}
				}
			}
			sec.Rows = append(sec.Rows, row)
		}
		if heads, titles, rows, ok := dbTable(m, sc); ok {
			for i := range heads {
				sec.DBHeads = append(sec.DBHeads, htmlHead{Text: heads[i], Title: titles[i]})
			}
			sec.DBRows = rows
		}
		for _, p := range plots {
			if p.Scenario != sc {
				continue
			}
			w, h := PlotSize(p.Kind)
			hp := htmlPlot{Title: p.Title, Caption: p.Caption, PNG: p.Base + ".png", Width: w, Height: h}
			if exists(p.Base + ".svg") {
				hp.SVG = p.Base + ".svg"
			}
			sec.Plots = append(sec.Plots, hp)
		}
		pg.Sections = append(pg.Sections, sec)
	}
	return indexTemplate.Execute(w, pg)
}

var indexTemplate = template.Must(template.New("index").Parse(strings.TrimSpace(`
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; margin: 0 auto; padding: 1em 2em 4em; max-width: 1400px; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { margin-top: 2.2em; border-bottom: 2px solid #ddd; padding-bottom: .2em; }
nav a, .files a { margin-right: 1em; }
.verdict { background: #f3f7fb; border-left: 4px solid #1f77b4; padding: .6em .9em; }
.defs { font-size: .92em; color: #333; }
.tablewrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .88em; margin: .8em 0; }
th, td { padding: .3em .6em; border-bottom: 1px solid #e3e3e3; text-align: right; white-space: nowrap; }
th { background: #fafafa; position: sticky; top: 0; cursor: help; }
td:first-child, th:first-child, td:nth-child(2), th:nth-child(2) { text-align: left; }
tbody tr:hover { background: #fffbe6; }
tr.st-error td, tr.st-not-run td, tr.st-interrupted td { color: #a00; }
td.links a { margin-right: .6em; font-size: .92em; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9em; color: #444; max-width: 70em; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p>{{.Headline}}</p>
<nav>Scenarios: {{range .Sections}}<a href="#{{.ID}}">{{.Name}}</a> {{end}}</nav>
{{if .Files}}<p class="files">Raw files: {{range .Files}}<a href="{{.Href}}">{{.Text}}</a> {{end}}</p>{{end}}
</header>
<details class="defs"><summary>How to read the tables and the verdicts</summary><p>{{.Defs}}</p></details>
{{range $sec := .Sections}}
<section id="{{.ID}}">
<h2>{{.Name}}</h2>
<p>{{.Description}}</p>
<p class="verdict">{{.Ranking}}</p>
<div class="tablewrap">
<table class="summary" data-scenario="{{.Name}}">
<thead><tr>{{range $.Heads}}<th title="{{.Title}}">{{.Text}}</th>{{end}}<th>raw files</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="st-{{.Status}}" data-scenario="{{$sec.Name}}" data-strategy="{{.Strategy}}">{{range .Cells}}<td>{{.}}</td>{{end}}<td class="links">{{range .Links}}<a href="{{.Href}}">{{.Text}}</a>{{end}}</td></tr>
{{end}}</tbody>
</table>
</div>
{{if .DBRows}}<p>Database load (reads of PostgreSQL recorded as the strategies made them; a fill's width is how many readers read the same key and version before its fill landed):</p>
<div class="tablewrap">
<table class="dbload" data-scenario="{{.Name}}">
<thead><tr>{{range .DBHeads}}<th title="{{.Title}}">{{.Text}}</th>{{end}}</tr></thead>
<tbody>
{{range .DBRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
</div>
{{end}}{{range .Plots}}<figure>
<a href="{{if .SVG}}{{.SVG}}{{else}}{{.PNG}}{{end}}"><img src="{{.PNG}}" alt="{{.Title}}" width="{{.Width}}" height="{{.Height}}"></a>
<figcaption><strong>{{.Title}}.</strong> {{.Caption}}{{if .SVG}} <a href="{{.SVG}}">SVG</a>{{end}}</figcaption>
</figure>
{{end}}
</section>
{{end}}
<footer><p>Generated by ghostbench from {{range .Files}}{{if eq .Text "bench.json"}}<a href="{{.Href}}">bench.json</a>{{end}}{{end}} and the runs' run.json files; <code>ghostbench report DIR</code> renders this page again.</p></footer>
</body>
</html>
`) + "\n"))
