package docker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
// a password unless connections are trusted, which they are (as with the
// local provider): a connection costs no password hashing, which under
// load would stretch every reconnect after a fault. The server is published
// on 127.0.0.1 only.
const (
	containerPostgresUser     = "ghostbench"
	containerPostgresPassword = "ghostbench"
	containerPostgresDB       = "ghostbench"
)

// Labels put on every container: the provisioning it belongs to (teardown
// removes everything with its run id, whether the harness recorded the
// container or not) and the harness process that owns it (the next
// Provision removes containers whose owner is gone). The host name is not
// used: it changes on laptops between networks.
const (
	labelRunID    = "ghostbench.run-id"
	labelOwnerPID = "ghostbench.owner-pid"
	labelServer   = "ghostbench.server"
)

const (
	dockerPingTimeout  = 2 * time.Second
	dockerReadyTimeout = 2 * time.Minute // includes the image's first initdb
)

// dockerEngine is a Docker engine that answered a ping and whose
// published ports this process can reach.
type dockerEngine struct {
	pool     *dockertest.Pool
	endpoint string         // the engine address, for messages
	found    engineEndpoint // the address and why it was chosen
}

// pingDocker finds the engine as the docker CLI would (see resolveEngine),
// pings it with a short timeout, and checks that the ports it publishes
// are reachable from here (see engineLocality). Every error is one line
// that names the address, where it came from, and what to do.
func pingDocker(ctx context.Context) (*dockerEngine, error) {
	eng, err := connectEngine(ctx, osEngineEnv(), osLocality())
	if err != nil {
		return nil, noEngineError{err}
	}
	return eng, nil
}

// ErrNoEngine is wrapped by the error of the docker provider when it finds
// no Docker engine it can use; ErrNoImage when the engine lacks an image and
// cannot pull it.
var (
	ErrNoEngine = errors.New("no usable Docker engine")
	ErrNoImage  = errors.New("image missing and not pullable")
)

// noEngineError keeps the message of why there is no engine and wraps
// ErrNoEngine.
type noEngineError struct{ error }

func (e noEngineError) Unwrap() []error { return []error{e.error, ErrNoEngine} }

func connectEngine(ctx context.Context, env engineEnv, loc engineLocality) (*dockerEngine, error) {
	ep, err := resolveEngine(env)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(ep.Host, "ssh://") {
		return nil, loc.check(ep, "")
	}
	if path, ok := strings.CutPrefix(ep.Host, "unix://"); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no Docker engine answers at %s: the socket does not exist (%v): start the engine, or point DOCKER_HOST or DOCKER_CONTEXT at another", ep, errors.Unwrap(err))
		}
	}
	client, err := newEngineClient(ep)
	if err != nil {
		return nil, fmt.Errorf("the Docker engine at %s: %w", ep, err)
	}
	pctx, cancel := context.WithTimeout(ctx, dockerPingTimeout)
	defer cancel()
	if err := client.PingWithContext(pctx); err != nil {
		// The dial error says it all; the HTTP request around it is noise.
		var oe *net.OpError
		switch {
		case errors.As(err, &oe):
			err = oe
		case errors.Is(err, dc.ErrConnectionRefused):
			err = errors.New("connection refused (nothing listens there)")
		}
		var de *dc.Error
		if errors.As(err, &de) {
			err = fmt.Errorf("something answers there, but not as a Docker engine (HTTP %d to GET /_ping)", de.Status)
		}
		return nil, fmt.Errorf("no Docker engine answers at %s: %w: start the engine, or point DOCKER_HOST or DOCKER_CONTEXT at another", ep, err)
	}
	var name string
	if info, err := engineInfo(pctx, client); err == nil {
		name = info.Name
	}
	if err := loc.check(ep, name); err != nil {
		return nil, err
	}
	pool := &dockertest.Pool{Client: client, MaxWait: dockerReadyTimeout}
	return &dockerEngine{pool: pool, endpoint: ep.Host, found: ep}, nil
}

// newEngineClient returns a client of the engine at ep, over TLS when ep
// names certificates.
func newEngineClient(ep engineEndpoint) (*dc.Client, error) {
	if ep.TLSDir != "" && !strings.HasPrefix(ep.Host, "unix://") {
		return dc.NewTLSClient(ep.Host, filepath.Join(ep.TLSDir, "cert.pem"), filepath.Join(ep.TLSDir, "key.pem"), filepath.Join(ep.TLSDir, "ca.pem"))
	}
	return dc.NewClient(ep.Host)
}

// engineInfo is GET /info bounded by ctx (the client's Info takes none).
func engineInfo(ctx context.Context, client *dc.Client) (*dc.DockerInfo, error) {
	type result struct {
		info *dc.DockerInfo
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		i, err := client.Info()
		ch <- result{i, err}
	}()
	select {
	case r := <-ch:
		return r.info, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
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

// ownerLabels are the labels that tie a container to a provisioning and to
// the harness process that made it.
func ownerLabels(pid int, runID string) map[string]string {
	return map[string]string{labelOwnerPID: strconv.Itoa(pid), labelRunID: runID}
}

// newRunID returns a random id for one provisioning.
func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// withLabel returns labels plus name=value, leaving labels unchanged.
func withLabel(labels map[string]string, name, value string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	maps.Copy(out, labels)
	out[name] = value
	return out
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
func postgresRunOptions(image string, hostPort int, s PostgresSettings, labels map[string]string) *dockertest.RunOptions {
	repo, tag := splitImage(image)
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
			"POSTGRES_HOST_AUTH_METHOD=trust",
			"LANG=C.UTF-8",
		},
		Cmd:          cmd,
		ExposedPorts: []string{"5432/tcp"},
		PortBindings: loopbackBinding("5432/tcp", hostPort),
		Labels:       withLabel(labels, labelServer, "postgres"),
	}
}

// redisRunOptions returns the container options of the Redis server. Inside
// the container Redis listens on all interfaces without protected mode,
// since connections arrive from Docker's bridge; the host side is
// 127.0.0.1 only.
func redisRunOptions(image string, hostPort int, s RedisSettings, labels map[string]string) *dockertest.RunOptions {
	repo, tag := splitImage(image)
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
		Labels:       withLabel(labels, labelServer, "redis"),
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
	runID  string
	mu     sync.Mutex
	ids    []string // created and not yet removed
}

func (p *containerPair) add(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.ids, id) {
		p.ids = append(p.ids, id)
	}
}

// teardown removes every container of the provisioning with its anonymous
// volumes: those recorded, and those the engine lists with the run id
// (created by a call whose answer was lost, e.g. to a cancelled context).
func (p *containerPair) teardown(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	ids := append([]string(nil), p.ids...)
	labelled, err := p.engine.pool.Client.ListContainers(dc.ListContainersOptions{
		All:     true,
		Filters: map[string][]string{"label": {labelRunID + "=" + p.runID}},
		Context: ctx,
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("list containers of run %s: %w", p.runID, err))
	}
	ids = teardownList(ids, labelled)
	var left []string
	for _, id := range ids {
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

// teardownList returns the recorded container ids followed by the listed
// ones not recorded.
func teardownList(recorded []string, listed []dc.APIContainers) []string {
	out := append([]string(nil), recorded...)
	for _, c := range listed {
		if !slices.Contains(out, c.ID) {
			out = append(out, c.ID)
		}
	}
	return out
}

func (p *containerPair) footprint() Footprint {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Footprint{Containers: append([]string(nil), p.ids...)}
}

// provisionDocker pulls the images the engine lacks, starts both
// containers and waits until they accept connections.
// Under "auto" (auto set) a pull that shows no progress is given up after
// autoPullStall, since the local provider comes next.
func provisionDocker(ctx context.Context, cfg *Config, eng *dockerEngine, auto bool) (s *Servers, err error) {
	start := time.Now()
	reapStaleContainers(ctx, eng, cfg.Logf)
	cli, cerr := readCLIConfig(osEngineEnv().cliConfigDir())
	if cerr != nil {
		cfg.Logf("%v; pulling anonymously", cerr)
	}
	stall := pullStallTimeout
	if auto {
		stall = autoPullStall
	}
	pl := &puller{client: eng.pool.Client, endpoint: eng.endpoint, cli: cli,
		timeout: cfg.PullTimeout, stall: stall, progress: cfg.Progress, logf: cfg.Logf}
	if err := pl.ensureImages(ctx, cfg.PostgresImage, cfg.RedisImage); err != nil {
		return nil, err
	}
	pair := &containerPair{engine: eng, runID: newRunID()}
	labels := ownerLabels(os.Getpid(), pair.runID)
	defer func() {
		if err != nil {
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
			defer cancel()
			if terr := pair.teardown(tctx); terr != nil {
				err = joinErrors(err, fmt.Errorf("clean up: %w", terr))
			}
		}
	}()
	pgSrv := &containerServer{name: "postgres", engine: eng, pair: pair, logf: cfg.Logf, stopSignal: dc.Signal(syscall.SIGINT),
		options: func(port int) *dockertest.RunOptions {
			return postgresRunOptions(cfg.PostgresImage, port, cfg.Postgres, labels)
		}}
	pgSrv.ready = func(ctx context.Context) error {
		u, _ := loopbackURLs(pgSrv.hostPort(), 0, containerPostgresUser, containerPostgresPassword, containerPostgresDB)
		return pingPostgres(ctx, u)
	}
	redisSrv := &containerServer{name: "redis", engine: eng, pair: pair, logf: cfg.Logf, stopSignal: dc.Signal(syscall.SIGTERM),
		options: func(port int) *dockertest.RunOptions {
			return redisRunOptions(cfg.RedisImage, port, cfg.Redis, labels)
		}}
	redisSrv.ready = func(ctx context.Context) error {
		return PingRedis(ctx, fmt.Sprintf("127.0.0.1:%d", redisSrv.hostPort()))
	}
	var pgErr, redisErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		pgErr = pgSrv.run(ctx)
	}()
	go func() {
		defer wg.Done()
		redisErr = redisSrv.run(ctx)
	}()
	wg.Wait()
	if err := joinErrors(pgErr, redisErr); err != nil {
		return nil, err
	}
	pgURL, redisURL := loopbackURLs(pgSrv.hostPort(), redisSrv.hostPort(), containerPostgresUser, containerPostgresPassword, containerPostgresDB)
	rs, err := redisServer(redisURL)
	if err != nil {
		return nil, err
	}
	rs.Control = redisSrv
	s = &Servers{
		Postgres:  &Server{Name: "postgres", Addr: fmt.Sprintf("127.0.0.1:%d", pgSrv.hostPort()), URL: pgURL, Control: pgSrv},
		Redis:     rs,
		teardown:  pair.teardown,
		footprint: pair.footprint,
	}
	if err := s.describe(ctx); err != nil {
		return nil, err
	}
	cfg.Logf("containers ready in %v (postgres %.12s, redis %.12s, run %s)", time.Since(start).Round(time.Millisecond), pgSrv.id, redisSrv.id, pair.runID)
	return s, nil
}

// reapStaleContainers removes ghostbench containers whose owner process
// (the owner-pid label) no longer runs. The engine is local (see
// engineLocality), so the process ids are this machine's.
func reapStaleContainers(ctx context.Context, eng *dockerEngine, logf func(string, ...any)) {
	cs, err := eng.pool.Client.ListContainers(dc.ListContainersOptions{
		All:     true,
		Filters: map[string][]string{"label": {labelOwnerPID}},
		Context: ctx,
	})
	if err != nil {
		return
	}
	for _, id := range staleContainers(cs, os.Getpid(), ownerAlive) {
		if err := eng.pool.Client.RemoveContainer(dc.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true, Context: ctx}); err == nil {
			logf("removed container %.12s, left by a ghostbench process that is gone", id)
		}
	}
}

// staleContainers returns the ids of the containers in cs whose owner-pid
// label names a process other than self that is not alive.
func staleContainers(cs []dc.APIContainers, self int, alive func(int) bool) []string {
	var out []string
	for _, c := range cs {
		pid, err := strconv.Atoi(c.Labels[labelOwnerPID])
		if err != nil || pid <= 0 || pid == self || alive(pid) {
			continue
		}
		out = append(out, c.ID)
	}
	return out
}

// containerServer is one server in a container. It implements Control.
type containerServer struct {
	name       string
	engine     *dockerEngine
	pair       *containerPair
	stopSignal dc.Signal
	ready      func(context.Context) error
	options    func(hostPort int) *dockertest.RunOptions
	logf       func(string, ...any)

	port atomic.Int32 // host port, set once the container started

	mu          sync.Mutex
	id          string
	paused      bool
	lastInspect time.Time // of exited; used under mu or before the server is shared
}

// hostPort is the host port the container is published on.
func (c *containerServer) hostPort() int { return int(c.port.Load()) }

// portAttempts is how many host ports a container start tries before it
// gives up: another process may take a free port before the engine binds it.
const portAttempts = 3

// run creates and starts the container and waits until the server is
// ready. Every engine call honours ctx; a container is recorded for
// teardown as soon as it exists.
func (c *containerServer) run(ctx context.Context) error {
	for attempt := range portAttempts {
		ports, err := stablePorts(1)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		opts := c.options(ports[0])
		name := fmt.Sprintf("ghostbench-%s-%s-%d", c.pair.runID, c.name, attempt)
		id, err := createContainer(ctx, c.engine.pool.Client, name, opts)
		if err != nil {
			return fmt.Errorf("%s: create container from %s:%s: %w", c.name, opts.Repository, opts.Tag, err)
		}
		c.pair.add(id)
		c.id = id
		err = c.engine.pool.Client.StartContainerWithContext(id, nil, ctx)
		if err == nil {
			c.port.Store(int32(ports[0]))
			break
		}
		if !portTaken(err) || attempt == portAttempts-1 {
			return c.failed(ctx, fmt.Errorf("start container %.12s on 127.0.0.1:%d: %w", id, ports[0], err))
		}
		c.logf("%s: host port %d was taken before the engine bound it; trying another", c.name, ports[0])
		_ = c.engine.pool.Client.RemoveContainer(dc.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true, Context: ctx})
	}
	if err := waitReady(ctx, dockerReadyTimeout, c.ready, c.exited); err != nil {
		return c.failed(ctx, err)
	}
	return nil
}

// failed returns err for this server, with the container's last log lines
// when it has any, read before the container is removed.
func (c *containerServer) failed(ctx context.Context, err error) error {
	if c.id == "" {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if ctx.Err() != nil || errors.Is(err, errContainerExited) {
		return fmt.Errorf("%s in container %.12s: %w", c.name, c.id, err)
	}
	return fmt.Errorf("%s in container %.12s: %w; last log lines: %s", c.name, c.id, err, c.logTail(ctx, containerLogLines))
}

// containerLogLines is how many log lines a failure shows.
const containerLogLines = 10

// logTail returns the last n non-empty lines of the container's output,
// joined by " | ", or a note saying why there are none.
func (c *containerServer) logTail(ctx context.Context, n int) string {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var buf lockedBuffer
	err := c.engine.pool.Client.Logs(dc.LogsOptions{
		Context: lctx, Container: c.id,
		OutputStream: &buf, ErrorStream: &buf,
		Stdout: true, Stderr: true,
		Tail: strconv.Itoa(4 * n), // some lines are empty
	})
	if err != nil {
		return "(no log: " + oneLine(err.Error()) + ")"
	}
	return lastLines(buf.String(), n)
}

// lastLines returns the last n non-empty lines of s joined by " | ", or
// "(empty)".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "(empty)"
	}
	return strings.Join(lines, " | ")
}

// lockedBuffer is a bytes.Buffer that two streams may write at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// portTaken reports whether a container start failed because its host
// port is taken.
func portTaken(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "port is already allocated") || strings.Contains(msg, "address already in use")
}

// createContainer creates (does not start) a container from opts, with
// hostConfig's settings, and returns its id.
func createContainer(ctx context.Context, client *dc.Client, name string, opts *dockertest.RunOptions) (string, error) {
	exposed := map[dc.Port]struct{}{}
	for _, p := range opts.ExposedPorts {
		exposed[dc.Port(p)] = struct{}{}
	}
	hc := &dc.HostConfig{PortBindings: opts.PortBindings, Binds: opts.Mounts}
	hostConfig(hc)
	c, err := client.CreateContainer(dc.CreateContainerOptions{
		Name: name,
		Config: &dc.Config{
			Image:        opts.Repository + ":" + opts.Tag,
			Env:          opts.Env,
			Cmd:          opts.Cmd,
			ExposedPorts: exposed,
			Labels:       opts.Labels,
		},
		HostConfig: hc,
		Context:    ctx,
	})
	if err != nil {
		return "", err
	}
	return c.ID, nil
}

// exited returns an error when the container is no longer running, with
// its exit code, whether it ran out of memory, and its last log lines. It
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
	if ct.State.Running {
		return nil
	}
	why := fmt.Sprintf("code %d", ct.State.ExitCode)
	if ct.State.OOMKilled {
		why += ", out of memory"
	}
	if ct.State.Error != "" {
		why += ", " + ct.State.Error
	}
	return fmt.Errorf("%w (%s); last log lines: %s", errContainerExited, why, c.logTail(ctx, containerLogLines))
}

// errContainerExited marks the error of a container that stopped running.
var errContainerExited = errors.New("container exited")

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
		if err != nil && portTaken(err) {
			return fmt.Errorf("%s: start container %.12s: host port 127.0.0.1:%d was taken by another process while the server was stopped: %w", c.name, c.id, c.hostPort(), err)
		}
		if err != nil && !errors.As(err, &as) {
			return c.failed(ctx, fmt.Errorf("start container: %w", err))
		}
	}
	if err := waitReady(ctx, dockerReadyTimeout, c.ready, c.exited); err != nil {
		return c.failed(ctx, err)
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
