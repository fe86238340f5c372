package wire

import (
	"io"
	"sync"
)

// outbox writes to a client from a goroutine of its own, so that whoever
// has bytes for the client never blocks on a client that is not reading
// (a client writing a long pipeline before it reads its replies). The
// proxy then buffers replies in memory as the server itself would.
type outbox struct {
	w io.Writer

	mu      sync.Mutex
	wake    *sync.Cond
	pending []byte
	closed  bool
	err     error
	done    chan struct{}
}

// newOutbox starts the writer goroutine for w; onError runs once when a
// write fails.
func newOutbox(w io.Writer, onError func()) *outbox {
	o := &outbox{w: w, done: make(chan struct{})}
	o.wake = sync.NewCond(&o.mu)
	go o.run(onError)
	return o
}

// write queues a copy of b. It never blocks on the client and reports
// the error of an earlier write, if any.
func (o *outbox) write(b []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil || o.closed {
		return o.err
	}
	if len(o.pending) == 0 {
		o.wake.Signal()
	}
	o.pending = append(o.pending, b...)
	return nil
}

// close makes the goroutine end after writing what is queued, and waits
// for it.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.wake.Signal()
	o.mu.Unlock()
	<-o.done
}

func (o *outbox) run(onError func()) {
	defer close(o.done)
	var spare []byte
	for {
		o.mu.Lock()
		for len(o.pending) == 0 && !o.closed {
			o.wake.Wait()
		}
		if len(o.pending) == 0 {
			o.mu.Unlock()
			return
		}
		out := o.pending
		o.pending = spare[:0]
		o.mu.Unlock()
		if _, err := o.w.Write(out); err != nil {
			o.mu.Lock()
			o.err = err
			o.pending = nil
			o.mu.Unlock()
			onError()
			return
		}
		spare = out
	}
}
