package explore

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
)

// goid returns the id of the calling goroutine, from the first line of
// its stack ("goroutine 123 [running]:").
func goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	f := bytes.Fields(buf[:n])
	if len(f) < 2 {
		return 0
	}
	id, _ := strconv.ParseInt(string(f[1]), 10, 64)
	return id
}

// inProcessWait are the goroutine states of a goroutine that waits for
// another one inside the process: a mutex, a WaitGroup (singleflight), a
// condition variable, a semaphore. Channel waits are not among them: a
// client library waits for a server's reply on a channel.
var inProcessWait = []string{"semacquire", "sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock", "sync.WaitGroup.Wait", "sync.Cond.Wait"}

// rueidisWait is in the stack of a goroutine waiting for a rueidis reply.
const rueidisWait = "github.com/redis/rueidis.(*pipe)"

// waitingGoroutines returns which of ids are waiting for another goroutine
// of the process (see inProcessWait), as the Go runtime reports their
// state: what an actor blocked on a lock in the strategy (a singleflight
// fill another actor runs) looks like.
func waitingGoroutines(ids map[int64]bool) map[int64]bool {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out
	}
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for _, block := range strings.Split(string(buf), "\n\n") {
		line, _, _ := strings.Cut(block, "\n")
		// goroutine 123 [sync.WaitGroup.Wait, 2 minutes]:
		rest, ok := strings.CutPrefix(line, "goroutine ")
		if !ok {
			continue
		}
		idText, state, ok := strings.Cut(rest, " [")
		if !ok {
			continue
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || !ids[id] {
			continue
		}
		for _, w := range inProcessWait {
			if strings.HasPrefix(state, w) {
				out[id] = true
				break
			}
		}
		// rueidis multiplexes every command on one connection whose
		// reader goroutine delivers the replies: while that goroutine is
		// held at before-invalidate, a command waits for it on a channel.
		if (strings.HasPrefix(state, "select") || strings.HasPrefix(state, "chan receive")) && strings.Contains(block, rueidisWait) {
			out[id] = true
		}
	}
	return out
}
