// Package report reads, writes and renders what runs measured: it owns the
// files of a results folder and turns check.Metrics (inside record.Run) into
// tables, plots and pages. It measures nothing itself: the definitions of
// every number are package check's.
//
// The files, by role:
//
//   - write.go: run.json I/O (ReadRun, WriteJSON, WriteFileAtomic), one
//     run's numbers for a terminal (WriteRunText) and the headline row of
//     a run (Summarize) with its CSV form.
//   - bench.go: bench.json, the index of a bench's runs (Bench, BenchRun),
//     and loading a bench with its runs (LoadBench, ReadBench).
//   - summary.go: the bench organised by scenario (Matrix), the rule that
//     names the safest and fastest strategies (Ranking), and summary.md.
//   - benchfmt.go: bench.txt in the Go benchmark format, for benchstat.
//   - hgrm.go: .hgrm percentile distributions, as HdrHistogram's tools
//     write them.
//   - plot.go, plotfigs.go: the PNG and SVG figures (gonum/plot).
//   - html.go: the self-contained index.html.
//   - render.go: everything derived from bench.json, written in one go
//     (Render, RenderBench).
//   - compare.go: two benches side by side, in text, JSON and CSV.
//   - budget.go: consistency budgets for CI gates (ParseBudget, Check).
package report
