package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ghostbench/ghostbench/docker"
)

func TestDoctorUsage(t *testing.T) {
	t.Setenv(docker.EnvRedisURL, "redis://:usage-secret@127.0.0.1:1/0")
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
	}{
		{[]string{"doctor", "-h"}, exitOK, "examples:", ""},
		{[]string{"doctor", "-nosuchflag"}, exitUsage, "", "doctor: flag provided but not defined: -nosuchflag"},
		{[]string{"doctor", "extra"}, exitUsage, "", `unexpected argument "extra"`},
		{[]string{"doctor", "-pg-max-connections", "many"}, exitUsage, "", "pg-max-connections"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := Run(context.Background(), tt.args, &out, &errb)
		if code != tt.wantCode || !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(errb.String(), tt.wantErr) {
			t.Errorf("Run(%q) = %d, stdout %q, stderr %q; want %d, stdout with %q, stderr with %q",
				tt.args, code, out.String(), errb.String(), tt.wantCode, tt.wantOut, tt.wantErr)
		}
		if strings.Contains(out.String()+errb.String(), "usage-secret") {
			t.Errorf("Run(%q) shows the password of GHOSTBENCH_REDIS_URL", tt.args)
		}
	}
}

func TestDoctorBadSettings(t *testing.T) {
	const pw = "doctor-secret-pw"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unreachable", map[string]string{docker.EnvPostgresURL: "postgres://u:" + pw + "@127.0.0.1:1/db", docker.EnvRedisURL: "redis://:" + pw + "@127.0.0.1:1/0"},
			nil, "GHOSTBENCH_POSTGRES_URL: cannot use postgres at postgres://u:xxxxx@127.0.0.1:1/db"},
		{"malformed flag URL", nil, []string{"-postgres-url", "postgres://u:" + pw + "@h:port/db", "-redis-url", "redis://127.0.0.1:1/0"},
			`-postgres-url: malformed URL "postgres://u:xxxxx@h:port/db"`},
		{"missing one", map[string]string{docker.EnvRedisURL: "redis://:" + pw + "@127.0.0.1:1/0"}, nil,
			"GHOSTBENCH_POSTGRES_URL is not set"},
		{"unknown provider", map[string]string{docker.EnvProvider: "cloud"}, nil, `GHOSTBENCH_PROVIDER: unknown provider "cloud"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{docker.EnvProvider, docker.EnvPostgresURL, docker.EnvRedisURL} {
				t.Setenv(k, tt.env[k])
			}
			var out, errb bytes.Buffer
			code := Run(context.Background(), append([]string{"doctor"}, tt.args...), &out, &errb)
			if code != exitError {
				t.Errorf("exit code %d, want %d", code, exitError)
			}
			lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr = %q, want one line with %q", errb.String(), tt.want)
			}
			if strings.Contains(out.String()+errb.String(), pw) {
				t.Errorf("the password appears in the output:\n%s\n%s", out.String(), errb.String())
			}
		})
	}
}
