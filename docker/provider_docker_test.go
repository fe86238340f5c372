package docker

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
)

// Tests of this file need a Docker engine and the images of make
// docker-images (see dockerTest); without an engine they skip, and the fake
// engine tests cover the same paths against the Docker API.

// missingImage is an image no engine has and no registry serves.
const missingImage = "ghostbench/missing:none"

// TestDockerPullMissingImage asks the engine for an image it lacks: the
// pull fails (no registry here; elsewhere the registry refuses it), the
// error names the image and what to do, and "auto" falls back to local
// with that reason in one line.
func TestDockerPullMissingImage(t *testing.T) {
	eng, cfg := dockerTest(t)
	cli, _ := readCLIConfig(osEngineEnv().cliConfigDir())
	p := &puller{client: eng.pool.Client, endpoint: eng.endpoint, cli: cli, timeout: DefaultPullTimeout,
		stall: autoPullStall, logf: t.Logf}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	err := p.ensureImages(ctx, missingImage)
	t.Logf("pull of %s failed after %v: %v", missingImage, time.Since(start), err)
	var pe *pullError
	if !errors.As(err, &pe) || pe.image != missingImage {
		t.Fatalf("ensureImages(%s) = %v, want a pullError naming the image", missingImage, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "docker pull "+missingImage) || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line saying what to run", msg)
	}

	// A pull cancelled at once leaves with the context's error.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if err := p.ensureImages(cctx, missingImage); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled pull: %v, want context.Canceled", err)
	}

	// "auto" with an image it cannot have: local, and why.
	cfg.Provider = ProviderAuto
	cfg.PostgresImage = missingImage
	s := provisionCfgT(t, cfg)
	if s.Provider != ProviderLocal {
		t.Fatalf("auto with a missing image chose %s (%s), want local", s.Provider, s.Reason)
	}
	if want := "has no image " + missingImage + " and cannot pull it"; !strings.Contains(s.Reason, want) || strings.Contains(s.Reason, "\n") {
		t.Errorf("reason %q: want one line with %q", s.Reason, want)
	}
	assertNoContainers(t, eng)
}

// TestDockerDoctorMissingImage checks what doctor prints when the engine
// answers but lacks an image it cannot pull: the engine, why the image is
// missing, and that "auto" falls back to local, with what to do.
func TestDockerDoctorMissingImage(t *testing.T) {
	eng, cfg := dockerTest(t)
	cfg.Provider = ProviderAuto
	cfg.RedisImage = missingImage
	cfg.Logf = nil
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Doctor(ctx, cfg, &out); err != nil {
		t.Fatalf("Doctor: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"docker    unusable: the engine at " + eng.found.String() + " answered, but it has no image " + missingImage + " and cannot pull it (",
		"auto: falls back to local, because the docker provider is unavailable: the Docker engine at " + eng.endpoint,
		"to use containers: pull the images where a registry is reachable",
		"using: local (the Docker engine at " + eng.endpoint + " answered, but it has no image " + missingImage,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, got)
		}
	}
	assertNoContainers(t, eng)
}

// TestDockerTeardownLabelled checks against the engine that teardown
// removes a container of its run that it never recorded.
func TestDockerTeardownLabelled(t *testing.T) {
	eng, cfg := dockerTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pair := &containerPair{engine: eng, runID: newRunID()}
	id := createRedis(t, eng, cfg.RedisImage, ownerLabels(os.Getpid(), pair.runID))
	if err := pair.teardown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.pool.Client.InspectContainer(id); err == nil {
		t.Errorf("container %.12s of run %s still exists after teardown", id, pair.runID)
	}
}

// TestDockerReapKilledOwner checks that a container whose owner was killed
// (SIGKILL: no teardown ran) is removed by the next provisioning's reaping,
// and that a container of a live owner is left alone.
func TestDockerReapKilledOwner(t *testing.T) {
	eng, cfg := dockerTest(t)
	owner := exec.Command("sleep", "60")
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	dead := createRedis(t, eng, cfg.RedisImage, ownerLabels(owner.Process.Pid, newRunID()))
	live := createRedis(t, eng, cfg.RedisImage, ownerLabels(os.Getpid(), newRunID()))
	if err := owner.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = owner.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reapStaleContainers(ctx, eng, t.Logf)
	if _, err := eng.pool.Client.InspectContainer(dead); err == nil {
		t.Errorf("container %.12s of the killed owner still exists after reaping", dead)
	}
	if _, err := eng.pool.Client.InspectContainer(live); err != nil {
		t.Errorf("container %.12s of a live owner was removed: %v", live, err)
	}
}

// TestDockerContainerDies checks that a server whose container exits while
// starting is reported with the exit code and the server's last log lines,
// and that the container is removed.
func TestDockerContainerDies(t *testing.T) {
	eng, cfg := dockerTest(t)
	pair := &containerPair{engine: eng, runID: newRunID()}
	labels := ownerLabels(os.Getpid(), pair.runID)
	srv := &containerServer{name: "redis", engine: eng, pair: pair, logf: t.Logf,
		options: func(port int) *dockertest.RunOptions {
			o := redisRunOptions(cfg.RedisImage, port, DefaultRedisSettings(), labels)
			o.Cmd = append(o.Cmd, "--no-such-directive", "1")
			return o
		},
		ready: func(ctx context.Context) error { return errors.New("not ready") },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := srv.run(ctx)
	if err == nil {
		t.Fatal("run of a redis-server with a bad directive succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"container exited (code 1", "no-such-directive"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if err := pair.teardown(ctx); err != nil {
		t.Fatal(err)
	}
	assertNoContainers(t, eng)
}

// createRedis creates and starts a Redis container with labels, removed
// at the end of t whatever happens to it.
func createRedis(t *testing.T, eng *dockerEngine, image string, labels map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ports, err := stablePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	opts := redisRunOptions(image, ports[0], DefaultRedisSettings(), labels)
	id, err := createContainer(ctx, eng.pool.Client, "ghostbench-test-"+newRunID(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = eng.pool.Client.RemoveContainer(dc.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true})
	})
	if err := eng.pool.Client.StartContainerWithContext(id, nil, ctx); err != nil {
		t.Fatal(err)
	}
	return id
}
