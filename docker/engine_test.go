package docker

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cliDir is a temporary docker CLI configuration directory.
type cliDir struct {
	t    *testing.T
	dir  string // the configuration directory ($DOCKER_CONFIG or ~/.docker)
	home string
	env  map[string]string
	// sockets are the paths that exist as sockets.
	sockets map[string]bool
}

func newCLIDir(t *testing.T) *cliDir {
	home := t.TempDir()
	return &cliDir{t: t, home: home, dir: filepath.Join(home, ".docker"), env: map[string]string{}, sockets: map[string]bool{}}
}

func (c *cliDir) engineEnv() engineEnv {
	return engineEnv{
		getenv:   func(k string) string { return c.env[k] },
		home:     c.home,
		uid:      1000,
		isSocket: func(p string) bool { return c.sockets[p] },
	}
}

func (c *cliDir) writeFile(rel, content string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *cliDir) config(currentContext string) string {
	b, _ := json.Marshal(map[string]string{"currentContext": currentContext})
	return c.writeFile("config.json", string(b))
}

// context writes a context's meta.json as the docker CLI does.
func (c *cliDir) context(name, host string) {
	meta := map[string]any{
		"Name":      name,
		"Metadata":  map[string]string{"Description": "test"},
		"Endpoints": map[string]any{"docker": map[string]any{"Host": host, "SkipTLSVerify": false}},
	}
	b, _ := json.Marshal(meta)
	c.writeFile(filepath.Join("contexts", "meta", contextDirName(name), "meta.json"), string(b))
}

func TestContextDirName(t *testing.T) {
	// The docker CLI keeps a context's metadata under the SHA-256 of its
	// name: printf colima | sha256sum.
	got := contextDirName("colima")
	want := "f24fd3749c1368328e2b149bec149cb6795619f244c5b584e844961215dadd16"
	if got != want {
		t.Errorf("contextDirName(colima) = %q, want %q", got, want)
	}
}

func TestResolveEngine(t *testing.T) {
	type want struct {
		host, source, tlsDir, err string
	}
	tests := []struct {
		name  string
		setup func(c *cliDir)
		want  want
	}{
		{"DOCKER_HOST wins over contexts", func(c *cliDir) {
			c.env["DOCKER_HOST"] = "tcp://127.0.0.1:2375"
			c.env["DOCKER_CONTEXT"] = "colima"
			c.config("desktop-linux")
			c.context("colima", "unix:///colima.sock")
			c.sockets["/var/run/docker.sock"] = true
		}, want{host: "tcp://127.0.0.1:2375", source: "DOCKER_HOST"}},
		{"DOCKER_HOST with TLS and DOCKER_CERT_PATH", func(c *cliDir) {
			c.env["DOCKER_HOST"] = "tcp://127.0.0.1:2376"
			c.env["DOCKER_TLS_VERIFY"] = "1"
			c.env["DOCKER_CERT_PATH"] = "/certs"
		}, want{host: "tcp://127.0.0.1:2376", source: "DOCKER_HOST", tlsDir: "/certs"}},
		{"DOCKER_HOST with TLS, certificates in the config dir", func(c *cliDir) {
			c.env["DOCKER_HOST"] = "tcp://127.0.0.1:2376"
			c.env["DOCKER_TLS_VERIFY"] = "1"
		}, want{host: "tcp://127.0.0.1:2376", source: "DOCKER_HOST", tlsDir: "HOME/.docker"}},
		{"DOCKER_CONTEXT", func(c *cliDir) {
			c.env["DOCKER_CONTEXT"] = "colima"
			c.context("colima", "unix:///home/u/.colima/default/docker.sock")
			c.sockets["/var/run/docker.sock"] = true
		}, want{host: "unix:///home/u/.colima/default/docker.sock", source: `context "colima", named by DOCKER_CONTEXT`}},
		{"DOCKER_CONTEXT wins over currentContext", func(c *cliDir) {
			c.env["DOCKER_CONTEXT"] = "rootless"
			c.config("desktop-linux")
			c.context("rootless", "unix:///run/user/1000/docker.sock")
			c.context("desktop-linux", "unix:///home/u/.docker/desktop/docker.sock")
		}, want{host: "unix:///run/user/1000/docker.sock", source: `context "rootless", named by DOCKER_CONTEXT`}},
		{"currentContext in config.json", func(c *cliDir) {
			c.config("desktop-linux")
			c.context("desktop-linux", "unix:///home/u/.docker/desktop/docker.sock")
			c.sockets["/var/run/docker.sock"] = true
		}, want{host: "unix:///home/u/.docker/desktop/docker.sock", source: `context "desktop-linux", named by the currentContext of HOME/.docker/config.json`}},
		{"currentContext under DOCKER_CONFIG", func(c *cliDir) {
			c.dir = filepath.Join(c.home, "elsewhere")
			c.env["DOCKER_CONFIG"] = c.dir
			c.config("rancher-desktop")
			c.context("rancher-desktop", "unix:///home/u/.rd/docker.sock")
		}, want{host: "unix:///home/u/.rd/docker.sock", source: `context "rancher-desktop", named by the currentContext of HOME/elsewhere/config.json`}},
		{"context with TLS material", func(c *cliDir) {
			c.env["DOCKER_CONTEXT"] = "remote"
			c.context("remote", "tcp://10.1.2.3:2376")
			c.writeFile(filepath.Join("contexts", "tls", contextDirName("remote"), "docker", "ca.pem"), "x")
		}, want{host: "tcp://10.1.2.3:2376", source: `context "remote", named by DOCKER_CONTEXT`,
			tlsDir: "HOME/.docker/contexts/tls/" + contextDirName("remote") + "/docker"}},
		{"DOCKER_CONTEXT=default means the default sockets", func(c *cliDir) {
			c.env["DOCKER_CONTEXT"] = "default"
			c.config("colima")
			c.sockets["/var/run/docker.sock"] = true
		}, want{host: "unix:///var/run/docker.sock", source: "default socket, default context"}},
		{"context that does not exist", func(c *cliDir) {
			c.config("gone")
		}, want{err: `docker context "gone", named by the currentContext of HOME/.docker/config.json, does not exist`}},
		{"context without a docker endpoint", func(c *cliDir) {
			c.env["DOCKER_CONTEXT"] = "k8s"
			c.writeFile(filepath.Join("contexts", "meta", contextDirName("k8s"), "meta.json"), `{"Name":"k8s","Endpoints":{}}`)
		}, want{err: `docker context "k8s", named by DOCKER_CONTEXT, has no docker endpoint`}},
		{"context meta.json not JSON", func(c *cliDir) {
			c.env["DOCKER_CONTEXT"] = "bad"
			c.writeFile(filepath.Join("contexts", "meta", contextDirName("bad"), "meta.json"), `{`)
		}, want{err: "invalid JSON"}},
		{"config.json not JSON", func(c *cliDir) {
			c.writeFile("config.json", "{currentContext: colima")
		}, want{err: "docker CLI config HOME/.docker/config.json: invalid JSON"}},
		{"empty config.json", func(c *cliDir) {
			c.writeFile("config.json", "")
			c.sockets["/var/run/docker.sock"] = true
		}, want{host: "unix:///var/run/docker.sock", source: "default socket, default context"}},
		{"default socket first", func(c *cliDir) {
			c.sockets["/var/run/docker.sock"] = true
			c.sockets[filepath.Join(c.home, ".docker/desktop/docker.sock")] = true
		}, want{host: "unix:///var/run/docker.sock", source: "default socket, default context"}},
		{"rootless Docker in XDG_RUNTIME_DIR", func(c *cliDir) {
			c.env["XDG_RUNTIME_DIR"] = "/run/user/1234"
			c.sockets["/run/user/1234/docker.sock"] = true
		}, want{host: "unix:///run/user/1234/docker.sock", source: "rootless Docker socket, default context"}},
		{"rootless Docker without XDG_RUNTIME_DIR", func(c *cliDir) {
			c.sockets["/run/user/1000/docker.sock"] = true
		}, want{host: "unix:///run/user/1000/docker.sock", source: "rootless Docker socket, default context"}},
		{"Docker Desktop for Linux", func(c *cliDir) {
			c.sockets[filepath.Join(c.home, ".docker/desktop/docker.sock")] = true
		}, want{host: "unix://HOME/.docker/desktop/docker.sock", source: "Docker Desktop for Linux socket, default context"}},
		{"Docker Desktop for Mac", func(c *cliDir) {
			c.sockets[filepath.Join(c.home, ".docker/run/docker.sock")] = true
		}, want{host: "unix://HOME/.docker/run/docker.sock", source: "Docker Desktop for Mac socket, default context"}},
		{"Colima", func(c *cliDir) {
			c.sockets[filepath.Join(c.home, ".colima/default/docker.sock")] = true
		}, want{host: "unix://HOME/.colima/default/docker.sock", source: "Colima socket, default context"}},
		{"Rancher Desktop", func(c *cliDir) {
			c.sockets[filepath.Join(c.home, ".rd/docker.sock")] = true
		}, want{host: "unix://HOME/.rd/docker.sock", source: "Rancher Desktop socket, default context"}},
		{"rootless Podman", func(c *cliDir) {
			c.env["XDG_RUNTIME_DIR"] = "/run/user/1000"
			c.sockets["/run/user/1000/podman/podman.sock"] = true
		}, want{host: "unix:///run/user/1000/podman/podman.sock", source: "rootless Podman socket, default context"}},
		{"Podman", func(c *cliDir) {
			c.sockets["/run/podman/podman.sock"] = true
		}, want{host: "unix:///run/podman/podman.sock", source: "Podman socket, default context"}},
		{"nothing anywhere", func(c *cliDir) {}, want{err: "no Docker engine found: DOCKER_HOST and DOCKER_CONTEXT are not set, no current context, and none of /var/run/docker.sock, "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLIDir(t)
			tt.setup(c)
			home := func(s string) string { return strings.ReplaceAll(s, "HOME", c.home) }
			got, err := resolveEngine(c.engineEnv())
			if tt.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), home(tt.want.err)) {
					t.Fatalf("resolveEngine: %v, %v; want error containing %q", got, err, home(tt.want.err))
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolveEngine: %v", err)
			}
			want := engineEndpoint{Host: home(tt.want.host), Source: home(tt.want.source), TLSDir: home(tt.want.tlsDir)}
			if got != want {
				t.Errorf("resolveEngine = %+v, want %+v", got, want)
			}
		})
	}
}

// TestResolveEngineRealSocket finds a real listening socket in a temporary
// home, through the real socket check.
func TestResolveEngineRealSocket(t *testing.T) {
	home, err := os.MkdirTemp("", "gb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	path := filepath.Join(home, ".docker", "run", "docker.sock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	// A regular file in an earlier place is not a socket.
	if err := os.MkdirAll(filepath.Join(home, ".docker", "desktop"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".docker", "desktop", "docker.sock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Skipf("cannot listen on a unix socket: %v", err)
	}
	defer l.Close()
	env := engineEnv{getenv: func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return home // no rootless socket there
		}
		return ""
	}, home: home, isSocket: isSocket}
	if isSocket("/var/run/docker.sock") || isSocket("/run/podman/podman.sock") {
		t.Skip("this machine has a system engine socket, which comes first")
	}
	got, err := resolveEngine(env)
	if err != nil {
		t.Fatal(err)
	}
	if got.Host != "unix://"+path || !strings.Contains(got.Source, "Docker Desktop for Mac") {
		t.Errorf("resolveEngine = %+v, want unix://%s from the Docker Desktop for Mac socket", got, path)
	}
}

func TestEngineLocality(t *testing.T) {
	outside := engineLocality{
		inContainer: func() (string, bool) { return "/.dockerenv", true },
		hostname:    func() (string, error) { return "devbox-container", nil },
	}
	onHost := engineLocality{
		inContainer: func() (string, bool) { return "", false },
		hostname:    func() (string, error) { return "laptop", nil },
	}
	tests := []struct {
		name   string
		loc    engineLocality
		host   string
		engine string // the engine's host name
		err    string // "" for usable
	}{
		{"unix socket on the host", onHost, "unix:///var/run/docker.sock", "laptop", ""},
		{"tcp loopback", onHost, "tcp://127.0.0.1:2375", "laptop", ""},
		{"tcp localhost", onHost, "tcp://localhost:2375", "laptop", ""},
		{"tcp IPv6 loopback", onHost, "tcp://[::1]:2375", "laptop", ""},
		{"tcp loopback from a container (engine in the same network namespace)", outside, "tcp://127.0.0.1:2375", "dind", ""},
		{"tcp to another machine", onHost, "tcp://10.0.0.5:2376", "builder", "is on another machine"},
		{"Docker-in-Docker service", outside, "tcp://docker:2375", "dind", "is on another machine"},
		{"ssh", onHost, "ssh://me@builder", "", "over ssh"},
		{"host socket shared into a container", outside, "unix:///var/run/docker.sock", "laptop", "runs outside this container (/.dockerenv exists"},
		{"engine inside this container", outside, "unix:///var/run/docker.sock", "devbox-container", ""},
		{"unknown scheme", onHost, "fd://3", "", "unsupported scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.loc.check(engineEndpoint{Host: tt.host, Source: "DOCKER_HOST"}, tt.engine)
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("check(%s) = %v, want usable", tt.host, err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("check(%s) = %v, want error containing %q", tt.host, err, tt.err)
			case err != nil:
				for _, w := range []string{tt.host, "DOCKER_HOST", EnvProvider + "=local"} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err, w)
					}
				}
			}
		})
	}
}

// fakePing is a fake engine answering only the ping and info endpoints.
func fakePing(t *testing.T, name string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/_ping"):
			w.Write([]byte("OK"))
		case strings.HasSuffix(r.URL.Path, "/info"):
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"Name": name})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestConnectEngine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	onHost := engineLocality{inContainer: func() (string, bool) { return "", false }, hostname: os.Hostname}

	t.Run("answers", func(t *testing.T) {
		srv := fakePing(t, "laptop")
		c := newCLIDir(t)
		c.env["DOCKER_HOST"] = "tcp://" + srv.Listener.Addr().String()
		eng, err := connectEngine(ctx, c.engineEnv(), onHost)
		if err != nil {
			t.Fatal(err)
		}
		if eng.found.Source != "DOCKER_HOST" || eng.endpoint != c.env["DOCKER_HOST"] {
			t.Errorf("engine %+v, want %s from DOCKER_HOST", eng.found, c.env["DOCKER_HOST"])
		}
	})
	t.Run("closed tcp port", func(t *testing.T) {
		c := newCLIDir(t)
		c.env["DOCKER_HOST"] = "tcp://" + closedPort(t)
		_, err := connectEngine(ctx, c.engineEnv(), onHost)
		want := "no Docker engine answers at " + c.env["DOCKER_HOST"] + " (DOCKER_HOST): "
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("connectEngine = %v, want %q ... refused", err, want)
		}
	})
	t.Run("context whose socket does not exist", func(t *testing.T) {
		c := newCLIDir(t)
		sock := filepath.Join(c.home, "colima", "docker.sock")
		c.config("colima")
		c.context("colima", "unix://"+sock)
		_, err := connectEngine(ctx, c.engineEnv(), onHost)
		if err == nil || !strings.Contains(err.Error(), `context "colima"`) || !strings.Contains(err.Error(), sock) ||
			!strings.Contains(err.Error(), "no such file") {
			t.Fatalf("connectEngine = %v, want the context, the socket and that it does not exist", err)
		}
	})
	t.Run("engine outside this container", func(t *testing.T) {
		srv := fakePing(t, "the-host")
		c := newCLIDir(t)
		c.env["DOCKER_HOST"] = "tcp://" + srv.Listener.Addr().String()
		// A unix socket would be the real case; tcp to loopback counts
		// as local, so check the refusal through a forwarding socket.
		sock := filepath.Join(c.home, "d.sock")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Skipf("unix socket: %v", err)
		}
		go forward(l, srv.Listener.Addr().String())
		t.Cleanup(func() { l.Close() })
		c.env["DOCKER_HOST"] = "unix://" + sock
		inside := engineLocality{inContainer: func() (string, bool) { return "/.dockerenv", true },
			hostname: func() (string, error) { return "me", nil }}
		_, err = connectEngine(ctx, c.engineEnv(), inside)
		if err == nil || !strings.Contains(err.Error(), `the engine's host is "the-host"`) {
			t.Fatalf("connectEngine = %v, want a refusal naming the engine's host", err)
		}
	})
	t.Run("not an engine", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(srv.Close)
		c := newCLIDir(t)
		c.env["DOCKER_HOST"] = "tcp://" + srv.Listener.Addr().String()
		_, err := connectEngine(ctx, c.engineEnv(), onHost)
		if err == nil || !strings.Contains(err.Error(), "not as a Docker engine (HTTP 404 to GET /_ping)") {
			t.Fatalf("connectEngine = %v, want it to say that this is no engine", err)
		}
	})
	t.Run("ssh is refused without dialing", func(t *testing.T) {
		c := newCLIDir(t)
		c.env["DOCKER_HOST"] = "ssh://me@192.0.2.1"
		_, err := connectEngine(ctx, c.engineEnv(), onHost)
		if err == nil || !strings.Contains(err.Error(), "over ssh") {
			t.Fatalf("connectEngine = %v, want the ssh refusal", err)
		}
	})
}

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// forward copies connections accepted on l to addr until l is closed.
func forward(l net.Listener, addr string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			u, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer u.Close()
			done := make(chan struct{}, 2)
			go func() { copyConn(u, c); done <- struct{}{} }()
			go func() { copyConn(c, u); done <- struct{}{} }()
			<-done
		}()
	}
}

func copyConn(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				if cw, ok := dst.(interface{ CloseWrite() error }); ok {
					cw.CloseWrite()
				}
			}
			return
		}
	}
}
