package docker

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	dc "github.com/ory/dockertest/v3/docker"
)

// Tests of this file need a Docker engine; elsewhere they skip, and the
// fake engine tests cover the same paths against the Docker API.

// smallImage is a small pinned image that the tests below may pull and
// remove; the servers' images are left alone.
const smallImage = "busybox:1.36.1"

// TestDockerPullMissingImage pulls an image the engine lacks, with
// progress, through the same puller as Provision.
func TestDockerPullMissingImage(t *testing.T) {
	skipWithoutDocker(t)
	eng, err := pingDocker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	client := eng.pool.Client
	if _, err := client.InspectImage(smallImage); err == nil {
		if err := client.RemoveImage(smallImage); err != nil {
			t.Skipf("%s is on the engine and in use (%v): cannot test pulling it", smallImage, err)
		}
	}
	t.Cleanup(func() { _ = client.RemoveImage(smallImage) })
	cli, _ := readCLIConfig(osEngineEnv().cliConfigDir())
	var progress bytes.Buffer
	p := &puller{client: client, endpoint: eng.endpoint, cli: cli, timeout: DefaultPullTimeout,
		stall: pullStallTimeout, progress: &progress, logf: t.Logf}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultPullTimeout+time.Minute)
	defer cancel()
	if err := p.ensureImages(ctx, smallImage); err != nil {
		t.Fatal(err)
	}
	if _, err := client.InspectImage(smallImage); err != nil {
		t.Errorf("after the pull the engine has no %s: %v", smallImage, err)
	}
	if out := progress.String(); !strings.Contains(out, "pulling "+smallImage+" ") || !strings.Contains(out, "layers") {
		t.Errorf("progress %q: want the image's layers", out)
	}

	// A pull cancelled at once leaves with the context's error.
	_ = client.RemoveImage(smallImage)
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if err := p.ensureImages(cctx, smallImage); err == nil || cctx.Err() == nil {
		t.Errorf("cancelled pull: %v, want an error", err)
	}
}

// TestDockerTeardownLabelled checks against the engine that teardown
// removes a container of its run that it never recorded.
func TestDockerTeardownLabelled(t *testing.T) {
	skipWithoutDocker(t)
	eng, err := pingDocker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := &puller{client: eng.pool.Client, endpoint: eng.endpoint, timeout: DefaultPullTimeout, stall: pullStallTimeout, logf: t.Logf}
	if err := p.ensureImages(ctx, RedisImage); err != nil {
		t.Fatal(err)
	}
	pair := &containerPair{engine: eng, runID: newRunID()}
	ports, err := stablePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	opts := redisRunOptions(RedisImage, ports[0], DefaultRedisSettings(), ownerLabels(os.Getpid(), pair.runID))
	id, err := createContainer(ctx, eng.pool.Client, "ghostbench-"+pair.runID+"-unrecorded", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = eng.pool.Client.RemoveContainer(dc.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true})
	})
	if err := pair.teardown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.pool.Client.InspectContainer(id); err == nil {
		t.Errorf("container %.12s of run %s still exists after teardown", id, pair.runID)
	}
}
