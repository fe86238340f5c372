package faults

import (
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// holdCloseType is the Toxiproxy toxic type of holdCloseToxic.
const holdCloseType = "ghostbench-hold-close"

func init() { toxics.Register(holdCloseType, new(holdCloseToxic)) }

// holdCloseToxic passes every byte through unchanged, but when the server
// closes its end of a connection it keeps the client's end open and
// silent: the client sees a connection that is up and never answers
// again, the half-open connection a dropped NAT or load-balancer entry or
// a lost FIN leaves behind. The client finds out only by a timeout of its
// own (a command's deadline, a keepalive). Removing the toxic closes the
// connections it held, as the client's next retransmission would find.
//
// On connections the server keeps open it is a no-op, so it can sit on
// every connection through the proxy and act only on those a fault closes
// at the server (CLIENT KILL).
type holdCloseToxic struct{}

// holdCloseState is one link's state: whether the server closed it.
type holdCloseState struct{ closed bool }

// NewState implements toxics.StatefulToxic.
func (*holdCloseToxic) NewState() any { return new(holdCloseState) }

// Pipe implements toxics.Toxic.
func (*holdCloseToxic) Pipe(stub *toxics.ToxicStub) {
	st := stub.State.(*holdCloseState)
	for {
		if st.closed {
			<-stub.Interrupt // held until the toxic is removed or replaced
			return
		}
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				st.closed = true // the server's end is gone: say nothing
				continue
			}
			stub.Output <- c
		}
	}
}

// Cleanup implements toxics.CleanupToxic: a held connection is closed
// now; a live one goes on without the toxic.
func (*holdCloseToxic) Cleanup(stub *toxics.ToxicStub) {
	if st, ok := stub.State.(*holdCloseState); ok && st.closed {
		stub.Close()
	}
}

// holdCloseToxicFor is the toxic a step adds to the Redis proxy's
// downstream (server to client) stream.
func holdCloseToxicFor(step int) Toxic {
	return Toxic{Name: toxicName(step, "hold-close"), Type: holdCloseType, Stream: "downstream", Attributes: struct{}{}}
}
