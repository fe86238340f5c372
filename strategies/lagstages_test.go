package strategies_test

import (
	"context"
	"strings"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/strategies"
)

// TestLagStagesNameTheDominantStage: the fell-behind warning says which
// part of the pipeline the lag comes from. With the DEL rate capped below
// the write rate the consumer's stage (receipt to DEL) dominates; with a
// walsender busy decoding a large transaction of another table committed
// just before the writes, PostgreSQL's stage (commit to sent) dominates,
// though the consumer is as fast as ever.
func TestLagStagesNameTheDominantStage(t *testing.T) {
	srv := servertest.Start(t)
	db := adminPool(t, srv)

	// writeAll makes n writes through s as fast as they go, on 4 keys.
	writeAll := func(t *testing.T, s *runner.Session, n int) {
		ctx := tctx(t)
		for i := 0; i < n; i++ {
			if op := s.Write(ctx, writer1, gb.Key(i%4), gb.Token(1000+i), 1); op.Err != nil {
				t.Fatal(op.Err)
			}
		}
	}
	check := func(t *testing.T, res *record.Run, want string) {
		t.Helper()
		for _, st := range res.InvalidationLagStages {
			t.Logf("%s: n=%d p50 %dµs p99 %dµs (%d below 0)", st.Name, st.Histogram.Count, st.Histogram.P50, st.Histogram.P99, st.Negative)
		}
		d := res.DominantLagStage()
		if d < 0 {
			t.Fatalf("no lag stages recorded")
		}
		if got := res.InvalidationLagStages[d].Name; got != want {
			t.Errorf("dominant stage %s, want %s", got, want)
		}
		w := res.LagWarning()
		t.Logf("warning: %s", w)
		if !strings.Contains(w, "dominated by "+want+":") {
			t.Errorf("the warning does not name %s as the dominant stage: %q", want, w)
		}
	}

	for _, tc := range []struct{ strategy, consumer string }{
		{"cdc-invalidation", "received-to-applied"},
		{"notify-invalidation", "received-to-applied"},
		{"async-invalidation", "due-to-applied"},
	} {
		t.Run("Capped/"+tc.strategy, func(t *testing.T) {
			// 60 DELs at 20/s take 3 s; the writes take far less.
			params := strategies.Params{"max-dels-per-sec": "20"}
			if tc.strategy == "async-invalidation" {
				params["lag"] = "0s"
			}
			s := session(t, srv, tc.strategy, params, time.Minute)
			writeAll(t, s, 60)
			check(t, closeSession2(t, s), tc.consumer)
		})
	}

	t.Run("BusyWalsender", func(t *testing.T) {
		ctx := tctx(t)
		if _, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS gb_busy_walsender (id bigint, pad text)`); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = db.Exec(context.Background(), `DROP TABLE IF EXISTS gb_busy_walsender`) })
		s := session(t, srv, "cdc-invalidation", nil, time.Minute)
		// One transaction of many rows of a table outside the
		// publication: the walsender decodes all of them at its commit
		// before it reaches the writes that follow, and sends none.
		if _, err := db.Exec(ctx, `INSERT INTO gb_busy_walsender SELECT g, 'x' FROM generate_series(1, 100000) g`); err != nil {
			t.Fatal(err)
		}
		writeAll(t, s, 30)
		check(t, closeSession2(t, s), "commit-to-sent")
	})
}

// closeSession2 is closeSession returning the whole run record.
func closeSession2(t *testing.T, s *runner.Session) *record.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := s.Close(ctx)
	if res.Status != record.StatusOK {
		t.Fatalf("session ended with status %s: %s", res.Status, res.Error)
	}
	return res
}
