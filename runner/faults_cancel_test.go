package runner_test

import (
	"context"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
)

// TestFaultRunCancelled cancels a run in the middle of its faults: the run
// returns its partial results, and the servers are healed (Redis answers,
// maxmemory is restored, the proxy lets PING through), the proxies gone
// once the setup is closed.
func TestFaultRunCancelled(t *testing.T) {
	srv := servertest.Start(t)
	bg := context.Background()
	direct := srv.RedisClient(docker.DefaultClientConfig())
	defer direct.Close()
	before, err := direct.ConfigGet(bg, "maxmemory*").Result()
	if err != nil {
		t.Fatal(err)
	}
	long := func(fault string, params map[string]string) scenarios.FaultStep {
		return scenarios.FaultStep{At: fdur(0.5), For: fdur(20), Fault: fault, Params: params}
	}
	sc := faultScenario("cancelled",
		long("redis-oom", nil), long("redis-partition", nil), long("pg-commit-fail", nil),
		long("app-barrier", map[string]string{"point": "before-commit", "actor": "writer"}))
	sc.Duration = fdur(30)
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	setup, err := faults.Prepare(ctx, sc, srv, faults.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	// Cancel 300ms after the last fault is in effect.
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	build := func(ctx context.Context, env fault.Env) ([]fault.Step, error) {
		steps, err := setup.BuildFaults(ctx, env)
		for i := range steps {
			steps[i].Fault = &onInject{Fault: steps[i].Fault, after: func() {
				if i == len(steps)-1 {
					time.AfterFunc(300*time.Millisecond, rcancel)
				}
			}}
		}
		return steps, err
	}
	t0 := time.Now()
	res, err := runner.Run(rctx, runner.Config{Scenario: sc, Strategy: "write-through", Servers: setup.Servers(), Faults: scheduleFunc(build)})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	took := time.Since(t0)
	if res.Metrics == nil {
		t.Fatalf("no metrics in the cancelled run (status %s: %s)", res.Status, res.Error)
	}
	t.Logf("cancelled 300ms into the faults, returned after %v: status %s (%s), %d ops measured", took, res.Status, res.Error, res.Metrics.Reads.Total+res.Metrics.Writes.Attempted)
	if res.Status != record.StatusInterrupted {
		t.Errorf("status %q, want interrupted", res.Status)
	}
	if took > 20*time.Second {
		t.Errorf("the cancelled run took %v to return", took)
	}
	for _, w := range res.Faults {
		if w.InjectError != "" || w.HealError != "" {
			t.Errorf("fault %s: inject error %q, heal error %q", w.Fault, w.InjectError, w.HealError)
		}
		if w.Start == 0 || w.End == 0 {
			t.Errorf("%s: window %.3f-%.3f, want opened and closed by the heal on cancel", w.Fault, w.Start, w.End)
		}
	}
	if err := direct.Ping(bg).Err(); err != nil {
		t.Errorf("Redis does not answer after the cancelled run: %v", err)
	}
	after, err := direct.ConfigGet(bg, "maxmemory*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"maxmemory", "maxmemory-policy"} {
		if after[k] != before[k] {
			t.Errorf("%s = %s after the cancelled run, want %s restored", k, after[k], before[k])
		}
	}
	through := setup.Servers().RedisClient(docker.DefaultClientConfig())
	defer through.Close()
	if err := through.Ping(bg).Err(); err != nil {
		t.Errorf("PING through the proxy after the cancelled run: %v (partition not healed)", err)
	}
	proxy := setup.Servers().Redis.Addr
	if err := setup.Close(); err != nil {
		t.Errorf("setup.Close: %v", err)
	}
	if !refuses(proxy) {
		t.Errorf("the Redis proxy at %s still accepts connections after Close", proxy)
	}
}

// scheduleFunc is a fault.Schedule built by a function (here: the setup's
// steps, wrapped).
type scheduleFunc func(ctx context.Context, env fault.Env) ([]fault.Step, error)

func (f scheduleFunc) BuildFaults(ctx context.Context, env fault.Env) ([]fault.Step, error) {
	return f(ctx, env)
}

// onInject calls after once its fault's Inject succeeded.
type onInject struct {
	fault.Fault
	after func()
}

func (f *onInject) Inject(ctx context.Context) error {
	err := f.Fault.Inject(ctx)
	if err == nil {
		f.after()
	}
	return err
}
