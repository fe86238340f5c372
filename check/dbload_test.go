package check

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench"
)

const ms = time.Millisecond

// stampedeHistory is a scripted history of database reads with one known
// stampede: five readers read key 1 at version 3 while the first one's
// fill was in flight (its operation returned at 30 ms). Around it: a read
// of the same version after that fill (a fill of its own), a read of the
// next version inside the window (another version: another fill), a read
// of another key, and a read in the warm-up (not counted).
func stampedeHistory() []DBRead {
	return []DBRead{
		{Key: 1, Version: 3, Start: 10 * ms, OpEnd: 30 * ms},
		{Key: 1, Version: 3, Start: 12 * ms, OpEnd: 33 * ms},
		{Key: 1, Version: 3, Start: 15 * ms, OpEnd: 35 * ms},
		{Key: 1, Version: 3, Start: 20 * ms, OpEnd: 40 * ms},
		{Key: 1, Version: 3, Start: 30 * ms, OpEnd: 41 * ms}, // at the fill's end: still in it
		{Key: 1, Version: 3, Start: 31 * ms, OpEnd: 50 * ms}, // after it
		{Key: 1, Version: 4, Start: 14 * ms, OpEnd: 20 * ms},
		{Key: 2, Version: 1, Start: 16 * ms, OpEnd: 17 * ms},
		{Key: 2, Version: 1, Start: 1 * ms, OpEnd: 2 * ms}, // warm-up
	}
}

func TestDBLoadStampedeWidth(t *testing.T) {
	hist := stampedeHistory()
	// The runner hands reads over as operations complete, in no useful
	// order: shuffle them.
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		rng.Shuffle(len(hist), func(i, j int) { hist[i], hist[j] = hist[j], hist[i] })
		c := NewDBLoadChecker(10 * ms)
		c.SetWindow(5*ms, 100*ms)
		for _, r := range hist {
			c.Read(r)
		}
		got := c.Result(100*ms, nil)
		if !got.Recorded || got.Reads != 8 {
			t.Fatalf("recorded %v, reads %d, want true and 8 (the warm-up read left out)", got.Recorded, got.Reads)
		}
		if got.Fills != 4 || got.Storms != 1 {
			t.Fatalf("fills %d, storms %d, want 4 and 1", got.Fills, got.Storms)
		}
		if got.WidthP50 != 1 || got.WidthP99 != 5 || got.WidthMax != 5 {
			t.Errorf("width p50/p99/max = %d/%d/%d, want 1/5/5", got.WidthP50, got.WidthP99, got.WidthMax)
		}
		want := Fill{Key: 1, Version: 3, StartNs: int64(10 * ms), Width: 5}
		if got.Widest == nil || *got.Widest != want {
			t.Errorf("widest = %+v, want %+v", got.Widest, want)
		}
		if len(got.Widths) != 2 || got.Widths[0] != (WidthCount{1, 3}) || got.Widths[1] != (WidthCount{5, 1}) {
			t.Errorf("widths = %+v, want [{1 3} {5 1}]", got.Widths)
		}
	}
}

func TestDBLoadRates(t *testing.T) {
	c := NewDBLoadChecker(10 * ms)
	c.SetWindow(10*ms, 60*ms)
	for _, r := range stampedeHistory() {
		c.Read(r)
	}
	got := c.Result(60*ms, nil)
	// Buckets of 10 ms: [10,20) holds 5 reads, [20,30) 1, [30,40) 2.
	if got.Reads != 8 {
		t.Fatalf("reads = %d, want 8", got.Reads)
	}
	if got.PerSecond == nil || *got.PerSecond != 8/0.05 {
		t.Errorf("reads/s = %v, want %v", got.PerSecond, 8/0.05)
	}
	if got.PeakPerSecond == nil || *got.PeakPerSecond != 500 || got.PeakAtS != 0.01 {
		t.Errorf("peak = %v at %vs, want 500/s at 0.01s", got.PeakPerSecond, got.PeakAtS)
	}
	want := []int64{0, 5, 1, 2, 0, 0}
	for i, v := range got.Series.DBReads {
		if i < len(want) && v != want[i] {
			t.Errorf("series db_reads = %v, want %v", got.Series.DBReads, want)
			break
		}
	}
}

// read returns a measured successful read completing at t.
func read(t time.Duration, hit bool) *ghostbench.Op {
	return &ghostbench.Op{Kind: ghostbench.OpRead, Complete: t, Hit: hit, Measured: true}
}

func TestDBLoadRecovery(t *testing.T) {
	c := NewDBLoadChecker(100 * ms)
	c.SetWindow(100*ms, 1000*ms)
	// Before the fault (buckets 1 and 2): 18 hits in 20 reads, 0.9.
	// The fault from 300 to 420 ms; after it the hit ratio climbs back:
	// 0.2 in bucket 4, 0.5 in 5, 0.9 in 6 (>= 0.95 * 0.9).
	ratios := map[int]int{1: 9, 2: 9, 3: 0, 4: 2, 5: 5, 6: 9, 7: 10, 8: 10, 9: 10}
	for b, hits := range ratios {
		for i := 0; i < 10; i++ {
			c.Observe(read(time.Duration(b)*100*ms+time.Duration(i)*ms, i < hits))
		}
	}
	dbReads := map[int]int{1: 2, 2: 2, 3: 10, 4: 40, 5: 25, 6: 5, 7: 80, 8: 1}
	for b, n := range dbReads {
		for i := 0; i < n; i++ {
			c.Read(DBRead{Key: ghostbench.Key(i), Version: int64(b), Start: time.Duration(b)*100*ms + time.Duration(i)*time.Microsecond, OpEnd: time.Duration(b+1) * 100 * ms})
		}
	}
	got := c.Result(1000*ms, []FaultSpan{{Fault: "redis-restart", Start: 300 * ms, End: 420 * ms}})
	if len(got.AfterFaults) != 1 {
		t.Fatalf("after faults = %+v, want one", got.AfterFaults)
	}
	rc := got.AfterFaults[0]
	if rc.PreHitRatio == nil || *rc.PreHitRatio != 0.9 {
		t.Errorf("pre-fault hit ratio = %v, want 0.9", rc.PreHitRatio)
	}
	if rc.RecoveredAfterMs == nil || *rc.RecoveredAfterMs != 280 {
		t.Errorf("recovered after = %v ms, want 280 (end of bucket 6 at 700 ms minus the heal at 420 ms)", rc.RecoveredAfterMs)
	}
	// The peak after the heal is bucket 4's 40 reads (bucket 7's 80 come
	// after the recovery).
	if rc.PeakPerSecond == nil || *rc.PeakPerSecond != 400 || rc.PeakAtS != 0.4 {
		t.Errorf("peak after the heal = %v at %vs, want 400/s at 0.4s", rc.PeakPerSecond, rc.PeakAtS)
	}
	if got.PeakPerSecond == nil || *got.PeakPerSecond != 800 {
		t.Errorf("run peak = %v, want 800/s", got.PeakPerSecond)
	}
}

func TestDBLoadNotRecorded(t *testing.T) {
	c := NewDBLoadChecker(0)
	c.Observe(read(10*ms, false))
	got := c.Result(time.Second, nil)
	if got.Recorded || got.PerSecond != nil || got.Fills != 0 {
		t.Errorf("a miss without a database read: %+v, want not recorded and no numbers", got)
	}
	c = NewDBLoadChecker(0)
	c.Observe(read(10*ms, true))
	if got := c.Result(time.Second, nil); !got.Recorded || got.PerSecond == nil || *got.PerSecond != 0 {
		t.Errorf("hits only: %+v, want recorded with 0 reads/s", got)
	}
}

// TestDBLoadConcurrent feeds the checker from many goroutines at once
// (run with -race): nothing is lost.
func TestDBLoadConcurrent(t *testing.T) {
	c := NewDBLoadChecker(10 * ms)
	var wg sync.WaitGroup
	const workers, each = 8, 500
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				at := time.Duration(i) * 100 * time.Microsecond
				c.Read(DBRead{Key: ghostbench.Key(w), Version: int64(i), Start: at, OpEnd: at})
				op := read(at, i%2 == 0)
				op.Client = w
				c.Observe(op)
			}
		}()
	}
	wg.Wait()
	got := c.Result(time.Second, nil)
	var reads, hits int64
	for i := range got.Series.Reads {
		reads += got.Series.Reads[i]
		hits += got.Series.Hits[i]
	}
	if got.Reads != workers*each || got.Fills != workers*each || reads != workers*each || hits != workers*each/2 {
		t.Errorf("db reads %d, fills %d, reads %d, hits %d; want %d, %d, %d, %d", got.Reads, got.Fills, reads, hits, workers*each, workers*each, workers*each, workers*each/2)
	}
}
