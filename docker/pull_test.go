package docker

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func base64URLReader(s string) io.Reader {
	return base64.NewDecoder(base64.URLEncoding, strings.NewReader(s))
}

// testPuller returns a puller of the fake engine with the given limits.
func testPuller(t *testing.T, f *fakeEngine, timeout, stall time.Duration) (*puller, *logBuffer) {
	logs := &logBuffer{}
	return &puller{client: f.client(), endpoint: f.srv.URL, timeout: timeout, stall: stall, logf: logs.logf}, logs
}

type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// layerStream is the progress stream of pulling an image of two layers, as
// an engine sends it.
func layerStream(tag string) []string {
	return []string{
		`{"status":"Pulling from library/postgres","id":"` + tag + `"}`,
		`{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}`,
		`{"status":"Pulling fs layer","progressDetail":{},"id":"bbb"}`,
		`{"status":"Downloading","progressDetail":{"current":1000000,"total":3000000},"progress":"[=>  ]","id":"aaa"}`,
		`{"status":"Downloading","progressDetail":{"current":500000,"total":2000000},"id":"bbb"}`,
		`{"status":"Download complete","progressDetail":{},"id":"aaa"}`,
		`{"status":"Extracting","progressDetail":{"current":3000000,"total":3000000},"id":"aaa"}`,
		`{"status":"Pull complete","progressDetail":{},"id":"aaa"}`,
		`{"status":"Download complete","progressDetail":{},"id":"bbb"}`,
		`{"status":"Pull complete","progressDetail":{},"id":"bbb"}`,
		`{"status":"Digest: sha256:0123"}`,
		`{"status":"Status: Downloaded newer image for ` + tag + `"}`,
	}
}

func TestPullSkipsPresentImages(t *testing.T) {
	f := newFakeEngine(t)
	f.images[PostgresImage] = true
	f.images[RedisImage] = true
	p, _ := testPuller(t, f, time.Minute, time.Minute)
	if err := p.ensureImages(context.Background(), PostgresImage, RedisImage); err != nil {
		t.Fatal(err)
	}
	if len(f.pulls) != 0 {
		t.Errorf("pulled %v, want nothing: both images are present", f.pulls)
	}
}

func TestPullProgressAndCredentials(t *testing.T) {
	f := newFakeEngine(t)
	f.images[RedisImage] = true
	f.pull = streamPull(layerStream(PostgresImage)...)
	p, logs := testPuller(t, f, time.Minute, time.Minute)
	var progress bytes.Buffer
	p.progress = &progress
	p.cli = &cliConfig{path: "/home/u/.docker/config.json", Auths: map[string]cliAuthConfig{
		"https://index.docker.io/v1/": {Auth: base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))},
		"ghcr.io":                     {Auth: base64.StdEncoding.EncodeToString([]byte("bob:other"))},
	}}
	if err := p.ensureImages(context.Background(), PostgresImage, RedisImage); err != nil {
		t.Fatal(err)
	}
	if len(f.pulls) != 1 || f.pulls[0].image != PostgresImage {
		t.Fatalf("pulls = %+v, want one of %s", f.pulls, PostgresImage)
	}
	if a := f.pulls[0].auth; a.Username != "alice" || a.Password != "s3cret" || a.ServerAddress != dockerHubServer {
		t.Errorf("pull sent credentials %+v, want alice's Docker Hub credentials from config.json", a)
	}
	out := progress.String()
	for _, want := range []string{"\rpulling " + PostgresImage + " ", "done (2 layers, 5.0 MB)"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress %q lacks %q", out, want)
		}
	}
	if !strings.HasPrefix(out, "pulling "+PostgresImage+" from the engine at "+f.srv.URL+" (deadline 1m0s, given up after 1m0s without progress)\n") {
		t.Errorf("progress %q does not start with what is pulled and its deadline", out)
	}
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 2 {
		t.Errorf("progress %q: want one line redrawn in place, ended once", out)
	}
	if l := logs.String(); strings.Contains(l, "s3cret") || !strings.Contains(l, "pulled "+PostgresImage) || !strings.Contains(l, "as alice") {
		t.Errorf("log %q: want the pull and the user logged, never the password", l)
	}
}

func TestPullProgressLine(t *testing.T) {
	pp := newPullProgress(nil, []string{"x"})
	msgs := layerStream("x")
	for _, m := range msgs[:5] {
		pp.update("x", decodePullMessage(t, m))
	}
	if got, want := pp.images["x"].line(), "0/2 layers, 1.5/5.0 MB"; got != want {
		t.Errorf("line after two downloads started = %q, want %q", got, want)
	}
	for _, m := range msgs[5:8] {
		pp.update("x", decodePullMessage(t, m))
	}
	if got, want := pp.images["x"].line(), "1/2 layers, 3.5/5.0 MB"; got != want {
		t.Errorf("line after one layer = %q, want %q", got, want)
	}
}

func decodePullMessage(t *testing.T, s string) pullMessage {
	t.Helper()
	var m pullMessage
	if err := jsonUnmarshal(s, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPullErrors(t *testing.T) {
	const image = "ghcr.io/acme/nosuch:1.0"
	tests := []struct {
		name    string
		pull    func(http.ResponseWriter, *http.Request)
		timeout time.Duration
		stall   time.Duration
		want    string
	}{
		{"error in the stream", streamPull(
			`{"status":"Pulling from acme/nosuch","id":"1.0"}`,
			`{"errorDetail":{"message":"manifest unknown: manifest unknown"},"error":"manifest unknown: manifest unknown"}`,
		), time.Minute, time.Minute, "could not pull it: manifest unknown"},
		{"refused by the engine", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintln(w, `{"message":"pull access denied for ghcr.io/acme/nosuch, repository does not exist or may require 'docker login'"}`)
		}, time.Minute, time.Minute, "refused the pull (HTTP 404): pull access denied"},
		{"no answer at all", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // a registry that cannot be reached
		}, time.Minute, 200 * time.Millisecond, "reported no progress for 200ms"},
		{"stalls after some progress", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintln(w, `{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, time.Minute, 200 * time.Millisecond, "reported no progress for 200ms"},
		{"slower than the deadline", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for n := int64(0); ; n++ {
				select {
				case <-r.Context().Done():
					return
				case <-tick.C:
				}
				fmt.Fprintf(w, `{"status":"Downloading","progressDetail":{"current":%d,"total":900000000},"id":"aaa"}`+"\n", n)
				w.(http.Flusher).Flush()
			}
		}, 300 * time.Millisecond, time.Minute, "not pulled after 300ms (the pull timeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEngine(t)
			f.pull = tt.pull
			p, _ := testPuller(t, f, tt.timeout, tt.stall)
			done := make(chan error, 1)
			go func() { done <- p.ensureImages(context.Background(), image) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				t.Fatal("ensureImages did not return within a minute")
			}
			if err == nil {
				t.Fatal("ensureImages succeeded, want an error")
			}
			msg := err.Error()
			for _, w := range []string{tt.want, "image " + image + ": ", "`docker pull " + image + "`", EnvProvider + "=local", f.srv.URL} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
		})
	}
}

// TestPullCancel checks that cancelling the context (Ctrl-C) ends a pull
// in progress: the error wraps context.Canceled and the engine sees the
// request go away.
func TestPullCancel(t *testing.T) {
	f := newFakeEngine(t)
	started := make(chan struct{})
	gone := make(chan struct{})
	f.pull = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}`)
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done()
		close(gone)
	}
	p, _ := testPuller(t, f, time.Hour, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.ensureImages(ctx, PostgresImage) }()
	select {
	case <-started:
	case <-time.After(time.Minute):
		t.Fatal("pull did not start")
	}
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("ensureImages did not return within a minute of the cancel")
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "image "+PostgresImage+": pull interrupted") {
		t.Errorf("error %v, want the image's pull interrupted, wrapping context.Canceled", err)
	}
	select {
	case <-gone:
	case <-time.After(time.Minute):
		t.Error("the engine still serves the pull a minute after the cancel")
	}
}

// TestPullCancelWhileInspecting checks that an engine that does not
// answer whether it has the image cannot hold up a cancelled run.
func TestPullCancelWhileInspecting(t *testing.T) {
	f := newFakeEngine(t)
	asked := make(chan struct{}, 1)
	end := make(chan struct{})
	t.Cleanup(func() { close(end) }) // before the server closes
	f.inspect = func(w http.ResponseWriter, r *http.Request) bool {
		asked <- struct{}{}
		// The client's InspectImage takes no context, so the request
		// stays; the harness stops waiting for it.
		select {
		case <-r.Context().Done():
		case <-end:
		}
		return true
	}
	p, _ := testPuller(t, f, time.Hour, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.ensureImages(ctx, PostgresImage) }()
	<-asked
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("ensureImages did not return within a minute of the cancel")
	}
}

func TestImageRegistry(t *testing.T) {
	for in, want := range map[string]string{
		"postgres:15":                             "docker.io",
		"library/postgres":                        "docker.io",
		"bitnami/redis:7":                         "docker.io",
		"docker.io/library/redis":                 "docker.io",
		"index.docker.io/library/redis:7":         "docker.io",
		"ghcr.io/acme/pg:1":                       "ghcr.io",
		"localhost:5000/pg":                       "localhost:5000",
		"localhost/pg":                            "localhost",
		"registry.example.com:8443/a/b@sha256:00": "registry.example.com:8443",
	} {
		if got := imageRegistry(in); got != want {
			t.Errorf("imageRegistry(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRegistryAuth(t *testing.T) {
	ctx := context.Background()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cfg := &cliConfig{path: "/c/config.json", Auths: map[string]cliAuthConfig{
		"https://index.docker.io/v1/": {Auth: b64("hub:pw1")},
		"https://ghcr.io":             {Auth: strings.TrimRight(b64("gh:pw2"), "=")}, // unpadded, as some tools write
		"quay.io":                     {IdentityToken: "tok"},
		"bad.example":                 {Auth: "!!!"},
	}}
	tests := []struct {
		image, user, pass, token, source string
	}{
		{"postgres:15", "hub", "pw1", "", "/c/config.json"},
		{"ghcr.io/acme/pg:1", "gh", "pw2", "", "/c/config.json"},
		{"quay.io/x/y", "", "", "tok", "/c/config.json"},
		{"bad.example/x", "", "", "", ""},
		{"elsewhere.example/x", "", "", "", ""},
	}
	for _, tt := range tests {
		var logs logBuffer
		a, src := registryAuth(ctx, cfg, tt.image, logs.logf)
		if a.Username != tt.user || a.Password != tt.pass || a.IdentityToken != tt.token || src != tt.source {
			t.Errorf("registryAuth(%s) = %+v from %q, want user %q pass %q token %q from %q", tt.image, a, src, tt.user, tt.pass, tt.token, tt.source)
		}
	}
	if a, src := registryAuth(ctx, nil, "postgres", t.Logf); a.Username != "" || src != "" {
		t.Errorf("no config: %+v from %q, want anonymous", a, src)
	}
}

// TestRegistryAuthHelper runs a fake docker-credential helper from PATH,
// as the docker CLI would, for credsStore and for credHelpers.
func TestRegistryAuthHelper(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) {
		p := filepath.Join(dir, "docker-credential-"+name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The helper echoes the server it was asked about, so that the test
	// sees what the harness sent on standard input.
	script("store", `read server; printf '{"ServerURL":"%s","Username":"u-%s","Secret":"s"}' "$server" "$server"`)
	script("ghcr", `read server; printf '{"ServerURL":"%s","Username":"<token>","Secret":"idtok"}' "$server"`)
	script("broken", `echo "credentials not found in native keychain" >&2; exit 1`)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	ctx := context.Background()

	cfg := &cliConfig{CredsStore: "store", CredHelpers: map[string]string{"ghcr.io": "ghcr"}}
	a, src := registryAuth(ctx, cfg, "postgres:15", t.Logf)
	if a.Username != "u-"+dockerHubServer || a.Password != "s" || src != "docker-credential-store" {
		t.Errorf("credsStore: %+v from %q, want user u-%s from docker-credential-store", a, src, dockerHubServer)
	}
	a, src = registryAuth(ctx, cfg, "ghcr.io/acme/pg:1", t.Logf)
	if a.IdentityToken != "idtok" || a.Username != "" || src != "docker-credential-ghcr" {
		t.Errorf("credHelpers: %+v from %q, want the identity token from docker-credential-ghcr", a, src)
	}

	var logs logBuffer
	cfg = &cliConfig{path: "/c/config.json", CredsStore: "broken", Auths: map[string]cliAuthConfig{
		"https://index.docker.io/v1/": {}, // what the CLI writes next to a store
	}}
	a, src = registryAuth(ctx, cfg, "postgres:15", logs.logf)
	if a.Username != "" || src != "" {
		t.Errorf("broken helper: %+v from %q, want an anonymous pull", a, src)
	}
	if !strings.Contains(logs.String(), "credentials not found in native keychain") {
		t.Errorf("log %q does not say why the helper failed", logs.String())
	}
	cfg = &cliConfig{CredsStore: "missing"}
	if a, _ = registryAuth(ctx, cfg, "postgres:15", t.Logf); a.Username != "" {
		t.Errorf("missing helper: %+v, want an anonymous pull", a)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
