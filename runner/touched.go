package runner

import (
	"math/bits"
	"sync/atomic"

	gb "github.com/ghostbench/ghostbench"
)

// touchedKeys is the set of keys the run's operations named, one bit a
// key (1.25 MB for 10 million keys), set concurrently by the workers. The
// end-of-run audit walks it instead of the whole key space: a run starts
// from an empty key prefix, so a key no operation touched has no cache
// entry to audit.
type touchedKeys struct{ words []atomic.Uint64 }

func newTouchedKeys(keys int) *touchedKeys {
	return &touchedKeys{words: make([]atomic.Uint64, (keys+63)/64)}
}

// add marks k; keys outside the key space are ignored (the checker counts
// them as harness errors).
func (t *touchedKeys) add(k gb.Key) {
	w := int(k >> 6)
	if k < 0 || w >= len(t.words) {
		return
	}
	bit := uint64(1) << (uint64(k) & 63)
	if t.words[w].Load()&bit == 0 {
		t.words[w].Or(bit)
	}
}

// keys returns the marked keys in increasing order.
func (t *touchedKeys) keys() []gb.Key {
	n := 0
	for i := range t.words {
		n += bits.OnesCount64(t.words[i].Load())
	}
	out := make([]gb.Key, 0, n)
	for i := range t.words {
		for w := t.words[i].Load(); w != 0; w &= w - 1 {
			out = append(out, gb.Key(i*64+bits.TrailingZeros64(w)))
		}
	}
	return out
}
