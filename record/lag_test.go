package record

import (
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/check"
)

func stage(name, did, after string, p99 int64) LagStage {
	return LagStage{Name: name, Did: did, After: after, Histogram: &check.Histogram{Unit: check.UnitMicros, Count: 10, P50: p99 / 2, P99: p99}}
}

func TestLagWarningNamesTheDominantStage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stages []LagStage
		want   string
	}{
		{"postgres", []LagStage{
			stage("commit-to-sent", "PostgreSQL's walsender sent the change", "COMMIT", 410_000),
			stage("sent-to-received", "the consumer read it off the socket", "it was sent", 200),
			stage("received-to-applied", "the consumer applied it", "receipt", 3_000),
		}, "; by stage (p99), dominated by commit-to-sent: PostgreSQL's walsender sent the change 410ms after COMMIT; the consumer read it off the socket 200µs after it was sent; the consumer applied it 3ms after receipt"},
		{"consumer", []LagStage{
			stage("commit-to-received", "PostgreSQL delivered the notification", "COMMIT", 2_000),
			stage("received-to-applied", "the listener applied it", "receipt", 900_000),
		}, "dominated by received-to-applied: PostgreSQL delivered the notification 2ms after COMMIT; the listener applied it 900ms after receipt"},
		{"no stages", nil, "configured 0s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Run{InvalidationLag: &check.Histogram{Count: 10, P99: 950_000}, InvalidationLagStages: tc.stages}
			got := r.LagWarning()
			if !strings.HasPrefix(got, LagBehindWarning) || !strings.HasSuffix(got, tc.want) {
				t.Errorf("got  %q\nwant it to end with %q", got, tc.want)
			}
		})
	}
	r := &Run{InvalidationLag: &check.Histogram{Count: 10, P99: 10_000}, InvalidationLagStages: []LagStage{stage("a-to-b", "b", "a", 10_000)}}
	if w := r.LagWarning(); w != "" {
		t.Errorf("a pipeline that kept up warns: %q", w)
	}
}
