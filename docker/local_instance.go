package docker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Names of the local PostgreSQL role and database. Local servers trust
// loopback connections, so the URL carries no password.
const (
	localPostgresUser = "ghostbench"
	localPostgresDB   = "ghostbench"
)

// localReadyTimeout bounds how long a local server may take to accept
// connections (crash recovery after Kill included).
const localReadyTimeout = 30 * time.Second

// runUser is the user the PostgreSQL processes run as: the current user,
// or "nobody" when the harness runs as root, because PostgreSQL refuses to
// run as root.
type runUser struct {
	cred     *syscall.Credential // nil: the current user
	uid, gid int
}

func currentRunUser() (runUser, error) {
	if os.Geteuid() != 0 {
		return runUser{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return runUser{}, fmt.Errorf("running as root, and PostgreSQL refuses root; the unprivileged user to run it as: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return runUser{}, fmt.Errorf("user nobody has a non-numeric uid %q or gid %q", u.Uid, u.Gid)
	}
	return runUser{
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}},
		uid:  uid, gid: gid,
	}, nil
}

// chown gives path to the run user when the harness runs as root.
func (r runUser) chown(path string) error {
	if r.cred == nil {
		return nil
	}
	return os.Lchown(path, r.uid, r.gid)
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. Another process
// may take one before the server binds it; the callers retry then.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// makeInstanceDir makes the fresh temporary directory of one pair of
// servers. With fsync off it goes to the tmpfs /dev/shm when there is one:
// durability is not measured then, data lives in memory either way, and
// making the PostgreSQL data directory (copying about a thousand small
// files) is three times faster there than on a disk. With fsync on it goes
// to os.TempDir(), so that fsync means what it says. PostgreSQL reports the
// place as its data_directory setting.
func makeInstanceDir(fsync bool) (string, error) {
	pattern := fmt.Sprintf("%s%d-", instancePrefix, os.Getpid())
	if !fsync && isTmpfs(memoryDir) {
		if dir, err := os.MkdirTemp(memoryDir, pattern); err == nil {
			return dir, nil
		}
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("make temporary directory: %w", err)
	}
	return dir, nil
}

// localPair is a PostgreSQL and a Redis server process sharing one
// temporary directory.
type localPair struct {
	dir      string
	postgres *localServer
	redis    *localServer

	// What a topology adds (local_topology.go).
	mu     sync.Mutex
	extra  []*localServer
	relays []*Relay
	topo   Topology
}

// provisionLocal starts both servers from the binaries in bins.
func provisionLocal(ctx context.Context, cfg *Config, bins *localBinaries) (s *Servers, err error) {
	start := time.Now()
	reapStale(cfg.Logf)
	run, err := currentRunUser()
	if err != nil {
		return nil, err
	}
	dir, err := makeInstanceDir(cfg.Postgres.Fsync)
	if err != nil {
		return nil, err
	}
	pair := &localPair{dir: dir}
	defer func() {
		if err != nil {
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
			defer cancel()
			if terr := pair.teardown(tctx); terr != nil {
				err = joinErrors(err, fmt.Errorf("clean up: %w", terr))
			}
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", ownerFile, err)
	}
	if err := run.chown(dir); err != nil {
		return nil, fmt.Errorf("give %s to the postgres user: %w", dir, err)
	}

	var pgErr, redisErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		pair.postgres, pgErr = startLocalPostgres(ctx, cfg, bins, run, dir)
		if pgErr == nil {
			pgErr = pair.startPostgresTopology(ctx, cfg, bins, run)
		}
	}()
	go func() {
		defer wg.Done()
		redisErr = pair.startRedisTopology(ctx, cfg, bins)
	}()
	wg.Wait()
	if err := joinErrors(pgErr, redisErr); err != nil {
		return nil, err
	}
	pgPort := pair.postgres.port
	if f := pair.topo.PostgresFront; f != nil {
		_, port, _ := net.SplitHostPort(f.Addr())
		pgPort, _ = strconv.Atoi(port)
	}
	pgURL, redisURL := loopbackURLs(pgPort, pair.redis.port, localPostgresUser, "", localPostgresDB)
	rs, err := redisServer(redisURL)
	if err != nil {
		return nil, err
	}
	rs.Control = pair.redis
	s = &Servers{
		Postgres:  &Server{Name: "postgres", Addr: fmt.Sprintf("127.0.0.1:%d", pgPort), URL: pgURL, Control: pair.postgres},
		Redis:     rs,
		Topology:  pair.topo,
		teardown:  pair.teardown,
		footprint: pair.footprint,
	}
	s.Topology.Name = cfg.Topology
	if err := s.describe(ctx); err != nil {
		return nil, err
	}
	if err := s.describeTopology(ctx); err != nil {
		return nil, err
	}
	cfg.Logf("local servers ready in %v (topology %s, postgres pid %d, redis pid %d, %d more processes, dir %s)",
		time.Since(start).Round(time.Millisecond), s.TopologyName(), pair.postgres.pid(), pair.redis.pid(), len(pair.extra), dir)
	return s, nil
}

// teardown stops both servers and removes the directory.
func (p *localPair) teardown(ctx context.Context) error {
	all := p.servers()
	errs := make([]error, len(all)+1)
	var wg sync.WaitGroup
	for i, srv := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = srv.teardown(ctx)
		}()
	}
	wg.Wait()
	p.closeRelays()
	if p.dir != "" {
		if err := os.RemoveAll(p.dir); err != nil {
			errs[len(all)] = fmt.Errorf("remove %s: %w", p.dir, err)
		}
	}
	return joinErrors(errs...)
}

// footprint returns the live server processes and the directory.
func (p *localPair) footprint() Footprint {
	var f Footprint
	for _, srv := range p.servers() {
		if pid := srv.pid(); pid > 0 {
			f.PIDs = append(f.PIDs, pid)
		}
	}
	if _, err := os.Stat(p.dir); err == nil {
		f.Dirs = append(f.Dirs, p.dir)
	}
	return f
}

// startWithPortRetry starts a server on a free port outside the ephemeral
// range (see stablePorts), and on another one when it lost the race for the
// port to another process.
func startWithPortRetry(ctx context.Context, newServer func(port int) *localServer) (*localServer, error) {
	return startWithPortRetryBelow(ctx, 65535, newServer)
}

// startWithPortRetryBelow is startWithPortRetry on ports at most maxPort.
func startWithPortRetryBelow(ctx context.Context, maxPort int, newServer func(port int) *localServer) (*localServer, error) {
	var lastErr error
	for range 3 {
		ports, err := stablePortsBelow(1, maxPort)
		if err != nil {
			return nil, err
		}
		srv := newServer(ports[0])
		srv.mu.Lock()
		err = srv.startLocked(ctx)
		srv.mu.Unlock()
		if err == nil {
			return srv, nil
		}
		if !errors.Is(err, errPortInUse) {
			return nil, err
		}
		lastErr = err
	}
	return nil, lastErr
}

// errPortInUse marks a start that failed because the port was taken.
var errPortInUse = errors.New("port already in use")

// localServer is one server process the local provider runs. It
// implements Control.
type localServer struct {
	name       string
	port       int
	logPath    string
	spec       procSpec
	stopSignal syscall.Signal              // graceful stop
	ready      func(context.Context) error // one readiness attempt
	prepare    func() error                // before every start
	cleanup    func(ctx context.Context)   // after the process is gone for good
	logf       func(format string, args ...any)

	mu     sync.Mutex
	p      *proc
	paused bool
}

func (s *localServer) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil || s.p.exited() {
		return 0
	}
	return s.p.pid
}

func (s *localServer) runningLocked() bool { return s.p != nil && !s.p.exited() }

// startLocked starts the process and waits until it is ready; on failure
// it kills the process.
func (s *localServer) startLocked(ctx context.Context) error {
	if s.prepare != nil {
		if err := s.prepare(); err != nil {
			return fmt.Errorf("%s: prepare start: %w", s.name, err)
		}
	}
	offset := logSize(s.logPath)
	p, err := startProc(s.spec)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.p, s.paused = p, false
	exited := func() error {
		if !p.exited() {
			return nil
		}
		tail := logTail(s.logPath, offset, 6)
		err := fmt.Errorf("%s exited during start (%v); its log %s ends: %s", s.name, p.err, s.logPath, tail)
		if strings.Contains(tail, "already in use") || strings.Contains(tail, "could not bind") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return err
	}
	if err := waitReady(ctx, localReadyTimeout, s.ready, exited); err != nil {
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		_ = p.kill(kctx)
		cancel()
		if errors.Is(err, errPortInUse) {
			return err
		}
		return fmt.Errorf("%s on 127.0.0.1:%d: %w", s.name, s.port, err)
	}
	return nil
}

// Start implements Control.
func (s *localServer) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runningLocked() {
		return nil
	}
	return s.startLocked(ctx)
}

// Stop implements Control: it sends the graceful stop signal (SIGINT, fast
// shutdown, for PostgreSQL; SIGTERM for Redis) and kills the server if it
// has not exited within 10 seconds.
func (s *localServer) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return nil
	}
	if s.paused {
		s.p.signalAll(syscall.SIGCONT)
		s.paused = false
	}
	_ = syscall.Kill(s.p.pid, s.stopSignal)
	if s.p.wait(ctx, 10*time.Second) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: stop: %w", s.name, err)
	}
	s.logf("%s did not stop within 10s; killing it", s.name)
	if err := s.p.kill(ctx); err != nil {
		return fmt.Errorf("%s: stop: %w", s.name, err)
	}
	return nil
}

// Kill implements Control.
func (s *localServer) Kill(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.killLocked(ctx)
}

func (s *localServer) killLocked(ctx context.Context) error {
	if !s.runningLocked() {
		return nil
	}
	s.paused = false
	if err := s.p.kill(ctx); err != nil {
		return fmt.Errorf("%s: kill: %w", s.name, err)
	}
	return nil
}

// Pause implements Control: it stops the server process and its children
// with SIGSTOP.
func (s *localServer) Pause(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return fmt.Errorf("%s: pause: server is not running", s.name)
	}
	s.p.signalAll(syscall.SIGSTOP)
	s.paused = true
	return nil
}

// Resume implements Control. Resuming a server that is not paused does
// nothing.
func (s *localServer) Resume(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() || !s.paused {
		return nil
	}
	s.p.signalAll(syscall.SIGCONT)
	s.paused = false
	return nil
}

// Restart implements Control.
func (s *localServer) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.killLocked(ctx); err != nil {
		return err
	}
	return s.startLocked(ctx)
}

// Running implements Control.
func (s *localServer) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runningLocked()
}

// teardown ends the server for good: it thaws it if paused, sends
// teardownSignal, kills it if it lingers, and runs cleanup.
func (s *localServer) teardown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.runningLocked() {
		if s.paused {
			s.p.signalAll(syscall.SIGCONT)
			s.paused = false
		}
		sig := syscall.SIGKILL
		if strings.HasPrefix(s.name, "postgres") {
			// Immediate shutdown: the postmaster stops its children and
			// removes its shared memory, which SIGKILL would leave behind.
			sig = syscall.SIGQUIT
		}
		_ = syscall.Kill(s.p.pid, sig)
		if !s.p.wait(ctx, 5*time.Second) {
			err = s.p.kill(ctx)
		}
	}
	if s.cleanup != nil {
		s.cleanup(ctx)
	}
	if err != nil {
		return fmt.Errorf("%s: teardown: %w", s.name, err)
	}
	return nil
}

// logSize returns the current size of a log file, 0 if it does not exist.
func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logTail returns the last n lines of path after offset, joined by " | ".
func logTail(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return "(unreadable log: " + err.Error() + ")"
	}
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return "(empty)"
	}
	return strings.Join(lines, " | ")
}
