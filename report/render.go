package report

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
)

// RenderBench reads the bench in dir (bench.json and the run.json files,
// LoadBench) and renders every derived file from them, without running
// anything: see Render. It returns the matrix it rendered.
func RenderBench(dir string) (*Matrix, error) {
	b, runs, err := LoadBench(dir)
	if err != nil {
		return nil, err
	}
	m := NewMatrix(b, runs)
	return m, Render(dir, m)
}

// Render writes into dir, atomically file by file, everything derived from
// m: each run's latency files (<run dir>/read.hgrm and write.hgrm),
// summary.md, bench.txt, the plots (plots/*.png and *.svg) and index.html,
// in that order, so that index.html links only to files that exist. It
// goes on after a failure and returns every error joined.
func Render(dir string, m *Matrix) error {
	var errs []error
	note := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	for _, sc := range m.Scenarios {
		for _, c := range m.Row(sc) {
			if !c.measured() || c.Dir == "" {
				continue
			}
			for _, kind := range []string{HgrmRead, HgrmWrite} {
				h := latencyOf(c.Run, kind)
				if h == nil {
					continue
				}
				path := filepath.Join(dir, c.Dir, kind+".hgrm")
				var buf bytes.Buffer
				if err := WriteHgrm(&buf, h); err != nil {
					note(path, err)
					continue
				}
				note(path, WriteFileAtomic(path, buf.Bytes()))
			}
		}
	}
	write := func(name string, fn func(*bytes.Buffer) error) {
		var buf bytes.Buffer
		if err := fn(&buf); err != nil {
			note(name, err)
			return
		}
		note(name, WriteFileAtomic(filepath.Join(dir, name), buf.Bytes()))
	}
	write(SummaryFile, func(b *bytes.Buffer) error { return WriteSummaryMarkdown(b, m) })
	write(BenchFmtFile, func(b *bytes.Buffer) error { return WriteBenchFmt(b, m) })
	plots, err := WritePlots(dir, m)
	note("plots", err)
	write(IndexFile, func(b *bytes.Buffer) error { return WriteIndexHTML(b, dir, m, plots) })
	return errors.Join(errs...)
}
