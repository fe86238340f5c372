package check

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench"
)

// benchEv is one call of a generated history.
type benchEv struct {
	kind     uint8
	hit      bool
	key      ghostbench.Key
	tok      ghostbench.Token
	ver      int64
	t1, t2   int64 // sent/ack, or invoke/complete
	measured bool
}

const (
	evRead = iota
	evBegan
	evSending
	evCommitted
	evAborted
	evIndet
	evWriteOK
	evWriteErr
)

// benchGen generates a realistic mixed history: uniform keys, 90% reads
// (90% hits, 1% returning the previous version), 10% writes (98% commit,
// 1% abort before COMMIT, 1% indeterminate), one operation every 200 ns,
// with 5% of the Committed calls delivered a few operations late.
type benchGen struct {
	rng     *rand.Rand
	now     int64
	tok     ghostbench.Token
	ver     []int64
	cur     []ghostbench.Token
	prev    []ghostbench.Token
	late    []benchEv
	lateDue []int
	ops     int
}

func newBenchGen(keys int) *benchGen {
	return &benchGen{
		rng: rand.New(rand.NewPCG(1, 2)),
		ver: make([]int64, keys), cur: make([]ghostbench.Token, keys), prev: make([]ghostbench.Token, keys),
	}
}

// next emits the events of one operation, and those delayed until now.
func (g *benchGen) next(emit func(*benchEv)) {
	g.ops++
	n := 0
	for i := range g.late { // in order: a Committed before its op
		if g.lateDue[i] <= g.ops {
			emit(&g.late[i])
			continue
		}
		g.late[n], g.lateDue[n] = g.late[i], g.lateDue[i]
		n++
	}
	g.late, g.lateDue = g.late[:n], g.lateDue[:n]

	rng := g.rng
	k := rng.IntN(len(g.ver))
	key := ghostbench.Key(k)
	inv := g.now
	g.now += 200
	if rng.IntN(10) != 0 {
		e := benchEv{kind: evRead, key: key, ver: g.ver[k], tok: g.cur[k], t1: inv, t2: inv + 150, hit: rng.IntN(10) != 0, measured: true}
		if rng.IntN(100) == 0 && e.ver > 0 {
			e.ver, e.tok = e.ver-1, g.prev[k]
		}
		emit(&e)
		return
	}
	g.tok++
	v := g.ver[k] + 1
	e := benchEv{kind: evBegan, key: key, tok: g.tok, ver: v, measured: true}
	emit(&e)
	sent, ack := inv+50, inv+120
	op := benchEv{kind: evWriteOK, key: key, tok: g.tok, ver: v, t1: inv, t2: ack + 30, measured: true}
	switch x := rng.IntN(100); {
	case x == 0:
		e.kind, e.t1 = evAborted, -1
		emit(&e)
		op.kind = evWriteErr
		emit(&op)
		return
	case x == 1:
		e.kind, e.t1 = evSending, sent
		emit(&e)
		e.kind = evIndet
		emit(&e)
		op.kind = evWriteErr // the ledger will say it committed
		emit(&op)
	default:
		e.kind, e.t1 = evSending, sent
		emit(&e)
		e.kind, e.t1, e.t2 = evCommitted, sent, ack
		if rng.IntN(20) == 0 {
			// The writer is descheduled: its Committed call and its
			// op arrive a few operations later.
			due := g.ops + 1 + rng.IntN(8)
			g.late = append(g.late, e, op)
			g.lateDue = append(g.lateDue, due, due)
		} else {
			emit(&e)
			emit(&op)
		}
	}
	g.ver[k], g.prev[k], g.cur[k] = v, g.cur[k], g.tok
}

var errBench = errors.New("bench")

// feed applies one event to c, reusing op.
func feed(c *Checker, e *benchEv, op *ghostbench.Op) {
	switch e.kind {
	case evRead:
		*op = ghostbench.Op{Kind: ghostbench.OpRead, Key: e.key, Value: ghostbench.Value{Version: e.ver, Token: e.tok},
			Hit: e.hit, Intended: time.Duration(e.t1), Invoke: time.Duration(e.t1), Complete: time.Duration(e.t2), Measured: e.measured}
		c.Observe(op)
	case evBegan:
		c.Began(e.key, e.tok, e.ver)
	case evSending:
		c.CommitSending(e.key, e.tok, e.ver, time.Duration(e.t1))
	case evCommitted:
		c.Committed(e.key, e.tok, e.ver, time.Duration(e.t1), time.Duration(e.t2))
	case evAborted:
		c.Aborted(e.key, e.tok, e.ver, time.Duration(e.t1))
	case evIndet:
		c.Indeterminate(e.key, e.tok, e.ver, time.Duration(e.t1))
	case evWriteOK, evWriteErr:
		*op = ghostbench.Op{Kind: ghostbench.OpWrite, Key: e.key, Token: e.tok,
			Intended: time.Duration(e.t1), Invoke: time.Duration(e.t1), Complete: time.Duration(e.t2), Measured: e.measured}
		if e.kind == evWriteErr {
			op.Err, op.Class = errBench, ghostbench.ClassIndeterminate
		}
		c.Observe(op)
	}
}

func isOp(e *benchEv) bool { return e.kind == evRead || e.kind == evWriteOK || e.kind == evWriteErr }

// BenchmarkChecker measures how many operations the checker analyses per
// second, fed sequentially a realistic mixed history (see benchGen): one
// b.N is one operation, with its recorder calls. Run with -cpu 1; the
// target is 5M ops/s.
func BenchmarkChecker(b *testing.B) {
	const keys, chunk = 10_000, 1 << 20
	g := newBenchGen(keys)
	evs := make([]benchEv, 0, chunk*13/10)
	for range chunk {
		g.next(func(e *benchEv) { evs = append(evs, *e) })
	}
	b.ReportAllocs()
	b.ResetTimer()
	var op ghostbench.Op
	var cpu time.Duration
	for done := 0; done < b.N; {
		b.StopTimer()
		c, err := NewChecker(CheckerConfig{Keys: keys})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		cpu0 := cpuTime()
		b.StartTimer()
		for i := range evs {
			e := &evs[i]
			feed(c, e, &op)
			if isOp(e) {
				if done++; done == b.N {
					break
				}
			}
		}
		b.StopTimer()
		cpu += cpuTime() - cpu0
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	// On a shared machine wall time counts other processes' time slices:
	// per CPU second of this process (GC included) is the steadier figure.
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "ops/cpu-s")
	}
}

// BenchmarkCheckerMemory10M feeds 10 million operations of the mixed
// history (generated on the fly) and reports the heap in use afterwards,
// before Finish: the checker's memory must not grow with operations, only
// with keys and committed writes (about a million here). Run with
// -benchtime=1x; the target is < 200 MB.
func BenchmarkCheckerMemory10M(b *testing.B) {
	const keys, n = 10_000, 10_000_000
	for range b.N {
		g := newBenchGen(keys)
		c, err := NewChecker(CheckerConfig{Keys: keys})
		if err != nil {
			b.Fatal(err)
		}
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var op ghostbench.Op
		for range n {
			g.next(func(e *benchEv) { feed(c, e, &op) })
		}
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		m, err := c.Finish(context.Background(), func(_ context.Context, tokens []ghostbench.Token) (map[ghostbench.Token]bool, error) {
			out := make(map[ghostbench.Token]bool, len(tokens))
			for _, t := range tokens {
				out[t] = true
			}
			return out, nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if got := m.Reads.Total + m.Writes.Attempted; got != n || m.HarnessErrors != 0 || m.Reads.Unknown != 0 {
			b.Fatalf("ops %d, harness errors %d, unknown %d", got, m.HarnessErrors, m.Reads.Unknown)
		}
		b.ReportMetric(float64(after.HeapInuse)/1e6, "heap-inuse-MB")
		if rss := maxRSS(); rss > 0 {
			// The whole test process at its peak, Finish included.
			b.ReportMetric(float64(rss)/1e6, "max-rss-MB")
		}
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/float64(m.Writes.Committed), "B/committed-write")
		b.ReportMetric(float64(m.Reads.Stale), "stale-reads")
	}
}
