package process_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gb "github.com/ghostbench/ghostbench"
	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
	"github.com/ghostbench/ghostbench/store"
	"github.com/ghostbench/ghostbench/strategies"
	"github.com/ghostbench/ghostbench/strategies/process"
)

// env returns a strategy environment on a freshly seeded schema of srv.
func env(t testing.TB, srv *docker.Servers, schema string) strategies.Env {
	t.Helper()
	ctx := context.Background()
	db, err := srv.PostgresPool(ctx, docker.DefaultClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	rdb := srv.RedisClient(docker.DefaultClientConfig())
	t.Cleanup(func() { rdb.Close() })
	st, err := store.New(db, store.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Setup(ctx, 100); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Drop(context.Background()) })
	return strategies.Env{
		DB: db, Redis: rdb, Store: st, TTL: time.Minute, Prefix: "gbproc:" + schema + ":", Hooks: &gb.Hooks{},
		PostgresURL: srv.Postgres.URL, RedisURL: srv.Redis.URL, PostgresTimeout: 2 * time.Second, RedisTimeout: time.Second,
	}
}

// alive reports whether a process with pid exists (and is not a zombie
// of ours: the strategy reaps its child).
func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// TestBadProcesses: every way a process can break gives one line naming
// the process and the problem, with the last lines of its stderr; the
// strategy reports Failed; the process (and what it started) is gone.
func TestBadProcesses(t *testing.T) {
	srv := servertest.Start(t)
	cases := []struct {
		mode    string
		problem string // in the error
		stderr  string // in the error: the stderr tail
	}{
		{"malformed", `malformed line "this is not json"`, "fake process starting in mode malformed"},
		{"oversized", "line longer than 1048576 bytes", "starting in mode oversized"},
		{"unknown-type", `unknown message type "bogus"`, "starting in mode unknown-type"},
		{"bad-id", "read_ok for id 999999, which the harness never sent", "starting in mode bad-id"},
		{"exit", "exited (status 3)", "giving up with a last word"},
		{"silent", "no reply to read id 2 within 300ms", "starting in mode silent"},
		{"lie-ok", "write_ok, but the ledger has no such committed write", "starting in mode lie-ok"},
	}
	for i, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			e := env(t, srv, fmt.Sprintf("gbproc_bad_%d", i))
			logPath := filepath.Join(t.TempDir(), "logs", "process.stderr.log")
			// Only the silent process is about the request timeout: the
			// others get a long one, so that on a loaded machine the
			// protocol fault they commit (a 1 MiB line takes a while
			// through a pipe under -race) is what breaks them.
			timeout := 10 * time.Second
			if c.mode == "silent" {
				timeout = 300 * time.Millisecond
			}
			cfg := process.Config{Command: fakeCommand(t, c.mode), Name: "fake-" + c.mode, RequestTimeout: timeout, StderrPath: logPath}
			st, err := process.New(context.Background(), cfg, e)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ps := process.Process(st)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var opErr error
			if c.mode == "lie-ok" {
				opErr = st.Write(ctx, gb.WriteRequest{Key: 1, Token: 7, Delta: 1})
			} else {
				_, opErr = st.Read(ctx, 1)
			}
			if opErr == nil {
				t.Fatalf("the operation succeeded against a broken process")
			}
			select {
			case <-ps.Failed():
			case <-ctx.Done():
				t.Fatal("Failed not closed")
			}
			// Later calls fail at once with the same reason.
			if _, err := st.Read(ctx, 2); err == nil || !strings.Contains(err.Error(), c.problem) {
				t.Errorf("a later Read: %v, want the reason %q", err, c.problem)
			}
			cerr := st.Close()
			if cerr == nil {
				t.Fatal("Close returned nil for a broken process")
			}
			msg := cerr.Error()
			for _, want := range []string{"process fake-" + c.mode, "pid ", c.problem, "stderr: ", c.stderr} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q\nlacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			log, err := os.ReadFile(logPath)
			if err != nil || !strings.Contains(string(log), "starting in mode "+c.mode) {
				t.Errorf("stderr log %s: %q, %v", logPath, log, err)
			}
			var pid int
			if _, err := fmt.Sscanf(msg[strings.Index(msg, "pid "):], "pid %d", &pid); err != nil {
				t.Fatalf("no pid in %q", msg)
			}
			if alive(pid) {
				t.Errorf("process %d still alive after Close", pid)
			}
			// The grandchild of "exit" lived in the process group: gone too.
			// (SIGKILL is delivered asynchronously: poll briefly.)
			if c.mode == "exit" {
				left := ""
				for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
					out, _ := exec.Command("pgrep", "-g", fmt.Sprint(pid)).Output()
					if left = strings.TrimSpace(string(out)); left == "" {
						break
					}
				}
				if left != "" {
					t.Errorf("processes left in group %d: %s", pid, left)
				}
			}
		})
	}

	t.Run("does-not-start", func(t *testing.T) {
		e := env(t, srv, "gbproc_bad_nostart")
		_, err := process.New(context.Background(), process.Config{Command: []string{"/nonexistent/strategy", "x"}}, e)
		if err == nil || !strings.Contains(err.Error(), `command "/nonexistent/strategy" does not start`) || !strings.Contains(err.Error(), "process exec-x") {
			t.Errorf("New with a missing command: %v", err)
		}
	})
	t.Run("no-init", func(t *testing.T) {
		e := env(t, srv, "gbproc_bad_noinit")
		_, err := process.New(context.Background(), process.Config{Command: fakeCommand(t, "no-init"), Name: "fake", RequestTimeout: 300 * time.Millisecond, InitTimeout: 3 * time.Second}, e)
		if err == nil || !strings.Contains(err.Error(), "no reply to init id 1 within 3s") || !strings.Contains(err.Error(), "stderr: fake process starting") {
			t.Errorf("New with a process that never answers init: %v", err)
		}
	})
}

// TestCommandLine covers the helpers the CLI uses.
func TestCommandLine(t *testing.T) {
	if got := process.DefaultName([]string{"/usr/bin/python3", "examples/python/write_through.py"}); got != "exec-write-through" {
		t.Errorf("DefaultName = %q", got)
	}
	if _, err := process.ParseCommand("  "); err == nil || !strings.Contains(err.Error(), `-exec ""`) {
		t.Errorf("ParseCommand of blanks: %v", err)
	}
	if got, err := process.ParseCommand("a  b c"); err != nil || strings.Join(got, "|") != "a|b|c" {
		t.Errorf("ParseCommand = %q, %v", got, err)
	}
	info := process.Info(process.Config{Command: []string{"x.py"}})
	if err := info.CheckParams(strategies.Params{"anything": "1"}); err != nil {
		t.Errorf("a process checks its own parameters, but CheckParams said %v", err)
	}
}

// TestFreezeAndCrash: a frozen process holds its requests until it is
// continued (app-freeze); a crashed one is restarted and requests made
// while it is down wait for it (app-crash).
func TestFreezeAndCrash(t *testing.T) {
	srv := servertest.Start(t)
	e := env(t, srv, "gbproc_freeze")
	st, err := process.New(context.Background(), process.Config{Command: fakeCommand(t, "noop"), Name: "noop", RequestTimeout: 20 * time.Second}, e)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps := process.Process(st)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if err := ps.Freeze(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := st.Read(ctx, 1)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a read of a frozen process returned: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := ps.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("read after thaw: %v", err)
	}

	if err := ps.Crash("test crash"); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := st.Read(ctx, 2)
		done <- err
	}()
	if err := ps.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("a read made while the process was down: %v, want it served after the restart", err)
	}
	if err := ps.Err(); err != nil {
		t.Errorf("a crash on purpose broke the strategy: %v", err)
	}
}
