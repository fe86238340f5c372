package scenarios

import (
	"strings"
	"testing"
)

// TestZipfianSZero: s: 0 is refused like any other s out of range, not run
// as the default 1.1; s left out still means 1.1.
func TestZipfianSZero(t *testing.T) {
	_, err := Parse([]byte("keys: 10\nduration: 2s\nreaders: 1\ndistribution: {kind: zipfian, s: 0}\n"))
	if err == nil || !strings.Contains(err.Error(), "distribution.s = 0: want more than 1") {
		t.Errorf("s: 0: %v, want it refused naming distribution.s", err)
	}
	s, err := Parse([]byte("keys: 10\nduration: 2s\nreaders: 1\ndistribution: {kind: zipfian}\n"))
	if err != nil || s.Distribution.S != 1.1 {
		t.Errorf("s left out: %v, s = %v; want 1.1", err, s)
	}
}

// TestDuplicateKeyOneLine: a key given twice is one line naming it.
func TestDuplicateKeyOneLine(t *testing.T) {
	_, err := Parse([]byte("keys: 10\nkeys: 20\n"))
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), `mapping key "keys" already defined`) {
		t.Errorf("duplicate key: %q, want one line naming the key", err)
	}
}
