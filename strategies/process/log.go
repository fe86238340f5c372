package process

import (
	"fmt"
	"os"
	"sync"
)

// DefaultMaxLog bounds the stderr log one strategy writes (all the
// starts of its process in one run): the first half and the last half are
// kept, what lies between is left out and the log says how much.
const DefaultMaxLog = 2 << 20

// capLog writes a process's stderr to a file, up to max bytes: the first
// max/2 go straight to the file, the last max/2 are held in memory and
// written at Close, after a line saying how many bytes were left out.
type capLog struct {
	mu      sync.Mutex
	f       *os.File
	headMax int64
	head    int64  // bytes written to the file so far
	tailMax int    // bytes of the tail kept
	tail    []byte // the last bytes after the head
	dropped int64  // bytes left out between head and tail
	werr    error
}

func newCapLog(f *os.File, max int64) *capLog {
	return &capLog{f: f, headMax: max / 2, tailMax: int(max - max/2)}
}

// Write implements io.Writer; it never fails (a full disk loses the log,
// not the run): the error is reported by Close.
func (l *capLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	if room := l.headMax - l.head; room > 0 {
		k := min(int64(len(p)), room)
		if _, err := l.f.Write(p[:k]); err != nil && l.werr == nil {
			l.werr = err
		}
		l.head += k
		p = p[k:]
	}
	if len(p) == 0 {
		return n, nil
	}
	l.tail = append(l.tail, p...)
	if over := len(l.tail) - l.tailMax; over > 0 {
		l.dropped += int64(over)
		l.tail = append(l.tail[:0], l.tail[over:]...)
	}
	return n, nil
}

// Truncated returns how many bytes were left out so far.
func (l *capLog) Truncated() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Close writes the kept tail (after the line saying what was left out)
// and closes the file.
func (l *capLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dropped > 0 {
		fmt.Fprintf(l.f, "\n[ghostbench: %d bytes of the process's stderr left out here; the log keeps the first %d and the last %d bytes]\n",
			l.dropped, l.headMax, l.tailMax)
	}
	if len(l.tail) > 0 {
		if _, err := l.f.Write(l.tail); err != nil && l.werr == nil {
			l.werr = err
		}
	}
	l.tail = nil
	cerr := l.f.Close()
	if l.werr != nil {
		return l.werr
	}
	return cerr
}
