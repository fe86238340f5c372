package docker

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	dc "github.com/ory/dockertest/v3/docker"
)

func TestSplitImage(t *testing.T) {
	tests := []struct{ in, repo, tag string }{
		{"postgres:15.8-alpine", "postgres", "15.8-alpine"},
		{"redis", "redis", "latest"},
		{"localhost:5000/redis", "localhost:5000/redis", "latest"},
		{"localhost:5000/redis:7", "localhost:5000/redis", "7"},
	}
	for _, tt := range tests {
		if repo, tag := splitImage(tt.in); repo != tt.repo || tag != tt.tag {
			t.Errorf("splitImage(%q) = %q, %q; want %q, %q", tt.in, repo, tag, tt.repo, tt.tag)
		}
	}
}

func TestImagesPinned(t *testing.T) {
	for _, img := range []string{PostgresImage, RedisImage} {
		_, tag := splitImage(img)
		// An exact version: major.minor, not "latest" or a bare major.
		if tag == "latest" || !strings.Contains(tag, ".") {
			t.Errorf("image %s is not pinned to an exact version", img)
		}
	}
	// The compose file for people who run servers by hand uses the same
	// images and publishes on 127.0.0.1 only.
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	compose := string(b)
	for _, img := range []string{PostgresImage, RedisImage} {
		if !strings.Contains(compose, "image: "+img) {
			t.Errorf("compose.yaml does not use %s", img)
		}
	}
	for _, line := range strings.Split(compose, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "- \"") && strings.Contains(l, ":") && !strings.HasPrefix(l, `- "127.0.0.1:`) {
			t.Errorf("compose.yaml publishes a port beyond 127.0.0.1: %s", l)
		}
	}
}

func TestPostgresRunOptions(t *testing.T) {
	labels := ownerLabels(42, "run1")
	o := postgresRunOptions(PostgresImage, 54321, PostgresSettings{Fsync: true, SynchronousCommit: "off", WALLevel: "logical", MaxConnections: 300}, labels)
	if got := o.Repository + ":" + o.Tag; got != PostgresImage {
		t.Errorf("image = %s, want %s", got, PostgresImage)
	}
	wantBind := map[dc.Port][]dc.PortBinding{"5432/tcp": {{HostIP: "127.0.0.1", HostPort: "54321"}}}
	if !reflect.DeepEqual(o.PortBindings, wantBind) {
		t.Errorf("port bindings = %v, want %v", o.PortBindings, wantBind)
	}
	for _, kv := range []string{"fsync=on", "synchronous_commit=off", "wal_level=logical", "max_connections=300", "max_replication_slots=10", "max_wal_senders=10"} {
		i := slices.Index(o.Cmd, kv)
		if i < 1 || o.Cmd[i-1] != "-c" {
			t.Errorf("command %q lacks -c %s", o.Cmd, kv)
		}
	}
	if o.Cmd[0] != "postgres" {
		t.Errorf("command %q does not start with postgres", o.Cmd)
	}
	for _, e := range []string{"POSTGRES_USER=" + containerPostgresUser, "POSTGRES_PASSWORD=" + containerPostgresPassword, "POSTGRES_DB=" + containerPostgresDB} {
		if !slices.Contains(o.Env, e) {
			t.Errorf("env %q lacks %s", o.Env, e)
		}
	}
	if o.Labels[labelOwnerPID] != "42" || o.Labels[labelRunID] != "run1" || o.Labels[labelServer] != "postgres" {
		t.Errorf("labels = %v, want owner-pid 42, run-id run1, server postgres", o.Labels)
	}
	if len(labels) != 2 {
		t.Errorf("postgresRunOptions changed the labels it was given: %v", labels)
	}
}

func TestRedisRunOptions(t *testing.T) {
	o := redisRunOptions(RedisImage, 16379, RedisSettings{MaxMemory: "64MB", MaxMemoryPolicy: "noeviction"}, nil)
	if got := o.Repository + ":" + o.Tag; got != RedisImage {
		t.Errorf("image = %s, want %s", got, RedisImage)
	}
	wantBind := map[dc.Port][]dc.PortBinding{"6379/tcp": {{HostIP: "127.0.0.1", HostPort: "16379"}}}
	if !reflect.DeepEqual(o.PortBindings, wantBind) {
		t.Errorf("port bindings = %v, want %v", o.PortBindings, wantBind)
	}
	want := []string{"redis-server", "--port", "6379", "--bind", "0.0.0.0", "--protected-mode", "no",
		"--save", "", "--appendonly", "no", "--maxmemory", "64mb", "--maxmemory-policy", "noeviction"}
	if !reflect.DeepEqual(o.Cmd, want) {
		t.Errorf("command = %q, want %q", o.Cmd, want)
	}
}

func TestHostConfig(t *testing.T) {
	hc := dc.HostConfig{PublishAllPorts: true, AutoRemove: true}
	hostConfig(&hc)
	if hc.PublishAllPorts || hc.AutoRemove || hc.RestartPolicy.Name != "no" {
		t.Errorf("hostConfig left %+v; want no publish-all, no auto-remove, restart policy no", hc)
	}
}

func TestLocalArgs(t *testing.T) {
	pg := postgresArgs("/d", 5555, DefaultPostgresSettings())
	for _, kv := range []string{"listen_addresses=127.0.0.1", "unix_socket_directories=", "fsync=off", "wal_level=logical"} {
		i := slices.Index(pg, kv)
		if i < 1 || pg[i-1] != "-c" {
			t.Errorf("postgres args %q lack -c %s", pg, kv)
		}
	}
	if !slices.Equal(pg[:4], []string{"-D", "/d", "-p", "5555"}) {
		t.Errorf("postgres args %q do not start with -D /d -p 5555", pg)
	}
	rd := redisArgs("/r", 6666, DefaultRedisSettings())
	want := []string{"--port", "6666", "--bind", "127.0.0.1", "--protected-mode", "yes", "--save", "",
		"--appendonly", "no", "--dir", "/r", "--daemonize", "no", "--logfile", "",
		"--maxmemory", "1gb", "--maxmemory-policy", "allkeys-lru"}
	if !reflect.DeepEqual(rd, want) {
		t.Errorf("redis args = %q, want %q", rd, want)
	}
}
