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
	Sub      string
	Headline string
	Defs     template.HTML
	Answer   htmlAnswer
	Races    []string
	Groups   []htmlGroup
	Heads    []htmlHead
	Files    []htmlLink
	Sections []htmlSection
}

type htmlHead struct{ Text, Title string }

// htmlGroup is a heading over a group of table columns.
type htmlGroup struct {
	Text string
	Span int
}

// htmlAnswer is the class matrix and the questions.
type htmlAnswer struct {
	Scenarios []string
	Reps      int
	Baseline  string
	Costs     []htmlHead
	Rows      []htmlAnswerRow
	Legend    string
	Notes     []string
	Questions []htmlQuestion
}

type htmlAnswerRow struct {
	Strategy   string
	Cells      []htmlClassCell
	Races      []htmlRace
	RacesTitle string
	Handled    string
	Costs      []htmlClassCell
}

type htmlClassCell struct {
	Class, Symbol, Text, Extra, Title string
	Sort                              string
}

type htmlRace struct{ Class, Symbol, Text, Title string }

type htmlQuestion struct {
	Q string
	A template.HTML
}

type htmlLink struct{ Text, Href string }

type htmlSection struct {
	ID, Name    string
	Description string
	Ranking     template.HTML
	Notes       []template.HTML
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
// page (inline CSS, one inline script that sorts the tables, no font or
// file from the network) that starts with the class matrix (Answer), then
// the comparison table and verdict of every scenario, every plot (the PNG,
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
		Sub:      benchSub(m),
		Headline: benchHeadline(m),
		Defs:     mdToHTML(Definitions),
		Answer:   htmlAnswerOf(m),
		Races:    m.raceList(),
	}
	order := columnOrder()
	for _, ci := range order {
		col := tableColumns[ci]
		pg.Heads = append(pg.Heads, htmlHead{Text: col.head, Title: col.title})
		g := columnGroup(ci)
		if n := len(pg.Groups); n > 0 && pg.Groups[n-1].Text == g {
			pg.Groups[n-1].Span++
		} else {
			pg.Groups = append(pg.Groups, htmlGroup{Text: g, Span: 1})
		}
	}
	for _, f := range []string{BenchFile, SummaryFile, BenchFmtFile} {
		if exists(f) {
			pg.Files = append(pg.Files, htmlLink{Text: f, Href: f})
		}
	}
	for _, sc := range m.Scenarios {
		v := m.Rank(sc)
		sec := htmlSection{ID: "sc-" + fileSafe(sc), Name: sc, Description: scenarioLine(m.Info(sc)), Ranking: mdToHTML(v.Sentence())}
		for _, n := range v.Notes() {
			sec.Notes = append(sec.Notes, mdToHTML(n))
		}
		for _, c := range m.Row(sc) {
			all := cellText(c)
			cells := make([]string, len(order))
			for i, ci := range order {
				cells[i] = all[ci]
			}
			row := htmlRow{Strategy: c.Strategy, Status: c.Status, Cells: cells}
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
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; margin: 0 auto; padding: .4em .8em 4em; max-width: 1400px; color: #1d1d1f; line-height: 1.4; }
h1 { font-size: 1.35em; margin: .2em 0 0; }
p.sub { margin: .1em 0 .4em; color: #444; font-size: .9em; }
h2 { margin-top: 2.2em; border-bottom: 2px solid #ddd; padding-bottom: .2em; }
nav a, .files a { margin-right: 1em; }
.verdict { background: #f3f7fb; border-left: 4px solid #1f77b4; padding: .6em .9em; }
.defs { font-size: .92em; color: #333; }
.tablewrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .88em; margin: .8em 0; }
th, td { padding: .3em .6em; border-bottom: 1px solid #e3e3e3; text-align: right; white-space: nowrap; }
th { background: #fafafa; position: sticky; top: 0; cursor: pointer; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
tr.groups th { position: static; text-align: center; cursor: default; border-bottom: 2px solid #bbb; font-weight: 600; color: #333; }
table.summary td:first-child, table.summary th:first-child, table.summary td:nth-child(2), table.summary th:nth-child(2) { text-align: left; }
tbody tr:hover { background: #fffbe6; }
tr.st-error td, tr.st-not-run td, tr.st-interrupted td { color: #a00; }
td.links a { margin-right: .6em; font-size: .92em; }
table.matrix { font-size: .78em; margin: .3em 0; }
table.matrix th, table.matrix td { padding: .18em .35em; text-align: left; border: 1px solid #fff; }
table.matrix td small { font-size: .85em; color: #333; }
table.matrix td.cost { text-align: right; background: #f6f6f6; }
table.matrix td.st { font-weight: 600; }
.sym { display: inline-block; width: 1.1em; font-weight: 700; text-align: center; }
td.cls-ghost, span.cls-ghost { background: #f2b9a0; } td.cls-ghost .sym, span.cls-ghost .sym { color: #8f3b00; }
td.cls-stuck, span.cls-stuck { background: #f8d98e; } td.cls-stuck .sym, span.cls-stuck .sym { color: #7a5200; }
td.cls-stale, span.cls-stale { background: #fbf4b4; } td.cls-stale .sym, span.cls-stale .sym { color: #6b6200; }
td.cls-writes, span.cls-writes { background: #b6d4ea; } td.cls-writes .sym, span.cls-writes .sym { color: #004a76; }
td.cls-clean, span.cls-clean { background: #c4e8dc; } td.cls-clean .sym, span.cls-clean .sym { color: #00604a; }
td.cls-unknown, span.cls-unknown { background: #e2e2e2; }
td.cls-none { background: #f4f4f4; color: #777; }
td.races { white-space: nowrap; }
td.races span { display: inline-block; padding: 0 .3em; margin: 1px 0; border-radius: 3px; }
td.races small { color: #555; }
p.legend { font-size: .78em; color: #333; margin: .2em 0; max-width: 110em; }
ul.notes { font-size: .8em; margin: .2em 0; padding-left: 1.2em; }
dl.questions { font-size: .88em; margin: .5em 0; }
dl.questions dt { font-weight: 600; margin-top: .3em; }
dl.questions dd { margin-left: 1.2em; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9em; color: #444; max-width: 70em; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="sub">{{.Sub}} <a href="#details">Details</a> · {{range .Sections}}<a href="#{{.ID}}">{{.Name}}</a> {{end}}</p>
</header>
<section id="answer">
<table class="matrix sortable" data-reps="{{.Answer.Reps}}">
<thead>
<tr class="groups"><th></th><th colspan="{{len .Answer.Scenarios}}">class in each scenario (median of {{.Answer.Reps}} repetitions)</th><th></th><th colspan="{{len .Answer.Costs}}">cost relative to {{.Answer.Baseline}}</th></tr>
<tr><th title="registered strategy name">strategy</th>{{range .Answer.Scenarios}}<th title="the class of each strategy in scenario {{.}}: the median over its repetitions">{{.}}</th>{{end}}<th title="anomaly classes proved possible for the strategy by driven interleavings on real servers (ghostbench reproduce); hover for the cases">proved races</th>{{range .Answer.Costs}}<th title="{{.Title}}">{{.Text}}</th>{{end}}</tr>
</thead>
<tbody>
{{range .Answer.Rows}}<tr data-strategy="{{.Strategy}}"><td class="st">{{.Strategy}}</td>{{range $i, $c := .Cells}}<td class="cls cls-{{$c.Class}}" data-scenario="{{index $.Answer.Scenarios $i}}" data-class="{{$c.Class}}" data-sort="{{$c.Sort}}" title="{{$c.Title}}"><span class="sym">{{$c.Symbol}}</span>{{$c.Text}}{{if $c.Extra}} <small>{{$c.Extra}}</small>{{end}}</td>{{end}}<td class="races" title="{{if .RacesTitle}}{{.RacesTitle}}{{else}}no race proved for this strategy{{end}}{{if .Handled}}&#10;handles:&#10;{{.Handled}}{{end}}">{{range .Races}}<span class="cls-{{.Class}}" title="{{.Title}}"><span class="sym">{{.Symbol}}</span>{{.Text}}</span> {{else}}-{{end}}</td>{{range .Costs}}<td class="cost" data-sort="{{.Sort}}" title="{{.Title}}">{{.Text}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
<p class="legend">{{.Answer.Legend}}</p>
{{if .Answer.Notes}}<ul class="notes">{{range .Answer.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<dl class="questions">{{range .Answer.Questions}}<dt>{{.Q}}</dt><dd>{{.A}}</dd>{{end}}</dl>
</section>
<section id="details">
<h2>The bench</h2>
<p>{{.Headline}}</p>
<nav>Scenarios: {{range .Sections}}<a href="#{{.ID}}">{{.Name}}</a> {{end}}</nav>
{{if .Files}}<p class="files">Raw files: {{range .Files}}<a href="{{.Href}}">{{.Text}}</a> {{end}}</p>{{end}}
{{if .Races}}<details><summary>Proved races, in full</summary><ul>{{range .Races}}<li>{{.}}</li>{{end}}</ul></details>{{end}}
<details class="defs"><summary>How to read the tables and the verdicts</summary><p>{{.Defs}}</p></details>
</section>
{{range $sec := .Sections}}
<section id="{{.ID}}">
<h2>{{.Name}}</h2>
<p>{{.Description}}</p>
<p class="verdict">{{.Ranking}}</p>
{{range .Notes}}<p>{{.}}</p>{{end}}
<div class="tablewrap">
<table class="summary sortable" data-scenario="{{.Name}}">
<thead><tr class="groups">{{range $.Groups}}<th colspan="{{.Span}}">{{.Text}}</th>{{end}}<th></th></tr>
<tr>{{range $.Heads}}<th title="{{.Title}} (click to sort)">{{.Text}}</th>{{end}}<th>raw files</th></tr></thead>
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
<script>
`+sortScript+`
</script>
</body>
</html>
`) + "\n"))

// sortScript makes the columns of every table.sortable sort on a click
// of their heading: by a cell's data-sort when it has one, else by the
// number its text starts with (units µs, ms, s and % understood; thin
// spaces between thousands ignored), else by its text; "-" last. The page
// reads the same without it.
const sortScript = `(function () {
  function key(td) {
    if (td.dataset.sort !== undefined && td.dataset.sort !== "") return parseFloat(td.dataset.sort);
    var t = td.textContent.replace(/[\u202f\u00a0 ]/g, "");
    if (t === "-" || t === "") return null;
    var m = t.match(/^(-?[0-9.]+(?:e[-+]?[0-9]+)?)(µs|ms|s|%)?/);
    if (!m) return t;
    var v = parseFloat(m[1]);
    if (m[2] === "µs") v /= 1000; else if (m[2] === "s") v *= 1000;
    return v;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead.rows[table.tHead.rows.length - 1].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          if (x === null) return y === null ? 0 : 1;
          if (y === null) return -1;
          if (typeof x === "number" && typeof y === "number") return dir * (x - y);
          return dir * String(x).localeCompare(String(y));
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();`
