package check

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/ghostbench/ghostbench"
)

const ckUs = time.Microsecond

func ckNew(t testing.TB, cfg CheckerConfig) *Checker {
	t.Helper()
	c, err := NewChecker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ckFinish(t testing.TB, c *Checker) *Metrics {
	t.Helper()
	m, err := c.Finish(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// commit records a whole successful write of key at version v.
func ckCommit(c *Checker, k ghostbench.Key, tok ghostbench.Token, v int64, sent, ack time.Duration, measured bool) {
	c.Began(k, tok, v)
	c.CommitSending(k, tok, v, sent)
	c.Committed(k, tok, v, sent, ack)
	c.Observe(&ghostbench.Op{Kind: ghostbench.OpWrite, Key: k, Token: tok, Invoke: sent - ckUs, Intended: sent - ckUs, Complete: ack + ckUs, Measured: measured})
}

func ckRead(k ghostbench.Key, v int64, tok ghostbench.Token, invoke, complete time.Duration) *ghostbench.Op {
	return &ghostbench.Op{Kind: ghostbench.OpRead, Key: k, Value: ghostbench.Value{Version: v, Token: tok},
		Hit: true, Intended: invoke, Invoke: invoke, Complete: complete, Measured: true}
}

func TestNewCheckerValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  CheckerConfig
		want string // substring of the error, "" for none
	}{
		{"ok", CheckerConfig{Keys: 1}, ""},
		{"probes ok", CheckerConfig{Keys: 10, ProbeOffsets: []time.Duration{time.Millisecond, time.Second}}, ""},
		{"no keys", CheckerConfig{}, "Keys must be in 1.."},
		{"negative keys", CheckerConfig{Keys: -3}, "got -3"},
		{"too many keys", CheckerConfig{Keys: MaxKeys + 1}, "Keys must be"},
		{"negative bucket", CheckerConfig{Keys: 1, Bucket: -time.Second}, "Bucket must be >= 0"},
		{"zero offset", CheckerConfig{Keys: 1, ProbeOffsets: []time.Duration{0}}, "ProbeOffsets[0] must be > 0"},
		{"unordered offsets", CheckerConfig{Keys: 1, ProbeOffsets: []time.Duration{time.Second, time.Millisecond}}, "must increase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewChecker(tt.cfg)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if (tt.want == "") != (err == nil) || !strings.Contains(got, tt.want) {
				t.Errorf("NewChecker(%+v): got error %q, want one containing %q", tt.cfg, got, tt.want)
			}
		})
	}
}

func TestConvergencePoint(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		samples, consistent int64
		fraction, nines     *float64
		capped              bool
	}{
		{0, 0, nil, nil, false},
		{10, 0, f(0), f(0), false},
		{1000, 999, f(0.999), f(3), false},
		{100, 90, f(0.9), f(1), false},
		{7, 7, f(1), f(NinesCap), true},
		{10_000_000, 9_999_999, f(0.9999999), f(NinesCap), true},
	}
	for _, tt := range tests {
		got := convergencePoint(int64(time.Millisecond), tt.samples, tt.consistent)
		if got.OffsetUs != 1000 || got.Samples != tt.samples || got.Consistent != tt.consistent || got.NinesCapped != tt.capped {
			t.Errorf("%d/%d: got %+v", tt.consistent, tt.samples, got)
		}
		for _, p := range []struct {
			name      string
			got, want *float64
		}{{"fraction", got.Fraction, tt.fraction}, {"nines", got.Nines, tt.nines}} {
			if (p.got == nil) != (p.want == nil) || p.got != nil && ckAbs(*p.got-*p.want) > 1e-9 {
				t.Errorf("%d/%d %s: got %v, want %v", tt.consistent, tt.samples, p.name, ckDeref(p.got), ckDeref(p.want))
			}
		}
	}
}

func ckAbs(x float64) float64 { return max(x, -x) }

func ckDeref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestProbe(t *testing.T) {
	c := ckNew(t, CheckerConfig{Keys: 1, ProbeOffsets: []time.Duration{time.Millisecond, 100 * time.Millisecond}})
	for i := range 1000 {
		c.Probe(0, true)
		c.Probe(1, i != 0)
	}
	c.Probe(2, true)  // out of range
	c.Probe(-1, true) // out of range
	m := ckFinish(t, c)
	got := []int64{m.Convergence[0].Samples, m.Convergence[0].Consistent, m.Convergence[1].Samples, m.Convergence[1].Consistent, m.HarnessErrors}
	want := []int64{1000, 1000, 1000, 999, 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("samples, consistent, harness errors: got %v, want %v", got, want)
	}
	if n := *m.Convergence[1].Nines; ckAbs(n-3) > 1e-9 || !m.Convergence[0].NinesCapped {
		t.Errorf("nines: got %v (capped %v at offset 0)", n, m.Convergence[0].NinesCapped)
	}
}

func TestLatency(t *testing.T) {
	c := ckNew(t, CheckerConfig{Keys: 1, OpenLoop: true})
	ms := time.Millisecond
	ops := []*ghostbench.Op{
		// A hit that started 1 ms late: 3 ms corrected, 2 ms uncorrected.
		{Kind: ghostbench.OpRead, Hit: true, Intended: 0, Invoke: 1 * ms, Complete: 3 * ms},
		{Kind: ghostbench.OpRead, Hit: false, Intended: 10 * ms, Invoke: 10 * ms, Complete: 15 * ms},
		{Kind: ghostbench.OpRead, Err: errors.New("down"), Class: ghostbench.ClassRedis, Intended: 20 * ms, Invoke: 20 * ms, Complete: 21 * ms},
		{Kind: ghostbench.OpWrite, Token: 7, Err: errors.New("pg"), Class: ghostbench.ClassPostgres, Intended: 30 * ms, Invoke: 30 * ms, Complete: 37 * ms},
		// 61 s: clamped to 60 s.
		{Kind: ghostbench.OpWrite, Token: 8, Err: errors.New("slow"), Class: ghostbench.ClassTimeout, Intended: 0, Invoke: 0, Complete: 61 * time.Second},
	}
	for _, op := range ops {
		op.Measured = true
		c.Observe(op)
	}
	m := ckFinish(t, c)
	tests := []struct {
		name                string
		count, max, clamped int64
	}{
		{LatencyReadHit, 1, 3000, 0},
		{LatencyReadHit + UncorrectedSuffix, 1, 2000, 0},
		{LatencyReadMiss, 1, 5000, 0},
		{LatencyReadError, 1, 1000, 0},
		{LatencyWrite, 2, MaxLatencyMicros, 1},
		{LatencyWriteErr, 2, MaxLatencyMicros, 1},
		{LatencyWrite + UncorrectedSuffix, 2, MaxLatencyMicros, 1},
	}
	for _, tt := range tests {
		h := m.Latency[tt.name]
		if h == nil {
			t.Errorf("%s: missing", tt.name)
			continue
		}
		// Max is HdrHistogram's highest equivalent value: within 0.1%.
		if h.Count != tt.count || h.Clamped != tt.clamped || ckAbs(float64(h.Max-tt.max)) > float64(tt.max)/1000 {
			t.Errorf("%s: got count %d max %d clamped %d, want %d %d %d", tt.name, h.Count, h.Max, h.Clamped, tt.count, tt.max, tt.clamped)
		}
	}
	if len(m.Latency) != 10 {
		t.Errorf("open loop: got %d latency histograms, want 10", len(m.Latency))
	}
	got := []int64{m.Reads.Total, m.Reads.OK, m.Reads.Errors["redis"], m.Writes.Attempted, m.Writes.NotCommitted,
		m.Writes.Failed["postgres"], m.Writes.Failed["timeout"], m.Writes.ErrorsReturned["timeout"]}
	want := []int64{3, 2, 1, 2, 2, 1, 1, 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counts: got %v, want %v", got, want)
	}
	if *m.Writes.Availability != 0 || m.Writes.Committed != 0 {
		t.Errorf("availability: got %v", *m.Writes.Availability)
	}
}

func TestClosedLoopIgnoresIntended(t *testing.T) {
	c := ckNew(t, CheckerConfig{Keys: 1})
	// A runner that leaves Intended at 0 in a closed loop: latency is
	// still complete - invoke.
	c.Observe(&ghostbench.Op{Kind: ghostbench.OpRead, Hit: true, Invoke: time.Second, Complete: time.Second + 250*ckUs, Measured: true})
	m := ckFinish(t, c)
	if got := m.Latency[LatencyReadHit].Max; got != 250 {
		t.Errorf("latency: got %d µs, want 250", got)
	}
	if _, ok := m.Latency[LatencyReadHit+UncorrectedSuffix]; ok || len(m.Latency) != 5 {
		t.Errorf("closed loop: got %d latency histograms, want 5", len(m.Latency))
	}
}

func TestSeries(t *testing.T) {
	c := ckNew(t, CheckerConfig{Keys: 1, Bucket: 100 * time.Millisecond})
	ms := time.Millisecond
	ckCommit(c, 0, 1, 1, 10*ms, 20*ms, true)                                                                                                              // write, complete ~20 ms: bucket 0
	c.Observe(ckRead(0, 1, 1, 50*ms, 60*ms))                                                                                                              // fresh, bucket 0
	c.Observe(ckRead(0, 0, 0, 250*ms, 260*ms))                                                                                                            // stale, bucket 2
	c.Observe(ckRead(0, 1, 9, 251*ms, 270*ms))                                                                                                            // ghost (superseded), bucket 2
	c.Observe(&ghostbench.Op{Kind: ghostbench.OpRead, Err: errors.New("x"), Invoke: 310 * ms, Complete: 320 * ms, Measured: true})                        // error, bucket 3
	c.Observe(&ghostbench.Op{Kind: ghostbench.OpRead, Hit: true, Invoke: 330 * ms, Complete: 340 * ms})                                                   // warm-up: not counted
	c.Observe(&ghostbench.Op{Kind: ghostbench.OpWrite, Token: 77, Err: errors.New("begin failed"), Invoke: 150 * ms, Complete: 160 * ms, Measured: true}) // failed write, bucket 1
	m := ckFinish(t, c)
	s := m.Series
	got := [][]int64{s.Ops, s.Reads, s.Writes, s.Errors, s.WriteErrors, s.StaleReads, s.GhostReads, s.UnknownReads}
	want := [][]int64{{2, 1, 2, 1}, {1, 0, 2, 1}, {1, 1, 0, 0}, {0, 1, 0, 1}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 1, 0}, {0, 0, 0, 0}}
	if !reflect.DeepEqual(got, want) || s.BucketUs != 100_000 {
		t.Errorf("series (ops, reads, writes, errors, write errors, stale, ghost, unknown): got %v, want %v (bucket %d)", got, want, s.BucketUs)
	}
}

func TestMetricsJSONRoundTrip(t *testing.T) {
	c := ckNew(t, CheckerConfig{Keys: 4, OpenLoop: true, ProbeOffsets: []time.Duration{time.Millisecond}})
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		inv := time.Duration(i) * time.Millisecond
		c.Observe(&ghostbench.Op{Kind: ghostbench.OpRead, Hit: i%3 != 0, Key: ghostbench.Key(i % 4),
			Intended: inv - time.Duration(rng.IntN(100))*ckUs, Invoke: inv, Complete: inv + time.Duration(1+rng.ExpFloat64()*500)*ckUs, Measured: true})
	}
	ckCommit(c, 1, 1, 1, 10*time.Millisecond, 11*time.Millisecond, true)
	c.Observe(ckRead(1, 0, 0, 20*time.Millisecond, 21*time.Millisecond))
	c.Probe(0, true)
	c.AuditKey(1, ghostbench.Value{}, 0, false, ghostbench.Value{Version: 1, Token: 1})
	m := ckFinish(t, c)

	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"stale_window"`, `"staleness_age"`, `"errors_returned"`, `"bucket_us"`, `"nines_capped"`, `"hdr":"HISTF`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	if strings.Contains(string(b), `"history"`) {
		t.Error("JSON has a history without FullHistory")
	}
	var back Metrics
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for name, h := range m.Latency {
		g := back.Latency[name]
		for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
			if a, b := h.Quantile(q), g.Quantile(q); a != b {
				t.Errorf("%s: Quantile(%v) got %d after JSON, want %d", name, q, b, a)
			}
		}
		if !reflect.DeepEqual(h.CDF(), g.CDF()) {
			t.Errorf("%s: CDF differs after JSON", name)
		}
		if g.Count != h.Count || g.P99 != h.P99 {
			t.Errorf("%s: summary differs after JSON", name)
		}
	}
	if got := back.Latency[LatencyReadHit].Quantile(0.99); got != m.Latency[LatencyReadHit].P99 || got <= 0 {
		t.Errorf("p99: got %d, want %d", got, m.Latency[LatencyReadHit].P99)
	}
	if cdf := back.Latency[LatencyReadMiss].CDF(); len(cdf) == 0 || cdf[len(cdf)-1].Fraction != 1 {
		t.Errorf("CDF does not end at 1: %v", cdf)
	}
	// 9000 µs, as HdrHistogram's highest equivalent value (within 0.1%).
	if age := back.Reads.StalenessAge.Quantile(1); back.Reads.Stale != 1 || age < 9000 || age > 9009 || *back.Writes.Availability != 1 {
		t.Errorf("round trip: stale %d age %d availability %v", back.Reads.Stale, back.Reads.StalenessAge.Quantile(1), *back.Writes.Availability)
	}
	// A second marshal of the decoded metrics is byte-identical.
	b2, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(b2) {
		t.Error("JSON differs after a round trip")
	}
	// A Histogram copied by value marshals its HDR too.
	byValue, err := json.Marshal(struct{ H Histogram }{*m.Latency[LatencyReadHit]})
	if err != nil || !strings.Contains(string(byValue), `"hdr":"HISTF`) {
		t.Errorf("by value: got %s, %v", byValue, err)
	}
	var empty Histogram
	if empty.Quantile(0.5) != -1 || empty.CDF() != nil {
		t.Error("an empty Histogram must report -1 and no CDF")
	}
	if _, err := (&Histogram{HDR: "not base64!"}).Decode(); err == nil {
		t.Error("Decode of garbage: want an error")
	}
}

func TestOnAnomalyAndExamples(t *testing.T) {
	var c *Checker
	var calls atomic.Int64
	c = ckNew(t, CheckerConfig{Keys: 2, OnAnomaly: func(a Anomaly) {
		calls.Add(1)
		// The callback runs without a lock: calling back in (with a
		// fresh read) must not deadlock.
		c.Observe(ckRead(a.Key, 1, ghostbench.Token(a.Key+1), time.Second, time.Second+ckUs))
	}})
	ckCommit(c, 0, 1, 1, 10*ckUs, 20*ckUs, true)
	ckCommit(c, 1, 2, 1, 10*ckUs, 20*ckUs, true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 25 {
			at := time.Duration(1000-i) * ckUs // later stale reads complete earlier
			c.Observe(ckRead(ghostbench.Key(i%2), 0, 0, at, at+ckUs))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: OnAnomaly called with a lock held")
	}
	m := ckFinish(t, c)
	if calls.Load() != 25 || m.Reads.Stale != 25 || m.Reads.Fresh != 25 {
		t.Errorf("callbacks: got %d (stale %d), want 25", calls.Load(), m.Reads.Stale)
	}
	if len(m.Examples) != MaxExamples {
		t.Fatalf("examples: got %d, want %d", len(m.Examples), MaxExamples)
	}
	for i, a := range m.Examples {
		// The 20 earliest by completion: invokes 976..995 µs.
		if want := int64(976+i) * 1000; a.InvokeNs != want || !a.Stale || a.NewerVersion != 1 || a.NewerAckNs != 20_000 || a.AgeNs != want-20_000 || a.Lag != 1 {
			t.Errorf("example %d: got %+v, want invoke %d", i, a, want)
		}
	}
}

func TestFinishTwiceAndLateCalls(t *testing.T) {
	c := ckNew(t, CheckerConfig{Keys: 1})
	ckFinish(t, c)
	if _, err := c.Finish(context.Background(), nil); !errors.Is(err, ErrFinished) {
		t.Errorf("second Finish: got %v, want ErrFinished", err)
	}
	// Ignored, no panic.
	c.Observe(ckRead(0, 0, 0, 1, 2))
	c.Began(0, 1, 1)
	c.AuditKey(0, ghostbench.Value{}, 0, false, ghostbench.Value{})
	c.Probe(0, true)
}

func TestFinishUnresolved(t *testing.T) {
	setup := func() *Checker {
		c := ckNew(t, CheckerConfig{Keys: 1})
		c.Began(0, 1, 1)
		c.CommitSending(0, 1, 1, 10*ckUs)
		c.Indeterminate(0, 1, 1, 10*ckUs)
		c.Observe(&ghostbench.Op{Kind: ghostbench.OpWrite, Token: 1, Invoke: 5 * ckUs, Complete: 20 * ckUs, Measured: true,
			Err: errors.New("timeout"), Class: ghostbench.ClassIndeterminate})
		c.Observe(ckRead(0, 1, 1, 30*ckUs, 40*ckUs))
		return c
	}
	called := false
	resolve := func(context.Context, []ghostbench.Token) (map[ghostbench.Token]bool, error) {
		called = true
		return nil, errors.New("unreachable")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m, err := setup().Finish(ctx, resolve)
	if !errors.Is(err, ErrUnresolved) || !errors.Is(err, context.Canceled) || called {
		t.Errorf("done ctx: got %v (resolver called %v), want ErrUnresolved wrapping context.Canceled", err, called)
	}
	if m == nil || m.Reads.Unknown != 1 || m.Reads.Fresh != 0 || m.Reads.Ghost != 0 || m.Writes.Unknown != 1 || m.Resolution.Unresolved != 1 {
		t.Errorf("done ctx: got metrics %+v", m)
	}

	m, err = setup().Finish(context.Background(), resolve)
	if !errors.Is(err, ErrUnresolved) || !called || m.Reads.Unknown != 1 || m.Resolution.Error != "unreachable" {
		t.Errorf("failing resolver: got %v, unknown %d, resolution %+v", err, m.Reads.Unknown, m.Resolution)
	}

	m, err = setup().Finish(context.Background(), nil)
	if err != nil || m.Reads.Unknown != 1 || m.Resolution.Asked != 1 || m.Resolution.Error != "no resolver" {
		t.Errorf("nil resolver: got %v, %+v", err, m.Resolution)
	}

	// A resolver that omits the token leaves it unknown, without error.
	m, err = setup().Finish(context.Background(), func(context.Context, []ghostbench.Token) (map[ghostbench.Token]bool, error) {
		return map[ghostbench.Token]bool{}, nil
	})
	if err != nil || m.Reads.Unknown != 1 || m.Resolution.Unresolved != 1 {
		t.Errorf("partial resolver: got %v, %+v", err, m.Resolution)
	}
}

func TestFullHistory(t *testing.T) {
	c := ckNew(t, CheckerConfig{Keys: 1, FullHistory: true})
	ckCommit(c, 0, 1, 1, 10*ckUs, 20*ckUs, true)
	c.Began(0, 2, 2)
	c.Aborted(0, 2, 2, -1)
	c.Observe(&ghostbench.Op{Kind: ghostbench.OpWrite, Token: 2, Invoke: 25 * ckUs, Complete: 30 * ckUs, Measured: true, Err: errors.New("set failed"), Class: ghostbench.ClassRedis})
	c.Observe(ckRead(0, 0, 0, 40*ckUs, 50*ckUs))
	c.Observe(ckRead(0, 2, 2, 41*ckUs, 45*ckUs))
	warm := ckRead(0, 1, 1, 42*ckUs, 46*ckUs)
	warm.Measured = false
	c.Observe(warm)
	m := ckFinish(t, c)
	var got []string
	for _, e := range m.History {
		got = append(got, e.Kind+":"+string(e.Outcome))
	}
	want := []string{"write:committed", "write:not-committed", "read:ghost+early", "read:fresh", "read:stale"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("history: got %v, want %v", got, want)
	}
	if e := m.History[4]; e.AgeNs != 20_000 || e.Lag != 1 || e.Value.Version != 0 {
		t.Errorf("stale entry: got %+v", e)
	}
	if e := m.History[1]; e.Class != "redis" || e.Error != "set failed" || e.Version != 2 {
		t.Errorf("failed write entry: got %+v", e)
	}
	if m.Reads.Total != 2 {
		t.Errorf("warm-up read counted: total %d, want 2", m.Reads.Total)
	}
}

func TestAuditExamplesKeepLowestKeys(t *testing.T) {
	const n = 300
	c := ckNew(t, CheckerConfig{Keys: n})
	for k := n - 1; k >= 0; k-- {
		ckCommit(c, ghostbench.Key(k), ghostbench.Token(k+1), 1, 10*ckUs, 20*ckUs, true)
		c.AuditKey(ghostbench.Key(k), ghostbench.Value{}, 5*time.Second, true, ghostbench.Value{Version: 1, Token: ghostbench.Token(k + 1)})
	}
	m := ckFinish(t, c)
	if m.Audit.StaleUntilTTL != n || len(m.Audit.Examples) != MaxAuditExamples {
		t.Fatalf("audit: got %d stale, %d examples", m.Audit.StaleUntilTTL, len(m.Audit.Examples))
	}
	for i, e := range m.Audit.Examples {
		if e.Key != ghostbench.Key(i) || e.Kind != AuditStale || e.TTLUs != 5_000_000 {
			t.Errorf("example %d: got %+v", i, e)
		}
	}
}

// TestNewerLongHistory checks the block-summarized scan of newer versions
// against brute force on keys with hundreds of versions and acks out of
// version order.
func TestNewerLongHistory(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 20 {
		c := ckNew(t, CheckerConfig{Keys: 1})
		n := 1 + rng.IntN(700)
		acks := make([]int64, n+1) // acks[0]: the seed's 0
		for v := 1; v <= n; v++ {
			sent := int64(v) * 100
			acks[v] = sent + 1 + rng.Int64N(3000) // often after later versions' acks
			c.Began(0, ghostbench.Token(v), int64(v))
			c.CommitSending(0, ghostbench.Token(v), int64(v), time.Duration(sent))
		}
		for _, v := range rng.Perm(n) { // outcomes delivered in any order
			c.Committed(0, ghostbench.Token(v+1), int64(v+1), time.Duration((v+1)*100), time.Duration(acks[v+1]))
		}
		ks := c.stateOf(c.shardOf(0), 0)
		for range 300 {
			v := rng.Int64N(int64(n) + 1)
			invoke := rng.Int64N(int64(n)*100 + 4000)
			minAck, minV, latest := ks.newer(v, invoke)
			wantMin, wantLatest := int64(ackNone), int64(-1)
			for w := v + 1; w <= int64(n); w++ {
				wantMin = min(wantMin, acks[w])
				if acks[w] < invoke {
					wantLatest = max(wantLatest, w)
				}
			}
			if minAck != wantMin || latest != wantLatest || (minV >= 0 && acks[minV] != wantMin) || (wantMin != ackNone && minV <= v) {
				t.Fatalf("round %d, n %d: newer(%d, %d) = %d, %d, %d; want min ack %d, latest %d", round, n, v, invoke, minAck, minV, latest, wantMin, wantLatest)
			}
		}
	}
}

// TestKeyStateIsOneCacheLine guards the layout the read fast path relies on.
func TestKeyStateIsOneCacheLine(t *testing.T) {
	if got := unsafe.Sizeof(keyState{}); got != 64 {
		t.Errorf("keyState: got %d bytes, want 64", got)
	}
}
