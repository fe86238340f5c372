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
//   - summary.go: the bench organised by scenario (Matrix) and summary.md;
//     rank.go the rule that names the safest and fastest strategies
//     (Ranking), power.go how much more data would separate a group.
//   - class.go, answer.go, answer_html.go: the answer first: each cell's
//     class (Class, CellClass), the class matrix with the questions
//     (Answer); proved.go the proved races beside it (ProvedRace); cost.go
//     the costs relative to db-only (CostColumn: one entry per cost).
//   - benchfmt.go: bench.txt in the Go benchmark format, for benchstat.
//   - hgrm.go: .hgrm percentile distributions, as HdrHistogram's tools
//     write them.
//   - plot.go, plotfigs.go: the PNG and SVG figures (gonum/plot).
//   - html.go: the self-contained index.html, the class matrix first.
//   - render.go: everything derived from bench.json, written in one go
//     (Render, RenderBench).
//   - compare.go: two benches side by side, in text, JSON and CSV.
//   - budget.go: consistency budgets for CI gates (ParseBudget, Check).
package report
