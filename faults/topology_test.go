package faults_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// topologyRun runs strategy with params through the built-in scenario
// name on srv, shortened to d with its fault at 1/5 of the run for 2/5
// (to the end of the run when toEnd).
func topologyRun(t *testing.T, srv *docker.Servers, name, strategy string, params strategies.Params, d time.Duration, toEnd ...bool) *record.Run {
	t.Helper()
	sc, ok := scenarios.Builtin(name)
	if !ok {
		t.Fatalf("no built-in scenario %s", name)
	}
	sc.Duration, sc.Warmup = scenarios.Duration(d), scenarios.Duration(d/10)
	for i := range sc.Faults {
		sc.Faults[i].At, sc.Faults[i].For = scenarios.Duration(d/5), scenarios.Duration(2*d/5)
		if len(toEnd) > 0 && toEnd[0] {
			sc.Faults[i].For = scenarios.Duration(4 * d / 5)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setup, err := faults.Prepare(ctx, sc, srv, faults.Options{})
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	defer setup.Close()
	res, err := runner.Run(ctx, runner.Config{Scenario: sc, Strategy: strategy, Params: params,
		Servers: setup.Servers(), Faults: setup})
	if err != nil {
		t.Fatalf("run %s %s: %v", strategy, params, err)
	}
	if res.Status != record.StatusOK {
		t.Fatalf("run %s %s: status %s: %s", strategy, params, res.Status, res.Error)
	}
	if res.Env.Topology != srv.TopologyName() {
		t.Errorf("run.json topology %q, want %q", res.Env.Topology, srv.TopologyName())
	}
	for _, w := range res.Faults {
		if w.InjectError != "" || w.HealError != "" {
			t.Fatalf("fault %s: inject error %q, heal error %q", w.Fault, w.InjectError, w.HealError)
		}
		for _, e := range w.Events {
			t.Logf("  %s at %.3fs: %s", w.Fault, e.At, e.What)
		}
	}
	m := res.Metrics
	t.Logf("%s %s on %s: %d reads (%d errors %v), %d writes (availability %v, failed %v), %d warnings, audit: %d stale until TTL, %d ghost until TTL",
		strategy, params, name, m.Reads.Total, m.Reads.Total-m.Reads.OK, m.Reads.Errors, m.Writes.Attempted,
		deref(m.Writes.Availability), m.Writes.Failed, m.Warnings, m.Audit.StaleUntilTTL, m.Audit.GhostUntilTTL)
	return res
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// eventsMention reports whether some event of the run's faults contains s.
func eventsMention(res *record.Run, s string) bool {
	for _, w := range res.Faults {
		for _, e := range w.Events {
			if strings.Contains(e.What, s) {
				return true
			}
		}
	}
	return false
}

// TestReplicaLag: cache-aside filling from a replica whose replication
// lags 100ms caches rows older than the DEL, which stay until their TTL;
// filling from the primary under the same fault does not. The lag lasts
// to the end of the load, so that a key's last write is under it too (a
// later write would repair an earlier stale fill).
func TestReplicaLag(t *testing.T) {
	srv := servertest.StartTopology(t, docker.TopologyPGReplica)
	replica := topologyRun(t, srv, "replica-lag", "cache-aside", strategies.Params{"fill-from": "replica"}, 5*time.Second, true)
	primary := topologyRun(t, srv, "replica-lag", "cache-aside", strategies.Params{"fill-from": "primary"}, 5*time.Second, true)
	if got := replica.Metrics.Audit.StaleUntilTTL; got == 0 {
		t.Errorf("fill-from=replica under pg-replica-lag: 0 keys stale until TTL, want some")
	}
	// Filling from the primary leaves only cache-aside's own stale-set
	// race, which under load can strand a key or two; filling from the
	// lagging replica strands far more.
	if r, p := replica.Metrics.Audit.StaleUntilTTL, primary.Metrics.Audit.StaleUntilTTL; p > 2 || r < 5*p+5 {
		t.Errorf("fill-from=primary under pg-replica-lag: %d keys stale until TTL (replica: %d), want at most cache-aside's own race (<= 2) and far fewer than from the replica", p, r)
	}
}

// TestRedisFailover: a Sentinel failover with the replica's link delayed
// loses acknowledged DELs, so cache-aside leaves keys stale until TTL;
// the fault records the election and the clients following.
func TestRedisFailover(t *testing.T) {
	srv := servertest.StartTopology(t, docker.TopologyRedisReplica)
	plain := topologyRun(t, srv, "redis-failover", "cache-aside", nil, 8*time.Second)
	if got := plain.Metrics.Audit.StaleUntilTTL; got == 0 {
		t.Errorf("cache-aside through redis-failover: 0 keys stale until TTL, want some (DELs lost with the old primary)")
	}
	for _, s := range []string{"killed", "elected", "clients followed", "back as a replica"} {
		if !eventsMention(plain, s) {
			t.Errorf("no fault event mentions %q", s)
		}
	}
	// The same with WAIT 1: the figure is measured and logged beside the
	// one above (a DEL whose WAIT returned is on the replica; one in
	// flight when the primary dies is lost all the same).
	waited := topologyRun(t, srv, "redis-failover", "cache-aside", strategies.Params{"wait": "1", "wait-timeout": "500ms"}, 8*time.Second)
	t.Logf("stale until TTL: %d without WAIT, %d with wait=1", plain.Metrics.Audit.StaleUntilTTL, waited.Metrics.Audit.StaleUntilTTL)
}

// TestClusterFaults: a master failover and a slot migration of the hot
// key on a Redis Cluster. During the migration the client follows ASK and
// MOVED, which must not surface as errors.
func TestClusterFaults(t *testing.T) {
	srv := servertest.StartTopology(t, docker.TopologyRedisCluster)
	fo := topologyRun(t, srv, "cluster-failover", "cache-aside", nil, 6*time.Second)
	for _, s := range []string{"killed", "promoted", "clients followed", "back as a replica"} {
		if !eventsMention(fo, s) {
			t.Errorf("cluster-failover: no fault event mentions %q", s)
		}
	}
	mig := topologyRun(t, srv, "slot-migration", "cache-aside", nil, 6*time.Second)
	if !eventsMention(mig, "clients get ASK") || !eventsMention(mig, "now owned by") {
		t.Errorf("slot-migration: events %+v, want the migration and the reassignment", mig.Faults)
	}
	m := mig.Metrics
	if n := m.Reads.Total - m.Reads.OK; n != 0 || m.Warnings != 0 {
		t.Errorf("slot-migration: %d read errors %v and %d warnings, want none (ASK and MOVED are followed by the client)", n, m.Reads.Errors, m.Warnings)
	}
	if a := deref(m.Writes.Availability); a != 1 {
		t.Errorf("slot-migration: write availability %v, want 1", a)
	}
}

// TestRedisFailoverTwice: two redis-failover windows in one run. After
// the first, Sentinel points the old primary straight at the new one;
// the fault routes that link through the relay again, so the second
// failover loses what the primary acknowledged during its link delay just
// as the first does: a key SET on the primary after the delay began is
// absent once the replica is promoted, each time.
func TestRedisFailoverTwice(t *testing.T) {
	srv := servertest.StartTopology(t, docker.TopologyRedisReplica)
	link := srv.Topology.RedisLink
	r := newRig(t, srv, "cache-aside", step("redis-failover", map[string]string{"link-delay": "500ms"}))
	sentinel := redis.NewSentinelClient(&redis.Options{Addr: srv.Topology.Sentinels[0].Addr, Protocol: 2, MaxRetries: -1, DisableIdentity: true})
	defer sentinel.Close()
	primary := func() string {
		a, err := sentinel.GetMasterAddrByName(tctx(t), srv.Topology.SentinelMaster).Result()
		if err != nil || len(a) != 2 {
			t.Fatalf("ask Sentinel for the primary: %v %v", a, err)
		}
		return net.JoinHostPort(a[0], a[1])
	}
	var primaries []string
	for round := 1; round <= 2; round++ {
		old := primary()
		direct := redis.NewClient(&redis.Options{Addr: old, Protocol: 2, MaxRetries: -1, DisableIdentity: true})
		// The replica is in sync (not in a full resync, which would hold
		// back the key whatever the link does).
		deadline := time.Now().Add(20 * time.Second)
		for {
			info, err := direct.Info(tctx(t), "replication").Result()
			if err == nil && strings.Contains(info, "state=online") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the primary's replica is not online after 20s: %q %v", round, info, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		injected := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			injected <- r.fault.Inject(ctx)
		}()
		for link.Delay() == 0 {
			time.Sleep(time.Millisecond)
		}
		// INCR on the primary every few ms from the start of the link
		// delay until the primary is gone: each reply is an
		// acknowledged write.
		key := fmt.Sprintf("relay-test:round-%d", round)
		var acked int64
		for {
			c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			n, err := direct.Incr(c, key).Result()
			cancel()
			if err != nil {
				break
			}
			acked = n
			time.Sleep(2 * time.Millisecond)
		}
		if acked == 0 {
			t.Fatalf("round %d: no write acknowledged by the primary %s during the link delay (unknown: the primary went first)", round, old)
		}
		direct.Close()
		if err := <-injected; err != nil {
			t.Fatalf("round %d: Inject: %v", round, err)
		}
		r.heal()
		now := primary()
		if now == old {
			t.Fatalf("round %d: primary still %s after the failover", round, now)
		}
		primaries = append(primaries, now)
		kept, err := r.direct.Get(tctx(t), key).Int64()
		if err != nil && err != redis.Nil {
			t.Fatalf("round %d: GET %s on the new primary: %v", round, key, err)
		}
		// What the primary acknowledged in the last link-delay (500ms,
		// some 100 INCRs) never reached the replica; the first few after
		// the delay began may, when the relay's timer beats the fault's
		// cut.
		t.Logf("round %d: %d INCRs acknowledged by %s, %d kept by the promoted %s", round, acked, old, kept, now)
		if acked-kept < 10 {
			t.Errorf("round %d: %d of %d acknowledged INCRs kept after the failover, want at least 10 lost (the link was delayed 500ms)", round, kept, acked)
		}
		if up := link.Upstream(); up != now {
			t.Errorf("round %d: relay forwards to %s, want the new primary %s", round, up, now)
		}
		_, relayPort, _ := net.SplitHostPort(link.Addr())
		rep := redis.NewClient(&redis.Options{Addr: old, Protocol: 2, MaxRetries: -1, DisableIdentity: true})
		info, err := rep.Info(tctx(t), "replication").Result()
		rep.Close()
		if err != nil || !strings.Contains(info, "master_port:"+relayPort+"\r") {
			t.Errorf("round %d: old primary %s replicates %q (%v), want through the relay's port %s", round, old, info, err, relayPort)
		}
	}
	// The relink outlives Sentinel's reconfiguration window: each
	// Sentinel sends +fix-slave-config (REPLICAOF the primary's own
	// address) to a replica that it has seen replicating from elsewhere
	// for failover-timeout, at its next INFO of it (every 10 s). With a
	// failover-timeout of 3 s it did, and undid the relink.
	old := primaries[0]
	_, relayPort, _ := net.SplitHostPort(link.Addr())
	var addrs []string
	for _, s := range srv.Topology.Sentinels {
		addrs = append(addrs, s.Addr)
	}
	sentinelsKeepRelay(t, addrs, srv.Topology.SentinelMaster, old, relayPort)
	rep := redis.NewClient(&redis.Options{Addr: old, Protocol: 2, MaxRetries: -1, DisableIdentity: true})
	info, err := rep.Info(tctx(t), "replication").Result()
	rep.Close()
	if err != nil || !strings.Contains(info, "master_port:"+relayPort+"\r") {
		t.Errorf("after the Sentinels' reconfiguration window: %s replicates %q (%v), want through the relay's port %s", old, info, err, relayPort)
	}
	if primaries[0] == primaries[1] {
		t.Errorf("both failovers elected %s, want the primary to move each time", primaries[0])
	}
	if ev, ok := r.fault.(interface{ Events() []record.FaultEvent }); ok {
		var events []string
		for _, e := range ev.Events() {
			events = append(events, e.What)
		}
		t.Logf("events of the last window: %q", events)
	}
}

// sentinelsKeepRelay returns once every Sentinel at addrs has listed the
// replica as replicating from relayPort and has since refreshed its INFO
// more than docker.SentinelFailoverTimeout after that: with that
// failover-timeout it would have sent +fix-slave-config then.
func sentinelsKeepRelay(t *testing.T, addrs []string, master, replica, relayPort string) {
	t.Helper()
	seen := make([]time.Time, len(addrs))
	last := make([]map[string]string, len(addrs))
	done := make([]bool, len(addrs))
	left := len(addrs)
	deadline := time.Now().Add(40 * time.Second)
	for left > 0 && time.Now().Before(deadline) {
		for i, addr := range addrs {
			if done[i] {
				continue
			}
			c := redis.NewSentinelClient(&redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1, DisableIdentity: true})
			reps, err := c.Replicas(tctx(t), master).Result()
			c.Close()
			if err != nil {
				t.Fatalf("SENTINEL REPLICAS on %s: %v", addr, err)
			}
			for _, r := range reps {
				if net.JoinHostPort(r["ip"], r["port"]) != replica {
					continue
				}
				last[i] = r
				if r["master-port"] != relayPort {
					if !seen[i].IsZero() {
						t.Fatalf("Sentinel %s sees %s replicate from port %s again, want the relay's %s", addr, replica, r["master-port"], relayPort)
					}
					continue
				}
				now := time.Now()
				if seen[i].IsZero() {
					seen[i] = now
				}
				ago, _ := strconv.Atoi(r["info-refresh"])
				refreshed := now.Add(-time.Duration(ago) * time.Millisecond)
				if refreshed.After(seen[i].Add(docker.SentinelFailoverTimeout*time.Millisecond + 500*time.Millisecond)) {
					t.Logf("Sentinel %s: INFO of %s through the relay %v after it first listed it so", addr, replica, refreshed.Sub(seen[i]).Round(time.Millisecond))
					done[i] = true
					left--
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if left > 0 {
		t.Fatalf("within 40s, %d of %d Sentinels had no INFO of %s through the relay's port %s more than %d ms after they first listed it so (listed since: %v; last seen: %v)",
			left, len(addrs), replica, relayPort, docker.SentinelFailoverTimeout+500, seen, last)
	}
}

// TestPGFailover: the PostgreSQL primary dies and its standby is
// promoted. cache-aside and version-checked write through it, failing
// writes only while it happens; cdc-invalidation's consumer follows to
// the new primary, finds its slot gone, says so, and the changes of the
// gap stay stale until their TTL. Each strategy gets servers of its own
// (a failover leaves no standby).
func TestPGFailover(t *testing.T) {
	for _, strategy := range []string{"cache-aside", "version-checked", "cdc-invalidation"} {
		t.Run(strategy, func(t *testing.T) {
			srv := servertest.StartTopology(t, docker.TopologyPGReplica)
			var params strategies.Params
			if strategy == "cdc-invalidation" {
				// A consumer some way behind at the failover, as one
				// under load is: the gap its lost slot leaves is then
				// its backlog, not only the last instants.
				params = strategies.Params{"max-dels-per-sec": "50"}
			}
			res := topologyRun(t, srv, "pg-failover", strategy, params, 6*time.Second)
			for _, s := range []string{"primary killed", "standby promoted", "points at the new primary"} {
				if !eventsMention(res, s) {
					t.Errorf("no fault event mentions %q", s)
				}
			}
			m := res.Metrics
			a := deref(m.Writes.Availability)
			if a <= 0 || a >= 1 {
				t.Errorf("write availability %v, want some writes failed during the failover and most committed", a)
			}
			w := res.Faults[0]
			s := m.Series
			late := 0
			for i, n := range s.WriteErrors {
				from := float64(int64(i)*s.BucketUs) / 1e6
				to := from + float64(s.BucketUs)/1e6
				if n > 0 && (to <= w.ScheduledStart || from >= w.End+0.5) {
					late += int(n)
					t.Errorf("%d writes failed in [%.1fs, %.1fs), outside the failover [%.2fs, %.2fs]", n, from, to, w.ScheduledStart, w.End)
				}
			}
			t.Logf("availability %.4f, failed writes %v, notices %q", a, m.Writes.Failed, res.Notices)
			if strategy != "cdc-invalidation" {
				return
			}
			if m.Audit.StaleUntilTTL == 0 {
				t.Errorf("cdc-invalidation through pg-failover: 0 keys stale until TTL, want the changes of the lost slot's gap")
			}
			if len(res.Notices) == 0 || !strings.Contains(res.Notices[0], "replication slot gbcdc_") || !strings.Contains(res.Notices[0], "gone") {
				t.Errorf("cdc-invalidation: notices %q, want one naming the lost slot", res.Notices)
			}
		})
	}
}
