package faults

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/wait"
	"github.com/ghostbench/ghostbench/record"
)

// checkTopology returns why kind k with needs cannot run on t, or "".
func checkTopology(k Kind, needs Needs, t Target) string {
	topo := t.Topology
	if topo == "" {
		topo = docker.TopologySingle
	}
	switch {
	case k.Topology != "" && k.Topology != topo:
		return fmt.Sprintf("%s needs topology %s, the servers are %s: set topology: %s in the scenario or pass -topology %s",
			k.Name, k.Topology, topo, k.Topology, k.Topology)
	case needs&NeedsRedisProxy != 0 && (topo == docker.TopologyRedisReplica || topo == docker.TopologyRedisCluster):
		return fmt.Sprintf("%s works on a proxy in front of one Redis server, and topology %s has several (clients learn their addresses from Sentinel or the cluster)",
			k.Name, topo)
	}
	return ""
}

// eventLog records what a topology fault saw happen (a new primary
// elected, clients following it) as offsets on the run's clock; the
// runner copies them into the fault's window.
type eventLog struct {
	mu     sync.Mutex
	events []record.FaultEvent
	since  func() time.Duration
}

func (l *eventLog) add(format string, args ...any) {
	at := l.since()
	l.mu.Lock()
	l.events = append(l.events, record.FaultEvent{At: at.Seconds(), What: fmt.Sprintf(format, args...)})
	l.mu.Unlock()
}

// Events implements the optional interface the runner looks for.
func (l *eventLog) Events() []record.FaultEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]record.FaultEvent(nil), l.events...)
}

func (l *eventLog) reset() {
	l.mu.Lock()
	l.events = nil
	l.mu.Unlock()
}

// newEventLog stamps events with env's run clock (or time since now when
// the run has none).
func newEventLog(env Env) *eventLog {
	if env.Clock != nil {
		return &eventLog{since: env.Clock.Now}
	}
	t0 := time.Now()
	return &eventLog{since: func() time.Duration { return time.Since(t0) }}
}

// pollUntil calls f every 5ms until it returns true or an error, ctx ends
// or d passes; what says what was awaited, for the error.
func pollUntil(ctx context.Context, d time.Duration, what string, f func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var last error
	for {
		ok, err := f(ctx)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if !wait.Sleep(ctx, 5*time.Millisecond) {
			if last != nil {
				return fmt.Errorf("%s: not within %v (last error: %v)", what, d, last)
			}
			return fmt.Errorf("%s: not within %v", what, d)
		}
	}
}
