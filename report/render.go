package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
)

// RenderOptions changes what Render writes.
type RenderOptions struct {
	// Light keeps the folder small, for committing it: PNG plots only,
	// no SVG plots and no .hgrm files (any left from an earlier render are
	// removed, so that index.html does not link them), and run.json files
	// rewritten without indentation. A light folder can still be rendered
	// again and compared.
	Light bool
	// Budget, when not empty, is the consistency budget (ParseBudget) the
	// summary asks about instead of the one bench.json records.
	Budget string
}

// RenderBench reads the bench in dir (bench.json and the run.json files,
// LoadBench) and renders every derived file from them, without running
// anything: see Render. It returns the matrix it rendered.
func RenderBench(dir string, opt RenderOptions) (*Matrix, error) {
	b, runs, err := LoadBench(dir)
	if err != nil {
		return nil, err
	}
	if opt.Budget != "" {
		b.Budget = opt.Budget
	}
	m := NewMatrix(b, runs)
	return m, Render(dir, m, opt)
}

// Render writes into dir, atomically file by file, everything derived from
// m: each run's latency files (<run dir>/read.hgrm and write.hgrm),
// summary.md, bench.txt, the plots (plots/*.png and *.svg) and index.html,
// in that order, so that index.html links only to files that exist. It
// goes on after a failure and returns every error joined.
func Render(dir string, m *Matrix, opt RenderOptions) error {
	var errs []error
	note := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	for _, sc := range m.Scenarios {
		for _, cell := range m.Row(sc) {
			for i := range cell.Reps {
				c := &cell.Reps[i]
				if c.Run == nil || c.Run.Metrics == nil || c.Dir == "" {
					continue
				}
				if opt.Light {
					for _, kind := range []string{HgrmRead, HgrmWrite} {
						note("remove .hgrm", removeIn(dir, filepath.Join(c.Dir, kind+".hgrm")))
					}
					if data, err := json.Marshal(c.Run); err != nil {
						note(c.Dir, err)
					} else {
						note(c.Dir, WriteFileIn(dir, filepath.Join(c.Dir, RunFile), append(data, '\n')))
					}
					continue
				}
				for _, kind := range []string{HgrmRead, HgrmWrite} {
					h := latencyOf(c.Run, kind)
					if h == nil {
						continue
					}
					rel := filepath.Join(c.Dir, kind+".hgrm")
					path := filepath.Join(dir, rel)
					var buf bytes.Buffer
					if err := WriteHgrm(&buf, h); err != nil {
						note(path, err)
						continue
					}
					note(path, WriteFileIn(dir, rel, buf.Bytes()))
				}
			}
		}
	}
	write := func(name string, fn func(*bytes.Buffer) error) {
		var buf bytes.Buffer
		if err := fn(&buf); err != nil {
			note(name, err)
			return
		}
		note(name, WriteFileIn(dir, name, buf.Bytes()))
	}
	write(SummaryFile, func(b *bytes.Buffer) error { return WriteSummaryMarkdown(b, m) })
	write(BenchFmtFile, func(b *bytes.Buffer) error { return WriteBenchFmt(b, m) })
	plots, err := WritePlots(dir, m, opt)
	note("plots", err)
	write(IndexFile, func(b *bytes.Buffer) error { return WriteIndexHTML(b, dir, m, plots) })
	return errors.Join(errs...)
}
