//go:build !unix

package check

import "time"

// cpuTime is unknown here: the benchmark then reports wall-clock ops/s only.
func cpuTime() time.Duration { return 0 }

// maxRSS is unknown here.
func maxRSS() int64 { return 0 }
