package docker

import (
	"reflect"
	"testing"
)

func TestStableRanges(t *testing.T) {
	tests := []struct {
		lo, hi int
		want   [][2]int
	}{
		{32768, 60999, [][2]int{{10000, 32767}, {61000, 65535}}}, // Linux default
		{49152, 65535, [][2]int{{10000, 49151}}},                 // IANA, macOS
		{1024, 65000, [][2]int{{65001, 65535}}},
		{1024, 65535, nil}, // nothing left: the callers fall back to :0
		{5000, 9000, [][2]int{{10000, 65535}}},
	}
	for _, tt := range tests {
		if got := stableRanges(tt.lo, tt.hi); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("stableRanges(%d, %d) = %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}

// TestStablePorts checks the ports handed out against the range this
// kernel uses for outgoing connections.
func TestStablePorts(t *testing.T) {
	lo, hi := ephemeralRange()
	if len(stableRanges(lo, hi)) == 0 {
		t.Skipf("the ephemeral range %d-%d leaves no other port", lo, hi)
	}
	ports, err := stablePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p >= lo && p <= hi {
			t.Errorf("port %d is in the ephemeral range %d-%d", p, lo, hi)
		}
		if p < 1024 || seen[p] {
			t.Errorf("port %d privileged or handed out twice in %v", p, ports)
		}
		seen[p] = true
	}
}
