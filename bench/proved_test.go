package bench

import (
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/report"
)

// TestProvedRaces: the reproduce catalogue fills the proved races of the
// strategies a bench runs, and of no other: each case's anomaly on its own
// strategy (with the parameters it needs), the failed write of an
// availability case, and the interleavings shown handled.
func TestProvedRaces(t *testing.T) {
	got := map[string]report.ProvedRace{}
	for _, p := range ProvedRaces(nil, []string{"cache-aside", "write-through", "version-checked", "go-redis-cache"}) {
		got[p.Strategy+" "+p.Class+" "+p.Source] = p
		if _, err := report.ParseClass(p.Class); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
		if p.Strategy == "async-invalidation" || p.Strategy == "soft-write-through" {
			t.Errorf("%+v: a race of a strategy the bench does not run", p)
		}
	}
	for key, want := range map[string]string{
		"cache-aside stuck-stale reproduce cache-aside-stale-set":         "ghostbench reproduce cache-aside-stale-set",
		"write-through ghost reproduce write-through-lost-reply":          "ghostbench reproduce write-through-lost-reply",
		"write-through writes-failed reproduce soft-write-through-oom":    "ghostbench reproduce soft-write-through-oom -strategy write-through",
		"version-checked clean reproduce cache-aside-stale-set":           "ghostbench reproduce cache-aside-stale-set -strategy version-checked",
		"go-redis-cache stuck-stale reproduce local-fill-vs-invalidation": "ghostbench reproduce local-fill-vs-invalidation -param local=true,local-ttl=1s",
	} {
		p, ok := got[key]
		if !ok {
			t.Errorf("no proved race %q among %v", key, got)
			continue
		}
		if p.Link != want {
			t.Errorf("%s: link %q, want %q", key, p.Link, want)
		}
	}
	if p := got["cache-aside stuck-stale reproduce cache-aside-stale-set"]; p.Params != "" || !strings.Contains(p.Bound, "before-cache-set") {
		t.Errorf("cache-aside's race: params %q (want none: it holds as the bench runs it), bound %q", p.Params, p.Bound)
	}
	if p := got["go-redis-cache stuck-stale reproduce local-fill-vs-invalidation"]; p.Params != "local=true, local-ttl=1s" {
		t.Errorf("go-redis-cache's race needs its local cache: params %q", p.Params)
	}
}

func TestLoadAverage(t *testing.T) {
	var l report.LoadAverage
	for _, v := range []float64{4, 2, 6} {
		l.Add(v)
	}
	if l.Samples != 3 || l.Min != 2 || l.Max != 6 || l.Mean != 4 {
		t.Errorf("got %+v, want 3 samples, min 2, mean 4, max 6", l)
	}
	b := &report.Bench{}
	sampleLoad(b)
	if _, ok := loadAverage(); ok && (b.Load == nil || b.Load.Samples != 1) {
		t.Errorf("sampleLoad: %+v, want one sample where /proc/loadavg exists", b.Load)
	}
}
