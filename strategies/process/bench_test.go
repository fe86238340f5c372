package process_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/strategies/process"
)

// noop is the in-process twin of the fake's noop mode: reads return the
// seed row, writes bump an in-memory version. No I/O.
type noop struct {
	mu       sync.Mutex
	versions map[gb.Key]int64
}

func (n *noop) Read(context.Context, gb.Key) (gb.ReadResult, error) {
	return gb.ReadResult{Hit: true}, nil
}

func (n *noop) Write(_ context.Context, req gb.WriteRequest) error {
	n.mu.Lock()
	n.versions[req.Key]++
	n.mu.Unlock()
	return nil
}

func (n *noop) Close() error { return nil }

// tokens hands out write tokens across drives: a token is never reused.
var tokens atomic.Int64

// drive runs ops operations (90% reads, 10% writes over 100 keys) from 16
// goroutines and returns ops/s and the p50 latency.
func drive(b *testing.B, s gb.Strategy, ops int) (opsPerSec float64, p50 time.Duration) {
	const workers = 16
	lat := make([][]time.Duration, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			ctx := context.Background()
			for {
				i := next.Add(1)
				if i > int64(ops) {
					return
				}
				k := gb.Key(rng.IntN(100))
				start := time.Now()
				var err error
				if rng.IntN(10) == 0 {
					err = s.Write(ctx, gb.WriteRequest{Key: k, Token: gb.Token(tokens.Add(1)), Delta: 1})
				} else {
					_, err = s.Read(ctx, k)
				}
				lat[w] = append(lat[w], time.Since(start))
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	return float64(len(all)) / elapsed.Seconds(), all[len(all)/2]
}

// BenchmarkProtocolOverhead measures, in one run, the same no-op strategy
// in process and behind the protocol (the fake process in noop mode), and
// reports both ops/s, their ratio and the p50 latency the protocol adds.
func BenchmarkProtocolOverhead(b *testing.B) {
	srv := servertest.Start(b)
	e := env(b, srv, "gbproc_bench")
	st, err := process.New(context.Background(), process.WithoutLedgerCheck(process.Config{Command: fakeCommand(b, "noop"), Name: "noop"}), e)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	in := &noop{versions: map[gb.Key]int64{}}
	ops := max(b.N, 2000)
	drive(b, st, 500) // warm up the pipes
	b.ResetTimer()
	inOps, inP50 := drive(b, in, ops)
	prOps, prP50 := drive(b, st, ops)
	b.StopTimer()
	b.ReportMetric(inOps, "inproc-ops/s")
	b.ReportMetric(prOps, "process-ops/s")
	b.ReportMetric(prOps/inOps, "process/inproc")
	b.ReportMetric(float64(inP50.Nanoseconds())/1e3, "inproc-p50-µs")
	b.ReportMetric(float64(prP50.Nanoseconds())/1e3, "process-p50-µs")
	b.ReportMetric(float64((prP50-inP50).Nanoseconds())/1e3, "added-p50-µs")
}

// BenchmarkPythonCacheAside measures the ops/s the Python cache-aside
// example reaches against real servers (16 clients, 90% reads).
func BenchmarkPythonCacheAside(b *testing.B) {
	srv := servertest.Start(b)
	info := pythonExample(b, "cache_aside.py")
	e := env(b, srv, "gbproc_bench_py")
	st, err := info.New(e)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	drive(b, st, 200)
	b.ResetTimer()
	opsPerSec, p50 := drive(b, st, max(b.N, 2000))
	b.StopTimer()
	b.ReportMetric(opsPerSec, "ops/s")
	b.ReportMetric(float64(p50.Nanoseconds())/1e3, "p50-µs")
}
