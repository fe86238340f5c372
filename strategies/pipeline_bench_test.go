package strategies

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/store"
)

// pipelineTarget is one invalidation pipeline under the benchmark: offer
// makes n invalidations of keys k0.. happen now (committed, or queued),
// lags returns the newest lags recorded (oldest first, at most
// lagSamples), count how many were ever recorded, drain waits until
// everything offered has been applied.
type pipelineTarget struct {
	name       string
	configured time.Duration
	offer      func(ctx context.Context, k0, n int) error
	lags       func() []time.Duration
	count      func() uint64
	drain      func(ctx context.Context) error
}

const (
	benchKeys  = 10_000
	benchStep  = time.Second
	benchTick  = 10 * time.Millisecond
	benchSlack = 10 * time.Millisecond
	benchMax   = 1 << 23 // invalidations/s: the ladder stops here (past what a producer offers)
)

// benchTries is how many steps a rate gets to pass: on a shared machine
// one stall of the process is a p99 miss of a whole step.
const benchTries = 3

// benchBisect is how many times the bracket between the highest rate
// passed and the lowest failed is halved, so that a ratio is known to
// about 1/2^benchBisect of the rate rather than to a factor of two.
const benchBisect = 3

// ladder is the search of one target's sustained rate.
type ladder struct {
	pass, fail    int  // highest rate passed, lowest failed above it (0: none yet)
	misses        int  // rates failed in a row
	producerBound bool // the producer could not offer a rate
}

// benchMisses is how many rates in a row a target must fail before its
// climb stops: one stall of a loaded machine fails a step at any rate, so
// a failure below a rate the target then sustains is noise, not its limit.
const benchMisses = 2

// sustainedAll returns, for each target, the highest offered rate
// (invalidations/s) at which it applied everything with an achieved lag
// p99 within its configured lag + 10 ms, and whether its search stopped
// because the producer could not offer the next rate (then the pipeline
// was never the limit and the rate is a lower bound). The targets take
// their steps in turn at each rate, so that the noise of a shared machine
// falls on all of them alike: rates double from 1000 until a target fails
// benchMisses rates in a row, then the bracket between its highest pass
// and the failure above it is bisected benchBisect times.
func sustainedAll(b *testing.B, targets []pipelineTarget) []ladder {
	ls := make([]ladder, len(targets))
	try := func(j, r int) bool {
		for i := 0; i < benchTries; i++ {
			ok, pb := step(b, targets[j], r)
			if pb {
				ls[j].producerBound = true
				return false
			}
			if ok {
				ls[j].pass = max(ls[j].pass, r)
				if ls[j].fail <= r {
					ls[j].fail = 0
				}
				return true
			}
		}
		if ls[j].fail == 0 || r < ls[j].fail {
			ls[j].fail = r
		}
		return false
	}
	open := func(j int) bool { return !ls[j].producerBound && ls[j].misses < benchMisses }
	for r := 1000; r <= benchMax; r *= 2 {
		any := false
		for j := range targets {
			if !open(j) {
				continue
			}
			any = true
			if try(j, r) {
				ls[j].misses = 0
			} else {
				ls[j].misses++
			}
		}
		if !any {
			break
		}
	}
	for range benchBisect {
		for j := range targets {
			l := ls[j]
			if l.producerBound || l.fail == 0 || l.fail <= l.pass || l.fail-l.pass <= l.fail/16 {
				continue
			}
			mid := (l.pass + l.fail) / 2
			if l.pass == 0 {
				mid = l.fail / 2
			}
			try(j, mid)
			if ls[j].producerBound {
				ls[j].producerBound = false // a bisection step the producer cannot offer says nothing
				ls[j].fail = mid
			}
		}
	}
	return ls
}

// step offers r invalidations/s to t for benchStep and reports whether
// they were applied within t's lag bound, or that the producer could not
// offer r.
func step(b *testing.B, t pipelineTarget, r int) (ok, producerBound bool) {
	ctx := context.Background()
	per := max(1, r*int(benchTick)/int(time.Second))
	ticks := int(benchStep / benchTick)
	before := t.count()
	start := time.Now()
	k := 0
	for i := 0; i < ticks; i++ {
		if d := time.Until(start.Add(time.Duration(i) * benchTick)); d > 0 {
			time.Sleep(d)
		}
		if err := t.offer(ctx, k%benchKeys, per); err != nil {
			b.Fatalf("%s: offer: %v", t.name, err)
		}
		k += per
	}
	offered := float64(k) / time.Since(start).Seconds()
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := t.drain(dctx)
	cancel()
	if err != nil {
		b.Fatalf("%s: drain: %v", t.name, err)
	}
	n := int(t.count() - before)
	all := t.lags()
	got := slices.Clone(all[len(all)-min(n, len(all)):])
	slices.Sort(got)
	p99 := time.Duration(0)
	if len(got) > 0 {
		p99 = got[len(got)*99/100]
	}
	b.Logf("%s: offered %d/s (achieved %.0f/s), %d lags, p99 %v", t.name, r, offered, n, p99)
	if offered < 0.9*float64(r) {
		return false, true
	}
	return n >= k*9/10 && p99 <= t.configured+benchSlack, false
}

// BenchmarkInvalidationPipelines measures the sustained invalidations per
// second each consumer applies with its achieved lag p99 within its
// configured lag + 10 ms (async-invalidation, with lag 0, fed straight into its queue;
// cdc-invalidation fed by multi-row UPDATEs, notify-invalidation by
// transactions of many pg_notify calls, so that PostgreSQL can offer more
// than one transaction per change), each beside the baseline that
// measures the same thing on the same servers in the same run: async
// beside a raw go-redis loop that pipelines DELs (everything queued, up
// to delBatchMax, per pipeline), cdc beside a bare pglogrepl reader that
// receives and confirms the same kind of changes and DELs nothing, notify
// beside a bare LISTEN reader. The targets take their steps in turn at
// each rate (see sustainedAll), so that a loaded machine's noise falls on
// all of them alike. It reports every rate and each pipeline's ratio to
// its baseline; a target whose producer could not offer the next rate
// reports producer-bound=1 (its rate is then a lower bound). With -v
// every step is logged (rate offered and achieved, lags, p99).
func BenchmarkInvalidationPipelines(b *testing.B) {
	srv := servertest.Start(b)
	ctx := context.Background()
	cc := docker.DefaultClientConfig()
	rdb := srv.RedisClient(cc)
	defer rdb.Close()
	db, err := srv.PostgresPool(ctx, cc)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st, err := store.New(db, store.Options{Schema: "gbpipe"})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Setup(ctx, benchKeys); err != nil {
		b.Fatal(err)
	}
	defer st.Drop(ctx)
	env := Env{DB: db, Redis: rdb, Store: st, TTL: time.Hour, Prefix: "gbpipe:"}

	raw := rawDelLoop(rdb)
	defer raw.stop()
	targets := []pipelineTarget{raw.target()}

	// async with lag 0: beside the raw loop, both apply each DEL as soon
	// as it is queued, so that the two measure the same thing (with a
	// lag, a burst would be queued whole before the first DEL falls due).
	asEnv := env
	asEnv.Params = Params{"lag": "0s"}
	as, err := newAsyncInvalidation(asEnv)
	if err != nil {
		b.Fatal(err)
	}
	defer as.Close()
	a := as.(*asyncInvalidation)
	targets = append(targets, pipelineTarget{
		name: "async-invalidation", configured: a.lag,
		offer: func(_ context.Context, k0, n int) error {
			now := time.Now()
			for i := 0; i < n; i++ {
				a.enqueue(gb.Key((k0+i)%benchKeys), now)
			}
			return nil
		},
		lags: a.InvalidationLag, count: a.lagCount, drain: a.Drain,
	})

	var token int64 = 1 << 40
	tokens := func(n int) int64 { t := token; token += int64(n); return t }
	// update changes n rows of schema's rows table (keys k0.., wrapping) in
	// one statement and one transaction, found by index ranges rather than
	// by scanning the table, and acks their tokens to ack.
	update := func(schema string, ack func(gb.Token, time.Time)) func(context.Context, int, int) error {
		rows := pgx.Identifier{schema, "rows"}.Sanitize()
		return func(ctx context.Context, k0, n int) error {
			base := tokens(n)
			_, err := db.Exec(ctx, "UPDATE "+rows+" SET version = version + 1, token = $1 + ((id - $2 + $4) % $4) WHERE (id >= $2 AND id < $2 + $3) OR id < $2 + $3 - $4",
				base, k0, n, benchKeys)
			now := time.Now()
			for i := 0; i < n; i++ {
				ack(gb.Token(base+int64(i)), now)
			}
			return err
		}
	}

	// The bare pglogrepl reader streams an identical table of its own
	// (same triggers, same ledger), so that the cdc consumer does not
	// DEL its changes; each walsender decodes the other's WAL as well.
	bareSt, err := store.New(db, store.Options{Schema: "gbpipebare"})
	if err != nil {
		b.Fatal(err)
	}
	if err := bareSt.Setup(ctx, benchKeys); err != nil {
		b.Fatal(err)
	}
	defer bareSt.Drop(ctx)
	bl, blCleanup, err := bareLogical(ctx, db, "gbpipebare", "rows", "gbpipe_bare_logical")
	if err != nil {
		b.Fatal(err)
	}
	defer blCleanup()
	defer bl.close()
	targets = append(targets, bareTarget("bare-pglogrepl-reader", bl, update("gbpipebare", bl.ack)))

	cs, err := newCDCInvalidation(env)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	c := cs.(*cdcInvalidation)
	targets = append(targets, pipelineTarget{
		name:  "cdc-invalidation",
		offer: update(st.Schema(), c.ack),
		lags:  c.InvalidationLag, count: c.lagCount, drain: c.Drain,
	})

	// notify offers n notifications in one transaction on channel.
	notify := func(channel string, ack func(gb.Token, time.Time)) func(context.Context, int, int) error {
		return func(ctx context.Context, k0, n int) error {
			base := tokens(n)
			_, err := db.Exec(ctx, "SELECT pg_notify($1, ((($2::bigint + g) % $4) || ':' || ($3::bigint + g))) FROM generate_series(0, $5::bigint - 1) g",
				channel, k0, base, benchKeys, n)
			now := time.Now()
			for i := 0; i < n; i++ {
				ack(gb.Token(base+int64(i)), now)
			}
			return err
		}
	}
	bn, err := bareListen(ctx, db, "gbpipe_bare_listen")
	if err != nil {
		b.Fatal(err)
	}
	defer bn.close()
	targets = append(targets, bareTarget("bare-LISTEN-reader", bn, notify("gbpipe_bare_listen", bn.ack)))

	ns, err := newNotifyInvalidation(env)
	if err != nil {
		b.Fatal(err)
	}
	defer ns.Close()
	nt := ns.(*notifyInvalidation)
	targets = append(targets, pipelineTarget{
		name:  "notify-invalidation",
		offer: notify(nt.channel, nt.ack),
		lags:  nt.InvalidationLag, count: nt.lagCount, drain: nt.Drain,
	})

	b.ResetTimer()
	rates := make([]float64, len(targets))
	bound := make([]bool, len(targets))
	for i := 0; i < b.N; i++ {
		for j, l := range sustainedAll(b, targets) {
			rates[j] += float64(l.pass) / float64(b.N)
			bound[j] = bound[j] || l.producerBound
		}
	}
	b.StopTimer()
	// Each pipeline beside the baseline that measures the same thing:
	// async's queue against the raw DEL loop, cdc against the bare
	// pglogrepl reader, notify against the bare LISTEN reader.
	baseline := map[string]string{
		"async-invalidation":  "raw-go-redis-pipelined-DEL",
		"cdc-invalidation":    "bare-pglogrepl-reader",
		"notify-invalidation": "bare-LISTEN-reader",
	}
	index := map[string]int{}
	for j, t := range targets {
		index[t.name] = j
		b.ReportMetric(rates[j], t.name+"/s")
		if bound[j] {
			b.ReportMetric(1, t.name+"-producer-bound")
		}
	}
	for j, t := range targets {
		base, ok := baseline[t.name]
		if !ok {
			continue
		}
		if r0 := rates[index[base]]; r0 > 0 {
			b.ReportMetric(rates[j]/r0, t.name+"-ratio")
		}
	}
	// The burst rates: on a machine so loaded that no rate passes the
	// lag bound above, the rate at which each target works off the same
	// burst still compares a pipeline with its baseline.
	burst := burstRates(b, targets)
	for j, t := range targets {
		b.ReportMetric(burst[j], t.name+"-burst/s")
		if base, ok := baseline[t.name]; ok && burst[index[base]] > 0 {
			b.ReportMetric(burst[j]/burst[index[base]], t.name+"-burst-ratio")
		}
	}
}

// burstN is the size of one burst, offered in transactions (or queue
// batches) of burstChunk changes.
const (
	burstN      = 20_000
	burstChunk  = 1000
	burstRounds = 5
)

// burstRates offers each target burstN changes as fast as the producer
// goes and times until the last is applied (received, for a bare reader),
// less the target's configured lag; the targets take turns, burstRounds
// rounds, and a target's rate is its median round. Producer and servers
// are the same for a pipeline and its baseline, so their ratio is the
// share of the baseline's rate the pipeline keeps.
func burstRates(b *testing.B, targets []pipelineTarget) []float64 {
	ctx := context.Background()
	out := make([]float64, len(targets))
	per := make([][]float64, len(targets))
	for range burstRounds {
		for j, t := range targets {
			before := t.count()
			start := time.Now()
			for k := 0; k < burstN; k += burstChunk {
				if err := t.offer(ctx, k%benchKeys, burstChunk); err != nil {
					b.Fatalf("%s: burst offer: %v", t.name, err)
				}
			}
			dctx, cancel := context.WithTimeout(ctx, time.Minute)
			err := t.drain(dctx)
			for err == nil && t.count()-before < burstN && dctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			cancel()
			if err != nil {
				b.Fatalf("%s: burst drain: %v", t.name, err)
			}
			el := time.Since(start) - t.configured
			if n := t.count() - before; n < burstN {
				b.Logf("%s: burst: only %d of %d paired", t.name, n, burstN)
			}
			r := float64(burstN) / el.Seconds()
			b.Logf("%s: burst of %d in %v: %.0f/s", t.name, burstN, el, r)
			per[j] = append(per[j], r)
		}
	}
	for j := range per {
		slices.Sort(per[j])
		out[j] = per[j][len(per[j])/2]
	}
	return out
}

// bareTarget is the pipelineTarget of a bare reader: offer must ack its
// tokens to r (and is counted), a lag is commit-ack to receipt.
func bareTarget(name string, r *bareReader, offer func(context.Context, int, int) error) pipelineTarget {
	return pipelineTarget{
		name: name,
		offer: func(ctx context.Context, k0, n int) error {
			r.offered.Add(int64(n))
			return offer(ctx, k0, n)
		},
		lags: r.InvalidationLag, count: r.lagCount, drain: r.drain,
	}
}

// rawDel is the raw baseline: a goroutine that pipelines the DELs of
// everything queued (up to delBatchMax) with go-redis alone, recording the
// time from queueing to the pipeline's reply.
type rawDel struct {
	in   chan rawItem
	quit chan struct{}
	lagRecorder
	pending chan struct{} // one token per queued item, taken when applied
}

type rawItem struct {
	key string
	at  time.Time
}

func rawDelLoop(rdb redis.UniversalClient) *rawDel {
	r := &rawDel{in: make(chan rawItem, 1<<20), quit: make(chan struct{}), pending: make(chan struct{}, 1<<20)}
	go func() {
		ctx := context.Background()
		var batch []rawItem
		for {
			select {
			case <-r.quit:
				return
			case it := <-r.in:
				batch = append(batch[:0], it)
			}
		more:
			for len(batch) < delBatchMax {
				select {
				case it := <-r.in:
					batch = append(batch, it)
				default:
					break more
				}
			}
			p := rdb.Pipeline()
			for _, it := range batch {
				p.Del(ctx, it.key)
			}
			if _, err := p.Exec(ctx); err != nil {
				panic(fmt.Sprintf("raw DEL pipeline: %v", err)) // a benchmark's own servers failing
			}
			now := time.Now()
			r.mu.Lock()
			for _, it := range batch {
				r.add(now.Sub(it.at))
			}
			r.mu.Unlock()
			for range batch {
				<-r.pending
			}
		}
	}()
	return r
}

func (r *rawDel) stop() { close(r.quit) }

func (r *rawDel) target() pipelineTarget {
	keys := make([]string, benchKeys)
	c := &Cache{prefix: "gbpipe:"}
	for k := range keys {
		keys[k] = c.Key(gb.Key(k))
	}
	return pipelineTarget{
		name: "raw-go-redis-pipelined-DEL",
		offer: func(_ context.Context, k0, n int) error {
			now := time.Now()
			for i := 0; i < n; i++ {
				r.pending <- struct{}{}
				r.in <- rawItem{key: keys[(k0+i)%benchKeys], at: now}
			}
			return nil
		},
		lags:  r.InvalidationLag,
		count: r.lagCount,
		drain: func(ctx context.Context) error {
			for len(r.pending) > 0 {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				time.Sleep(time.Millisecond)
			}
			return nil
		},
	}
}
