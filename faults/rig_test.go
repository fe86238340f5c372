package faults_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/fault"
	"github.com/ghostbench/ghostbench/faults"
	"github.com/ghostbench/ghostbench/record"
	"github.com/ghostbench/ghostbench/runner"
	"github.com/ghostbench/ghostbench/scenarios"
	"github.com/ghostbench/ghostbench/strategies"
)

// rig is one fault prepared against real servers, with a scripted runner
// session whose clients (FaultEnv) connect the way a run's do.
type rig struct {
	t      *testing.T
	srv    *docker.Servers
	setup  *faults.Setup
	sess   *runner.Session
	env    fault.Env
	fault  fault.Fault
	direct redis.UniversalClient // straight to the real Redis
}

// redisTimeout is the client timeout of the rigs' sessions.
const redisTimeout = 500 * time.Millisecond

// newRig prepares the single fault fs on srv with a session of strategy.
func newRig(t *testing.T, srv *docker.Servers, strategy string, fs scenarios.FaultStep) *rig {
	t.Helper()
	return newRigWith(t, srv, strategy, nil, fs, nil)
}

// newRigWith is newRig with strategy parameters and a change to the
// scenario (instances, timeouts) made before its defaults are applied.
func newRigWith(t *testing.T, srv *docker.Servers, strategy string, params strategies.Params, fs scenarios.FaultStep, tweak func(*scenarios.Scenario)) *rig {
	t.Helper()
	sc := &scenarios.Scenario{Name: "faults-test", Keys: 4, Readers: 1, Duration: sec(60), TTL: sec(60), Seed: 7,
		Faults: []scenarios.FaultStep{fs}}
	sc.Timeouts.Redis = scenarios.Duration(redisTimeout)
	if tweak != nil {
		tweak(sc)
	}
	sc.Defaults()
	ctx := tctx(t)
	setup, err := faults.Prepare(ctx, sc, srv, faults.Options{})
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	t.Cleanup(func() {
		if err := setup.Close(); err != nil {
			t.Errorf("setup.Close: %v", err)
		}
	})
	sess, err := runner.Open(ctx, runner.Config{Scenario: sc, Strategy: strategy, Params: params, Servers: setup.Servers()})
	if err != nil {
		t.Fatalf("open session: %v", err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if res := sess.Close(cctx); res.Status != record.StatusOK {
			t.Errorf("session closed with status %s: %s", res.Status, res.Error)
		}
	})
	env := sess.FaultEnv()
	steps, err := setup.BuildFaults(ctx, env)
	if err != nil {
		t.Fatalf("BuildFaults: %v", err)
	}
	if len(steps) != 1 || steps[0].Fault.Name() != fs.Fault {
		t.Fatalf("BuildFaults returned %d steps, want one %s", len(steps), fs.Fault)
	}
	cc := docker.DefaultClientConfig()
	cc.PoolSize = 4
	direct := srv.RedisClient(cc)
	t.Cleanup(func() { direct.Close() })
	return &rig{t: t, srv: srv, setup: setup, sess: sess, env: env, fault: steps[0].Fault, direct: direct}
}

func (r *rig) inject() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.fault.Inject(ctx); err != nil {
		r.t.Fatalf("%s: Inject: %v", r.fault.Name(), err)
	}
}

// heal heals twice: Heal must be idempotent.
func (r *rig) heal() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 2 {
		if err := r.fault.Heal(ctx); err != nil {
			r.t.Fatalf("%s: Heal (call %d): %v", r.fault.Name(), i+1, err)
		}
	}
}

func step(fault string, params map[string]string) scenarios.FaultStep {
	return scenarios.FaultStep{At: sec(1), For: sec(1), Fault: fault, Params: params}
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// within runs f with a deadline of d.
func within(d time.Duration, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return f(ctx)
}

// timed returns how long f took and its error.
func timed(f func() error) (time.Duration, error) {
	t0 := time.Now()
	err := f()
	return time.Since(t0), err
}
