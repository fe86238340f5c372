package servertest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/docker"
	"github.com/ghostbench/ghostbench/internal/servertest"
)

// TestStart checks that Start hands back two working servers and that
// their teardown is registered.
func TestStart(t *testing.T) {
	var fp docker.Footprint
	t.Run("servers", func(t *testing.T) {
		s := servertest.Start(t)
		fp = s.Footprint()
		ctx := context.Background()
		pool, err := s.PostgresPool(ctx, docker.DefaultClientConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		var got int
		if err := pool.QueryRow(ctx, "SELECT 41 + 1").Scan(&got); err != nil || got != 42 {
			t.Fatalf("SELECT 41 + 1 = %d, %v; want 42", got, err)
		}
		rc := s.RedisClient(docker.DefaultClientConfig())
		defer rc.Close()
		if err := rc.Set(ctx, "servertest:k", "v", 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
		if v, err := rc.Get(ctx, "servertest:k").Result(); err != nil || v != "v" {
			t.Fatalf("GET = %q, %v; want \"v\"", v, err)
		}
	})
	// The sub-test's cleanup has run: nothing it started may remain.
	for _, pid := range fp.PIDs {
		if docker.ProcessAlive(pid) {
			t.Errorf("server process %d still alive after the test ended", pid)
		}
	}
}

// helperEnv selects TestHelperFailingTest in a re-executed test binary.
const helperEnv = "SERVERTEST_HELPER_FAIL"

// TestHelperFailingTest is not a test of its own: TestTeardownOnFailure
// runs it in a child process, where it starts servers, prints what they
// are, and fails.
func TestHelperFailingTest(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper for TestTeardownOnFailure")
	}
	s := servertest.Start(t)
	fp := s.Footprint()
	fmt.Printf("footprint provider=%s pids=%s dirs=%s containers=%s\n", s.Provider, joinInts(fp.PIDs), strings.Join(fp.Dirs, ","), strings.Join(fp.Containers, ","))
	t.Fatal("deliberate failure after Start")
}

// TestTeardownOnFailure checks that a test failing midway still tears its
// servers down: processes gone, directory gone.
func TestTeardownOnFailure(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		t.Skip("in the helper process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFailingTest$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("helper test did not fail as it should: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "deliberate failure") {
		t.Fatalf("helper failed for another reason:\n%s", out)
	}
	m := regexp.MustCompile(`footprint provider=(\S*) pids=(\S*) dirs=(\S*) containers=(\S*)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("helper printed no footprint:\n%s", out)
	}
	split := func(b []byte) []string {
		if len(b) == 0 {
			return nil
		}
		return strings.Split(string(b), ",")
	}
	provider, pids, dirs, containers := string(m[1]), split(m[2]), split(m[3]), split(m[4])
	if provider == docker.ProviderExternal {
		t.Skip("external servers: the harness started nothing that could be left behind")
	}
	if len(pids)+len(dirs)+len(containers) == 0 {
		t.Fatalf("%s provider started nothing?\n%s", provider, out)
	}
	for _, p := range pids {
		pid, err := strconv.Atoi(p)
		if err != nil {
			t.Fatal(err)
		}
		if docker.ProcessAlive(pid) {
			t.Errorf("server process %d alive after the failing test ended", pid)
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("directory %s left after the failing test ended (%v)", d, err)
		}
	}
	for _, c := range containers {
		if err := exec.Command("docker", "inspect", c).Run(); err == nil {
			t.Errorf("container %s left after the failing test ended", c)
		}
	}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
