package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
)

// Pinned images of the docker provider; docker/compose.yaml uses the same.
const (
	PostgresImage = "postgres:15.8-alpine"
	RedisImage    = "redis:7.0.15-alpine"
)

// Credentials of the PostgreSQL server in a container. The image requires
// a password; the server is reachable on 127.0.0.1 only.
const (
	containerPostgresUser     = "ghostbench"
	containerPostgresPassword = "ghostbench"
	containerPostgresDB       = "ghostbench"
)

// Labels put on every container, so that the next Provision on the same
// host can remove containers of a harness that was killed.
const (
	labelOwnerPID  = "ghostbench.owner-pid"
	labelOwnerHost = "ghostbench.owner-host"
)

const (
	dockerPingTimeout  = 2 * time.Second
	dockerReadyTimeout = 2 * time.Minute // includes the image's first initdb
)

// dockerEngine is a Docker engine that answered a ping.
type dockerEngine struct {
	pool     *dockertest.Pool
	endpoint string
}

// pingDocker connects to the engine named by DOCKER_HOST (or the default
// socket) and pings it with a short timeout.
func pingDocker(ctx context.Context) (*dockerEngine, error) {
	pool, err := dockertest.NewPool("")
	if err != nil {
		return nil, fmt.Errorf("no Docker engine reachable: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, dockerPingTimeout)
	defer cancel()
	if err := pool.Client.PingWithContext(pctx); err != nil {
		// The dial error says it all; the HTTP request around it is noise.
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe
		}
		return nil, fmt.Errorf("no Docker engine reachable at %s: %w", pool.Client.Endpoint(), err)
	}
	pool.MaxWait = dockerReadyTimeout
	return &dockerEngine{pool: pool, endpoint: pool.Client.Endpoint()}, nil
}

// splitImage splits "repo:tag".
func splitImage(image string) (repo, tag string) {
	for i := len(image) - 1; i >= 0; i-- {
		if image[i] == ':' {
			return image[:i], image[i+1:]
		}
		if image[i] == '/' {
			break
		}
	}
	return image, "latest"
}

// ownerLabels are the labels that tie a container to this harness process.
func ownerLabels(pid int, host string) map[string]string {
	return map[string]string{labelOwnerPID: strconv.Itoa(pid), labelOwnerHost: host}
}

// loopbackBinding publishes containerPort on 127.0.0.1:hostPort only. The
// host port is chosen by the harness rather than by Docker, so that it stays
// the same when the container is stopped and started again.
func loopbackBinding(containerPort string, hostPort int) map[dc.Port][]dc.PortBinding {
	return map[dc.Port][]dc.PortBinding{
		dc.Port(containerPort): {{HostIP: "127.0.0.1", HostPort: strconv.Itoa(hostPort)}},
	}
}

// postgresRunOptions returns the container options of the PostgreSQL
// server: pinned image, credentials, the settings as -c flags, dynamic
// shared memory as in local servers, and the port on 127.0.0.1.
func postgresRunOptions(hostPort int, s PostgresSettings, labels map[string]string) *dockertest.RunOptions {
	repo, tag := splitImage(PostgresImage)
	cmd := []string{"postgres", "-c", "dynamic_shared_memory_type=mmap"}
	for _, kv := range s.args() {
		cmd = append(cmd, "-c", kv)
	}
	return &dockertest.RunOptions{
		Repository: repo,
		Tag:        tag,
		Env: []string{
			"POSTGRES_USER=" + containerPostgresUser,
			"POSTGRES_PASSWORD=" + containerPostgresPassword,
			"POSTGRES_DB=" + containerPostgresDB,
			"LANG=C.UTF-8",
		},
		Cmd:          cmd,
		ExposedPorts: []string{"5432/tcp"},
		PortBindings: loopbackBinding("5432/tcp", hostPort),
		Labels:       labels,
	}
}

// redisRunOptions returns the container options of the Redis server. Inside
// the container Redis listens on all interfaces without protected mode,
// since connections arrive from Docker's bridge; the host side is
// 127.0.0.1 only.
func redisRunOptions(hostPort int, s RedisSettings, labels map[string]string) *dockertest.RunOptions {
	repo, tag := splitImage(RedisImage)
	cmd := []string{"redis-server",
		"--port", "6379",
		"--bind", "0.0.0.0",
		"--protected-mode", "no",
		"--save", "",
		"--appendonly", "no",
	}
	cmd = append(cmd, s.args()...)
	return &dockertest.RunOptions{
		Repository:   repo,
		Tag:          tag,
		Cmd:          cmd,
		ExposedPorts: []string{"6379/tcp"},
		PortBindings: loopbackBinding("6379/tcp", hostPort),
		Labels:       labels,
	}
}

// hostConfig publishes only the explicit bindings, never restarts the
// container by itself, and keeps it after it stops (Stop then Start needs
// it; Close removes it).
func hostConfig(hc *dc.HostConfig) {
	hc.PublishAllPorts = false
	hc.AutoRemove = false
	hc.RestartPolicy = dc.NeverRestart()
}

// containerPair is the two containers of a docker provisioning.
type containerPair struct {
	engine *dockerEngine
	mu     sync.Mutex
	ids    []string // created and not yet removed
}

func (p *containerPair) add(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, id)
}

// teardown removes both containers with their anonymous volumes.
func (p *containerPair) teardown(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	var left []string
	for _, id := range p.ids {
		err := p.engine.pool.Client.RemoveContainer(dc.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true, Context: ctx})
		var nsc *dc.NoSuchContainer
		if err != nil && !errors.As(err, &nsc) {
			errs = append(errs, fmt.Errorf("remove container %.12s: %w", id, err))
			left = append(left, id)
		}
	}
	p.ids = left
	return joinErrors(errs...)
}

func (p *containerPair) footprint() Footprint {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Footprint{Containers: append([]string(nil), p.ids...)}
}

// provisionDocker starts both containers and waits until they accept
// connections.
func provisionDocker(ctx context.Context, cfg *Config, eng *dockerEngine) (s *Servers, err error) {
	start := time.Now()
	reapStaleContainers(ctx, eng, cfg.Logf)
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	labels := ownerLabels(os.Getpid(), host)
	pair := &containerPair{engine: eng}
	defer func() {
		if err != nil {
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
			defer cancel()
			if terr := pair.teardown(tctx); terr != nil {
				err = joinErrors(err, fmt.Errorf("clean up: %w", terr))
			}
		}
	}()
	pgURL, redisURL := loopbackURLs(ports[0], ports[1], containerPostgresUser, containerPostgresPassword, containerPostgresDB)
	pgSrv := &containerServer{
		name: "postgres", engine: eng, stopSignal: dc.Signal(syscall.SIGINT),
		ready: func(ctx context.Context) error { return pingPostgres(ctx, pgURL) },
	}
	redisSrv := &containerServer{
		name: "redis", engine: eng, stopSignal: dc.Signal(syscall.SIGTERM),
		ready: func(ctx context.Context) error { return PingRedis(ctx, fmt.Sprintf("127.0.0.1:%d", ports[1])) },
	}
	var pgErr, redisErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		pgErr = pgSrv.run(ctx, pair, postgresRunOptions(ports[0], cfg.Postgres, labels))
	}()
	go func() {
		defer wg.Done()
		redisErr = redisSrv.run(ctx, pair, redisRunOptions(ports[1], cfg.Redis, labels))
	}()
	wg.Wait()
	if err := joinErrors(pgErr, redisErr); err != nil {
		return nil, err
	}
	rs, err := redisServer(redisURL)
	if err != nil {
		return nil, err
	}
	rs.Control = redisSrv
	s = &Servers{
		Postgres:  &Server{Name: "postgres", Addr: fmt.Sprintf("127.0.0.1:%d", ports[0]), URL: pgURL, Control: pgSrv},
		Redis:     rs,
		teardown:  pair.teardown,
		footprint: pair.footprint,
	}
	if err := s.describe(ctx); err != nil {
		return nil, err
	}
	cfg.Logf("containers ready in %v (postgres %.12s, redis %.12s)", time.Since(start).Round(time.Millisecond), pgSrv.id, redisSrv.id)
	return s, nil
}

// reapStaleContainers removes containers labelled as started on this host
// by a harness process that no longer runs.
func reapStaleContainers(ctx context.Context, eng *dockerEngine, logf func(string, ...any)) {
	host, err := os.Hostname()
	if err != nil {
		return
	}
	cs, err := eng.pool.Client.ListContainers(dc.ListContainersOptions{
		All:     true,
		Filters: map[string][]string{"label": {labelOwnerHost + "=" + host}},
		Context: ctx,
	})
	if err != nil {
		return
	}
	for _, c := range cs {
		pid, err := strconv.Atoi(c.Labels[labelOwnerPID])
		if err != nil || pid == os.Getpid() || ownerAlive(pid) {
			continue
		}
		if err := eng.pool.Client.RemoveContainer(dc.RemoveContainerOptions{ID: c.ID, Force: true, RemoveVolumes: true, Context: ctx}); err == nil {
			logf("removed container %.12s, left by process %d which is gone", c.ID, pid)
		}
	}
}

// containerServer is one server in a container. It implements Control.
type containerServer struct {
	name       string
	engine     *dockerEngine
	stopSignal dc.Signal
	ready      func(context.Context) error

	mu          sync.Mutex
	id          string
	paused      bool
	lastInspect time.Time // of exited; used under mu or before the server is shared
}

// run creates and starts the container (pulling the image if needed) and
// waits until the server is ready. dockertest's calls take no context: when
// ctx ends first, run waits for them and the deferred teardown removes the
// container.
func (c *containerServer) run(ctx context.Context, pair *containerPair, opts *dockertest.RunOptions) error {
	type result struct {
		r   *dockertest.Resource
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := c.engine.pool.RunWithOptions(opts, hostConfig)
		done <- result{r, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		res = <-done
		if res.err == nil {
			pair.add(res.r.Container.ID)
		}
		return fmt.Errorf("%s: start container: %w", c.name, ctx.Err())
	}
	if res.err != nil {
		return fmt.Errorf("%s: start container %s:%s: %w", c.name, opts.Repository, opts.Tag, res.err)
	}
	pair.add(res.r.Container.ID)
	c.id = res.r.Container.ID
	if err := waitReady(ctx, dockerReadyTimeout, c.ready, c.exited); err != nil {
		return fmt.Errorf("%s in container %.12s: %w", c.name, c.id, err)
	}
	return nil
}

// exited returns an error when the container is no longer running. It
// asks the engine at most twice a second, however often readiness polls.
func (c *containerServer) exited() error {
	if time.Since(c.lastInspect) < 500*time.Millisecond {
		return nil
	}
	c.lastInspect = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ct, err := c.engine.pool.Client.InspectContainerWithContext(c.id, ctx)
	if err != nil {
		return nil // cannot tell; keep polling readiness
	}
	if !ct.State.Running {
		return fmt.Errorf("container exited (code %d %s)", ct.State.ExitCode, ct.State.Error)
	}
	return nil
}

func (c *containerServer) state(ctx context.Context) (*dc.State, error) {
	ct, err := c.engine.pool.Client.InspectContainerWithContext(c.id, ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: inspect container %.12s: %w", c.name, c.id, err)
	}
	return &ct.State, nil
}

// waitStopped polls until the container no longer runs, ctx ends or d
// passes, and reports whether it stopped.
func (c *containerServer) waitStopped(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if st, err := c.state(ctx); err == nil && !st.Running {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

func (c *containerServer) unpauseLocked(ctx context.Context) error {
	if !c.paused {
		return nil
	}
	if err := c.engine.pool.Client.UnpauseContainer(c.id); err != nil {
		return fmt.Errorf("%s: unpause container %.12s: %w", c.name, c.id, err)
	}
	c.paused = false
	return nil
}

func (c *containerServer) signal(ctx context.Context, sig dc.Signal) error {
	err := c.engine.pool.Client.KillContainer(dc.KillContainerOptions{ID: c.id, Signal: sig, Context: ctx})
	var nr *dc.ContainerNotRunning
	if err != nil && !errors.As(err, &nr) {
		return fmt.Errorf("%s: signal %d to container %.12s: %w", c.name, sig, c.id, err)
	}
	return nil
}

// Stop implements Control: the stop signal (SIGINT, fast shutdown, for
// PostgreSQL; SIGTERM for Redis), then SIGKILL after 10 seconds.
func (c *containerServer) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.unpauseLocked(ctx); err != nil {
		return err
	}
	if err := c.signal(ctx, c.stopSignal); err != nil {
		return err
	}
	if c.waitStopped(ctx, 10*time.Second) {
		return nil
	}
	return c.killLocked(ctx)
}

// Start implements Control.
func (c *containerServer) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.startLocked(ctx)
}

func (c *containerServer) startLocked(ctx context.Context) error {
	st, err := c.state(ctx)
	if err != nil {
		return err
	}
	if !st.Running {
		err := c.engine.pool.Client.StartContainerWithContext(c.id, nil, ctx)
		var as *dc.ContainerAlreadyRunning
		if err != nil && !errors.As(err, &as) {
			return fmt.Errorf("%s: start container %.12s: %w", c.name, c.id, err)
		}
	}
	if err := waitReady(ctx, dockerReadyTimeout, c.ready, c.exited); err != nil {
		return fmt.Errorf("%s in container %.12s: %w", c.name, c.id, err)
	}
	return nil
}

// Kill implements Control.
func (c *containerServer) Kill(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.killLocked(ctx)
}

func (c *containerServer) killLocked(ctx context.Context) error {
	// Docker refuses to kill a paused container.
	if err := c.unpauseLocked(ctx); err != nil {
		return err
	}
	if err := c.signal(ctx, dc.SIGKILL); err != nil {
		return err
	}
	if !c.waitStopped(ctx, 10*time.Second) {
		return fmt.Errorf("%s: container %.12s still running after SIGKILL", c.name, c.id)
	}
	return nil
}

// Pause implements Control.
func (c *containerServer) Pause(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		return nil
	}
	if err := c.engine.pool.Client.PauseContainer(c.id); err != nil {
		return fmt.Errorf("%s: pause container %.12s: %w", c.name, c.id, err)
	}
	c.paused = true
	return nil
}

// Resume implements Control.
func (c *containerServer) Resume(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unpauseLocked(ctx)
}

// Restart implements Control.
func (c *containerServer) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.killLocked(ctx); err != nil {
		return err
	}
	return c.startLocked(ctx)
}

// Running implements Control.
func (c *containerServer) Running() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.state(ctx)
	return err == nil && st.Running
}
