package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	dc "github.com/ory/dockertest/v3/docker"
	"github.com/redis/go-redis/v9"
)

// provisionT provisions with the given provider for t and closes the
// servers at the end of t.
func provisionT(t *testing.T, provider string) *Servers {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := Provision(ctx, Config{Provider: provider, Logf: t.Logf})
	if err != nil {
		t.Fatalf("Provision(%s): %v", provider, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// Local images of make docker-images (docker/image/build.sh): the tests of
// the docker provider on an engine use them, since the pinned images cannot
// be pulled without a registry.
const (
	testPostgresImage = "ghostbench/postgres:15-debian"
	testRedisImage    = "ghostbench/redis:7-debian"
)

// dockerTest skips t when no Docker engine answers. Otherwise it returns
// the engine and a docker provider Config with images the engine has:
// GHOSTBENCH_POSTGRES_IMAGE and GHOSTBENCH_REDIS_IMAGE when set, else those
// of make docker-images. Missing images fail t under CI, where make test
// builds them, and skip it elsewhere, saying how to build them.
func dockerTest(t *testing.T) (*dockerEngine, Config) {
	t.Helper()
	eng, err := pingDocker(context.Background())
	if err != nil {
		t.Skipf("docker provider not tested: %v", err)
	}
	cfg := Config{Provider: ProviderDocker, Logf: t.Logf, PostgresImage: testPostgresImage, RedisImage: testRedisImage}
	if v := os.Getenv(EnvPostgresImage); v != "" {
		cfg.PostgresImage = v
	}
	if v := os.Getenv(EnvRedisImage); v != "" {
		cfg.RedisImage = v
	}
	for _, img := range []string{cfg.PostgresImage, cfg.RedisImage} {
		if _, err := eng.pool.Client.InspectImage(img); err != nil {
			msg := fmt.Sprintf("docker provider not tested: the engine at %s has no image %s (%v): run make docker-images, or name images in %s and %s",
				eng.endpoint, img, err, EnvPostgresImage, EnvRedisImage)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return eng, cfg
}

// provisionCfgT provisions cfg for t and closes the servers at the end of t.
func provisionCfgT(t *testing.T, cfg Config) *Servers {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := Provision(ctx, cfg)
	if err != nil {
		t.Fatalf("Provision(%s): %v", cfg.Provider, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// assertNoContainers fails t if the engine has containers of this process.
func assertNoContainers(t *testing.T, eng *dockerEngine) {
	t.Helper()
	cs, err := eng.pool.Client.ListContainers(dc.ListContainersOptions{All: true,
		Filters: map[string][]string{"label": {labelOwnerPID + "=" + strconv.Itoa(os.Getpid())}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		t.Errorf("container %.12s (%v) left behind", c.ID, c.Names)
	}
}

func TestLocalLifecycle(t *testing.T) {
	s := provisionT(t, ProviderLocal)
	fp := s.Footprint()
	if len(fp.PIDs) != 2 || len(fp.Dirs) != 1 {
		t.Fatalf("footprint = %+v, want 2 processes and 1 directory", fp)
	}
	testLifecycle(t, s)
	pgKey := shmKeyOf(t, filepath.Join(fp.Dirs[0], "pgdata"))

	// Leave PostgreSQL killed, so that Close must also remove the shared
	// memory segment a killed postmaster leaves behind.
	ctx := context.Background()
	if err := s.Postgres.Control.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if len(shmSegmentsWithKey(t, pgKey)) == 0 {
		t.Errorf("no shared memory segment left after Kill: the check below would prove nothing")
	}
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("teardown took %v", time.Since(start))
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	assertGone(t, fp)
	if segs := shmSegmentsWithKey(t, pgKey); len(segs) > 0 {
		t.Errorf("shared memory segments %v of the killed postgres left behind", segs)
	}
	if got := s.Footprint(); len(got.PIDs)+len(got.Dirs) > 0 {
		t.Errorf("footprint after Close = %+v, want empty", got)
	}
}

func TestDockerLifecycle(t *testing.T) {
	eng, cfg := dockerTest(t)
	s := provisionCfgT(t, cfg)
	fp := s.Footprint()
	if len(fp.Containers) != 2 {
		t.Fatalf("footprint = %+v, want 2 containers", fp)
	}
	testLifecycle(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	assertNoContainers(t, eng)
	for _, id := range fp.Containers {
		if _, err := eng.pool.Client.InspectContainer(id); err == nil {
			t.Errorf("container %.12s still exists after Close", id)
		}
	}
}

// testLifecycle drives both servers of s through every Control method and
// checks what clients see.
func testLifecycle(t *testing.T, s *Servers) {
	ctx := context.Background()
	for _, srv := range []*Server{s.Postgres, s.Redis} {
		if !strings.HasPrefix(srv.Addr, "127.0.0.1:") {
			t.Errorf("%s listens on %s, want 127.0.0.1", srv.Name, srv.Addr)
		}
		if srv.Version == "" || len(srv.Settings) == 0 {
			t.Errorf("%s: version %q, settings %v; want both", srv.Name, srv.Version, srv.Settings)
		}
		if !srv.Control.Running() {
			t.Errorf("%s not running after Provision", srv.Name)
		}
	}
	for k, want := range map[string]string{"fsync": "off", "synchronous_commit": "on", "wal_level": "logical", "max_connections": "200"} {
		if got := s.Postgres.Settings[k]; got != want {
			t.Errorf("postgres %s = %q, want %q", k, got, want)
		}
	}
	for k, want := range map[string]string{"maxmemory": "1073741824", "maxmemory-policy": "allkeys-lru", "save": "", "appendonly": "no"} {
		if got, ok := s.Redis.Settings[k]; !ok || got != want {
			t.Errorf("redis %s = %q, want %q", k, got, want)
		}
	}

	cc := DefaultClientConfig()
	cc.ReadTimeout, cc.WriteTimeout, cc.DialTimeout = 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond
	// PostgreSQL's connections start a server process each: on a loaded
	// machine, through the engine's port proxy, that takes more than the
	// 200 ms Redis gets to show a paused server.
	pgcc := cc
	pgcc.DialTimeout = 5 * time.Second
	pool, err := s.PostgresPool(ctx, pgcc)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rc := s.RedisClient(cc)
	defer rc.Close()

	if _, err := pool.Exec(ctx, "CREATE TABLE lifecycle (k int PRIMARY KEY, v text); INSERT INTO lifecycle VALUES (1, 'one')"); err != nil {
		t.Fatal(err)
	}
	if err := rc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	wantGet(t, rc, "k", "v")

	// Pause: commands time out instead of failing fast.
	red := s.Redis.Control
	if err := red.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = rc.Get(ctx, "k").Err()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("GET on paused redis: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("GET on paused redis took %v with a 200ms read timeout", d)
	}
	if !red.Running() {
		t.Errorf("paused redis reported not running")
	}
	if err := red.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	wantGet(t, rc, "k", "v")

	// Kill: fails fast (no dial retries), Start brings it back empty.
	if err := red.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if red.Running() {
		t.Errorf("killed redis reported running")
	}
	start = time.Now()
	if err := rc.Get(ctx, "k").Err(); err == nil {
		t.Errorf("GET on killed redis succeeded")
	}
	if d := time.Since(start); d > time.Second { // go-redis defaults: 1.7 s
		t.Errorf("GET on killed redis took %v; the client should not retry", d)
	}
	if err := red.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wantGet(t, rc, "k", "") // data gone
	if err := rc.Set(ctx, "k2", "v2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := red.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	wantGet(t, rc, "k2", "")
	if err := red.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := red.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := red.Pause(ctx); err == nil {
		t.Errorf("Pause of a stopped redis succeeded")
	}
	if err := red.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := red.Start(ctx); err != nil {
		t.Errorf("Start of a running redis: %v", err)
	}
	wantGet(t, rc, "k", "")

	// PostgreSQL keeps committed data through Stop/Start and Kill/Start.
	pg := s.Postgres.Control
	if err := pg.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	var v string
	err = pool.QueryRow(qctx, "SELECT v FROM lifecycle WHERE k = 1").Scan(&v)
	cancel()
	if err == nil {
		t.Errorf("query on paused postgres succeeded")
	}
	if err := pg.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	wantRow(t, pool, "one")
	if err := pg.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if pg.Running() {
		t.Errorf("stopped postgres reported running")
	}
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wantRow(t, pool, "one")
	if _, err := pool.Exec(ctx, "UPDATE lifecycle SET v = 'uno' WHERE k = 1"); err != nil {
		t.Fatal(err)
	}
	if err := pg.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pg.Restart(ctx); err != nil { // kills a paused server
		t.Fatal(err)
	}
	wantRow(t, pool, "uno")
}

func wantGet(t *testing.T, rc redis.UniversalClient, key, want string) {
	t.Helper()
	got, err := rc.Get(context.Background(), key).Result()
	if want == "" {
		if !errors.Is(err, redis.Nil) {
			t.Errorf("GET %s = %q, %v; want no such key", key, got, err)
		}
		return
	}
	if err != nil || got != want {
		t.Errorf("GET %s = %q, %v; want %q", key, got, err, want)
	}
}

func wantRow(t *testing.T, pool *pgxpool.Pool, want string) {
	t.Helper()
	var got string
	// A pool may hold connections to the previous server; the first query
	// on each fails. A fresh attempt shows what the server has.
	var err error
	for range 3 {
		if err = pool.QueryRow(context.Background(), "SELECT v FROM lifecycle WHERE k = 1").Scan(&got); err == nil {
			break
		}
	}
	if err != nil || got != want {
		t.Errorf("row = %q, %v; want %q", got, err, want)
	}
}

// shmKeyOf returns the System V shared memory key of a postgres data
// directory: PostgreSQL uses the directory's inode number.
func shmKeyOf(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(int32(st.Ino))
}

// shmSegmentsWithKey lists the ids of System V shared memory segments
// with the given key.
func shmSegmentsWithKey(t *testing.T, key int64) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/sysvipc/shm")
	if err != nil {
		t.Skipf("cannot list shared memory segments: %v", err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if k, err := strconv.ParseInt(f[0], 10, 64); err == nil && k == key {
			out = append(out, f[1])
		}
	}
	return out
}

// assertGone checks that no process and no directory of fp remains.
func assertGone(t *testing.T, fp Footprint) {
	t.Helper()
	for _, pid := range fp.PIDs {
		if ProcessAlive(pid) {
			t.Errorf("process %d still alive", pid)
		}
	}
	for _, d := range fp.Dirs {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("directory %s still there (%v)", d, err)
		}
	}
}

// leftovers returns the instance directories of this process and its live
// server child processes.
func leftovers() (dirs []string, procs []string) {
	for _, base := range instanceBases() {
		m, _ := filepath.Glob(filepath.Join(base, fmt.Sprintf("%s%d-*", instancePrefix, os.Getpid())))
		dirs = append(dirs, m...)
	}
	for _, c := range childrenOf(os.Getpid()) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c))
		if name := strings.TrimSpace(string(comm)); strings.HasPrefix(name, "postgres") || strings.HasPrefix(name, "redis") {
			procs = append(procs, fmt.Sprintf("%d (%s)", c, name))
		}
	}
	return dirs, procs
}

func assertNoLeftovers(t *testing.T) {
	t.Helper()
	dirs, procs := leftovers()
	if len(dirs) > 0 || len(procs) > 0 {
		t.Errorf("left behind: directories %v, processes %v", dirs, procs)
	}
}

func TestProvisionCancelled(t *testing.T) {
	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s, err := Provision(ctx, Config{Provider: ProviderLocal})
		if !errors.Is(err, context.Canceled) {
			s.Close()
			t.Fatalf("Provision with a cancelled context: %v, want context.Canceled", err)
		}
		assertNoLeftovers(t)
	})
	t.Run("while choosing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Provision logs its choice right before starting servers.
		logf := func(format string, args ...any) {
			if strings.HasPrefix(fmt.Sprintf(format, args...), "provider") {
				cancel()
			}
		}
		s, err := Provision(ctx, Config{Provider: ProviderLocal, Logf: logf})
		if !errors.Is(err, context.Canceled) {
			s.Close()
			t.Fatalf("Provision cancelled while starting: %v, want context.Canceled", err)
		}
		assertNoLeftovers(t)
	})
	for _, after := range []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond} {
		t.Run(fmt.Sprintf("after %v", after), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			timer := time.AfterFunc(after, cancel)
			defer timer.Stop()
			s, err := Provision(ctx, Config{Provider: ProviderLocal})
			cancel()
			if err == nil {
				t.Logf("Provision finished before the cancel")
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			} else if !errors.Is(err, context.Canceled) {
				t.Fatalf("Provision: %v, want context.Canceled", err)
			}
			assertNoLeftovers(t)
		})
	}
	t.Run("after Provision returned", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s, err := Provision(ctx, Config{Provider: ProviderLocal})
		if err != nil {
			t.Fatal(err)
		}
		cancel() // governs the start only: the servers keep running
		if !s.Postgres.Control.Running() || !s.Redis.Control.Running() {
			t.Errorf("servers stopped when the Provision context was cancelled")
		}
		rc := s.RedisClient(DefaultClientConfig())
		if err := rc.Ping(context.Background()).Err(); err != nil {
			t.Errorf("PING after cancel: %v", err)
		}
		rc.Close()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		assertNoLeftovers(t)
	})
}

func TestProvisionParallel(t *testing.T) {
	var wg sync.WaitGroup
	errs := make([]error, 3)
	servers := make([]*Servers, 3)
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = Provision(context.Background(), Config{Provider: ProviderLocal})
		}()
	}
	wg.Wait()
	ports := map[string]bool{}
	for i, s := range servers {
		if errs[i] != nil {
			t.Errorf("Provision %d: %v", i, errs[i])
			continue
		}
		for _, a := range []string{s.Postgres.Addr, s.Redis.Addr} {
			if ports[a] {
				t.Errorf("address %s handed out twice", a)
			}
			ports[a] = true
		}
	}
	for _, s := range servers {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
	assertNoLeftovers(t)
}

func TestReapStale(t *testing.T) {
	// A directory whose owner is gone (pid 1 << 22 + 1 is above the
	// default pid_max, so no process has it) is removed; one whose owner
	// runs is kept.
	base := os.TempDir()
	gone, err := os.MkdirTemp(base, instancePrefix+"4194305-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gone, ownerFile), []byte("4194305\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	alive, err := os.MkdirTemp(base, fmt.Sprintf("%s%d-", instancePrefix, os.Getppid()))
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(alive)
	if err := os.WriteFile(filepath.Join(alive, ownerFile), []byte(strconv.Itoa(os.Getppid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reapStale(t.Logf)
	if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
		os.RemoveAll(gone)
		t.Errorf("directory of a dead owner kept: %v", err)
	}
	if _, err := os.Stat(alive); err != nil {
		t.Errorf("directory of a live owner removed: %v", err)
	}
}

// TestExternalRedaction provisions external servers through URLs that
// carry a password and checks that the password shows nowhere.
func TestExternalRedaction(t *testing.T) {
	local := provisionT(t, ProviderLocal)
	const pw = "hunter2-very-secret"
	pgURL := fmt.Sprintf("postgres://ghostbench:%s@%s/ghostbench?sslmode=disable", pw, local.Postgres.Addr)
	redisURL := fmt.Sprintf("redis://default:%s@%s/0", pw, local.Redis.Addr)
	var logs bytes.Buffer
	cfg := Config{PostgresURL: pgURL, RedisURL: redisURL, Logf: func(f string, a ...any) { fmt.Fprintf(&logs, f+"\n", a...) }}

	s, err := Provision(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Provider != ProviderExternal || s.Postgres.Control != nil || s.Redis.Control != nil {
		t.Errorf("provider %s, controls %v %v; want external with nil controls", s.Provider, s.Postgres.Control, s.Redis.Control)
	}
	if s.Postgres.URL != pgURL {
		t.Errorf("URL = %q, want the URL as given", s.Postgres.URL)
	}
	for _, srv := range []*Server{s.Postgres, s.Redis} {
		if r := srv.Redacted(); strings.Contains(r, pw) || !strings.Contains(r, "xxxxx") {
			t.Errorf("Redacted() = %q", r)
		}
	}
	pool, err := s.PostgresPool(context.Background(), DefaultClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !local.Postgres.Control.Running() || !local.Redis.Control.Running() {
		t.Errorf("closing external servers stopped them")
	}

	var out bytes.Buffer
	if err := Doctor(context.Background(), cfg, &out); err != nil {
		t.Fatalf("Doctor: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "using: external") || !strings.Contains(out.String(), "xxxxx") {
		t.Errorf("doctor output lacks the external provider or the redacted URL:\n%s", out.String())
	}

	// Errors: the same password on unreachable servers.
	bad := Config{PostgresURL: fmt.Sprintf("postgres://ghostbench:%s@127.0.0.1:1/x", pw), RedisURL: fmt.Sprintf("redis://:%s@127.0.0.1:1/0", pw)}
	_, perr := Provision(context.Background(), bad)
	var badOut bytes.Buffer
	derr := Doctor(context.Background(), bad, &badOut)
	if perr == nil || derr == nil {
		t.Fatalf("unreachable servers: Provision %v, Doctor %v; want errors", perr, derr)
	}
	all := logs.String() + out.String() + perr.Error() + derr.Error() + badOut.String()
	if strings.Contains(all, pw) {
		t.Errorf("the password appears in logs, output or errors:\n%s", all)
	}
}

func TestDoctorLocal(t *testing.T) {
	var out bytes.Buffer
	if err := Doctor(context.Background(), Config{Provider: ProviderLocal}, &out); err != nil {
		t.Fatalf("Doctor: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	for _, want := range []string{"external ", "docker ", "local ", "using: local", "postgres ", "redis ", "ready in", "teardown in", "wal_level=logical"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	assertNoLeftovers(t)
}

func TestDoctorNothingAvailable(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var out bytes.Buffer
	err := Doctor(context.Background(), Config{Provider: ProviderLocal}, &out)
	if err == nil {
		t.Fatalf("Doctor succeeded without redis-server:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "redis-server not found in PATH: run `make deps`, or set GHOSTBENCH_REDIS_URL") {
		t.Errorf("doctor output lacks the fix:\n%s", out.String())
	}
}

// BenchmarkProvisionLocal measures the time from nothing to both local
// servers ready, and the teardown time.
func BenchmarkProvisionLocal(b *testing.B) {
	var teardown time.Duration
	for b.Loop() {
		s, err := Provision(context.Background(), Config{Provider: ProviderLocal})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		start := time.Now()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		teardown += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(teardown.Milliseconds())/float64(b.N), "teardown-ms/op")
}
