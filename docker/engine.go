package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// engineEndpoint is the Docker engine address chosen by the docker CLI's
// rules, and why it was chosen.
type engineEndpoint struct {
	// Host is the engine address: unix:///path, tcp://host:port, ssh://...
	Host string
	// Source says where Host came from, for doctor and errors, e.g.
	// `DOCKER_HOST`, `context "colima", named by the currentContext of
	// /home/u/.docker/config.json` or `Colima socket, default context`.
	Source string
	// TLSDir, when set, holds ca.pem, cert.pem and key.pem of a TLS
	// connection to a tcp endpoint.
	TLSDir string
}

func (e engineEndpoint) String() string { return e.Host + " (" + e.Source + ")" }

// engineEnv is what engine discovery reads: the environment, the home
// directory and the file system. Tests replace it.
type engineEnv struct {
	getenv func(string) string
	home   string
	uid    int
	// isSocket reports whether path exists and is a unix socket.
	isSocket func(path string) bool
}

// osEngineEnv returns the engine environment of this process.
func osEngineEnv() engineEnv {
	home, _ := os.UserHomeDir()
	return engineEnv{getenv: os.Getenv, home: home, uid: os.Getuid(), isSocket: isSocket}
}

func isSocket(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&fs.ModeSocket != 0
}

// cliConfigDir returns the docker CLI configuration directory:
// $DOCKER_CONFIG, else ~/.docker.
func (env engineEnv) cliConfigDir() string {
	if d := env.getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	return filepath.Join(env.home, ".docker")
}

// cliConfig is the part of the docker CLI's config.json that ghostbench
// reads: the current context and the registry credentials.
type cliConfig struct {
	CurrentContext string                   `json:"currentContext"`
	Auths          map[string]cliAuthConfig `json:"auths"`
	CredsStore     string                   `json:"credsStore"`
	CredHelpers    map[string]string        `json:"credHelpers"`

	path string // the file read; empty when there is none
}

// cliAuthConfig is one entry of "auths" in config.json.
type cliAuthConfig struct {
	Auth          string `json:"auth"` // base64 of user:password
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// readCLIConfig reads config.json from the CLI configuration directory. A
// missing file is an empty configuration; an unreadable or invalid one is
// an error naming the file, as the docker CLI treats it.
func readCLIConfig(dir string) (*cliConfig, error) {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &cliConfig{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("docker CLI config: %w", err)
	}
	c := &cliConfig{path: path}
	if len(strings.TrimSpace(string(b))) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("docker CLI config %s: invalid JSON: %v", path, err)
	}
	return c, nil
}

// contextMeta is a docker context's meta.json.
type contextMeta struct {
	Name      string `json:"Name"`
	Endpoints map[string]struct {
		Host          string `json:"Host"`
		SkipTLSVerify bool   `json:"SkipTLSVerify"`
	} `json:"Endpoints"`
}

// contextDirName is the directory name of a context in the CLI's context
// store: the hex SHA-256 of its name.
func contextDirName(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:])
}

// resolveEngine chooses the Docker engine as the docker CLI does:
// DOCKER_HOST when set; else the current context (DOCKER_CONTEXT, else
// currentContext in the CLI config) with its endpoint from the context
// store; else, for the default context, the first of the well-known
// sockets that exists (the default socket, rootless Docker, Docker Desktop
// for Linux and Mac, Colima, Rancher Desktop, OrbStack, Podman). The error
// says what was looked at and what to do.
func resolveEngine(env engineEnv) (engineEndpoint, error) {
	if h := env.getenv("DOCKER_HOST"); h != "" {
		e := engineEndpoint{Host: h, Source: "DOCKER_HOST"}
		if env.getenv("DOCKER_TLS_VERIFY") != "" || env.getenv("DOCKER_CERT_PATH") != "" {
			e.TLSDir = env.getenv("DOCKER_CERT_PATH")
			if e.TLSDir == "" {
				e.TLSDir = env.cliConfigDir()
			}
		}
		return e, nil
	}
	dir := env.cliConfigDir()
	name, from := env.getenv("DOCKER_CONTEXT"), "named by DOCKER_CONTEXT"
	if name == "" {
		cfg, err := readCLIConfig(dir)
		if err != nil {
			return engineEndpoint{}, err
		}
		name, from = cfg.CurrentContext, "named by the currentContext of "+cfg.path
	}
	if name != "" && name != "default" {
		return contextEndpoint(dir, name, from)
	}
	return defaultSocket(env)
}

// contextEndpoint reads the docker endpoint of the named context.
func contextEndpoint(dir, name, from string) (engineEndpoint, error) {
	src := fmt.Sprintf("context %q, %s", name, from)
	metaDir := filepath.Join(dir, "contexts", "meta", contextDirName(name))
	b, err := os.ReadFile(filepath.Join(metaDir, "meta.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return engineEndpoint{}, fmt.Errorf("docker %s, does not exist (no %s): run `docker context ls` and `docker context use NAME`", src, filepath.Join(metaDir, "meta.json"))
	}
	if err != nil {
		return engineEndpoint{}, fmt.Errorf("docker %s: %w", src, err)
	}
	var m contextMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return engineEndpoint{}, fmt.Errorf("docker %s: %s: invalid JSON: %v", src, filepath.Join(metaDir, "meta.json"), err)
	}
	ep, ok := m.Endpoints["docker"]
	if !ok || ep.Host == "" {
		return engineEndpoint{}, fmt.Errorf("docker %s, has no docker endpoint in %s", src, filepath.Join(metaDir, "meta.json"))
	}
	e := engineEndpoint{Host: ep.Host, Source: src}
	tlsDir := filepath.Join(dir, "contexts", "tls", contextDirName(name), "docker")
	if fi, err := os.Stat(tlsDir); err == nil && fi.IsDir() {
		e.TLSDir = tlsDir
	}
	return e, nil
}

// knownSocket is a well-known place of an engine's socket.
type knownSocket struct {
	path string
	what string
}

// knownSockets lists the sockets tried for the default context, in order.
func (env engineEnv) knownSockets() []knownSocket {
	run := env.getenv("XDG_RUNTIME_DIR")
	if run == "" {
		run = "/run/user/" + strconv.Itoa(env.uid)
	}
	h := func(p string) string { return filepath.Join(env.home, p) }
	return []knownSocket{
		{"/var/run/docker.sock", "default socket"},
		{filepath.Join(run, "docker.sock"), "rootless Docker socket"},
		{h(".docker/desktop/docker.sock"), "Docker Desktop for Linux socket"},
		{h(".docker/run/docker.sock"), "Docker Desktop for Mac socket"},
		{h(".colima/default/docker.sock"), "Colima socket"},
		{h(".colima/docker.sock"), "Colima socket"},
		{h(".rd/docker.sock"), "Rancher Desktop socket"},
		{h(".orbstack/run/docker.sock"), "OrbStack socket"},
		{filepath.Join(run, "podman", "podman.sock"), "rootless Podman socket"},
		{"/run/podman/podman.sock", "Podman socket"},
	}
}

// defaultSocket returns the first known socket that exists.
func defaultSocket(env engineEnv) (engineEndpoint, error) {
	socks := env.knownSockets()
	for _, s := range socks {
		if env.isSocket(s.path) {
			return engineEndpoint{Host: "unix://" + s.path, Source: s.what + ", default context"}, nil
		}
	}
	paths := make([]string, len(socks))
	for i, s := range socks {
		paths[i] = s.path
	}
	return engineEndpoint{}, fmt.Errorf("no Docker engine found: DOCKER_HOST and DOCKER_CONTEXT are not set, no current context, and none of %s exists: start Docker, or set DOCKER_HOST", strings.Join(paths, ", "))
}

// engineLocality says whether ports the engine publishes on its 127.0.0.1
// are this process's 127.0.0.1. ghostbench publishes container ports on
// loopback only, so it can use an engine only when they are.
type engineLocality struct {
	inContainer func() (marker string, ok bool)
	hostname    func() (string, error)
}

func osLocality() engineLocality {
	return engineLocality{
		inContainer: func() (string, bool) {
			for _, p := range []string{"/.dockerenv", "/run/.containerenv"} {
				if _, err := os.Stat(p); err == nil {
					return p, true
				}
			}
			return "", false
		},
		hostname: os.Hostname,
	}
}

// check returns nil when the engine at e publishes on this machine's
// loopback, and otherwise a one-line error saying how to run instead.
// engineName is the host name the engine reports (GET /info), which tells
// an engine running in this very container from the host's engine whose
// socket is shared into it.
func (l engineLocality) check(e engineEndpoint, engineName string) error {
	u, err := url.Parse(e.Host)
	if err != nil {
		return fmt.Errorf("the Docker engine address %q (%s): %v", e.Host, e.Source, err)
	}
	instead := "run ghostbench on the machine of the Docker engine, or set " + EnvProvider + "=local"
	switch u.Scheme {
	case "unix", "npipe":
		marker, in := l.inContainer()
		if !in {
			return nil
		}
		if me, err := l.hostname(); err == nil && engineName != "" && engineName == me {
			return nil // the engine runs in this container
		}
		return fmt.Errorf("the Docker engine at %s (%s) runs outside this container (%s exists; the engine's host is %q): the ports it publishes on its 127.0.0.1 are not reachable from here; %s",
			e.Host, e.Source, marker, engineName, instead)
	case "tcp", "http", "https":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("the Docker engine at %s (%s) is on another machine: containers publish their ports on that machine's 127.0.0.1 only, which is not reachable from here; %s",
			e.Host, e.Source, instead)
	case "ssh":
		return fmt.Errorf("the Docker engine at %s (%s) is reached over ssh, which ghostbench does not speak, and its containers' ports would be on another machine; %s",
			e.Host, e.Source, instead)
	default:
		return fmt.Errorf("the Docker engine address %s (%s) has the unsupported scheme %q (want unix or tcp); %s", e.Host, e.Source, u.Scheme, instead)
	}
}
