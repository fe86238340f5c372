package process_test

import (
	"context"
	"slices"
	"testing"

	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/strategies/process"
)

// BenchmarkLedgerCheckCost measures what checking every write_ok version
// against the ledger costs the Python cache-aside example (16 clients, 10%
// writes): three interleaved rounds with the check on and off, reporting
// the median ops/s of each.
func BenchmarkLedgerCheckCost(b *testing.B) {
	srv := servertest.Start(b)
	pythonExample(b, "cache_aside.py") // skips, loudly, without the client libraries
	var on, off []float64
	for range 3 {
		for _, check := range []bool{true, false} {
			cfg := process.Config{Command: pythonCommand(b, "cache_aside.py"), Name: "ca"}
			if !check {
				cfg = process.WithoutLedgerCheck(cfg)
			}
			st, err := process.New(context.Background(), cfg, env(b, srv, "gbproc_cost"))
			if err != nil {
				b.Fatal(err)
			}
			drive(b, st, 200)
			ops, _ := drive(b, st, max(b.N, 3000))
			if err := st.Close(); err != nil {
				b.Fatal(err)
			}
			if check {
				on = append(on, ops)
			} else {
				off = append(off, ops)
			}
		}
	}
	slices.Sort(on)
	slices.Sort(off)
	b.ReportMetric(on[1], "checked-ops/s")
	b.ReportMetric(off[1], "unchecked-ops/s")
	b.ReportMetric(on[1]/off[1], "checked/unchecked")
}
