package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench/docker"
)

// buildGhostbench builds the command into a temporary directory.
func buildGhostbench(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ghostbench")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestDoctorInterrupt checks that SIGINT (Ctrl-C) leaves nothing behind,
// whether it comes while the servers are held or while they start.
func TestDoctorInterrupt(t *testing.T) {
	bin := buildGhostbench(t)

	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(fmt.Sprintf("%v while holding", sig), func(t *testing.T) { testHoldSignal(t, bin, sig) })
	}

	t.Run("SIGKILL while holding", func(t *testing.T) { testHoldKilled(t, bin) })

	t.Run("interrupt while holding containers", func(t *testing.T) {
		testHoldSignal(t, bin, os.Interrupt, dockerImagesEnv(t)...)
	})

	for _, after := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond} {
		t.Run(fmt.Sprintf("while starting, after %v", after), func(t *testing.T) {
			cmd := exec.Command(bin, "doctor", "-hold")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			time.Sleep(after) // the point is to interrupt at various moments
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				t.Logf("exit: %v; output: %s", err, strings.TrimSpace(out.String()))
			case <-time.After(time.Minute):
				t.Fatal("doctor did not end within a minute of SIGINT")
			}
			assertNothingOf(t, cmd.Process.Pid)
		})
	}
}

// testHoldSignal runs doctor -hold until ready, sends sig, and checks that
// the servers it printed are gone.
func testHoldSignal(t *testing.T, bin string, sig os.Signal, env ...string) {
	cmd := exec.Command(bin, "doctor", "-hold")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var ready string
	timeout := time.After(2 * time.Minute)
	for ready == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("doctor -hold ended before ready: %v", stderr.String())
			}
			if strings.HasPrefix(l, "ready ") {
				ready = l
			}
		case <-timeout:
			t.Fatal("doctor -hold not ready after 2 minutes")
		}
	}
	m := regexp.MustCompile(`^ready pids=(\S*) dirs=(\S*) containers=(\S*)$`).FindStringSubmatch(ready)
	if m == nil {
		t.Fatalf("ready line %q", ready)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("doctor -hold after %v: %v\n%s", sig, err, stderr.String())
	}
	if !strings.Contains(strings.Join(rest, "\n"), "torn down in") {
		t.Errorf("no teardown line after %v: %q", sig, rest)
	}
	for _, p := range splitFootprint(m[1]) {
		pid, _ := strconv.Atoi(p)
		if docker.ProcessAlive(pid) {
			t.Errorf("server process %d alive after %v", pid, sig)
		}
	}
	for _, d := range splitFootprint(m[2]) {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("directory %s left after %v (%v)", d, sig, err)
		}
	}
	for _, c := range splitFootprint(m[3]) {
		if exec.Command("docker", "inspect", c).Run() == nil {
			t.Errorf("container %s left after %v", c, sig)
		}
	}
	if len(env) > 0 {
		if len(splitFootprint(m[3])) != 2 {
			t.Errorf("ready line %q: want two containers", ready)
		}
		out, err := exec.Command("docker", "ps", "-aq", "--filter", "label=ghostbench.owner-pid="+strconv.Itoa(cmd.Process.Pid)).Output()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("containers of the interrupted doctor left: %q (%v)", out, err)
		}
	}
	assertNothingOf(t, cmd.Process.Pid)
}

// dockerImagesEnv returns the environment that makes the harness run its
// servers in containers of make docker-images' images. It skips t when no
// engine answers or, outside CI (where make test builds them), when the
// images are missing.
func dockerImagesEnv(t *testing.T) []string {
	t.Helper()
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skipf("no Docker engine answers: %v", err)
	}
	images := []string{"ghostbench/postgres:15-debian", "ghostbench/redis:7-debian"}
	if err := exec.Command("docker", append([]string{"image", "inspect"}, images...)...).Run(); err != nil {
		msg := fmt.Sprintf("images %v missing (%v): run make docker-images", images, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return []string{docker.EnvProvider + "=" + docker.ProviderDocker,
		docker.EnvPostgresImage + "=" + images[0], docker.EnvRedisImage + "=" + images[1]}
}

// testHoldKilled kills doctor -hold with SIGKILL, which no program can
// handle: local server processes must die with it (parent-death signal),
// and the next provisioning removes the directory it left.
func testHoldKilled(t *testing.T, bin string) {
	cmd := exec.Command(bin, "doctor", "-hold", "-provider", "local")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	var m []string
	for sc.Scan() {
		if m = regexp.MustCompile(`^ready pids=(\S*) dirs=(\S*) `).FindStringSubmatch(sc.Text()); m != nil {
			break
		}
	}
	if m == nil {
		t.Fatalf("doctor -hold ended before ready: %v", cmd.Wait())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range splitFootprint(m[1]) {
		pid, _ := strconv.Atoi(p)
		for docker.ProcessAlive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // polling for the kernel to deliver the signal
		}
		if docker.ProcessAlive(pid) {
			t.Errorf("server process %d survived the harness's SIGKILL", pid)
		}
	}
	// The next provisioning (here: doctor) reaps what the killed one left.
	if out, err := exec.Command(bin, "doctor", "-provider", "local").CombinedOutput(); err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	for _, d := range splitFootprint(m[2]) {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("directory %s of the killed harness not reaped (%v)", d, err)
		}
	}
}

// assertNothingOf checks that no instance directory named after the
// process pid remains and that no process runs from one.
func assertNothingOf(t *testing.T, pid int) {
	t.Helper()
	prefix := fmt.Sprintf("ghostbench-%d-", pid)
	for _, base := range []string{os.TempDir(), "/dev/shm"} {
		m, _ := filepath.Glob(filepath.Join(base, prefix+"*"))
		for _, d := range m {
			t.Errorf("directory %s left behind", d)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte(prefix)) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if docker.ProcessAlive(pid) {
			t.Errorf("process %d still runs from %s*: %q", pid, prefix, bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
}

func splitFootprint(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
