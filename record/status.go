package record

// Status says how a run ended. A bench uses the same values for its cells,
// plus StatusNotRun for a cell that never started.
type Status string

// The statuses. Their strings are the values of "status" in run.json and
// bench.json.
const (
	// StatusOK: the run completed.
	StatusOK Status = "ok"
	// StatusInterrupted: the run was cancelled; its results are partial.
	StatusInterrupted Status = "interrupted"
	// StatusError: the run failed; Error says why (a bench writes its
	// run.json only when something was measured).
	StatusError Status = "error"
	// StatusNotRun: a bench cell that never started (the bench was
	// interrupted first).
	StatusNotRun Status = "not-run"
)
