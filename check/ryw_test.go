package check

import (
	"errors"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench"
)

// rywStep is one event of a hand-written history for the RYWChecker, fed
// in order (an order can stage a late observation).
type rywStep struct {
	commit bool // Committed(key, tok, ver); else Observe(op)
	key    ghostbench.Key
	tok    ghostbench.Token
	ver    int64
	op     ghostbench.Op
}

func us(n int64) time.Duration { return time.Duration(n) * time.Microsecond }

func commitEv(k ghostbench.Key, tok ghostbench.Token, v int64) rywStep {
	return rywStep{commit: true, key: k, tok: tok, ver: v}
}

func writeEv(inst int, k ghostbench.Key, tok ghostbench.Token, invoke, complete int64, err error) rywStep {
	return rywStep{op: ghostbench.Op{Kind: ghostbench.OpWrite, Key: k, Token: tok, Instance: inst,
		Invoke: us(invoke), Complete: us(complete), Err: err, Measured: true}}
}

func readEv(inst int, k ghostbench.Key, v int64, invoke, complete int64) rywStep {
	return rywStep{op: ghostbench.Op{Kind: ghostbench.OpRead, Key: k, Instance: inst, Value: ghostbench.Value{Version: v},
		Invoke: us(invoke), Complete: us(complete), Measured: true}}
}

func TestRYWChecker(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []rywStep
		want  int64   // violations
		reads int64   // measured successful reads
		ages  []int64 // µs, in order of invoke
	}{
		{
			name: "own old value after the write returned",
			steps: []rywStep{
				commitEv(0, 1, 1), writeEv(0, 0, 1, 0, 100, nil),
				readEv(0, 0, 0, 150, 160), // v0 after own v1 returned at 100
				readEv(0, 0, 1, 200, 210),
			},
			want: 1, reads: 2, ages: []int64{50},
		},
		{
			name: "another instance's old value is stale, not a read-your-writes violation",
			steps: []rywStep{
				commitEv(0, 1, 1), writeEv(0, 0, 1, 0, 100, nil),
				readEv(1, 0, 0, 150, 160),
			},
			want: 0, reads: 1,
		},
		{
			name: "a read that began before the write returned may see the old value",
			steps: []rywStep{
				commitEv(0, 1, 1), readEv(0, 0, 0, 90, 120), writeEv(0, 0, 1, 0, 100, nil),
			},
			want: 0, reads: 1,
		},
		{
			name: "a write that returned an error was not acknowledged",
			steps: []rywStep{
				commitEv(0, 1, 1), writeEv(0, 0, 1, 0, 100, errors.New("timeout after COMMIT")),
				readEv(0, 0, 0, 150, 160),
			},
			want: 0, reads: 1,
		},
		{
			name: "the write observed after the read (its writer was descheduled)",
			steps: []rywStep{
				commitEv(0, 1, 1),
				readEv(0, 0, 0, 150, 160), // deferred: version 1 committed, its op not seen yet
				writeEv(0, 0, 1, 0, 100, nil),
			},
			want: 1, reads: 1, ages: []int64{50},
		},
		{
			name: "age from the earliest own write above the value read",
			steps: []rywStep{
				commitEv(0, 1, 1), writeEv(0, 0, 1, 0, 100, nil),
				commitEv(0, 2, 2), writeEv(0, 0, 2, 100, 300, nil),
				readEv(0, 0, 0, 400, 410), // behind both: from v1's completion
				readEv(0, 0, 1, 500, 510), // behind v2: from v2's
			},
			want: 2, reads: 2, ages: []int64{300, 200},
		},
		{
			name: "another key's write is no evidence",
			steps: []rywStep{
				commitEv(1, 1, 1), writeEv(0, 1, 1, 0, 100, nil),
				readEv(0, 0, 0, 150, 160),
			},
			want: 0, reads: 1,
		},
		{
			name: "deferred read settled clean at the end when the write is never observed",
			steps: []rywStep{
				commitEv(0, 1, 1), readEv(0, 0, 0, 150, 160),
			},
			want: 0, reads: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewRYWChecker()
			for _, s := range tc.steps {
				if s.commit {
					c.Committed(s.key, s.tok, s.ver, 0, 0)
					continue
				}
				op := s.op
				c.Observe(&op)
			}
			got := c.Result()
			if got.Violations != tc.want || got.Reads != tc.reads {
				t.Fatalf("violations %d of %d reads, want %d of %d (examples %+v)", got.Violations, got.Reads, tc.want, tc.reads, got.Examples)
			}
			if want := float64(tc.want) / float64(tc.reads) * 1e6; got.PerMillion != want {
				t.Errorf("per million = %v, want %v", got.PerMillion, want)
			}
			if len(got.Examples) != len(tc.ages) {
				t.Fatalf("examples %+v, want ages %v", got.Examples, tc.ages)
			}
			for i, e := range got.Examples {
				if e.AgeNs != tc.ages[i]*1000 {
					t.Errorf("example %d age = %dns, want %dµs", i, e.AgeNs, tc.ages[i])
				}
			}
			if tc.want > 0 && (got.Age == nil || got.Age.Count != tc.want) {
				t.Errorf("age histogram %+v, want %d values", got.Age, tc.want)
			}
		})
	}
}
