package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvChromium names the Chromium binary the browser test runs; by default
// it looks for chromium, chromium-browser, google-chrome in PATH.
const EnvChromium = "GHOSTBENCH_CHROMIUM"

// findChromium returns the browser to drive, or fails the test saying how
// to install one: a test that needs a browser must not pass without one.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("no Chromium found (looked for chromium, chromium-browser, google-chrome in PATH, and $%s): "+
		"the index.html test needs a real headless browser; install it with `make deps-browser` "+
		"(apt-get install -y chromium) or set %s", EnvChromium, EnvChromium)
	return ""
}

// pageInfo is what the probe script reads from a loaded page.
type pageInfo struct {
	Title  string
	Images []struct {
		Src      string
		Complete bool
		W, H     int
	}
	Tables []struct {
		Scenario string
		Rows     []struct {
			Scenario, Strategy string
			Cells              int
		}
	}
	Links    []string
	Scripts  int
	External int
}

const pageProbe = `JSON.stringify({
	title: document.title,
	images: Array.from(document.images).map(i => ({src: i.getAttribute("src"), complete: i.complete, w: i.naturalWidth, h: i.naturalHeight})),
	tables: Array.from(document.querySelectorAll("table.summary")).map(t => ({
		scenario: t.dataset.scenario,
		rows: Array.from(t.tBodies[0].rows).map(r => ({scenario: r.dataset.scenario, strategy: r.dataset.strategy, cells: r.cells.length}))
	})),
	links: Array.from(document.links).map(a => a.getAttribute("href")),
	scripts: document.scripts.length,
	external: Array.from(document.querySelectorAll("link[href], script[src], iframe")).length
})`

// checkPage returns every problem with the index.html in dir, as loaded
// by b: browser-reported ones (console errors, exceptions, failed loads,
// network requests) and those found by comparing the page with m.
func checkPage(ctx context.Context, t *testing.T, b *browser, dir string, m *Matrix) []string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	pg, problems, err := b.load(ctx, (&url.URL{Scheme: "file", Path: abs}).String())
	if err != nil {
		t.Fatal(err)
	}
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !strings.Contains(pg.Title, m.Bench.Name) {
		bad("title %q does not name the bench %q", pg.Title, m.Bench.Name)
	}
	if pg.Scripts != 1 || pg.External != 0 {
		bad("page has %d scripts and %d external links/iframes; it must be self-contained, with its one inline script (table sorting)", pg.Scripts, pg.External)
	}
	// Every plot, one image each, all loaded.
	if want := len(m.Scenarios) * len(plotKinds); len(pg.Images) != want {
		bad("%d images, want %d (one per scenario and plot kind)", len(pg.Images), want)
	}
	for _, im := range pg.Images {
		if !im.Complete || im.W == 0 || im.H == 0 {
			bad("image %s did not load (complete %v, %dx%d)", im.Src, im.Complete, im.W, im.H)
		}
	}
	// One table per scenario, one row per strategy in it.
	if len(pg.Tables) != len(m.Scenarios) {
		bad("%d tables, want %d (one per scenario)", len(pg.Tables), len(m.Scenarios))
	}
	for i, tb := range pg.Tables {
		if i >= len(m.Scenarios) {
			break
		}
		sc := m.Scenarios[i]
		if tb.Scenario != sc {
			bad("table %d is for %q, want %q", i, tb.Scenario, sc)
		}
		want := m.Row(sc)
		if len(tb.Rows) != len(want) {
			bad("%s: %d rows, want %d (one per strategy)", sc, len(tb.Rows), len(want))
			continue
		}
		for j, r := range tb.Rows {
			if r.Scenario != sc || r.Strategy != want[j].Strategy {
				bad("%s row %d: %s / %s, want %s / %s", sc, j, r.Scenario, r.Strategy, sc, want[j].Strategy)
			}
			if r.Cells != len(tableColumns)+1 {
				bad("%s / %s: %d cells, want %d", sc, r.Strategy, r.Cells, len(tableColumns)+1)
			}
		}
	}
	// Links point into the folder, at files that exist.
	for _, l := range pg.Links {
		if strings.HasPrefix(l, "#") {
			continue
		}
		if strings.Contains(l, "://") || strings.HasPrefix(l, "/") {
			bad("link %q leaves the results folder", l)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(l))); err != nil {
			bad("dead link %q: %v", l, err)
		}
	}
	return problems
}

// testIndexInBrowser loads the rendered index.html in dir in headless
// Chromium, driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe), and checks that the page loads without a
// console error or exception, that it fetches nothing from the network,
// that every image on it loads, that every scenario's table has one row
// per strategy and that its links are not dead. Then it breaks a copy of
// the folder (a plot removed, a script that logs an error) and checks that
// the same inspection finds both problems: the check can fail.
func testIndexInBrowser(t *testing.T, dir string, m *Matrix) {
	bin := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b, err := startBrowser(ctx, t, bin)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()

	for _, p := range checkPage(ctx, t, b, dir, m) {
		t.Errorf("index.html: %s", p)
	}

	broken := t.TempDir()
	copyTree(t, dir, broken)
	gone := PlotBase(m.Scenarios[0], PlotTradeoff) + ".png"
	if err := os.Remove(filepath.Join(broken, filepath.FromSlash(gone))); err != nil {
		t.Fatal(err)
	}
	page := string(readFile(t, broken, IndexFile))
	page = strings.Replace(page, "</body>", `<script>console.error("planted error")</script></body>`, 1)
	if err := WriteFileAtomic(filepath.Join(broken, IndexFile), []byte(page)); err != nil {
		t.Fatal(err)
	}
	problems := strings.Join(checkPage(ctx, t, b, broken, m), "\n")
	for _, want := range []string{"planted error", "image " + gone + " did not load", "2 scripts"} {
		if !strings.Contains(problems, want) {
			t.Errorf("broken page: the inspection did not report %q; it reported:\n%s", want, problems)
		}
	}
}

// browser is a Chromium driven over the DevTools protocol on a pipe:
// requests go to its fd 3, responses and events come from its fd 4, each a
// JSON message ended by a NUL byte.
type browser struct {
	t   *testing.T
	cmd *exec.Cmd
	w   *os.File
	tmp string

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpMessage
	waiters map[string][]chan struct{}
	errs    map[string][]string // by session
	done    chan struct{}
	stderr  bytes.Buffer
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func startBrowser(ctx context.Context, t *testing.T, bin string) (*browser, error) {
	tmp := t.TempDir()
	toBrowser, ourW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	ourR, fromBrowser, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--mute-audio", "--no-default-browser-check",
		"--user-data-dir="+filepath.Join(tmp, "profile"), "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser} // fds 3 and 4
	b := &browser{t: t, cmd: cmd, w: ourW, tmp: tmp, pending: map[int]chan cdpMessage{}, waiters: map[string][]chan struct{}{}, errs: map[string][]string{}, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{mu: &b.mu, w: &b.stderr}
	cmd.Env = append(os.Environ(), "HOME="+tmp)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	toBrowser.Close()
	fromBrowser.Close()
	go b.read(ourR)
	return b, nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// read dispatches responses to their callers and records problems from
// events: console errors, uncaught exceptions, error log entries, failed
// loads and any request that is not for a file.
func (b *browser) read(r *os.File) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var msg cdpMessage
		if err := json.Unmarshal(raw[:len(raw)-1], &msg); err != nil {
			continue
		}
		b.mu.Lock()
		if msg.ID != 0 {
			if ch, ok := b.pending[msg.ID]; ok {
				delete(b.pending, msg.ID)
				ch <- msg
			}
			b.mu.Unlock()
			continue
		}
		key := msg.SessionID + "/" + msg.Method
		for _, ch := range b.waiters[key] {
			close(ch)
		}
		delete(b.waiters, key)
		if p := problem(msg); p != "" {
			b.errs[msg.SessionID] = append(b.errs[msg.SessionID], p)
		}
		b.mu.Unlock()
	}
}

// problem returns a description of msg when it reports something wrong
// with the page.
func problem(msg cdpMessage) string {
	var p map[string]any
	json.Unmarshal(msg.Params, &p)
	switch msg.Method {
	case "Runtime.consoleAPICalled":
		if typ, _ := p["type"].(string); typ == "error" || typ == "assert" || typ == "warning" {
			return fmt.Sprintf("console %s: %s", typ, msg.Params)
		}
	case "Runtime.exceptionThrown":
		return fmt.Sprintf("exception: %s", msg.Params)
	case "Log.entryAdded":
		if e, ok := p["entry"].(map[string]any); ok && e["level"] == "error" {
			return fmt.Sprintf("log error: %v (%v)", e["text"], e["url"])
		}
	case "Network.loadingFailed":
		return fmt.Sprintf("load failed: %s", msg.Params)
	case "Network.requestWillBeSent":
		if rq, ok := p["request"].(map[string]any); ok {
			u, _ := rq["url"].(string)
			if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") && u != "about:blank" {
				return "network request for " + u + ": the page must be self-contained"
			}
		}
	}
	return ""
}

// load opens pageURL in a new tab and returns what the probe read once
// the load event fired, with the problems reported meanwhile.
func (b *browser) load(ctx context.Context, pageURL string) (pageInfo, []string, error) {
	var pg pageInfo
	raw, _, problems, err := b.view(ctx, pageURL, viewOptions{probe: pageProbe})
	if err != nil {
		return pg, nil, err
	}
	if err := json.Unmarshal([]byte(raw), &pg); err != nil {
		return pg, nil, fmt.Errorf("page probe: %v: %s", err, raw)
	}
	return pg, problems, nil
}

// viewOptions says how view shows a page: the probe to evaluate, and a
// window size (0: the browser's default) for a screenshot of the first
// screen.
type viewOptions struct {
	probe         string
	width, height int
	screenshot    bool
}

// view opens pageURL in a new tab, in a window of the given size, and
// returns the probe's result (a JSON string) once the load event fired,
// a PNG of the first screen when asked, and the problems reported
// meanwhile.
func (b *browser) view(ctx context.Context, pageURL string, o viewOptions) (string, []byte, []string, error) {
	target, err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"})
	if err != nil {
		return "", nil, nil, err
	}
	var tr struct{ TargetID string }
	if err := json.Unmarshal(target, &tr); err != nil {
		return "", nil, nil, err
	}
	defer b.call(ctx, "", "Target.closeTarget", map[string]any{"targetId": tr.TargetID})
	att, err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": tr.TargetID, "flatten": true})
	if err != nil {
		return "", nil, nil, err
	}
	var as struct{ SessionID string }
	if err := json.Unmarshal(att, &as); err != nil {
		return "", nil, nil, err
	}
	s := as.SessionID
	for _, method := range []string{"Runtime.enable", "Log.enable", "Page.enable", "Network.enable"} {
		if _, err := b.call(ctx, s, method, nil); err != nil {
			return "", nil, nil, err
		}
	}
	if o.width > 0 {
		if _, err := b.call(ctx, s, "Emulation.setDeviceMetricsOverride", map[string]any{
			"width": o.width, "height": o.height, "deviceScaleFactor": 1, "mobile": false}); err != nil {
			return "", nil, nil, err
		}
	}
	loaded := b.waitEvent(s, "Page.loadEventFired")
	if _, err := b.call(ctx, s, "Page.navigate", map[string]any{"url": pageURL}); err != nil {
		return "", nil, nil, err
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		return "", nil, nil, fmt.Errorf("page did not finish loading: %w", ctx.Err())
	}
	res, err := b.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": o.probe, "returnByValue": true})
	if err != nil {
		return "", nil, nil, err
	}
	var ev struct {
		Result           struct{ Value string }
		ExceptionDetails json.RawMessage
	}
	if err := json.Unmarshal(res, &ev); err != nil || ev.ExceptionDetails != nil {
		return "", nil, nil, fmt.Errorf("evaluate: %v %s", err, ev.ExceptionDetails)
	}
	var png []byte
	if o.screenshot {
		shot, err := b.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png"})
		if err != nil {
			return "", nil, nil, err
		}
		var sr struct{ Data []byte }
		if err := json.Unmarshal(shot, &sr); err != nil {
			return "", nil, nil, fmt.Errorf("screenshot: %w", err)
		}
		png = sr.Data
	}
	// Let late console messages arrive, then take this session's problems.
	time.Sleep(200 * time.Millisecond)
	return ev.Result.Value, png, b.problems(s), nil
}

// waitEvent returns a channel closed when the next event called method
// arrives on session.
func (b *browser) waitEvent(session, method string) <-chan struct{} {
	ch := make(chan struct{})
	b.mu.Lock()
	defer b.mu.Unlock()
	key := session + "/" + method
	b.waiters[key] = append(b.waiters[key], ch)
	return ch
}

// call sends a command and waits for its result.
func (b *browser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	req := map[string]any{"id": id, "method": method}
	if params != nil {
		req["params"] = params
	}
	if session != "" {
		req["sessionId"] = session
	}
	data, _ := json.Marshal(req)
	if _, err := b.w.Write(append(data, 0)); err != nil {
		return nil, fmt.Errorf("%s: write to browser: %w (stderr: %s)", method, err, b.stderrText())
	}
	select {
	case msg := <-ch:
		if msg.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, msg.Error.Message)
		}
		return msg.Result, nil
	case <-b.done:
		return nil, fmt.Errorf("%s: browser exited (stderr: %s)", method, b.stderrText())
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w (stderr: %s)", method, ctx.Err(), b.stderrText())
	}
}

// problems returns what went wrong in session.
func (b *browser) problems(session string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs[session]...)
}

func (b *browser) stderrText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stderr.String()
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// close asks the browser to quit, then kills it if it lingers, and waits.
func (b *browser) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.call(ctx, "", "Browser.close", nil)
	b.w.Close()
	waited := make(chan error, 1)
	go func() { waited <- b.cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		err := <-waited
		if err != nil && !errors.Is(err, os.ErrProcessDone) {
			b.t.Logf("browser: %v", err)
		}
	}
}
