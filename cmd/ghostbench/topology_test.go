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

// TestDoctorTopologyInterrupt checks, for every topology, that SIGINT
// leaves no process, directory or shared memory segment behind, whether
// it comes while the servers are held or while they start.
func TestDoctorTopologyInterrupt(t *testing.T) {
	bin := buildGhostbench(t)
	for _, topo := range []string{docker.TopologyPGReplica, docker.TopologyRedisReplica, docker.TopologyRedisCluster} {
		t.Run(topo+" while holding", func(t *testing.T) {
			cmd := exec.Command(bin, "doctor", "-hold", "-provider", "local", "-topology", topo)
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
			sc := bufio.NewScanner(stdout)
			var m []string
			var out []string
			for sc.Scan() {
				out = append(out, sc.Text())
				if m == nil {
					m = regexp.MustCompile(`^ready pids=(\S*) dirs=(\S*) `).FindStringSubmatch(sc.Text())
				}
				if strings.HasPrefix(sc.Text(), "holding") {
					break
				}
			}
			if m == nil {
				t.Fatalf("doctor -hold ended before ready: %v\n%s", cmd.Wait(), stderr.String())
			}
			if !strings.Contains(strings.Join(out, "\n"), "topology "+topo) {
				t.Errorf("doctor -hold output does not name topology %s:\n%s", topo, strings.Join(out, "\n"))
			}
			dirs := splitFootprint(m[2])
			var keys []int64
			for _, d := range dirs {
				for _, sub := range []string{"pgdata", "pgreplica"} {
					var st syscall.Stat_t
					if syscall.Stat(filepath.Join(d, sub), &st) == nil {
						keys = append(keys, int64(int32(st.Ino)))
					}
				}
			}
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			for sc.Scan() {
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("doctor -hold after SIGINT: %v\n%s", err, stderr.String())
			}
			for _, p := range splitFootprint(m[1]) {
				pid, _ := strconv.Atoi(p)
				if docker.ProcessAlive(pid) {
					t.Errorf("server process %d alive after SIGINT", pid)
				}
			}
			for _, d := range dirs {
				if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("directory %s left after SIGINT (%v)", d, err)
				}
			}
			if segs := shmWithKeys(t, keys); len(segs) > 0 {
				t.Errorf("shared memory segments %v left after SIGINT", segs)
			}
			assertNothingOf(t, cmd.Process.Pid)
		})
		for _, after := range []time.Duration{100 * time.Millisecond, 400 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s while starting, after %v", topo, after), func(t *testing.T) {
				cmd := exec.Command(bin, "doctor", "-hold", "-provider", "local", "-topology", topo)
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
					t.Logf("exit: %v", err)
				case <-time.After(time.Minute):
					t.Fatal("doctor did not end within a minute of SIGINT")
				}
				assertNothingOf(t, cmd.Process.Pid)
			})
		}
	}
}

// shmWithKeys lists the System V shared memory segments with one of keys.
func shmWithKeys(t *testing.T, keys []int64) []string {
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
		k, err := strconv.ParseInt(f[0], 10, 64)
		for _, want := range keys {
			if err == nil && k == want {
				out = append(out, f[1])
			}
		}
	}
	return out
}
