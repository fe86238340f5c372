package docker

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	dc "github.com/ory/dockertest/v3/docker"
)

func TestOwnerLabels(t *testing.T) {
	l := ownerLabels(4242, "abc")
	if l[labelOwnerPID] != "4242" || l[labelRunID] != "abc" || len(l) != 2 {
		t.Errorf("ownerLabels = %v, want owner pid and run id only (no host name)", l)
	}
	a, b := newRunID(), newRunID()
	if len(a) != 16 || a == b {
		t.Errorf("run ids %q and %q: want 16 hex digits, different each time", a, b)
	}
}

func TestTeardownList(t *testing.T) {
	got := teardownList([]string{"a", "b"}, []dc.APIContainers{{ID: "b"}, {ID: "c"}})
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("teardownList = %v, want %v", got, want)
	}
}

// TestTeardownRemovesLabelled checks that teardown removes the containers
// it recorded and those it never heard of that carry its run id (created
// by a call whose answer was lost), and nothing of another run.
func TestTeardownRemovesLabelled(t *testing.T) {
	f := newFakeEngine(t)
	mine := ownerLabels(os.Getpid(), "run-a")
	f.containers["recorded"] = &fakeContainer{labels: mine, running: true}
	f.containers["unrecorded"] = &fakeContainer{labels: withLabel(mine, labelServer, "redis")}
	f.containers["other-run"] = &fakeContainer{labels: ownerLabels(os.Getpid(), "run-b"), running: true}
	f.containers["not-ours"] = &fakeContainer{labels: map[string]string{"app": "db"}}
	pair := &containerPair{engine: f.engine(), runID: "run-a"}
	pair.add("recorded")
	pair.add("recorded")
	pair.add("gone-already") // removed by hand: not an error
	if err := pair.teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
	slices.Sort(f.removed)
	if want := []string{"recorded", "unrecorded"}; !slices.Equal(f.removed, want) {
		t.Errorf("removed %v, want %v", f.removed, want)
	}
	if fp := pair.footprint(); len(fp.Containers) != 0 {
		t.Errorf("footprint after teardown = %v, want empty", fp)
	}
}

func TestStaleContainers(t *testing.T) {
	alive := func(pid int) bool { return pid == 100 }
	cs := []dc.APIContainers{
		{ID: "live-owner", Labels: ownerLabels(100, "r1")},
		{ID: "dead-owner", Labels: ownerLabels(200, "r2")},
		{ID: "self", Labels: ownerLabels(300, "r3")},
		// From an older ghostbench, which also labelled the host name:
		// reaped by the owner pid all the same.
		{ID: "old-dead", Labels: map[string]string{labelOwnerPID: "201", "ghostbench.owner-host": "cafe-wifi"}},
		{ID: "garbled", Labels: map[string]string{labelOwnerPID: "x"}},
	}
	got := staleContainers(cs, 300, alive)
	if want := []string{"dead-owner", "old-dead"}; !slices.Equal(got, want) {
		t.Errorf("staleContainers = %v, want %v", got, want)
	}
}

// TestExitedContainerLogs checks that a container that exits is reported
// with its exit code, out-of-memory kill and last log lines.
func TestExitedContainerLogs(t *testing.T) {
	f := newFakeEngine(t)
	var logs strings.Builder
	for i := range 30 {
		logs.WriteString("line " + string(rune('a'+i%26)) + "\n\n")
	}
	logs.WriteString(`FATAL:  invalid value for parameter "max_connections": "-1"` + "\n")
	f.containers["c1"] = &fakeContainer{exitCode: 1, oom: true, logs: logs.String()}
	c := &containerServer{name: "postgres", engine: f.engine(), id: "c1"}
	err := c.exited()
	if !errors.Is(err, errContainerExited) {
		t.Fatalf("exited() = %v, want errContainerExited", err)
	}
	msg := c.failed(context.Background(), err).Error()
	for _, want := range []string{"postgres in container c1: container exited (code 1, out of memory)", `FATAL:  invalid value for parameter "max_connections"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if n := strings.Count(msg, " | "); n != containerLogLines-1 {
		t.Errorf("error has %d log lines, want %d: %q", n+1, containerLogLines, msg)
	}
	if strings.Count(msg, "last log lines") != 1 || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want the log lines once, on one line", msg)
	}

	f.containers["c2"] = &fakeContainer{running: true}
	c2 := &containerServer{name: "redis", engine: f.engine(), id: "c2"}
	if err := c2.exited(); err != nil {
		t.Errorf("exited() of a running container = %v", err)
	}
	// A failure other than an exit gets the log lines too.
	f.containers["c2"].logs = "Warning: no config file specified\n"
	msg = c2.failed(context.Background(), errors.New("not ready after 2m0s: connection refused")).Error()
	if !strings.Contains(msg, "not ready after 2m0s: connection refused; last log lines: Warning: no config file specified") {
		t.Errorf("error %q, want the failure and the log line", msg)
	}
}

func TestLastLines(t *testing.T) {
	if got := lastLines("\n\n", 3); got != "(empty)" {
		t.Errorf("lastLines of blank output = %q", got)
	}
	if got := lastLines("a\nb\n\nc\nd\n", 3); got != "b | c | d" {
		t.Errorf("lastLines = %q, want b | c | d", got)
	}
}

func TestPortTaken(t *testing.T) {
	for msg, want := range map[string]bool{
		"API error (500): driver failed programming external connectivity on endpoint x: Bind for 127.0.0.1:5432 failed: port is already allocated": true,
		"Error starting userland proxy: listen tcp4 127.0.0.1:5432: bind: address already in use":                                                   true,
		"API error (500): OCI runtime create failed": false,
	} {
		if got := portTaken(errors.New(msg)); got != want {
			t.Errorf("portTaken(%q) = %v, want %v", msg, got, want)
		}
	}
}
