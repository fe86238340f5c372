package runner

import (
	"container/heap"
	"context"
	"sync"
	"time"

	gb "github.com/ghostbench/ghostbench"
)

// prober is the convergence prober (DESIGN.md section 4, in the style of Meta's
// Polaris): it samples committed writes, at most perSecond of them per
// second of the run, and reads the raw cache entry of each at fixed offsets
// after its commit-ack. An entry is consistent when absent or holding a
// version at least the write's. This measures convergence independently of
// the read rate.
type prober struct {
	r         *run
	offsets   []time.Duration
	perSecond int
	on        bool // false: no cache to probe

	mu      sync.Mutex
	pending probeHeap
	wake    chan struct{}
	quit    chan struct{}
	once    sync.Once
	second  int64 // the second of the run the count below is for
	inSec   int
}

type probe struct {
	due     time.Duration
	key     gb.Key
	version int64
	idx     int
}

type probeHeap []probe

func (h probeHeap) Len() int           { return len(h) }
func (h probeHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h probeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *probeHeap) Push(x any)        { *h = append(*h, x.(probe)) }
func (h *probeHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	*h = old[:len(old)-1]
	return p
}

func newProber(r *run, offsets []time.Duration, perSecond int) *prober {
	return &prober{r: r, offsets: offsets, perSecond: perSecond, wake: make(chan struct{}, 1), quit: make(chan struct{})}
}

// wrap returns a Recorder that forwards to rec and samples commits.
func (p *prober) wrap(rec gb.Recorder) gb.Recorder { return &probingRecorder{Recorder: rec, p: p} }

type probingRecorder struct {
	gb.Recorder
	p *prober
}

func (pr *probingRecorder) Committed(key gb.Key, token gb.Token, version int64, sent, ack time.Duration) {
	pr.Recorder.Committed(key, token, version, sent, ack)
	pr.p.sample(key, version, ack)
}

func (p *prober) sample(key gb.Key, version int64, ack time.Duration) {
	if !p.on || len(p.offsets) == 0 || p.perSecond <= 0 {
		return
	}
	if ack < p.r.warmupEnd || ack >= p.r.end {
		return
	}
	p.mu.Lock()
	sec := int64(ack / time.Second)
	if sec != p.second {
		p.second, p.inSec = sec, 0
	}
	if p.inSec >= p.perSecond {
		p.mu.Unlock()
		return
	}
	p.inSec++
	for i, o := range p.offsets {
		heap.Push(&p.pending, probe{due: ack + o, key: key, version: version, idx: i})
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// start runs the probing loop until stop; the returned channel closes when
// it has returned. Probes due after stop are not made: they are not
// counted (a probe not made is not a consistent probe).
func (p *prober) start(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		pctx := context.WithoutCancel(ctx)
		for {
			p.mu.Lock()
			var next *probe
			if len(p.pending) > 0 {
				n := p.pending[0]
				next = &n
			}
			p.mu.Unlock()
			var wait <-chan time.Time
			var t *time.Timer
			if next != nil {
				d := next.due - p.r.clock.Now()
				if d <= 0 {
					p.mu.Lock()
					heap.Pop(&p.pending)
					p.mu.Unlock()
					p.peek(pctx, *next)
					continue
				}
				t = time.NewTimer(d)
				wait = t.C
			}
			select {
			case <-p.quit:
				if t != nil {
					t.Stop()
				}
				return
			case <-p.wake:
			case <-wait:
			}
			if t != nil {
				t.Stop()
			}
		}
	}()
	return done
}

func (p *prober) peek(ctx context.Context, pr probe) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	ok, err := p.r.fleet.consistent(ctx, pr.key, pr.version)
	if err != nil {
		return // unknown, not counted either way
	}
	p.r.checker.Probe(pr.idx, ok)
}

func (p *prober) stop() { p.once.Do(func() { close(p.quit) }) }
