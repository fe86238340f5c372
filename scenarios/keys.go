package scenarios

import (
	"math"
	"math/rand/v2"

	gb "github.com/ghostbench/ghostbench"
)

// KeyChooser returns the key of the next operation. It is not safe for
// concurrent use: every worker has its own, made from its own *rand.Rand.
type KeyChooser func() gb.Key

// NewKeyChooser returns a chooser for d over keys keys drawing from rng. The
// same rng state gives the same sequence. d must be valid.
func NewKeyChooser(d Distribution, keys int, rng *rand.Rand) KeyChooser {
	n := uint64(keys)
	switch d.Kind {
	case "zipfian":
		if keys == 1 {
			return func() gb.Key { return 0 }
		}
		z := rand.NewZipf(rng, d.S, 1, n-1)
		return func() gb.Key { return gb.Key(z.Uint64()) }
	case "hotkey":
		hot := uint64(math.Ceil(float64(keys) * d.HotKeys / 100))
		if hot < 1 {
			hot = 1
		}
		if hot > n {
			hot = n
		}
		p := d.HotOps / 100
		return func() gb.Key {
			if hot == n || rng.Float64() < p {
				return gb.Key(rng.Uint64N(hot))
			}
			return gb.Key(hot + rng.Uint64N(n-hot))
		}
	default:
		return func() gb.Key { return gb.Key(rng.Uint64N(n)) }
	}
}

// NewRand returns the random source of one stream (a worker, the open-loop
// generator) of a run with seed: streams are independent and each one is
// reproduced by the same seed and stream number.
func NewRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream*0x9E3779B97F4A7C15+1))
}
