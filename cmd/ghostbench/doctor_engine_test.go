package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/docker"
)

// closedAddr returns a loopback address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// missingSocketContext makes a docker CLI config directory whose current
// context "colima" points at a socket that does not exist, and returns the
// socket's path.
func missingSocketContext(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "colima", "default", "docker.sock")
	sum := sha256.Sum256([]byte("colima"))
	meta := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json")
	if err := os.MkdirAll(filepath.Dir(meta), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(meta, []byte(`{"Name":"colima","Endpoints":{"docker":{"Host":"unix://`+sock+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext":"colima"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	return sock
}

// TestDoctorEngineUnreachable runs doctor with an engine that cannot be
// reached: one clear line about it and, under "auto", one saying that it
// falls back to local and why; forced to docker, one error line.
func TestDoctorEngineUnreachable(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) (want string) // what the docker line must say
	}{
		{"DOCKER_HOST at a closed tcp port", func(t *testing.T) string {
			addr := closedAddr(t)
			t.Setenv("DOCKER_HOST", "tcp://"+addr)
			return "no Docker engine answers at tcp://" + addr + " (DOCKER_HOST): connection refused (nothing listens there): start the engine, or point DOCKER_HOST or DOCKER_CONTEXT at another"
		}},
		{"context whose socket does not exist", func(t *testing.T) string {
			t.Setenv("DOCKER_HOST", "")
			sock := missingSocketContext(t)
			return "no Docker engine answers at unix://" + sock + ` (context "colima", named by the currentContext of ` +
				filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json") + "): the socket does not exist (no such file or directory): start the engine, or point DOCKER_HOST or DOCKER_CONTEXT at another"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+", auto", func(t *testing.T) {
			for _, k := range []string{docker.EnvProvider, docker.EnvPostgresURL, docker.EnvRedisURL, "DOCKER_CONTEXT", "DOCKER_CONFIG"} {
				t.Setenv(k, "")
			}
			want := tt.setup(t)
			var out, errb bytes.Buffer
			code := Run(context.Background(), []string{"doctor"}, &out, &errb)
			if code != exitOK {
				t.Fatalf("doctor exit %d, want %d (local servers); stderr %s\nstdout %s", code, exitOK, errb.String(), out.String())
			}
			var dockerLine, autoLine string
			for _, l := range strings.Split(out.String(), "\n") {
				switch {
				case strings.HasPrefix(l, "  docker "):
					dockerLine = l
				case strings.HasPrefix(l, "auto: "):
					autoLine = l
				}
			}
			if dockerLine != "  docker    unavailable: "+want {
				t.Errorf("docker line %q\nwant %q", dockerLine, "  docker    unavailable: "+want)
			}
			if autoLine != "auto: falls back to local, because the docker provider is unavailable: "+want {
				t.Errorf("auto line %q, want the fallback to local with %q", autoLine, want)
			}
			if !strings.Contains(out.String(), "\nusing: local (") {
				t.Errorf("doctor did not use local servers:\n%s", out.String())
			}
		})
		t.Run(tt.name+", forced docker", func(t *testing.T) {
			for _, k := range []string{docker.EnvPostgresURL, docker.EnvRedisURL, "DOCKER_CONTEXT", "DOCKER_CONFIG"} {
				t.Setenv(k, "")
			}
			t.Setenv(docker.EnvProvider, docker.ProviderDocker)
			want := tt.setup(t)
			var out, errb bytes.Buffer
			code := Run(context.Background(), []string{"doctor"}, &out, &errb)
			if code != exitError {
				t.Errorf("doctor exit %d, want %d", code, exitError)
			}
			lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], docker.EnvProvider+"=docker: "+want) {
				t.Errorf("stderr %q, want one line with %q", errb.String(), want)
			}
			if strings.Contains(out.String(), "auto: ") {
				t.Errorf("forced docker, yet doctor speaks of auto falling back:\n%s", out.String())
			}
		})
	}
}
