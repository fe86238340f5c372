package docker

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
)

// fakeEngine is a local HTTP server speaking the few Docker API endpoints
// the docker provider's pull, teardown and failure paths use. It stands in
// for the engine only: the servers measured are never faked.
type fakeEngine struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	images     map[string]bool                                   // "repo:tag" present
	pull       func(w http.ResponseWriter, r *http.Request)      // POST /images/create
	inspect    func(w http.ResponseWriter, r *http.Request) bool // GET /images/x/json; true if handled
	pulls      []fakePull
	containers map[string]*fakeContainer
	removed    []string
}

type fakePull struct {
	image string // fromImage:tag
	auth  dc.AuthConfiguration
}

type fakeContainer struct {
	labels   map[string]string
	running  bool
	exitCode int
	oom      bool
	logs     string // what the container wrote to stderr
}

var apiVersionPrefix = regexp.MustCompile(`^/v[0-9.]+`)

func newFakeEngine(t *testing.T) *fakeEngine {
	f := &fakeEngine{t: t, images: map[string]bool{}, containers: map[string]*fakeContainer{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a client of the fake engine.
func (f *fakeEngine) client() *dc.Client {
	c, err := dc.NewClient(f.srv.URL)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fakeEngine) engine() *dockerEngine {
	return &dockerEngine{pool: &dockertest.Pool{Client: f.client()}, endpoint: f.srv.URL}
}

func (f *fakeEngine) serve(w http.ResponseWriter, r *http.Request) {
	path := apiVersionPrefix.ReplaceAllString(r.URL.Path, "")
	switch {
	case path == "/_ping":
		w.Write([]byte("OK"))
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/images/") && strings.HasSuffix(path, "/json"):
		if f.inspect != nil && f.inspect(w, r) {
			return
		}
		name := strings.TrimSuffix(strings.TrimPrefix(path, "/images/"), "/json")
		f.mu.Lock()
		ok := f.images[name]
		f.mu.Unlock()
		if !ok {
			http.Error(w, `{"message":"No such image: `+name+`"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"Id":"sha256:%064d"}`, 1)
	case r.Method == http.MethodPost && path == "/images/create":
		p := fakePull{image: r.URL.Query().Get("fromImage") + ":" + r.URL.Query().Get("tag")}
		if h := r.Header.Get("X-Registry-Auth"); h != "" {
			if err := json.NewDecoder(base64URLReader(h)).Decode(&p.auth); err != nil {
				f.t.Errorf("X-Registry-Auth %q: %v", h, err)
			}
		}
		f.mu.Lock()
		f.pulls = append(f.pulls, p)
		pull := f.pull
		f.mu.Unlock()
		if pull == nil {
			http.Error(w, `{"message":"no pull handler"}`, http.StatusInternalServerError)
			return
		}
		pull(w, r)
	case r.Method == http.MethodGet && path == "/containers/json":
		var filters map[string][]string
		_ = json.Unmarshal([]byte(r.URL.Query().Get("filters")), &filters)
		f.mu.Lock()
		var out []dc.APIContainers
		for id, c := range f.containers {
			if matchLabels(c.labels, filters["label"]) {
				out = append(out, dc.APIContainers{ID: id, Labels: c.labels})
			}
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodDelete && strings.HasPrefix(path, "/containers/"):
		id := strings.TrimPrefix(path, "/containers/")
		f.mu.Lock()
		_, ok := f.containers[id]
		delete(f.containers, id)
		if ok {
			f.removed = append(f.removed, id)
		}
		f.mu.Unlock()
		if !ok {
			http.Error(w, `{"message":"No such container: `+id+`"}`, http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/containers/") && strings.HasSuffix(path, "/json"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/containers/"), "/json")
		f.mu.Lock()
		c, ok := f.containers[id]
		var st dc.State
		if ok {
			st = dc.State{Running: c.running, ExitCode: c.exitCode, OOMKilled: c.oom}
		}
		f.mu.Unlock()
		if !ok {
			http.Error(w, `{"message":"No such container"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(dc.Container{ID: id, State: st})
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/containers/") && strings.HasSuffix(path, "/logs"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/containers/"), "/logs")
		f.mu.Lock()
		c, ok := f.containers[id]
		f.mu.Unlock()
		if !ok {
			http.Error(w, `{"message":"No such container"}`, http.StatusNotFound)
			return
		}
		// Without a TTY the engine multiplexes: an 8-byte header (stream
		// 2 = stderr, then the big-endian length) before each frame.
		w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
		for _, line := range strings.SplitAfter(c.logs, "\n") {
			if line == "" {
				continue
			}
			hdr := make([]byte, 8)
			hdr[0] = 2
			binary.BigEndian.PutUint32(hdr[4:], uint32(len(line)))
			w.Write(hdr)
			w.Write([]byte(line))
		}
	default:
		f.t.Logf("fake engine: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	}
}

// matchLabels reports whether labels satisfy every "name" or "name=value"
// filter.
func matchLabels(labels map[string]string, filters []string) bool {
	for _, f := range filters {
		k, v, hasValue := strings.Cut(f, "=")
		got, ok := labels[k]
		if !ok || hasValue && got != v {
			return false
		}
	}
	return true
}

// streamPull returns a pull handler that writes msgs as the engine's JSON
// progress stream.
func streamPull(msgs ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for _, m := range msgs {
			fmt.Fprintln(w, m)
			w.(http.Flusher).Flush()
		}
	}
}
