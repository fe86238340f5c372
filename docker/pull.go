package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	dc "github.com/ory/dockertest/v3/docker"
)

// DefaultPullTimeout is the longest a provisioning waits for the images it
// must pull, all of them together, unless Config.PullTimeout says otherwise.
const DefaultPullTimeout = 10 * time.Minute

// pullStallTimeout is how long a pull may go without a word of progress
// from the engine before it is given up: a registry that cannot be reached
// at all shows as this, long before the whole deadline.
const pullStallTimeout = time.Minute

// autoPullStall is the stall limit when the provider was chosen by "auto":
// the local provider is the next choice, so a registry that does not answer
// (offline, no registry at all) costs seconds, not the minute above. A
// reachable registry starts answering well within it.
const autoPullStall = 5 * time.Second

// imageInspectTimeout bounds asking the engine whether it has an image.
const imageInspectTimeout = 10 * time.Second

var (
	errPullStalled  = errors.New("pull stalled")
	errPullDeadline = errors.New("pull deadline passed")
)

// puller makes sure images are on an engine, pulling those that are not:
// with the caller's context (Ctrl-C cancels), a deadline for all pulls, a
// stall limit, the docker CLI's credentials and progress on a terminal.
type puller struct {
	client   *dc.Client
	endpoint string        // for messages
	cli      *cliConfig    // credentials; nil for anonymous pulls
	timeout  time.Duration // for all pulls together
	stall    time.Duration // without progress
	progress io.Writer     // a terminal, or nil
	logf     func(string, ...any)
}

// ensureImages pulls every image the engine does not have, all at once,
// and returns when all are there or the first pull failed. The error is one
// line naming the image and what to do; it wraps ctx.Err() when ctx ended.
func (p *puller) ensureImages(ctx context.Context, images ...string) error {
	var missing []string
	for _, img := range images {
		has, err := p.hasImage(ctx, img)
		if err != nil {
			return err
		}
		if !has {
			missing = append(missing, img)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	head := fmt.Sprintf("pulling %s from the engine at %s (deadline %v, given up after %v without progress)",
		strings.Join(missing, " and "), p.endpoint, p.timeout, p.stall)
	p.logf("%s", head)
	if p.progress != nil {
		fmt.Fprintln(p.progress, head)
	}
	start := time.Now()
	dctx, cancel := context.WithTimeoutCause(ctx, p.timeout, errPullDeadline)
	defer cancel()
	prog := newPullProgress(p.progress, missing)
	errs := make([]error, len(missing))
	var wg sync.WaitGroup
	for i, img := range missing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.pull(dctx, ctx, img, prog)
		}()
	}
	wg.Wait()
	prog.finish()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	p.logf("pulled %s in %v: %s", strings.Join(missing, " and "), time.Since(start).Round(time.Millisecond), prog.summary())
	return nil
}

// hasImage asks the engine whether it has image.
func (p *puller) hasImage(ctx context.Context, image string) (bool, error) {
	ictx, cancel := context.WithTimeout(ctx, imageInspectTimeout)
	defer cancel()
	ch := make(chan error, 1)
	go func() { // InspectImage takes no context
		_, err := p.client.InspectImage(image)
		ch <- err
	}()
	select {
	case err := <-ch:
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, dc.ErrNoSuchImage):
			return false, nil
		}
		return false, fmt.Errorf("image %s: ask the engine at %s: %v", image, p.endpoint, err)
	case <-ictx.Done():
		if err := ctx.Err(); err != nil {
			return false, fmt.Errorf("image %s: %w", image, err)
		}
		return false, fmt.Errorf("image %s: the engine at %s did not say within %v whether it has the image", image, p.endpoint, imageInspectTimeout)
	}
}

// pullMessage is one message of the engine's pull progress stream.
type pullMessage struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	ProgressDetail struct {
		Current int64 `json:"current"`
		Total   int64 `json:"total"`
	} `json:"progressDetail"`
	Error       string `json:"error"`
	ErrorDetail struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// pull pulls one image. dctx carries the deadline of all pulls; ctx is the
// caller's, to tell an interruption from the deadline.
func (p *puller) pull(dctx, ctx context.Context, image string, prog *pullProgress) error {
	repo, tag := pullRef(image)
	auth, src := registryAuth(dctx, p.cli, image, p.logf)
	if src != "" {
		who := auth.Username
		if who == "" {
			who = "a token"
		}
		p.logf("pulling %s as %s, credentials from %s", image, who, src)
	}
	sctx, cancel := context.WithCancelCause(dctx)
	defer cancel(nil)
	stall := time.AfterFunc(p.stall, func() { cancel(errPullStalled) })
	defer stall.Stop()

	pr, pw := io.Pipe()
	var streamErr string
	decoded := make(chan struct{})
	go func() {
		defer close(decoded)
		dec := json.NewDecoder(pr)
		for {
			var m pullMessage
			if err := dec.Decode(&m); err != nil {
				_, _ = io.Copy(io.Discard, pr) // never block the writer
				return
			}
			stall.Reset(p.stall)
			if msg := m.ErrorDetail.Message; msg != "" {
				streamErr = msg
			} else if m.Error != "" {
				streamErr = m.Error
			}
			prog.update(image, m)
		}
	}()
	err := p.client.PullImage(dc.PullImageOptions{
		Repository: repo, Tag: tag,
		OutputStream: pw, RawJSONStream: true,
		Context: sctx,
	}, auth)
	pw.Close()
	<-decoded

	what := func(why string) error {
		return &pullError{image: image, cause: pullCause(why), msg: fmt.Sprintf("image %s: %s; run `docker pull %s` to see why (or to pull it before the run), or set %s=local",
			image, why, image, EnvProvider)}
	}
	switch cause := context.Cause(sctx); {
	case ctx.Err() != nil:
		return fmt.Errorf("image %s: pull interrupted: %w", image, ctx.Err())
	case errors.Is(cause, errPullDeadline):
		return what(fmt.Sprintf("not pulled after %v (the pull timeout) from the engine at %s", p.timeout, p.endpoint))
	case errors.Is(cause, errPullStalled):
		return what(fmt.Sprintf("the engine at %s reported no progress for %v (is the registry reachable?)", p.endpoint, p.stall))
	case err != nil:
		var de *dc.Error
		if errors.As(err, &de) {
			return what(fmt.Sprintf("the engine at %s refused the pull (HTTP %d): %s", p.endpoint, de.Status, oneLine(strings.TrimSpace(de.Message))))
		}
		return what(fmt.Sprintf("pull from the engine at %s: %s", p.endpoint, oneLine(err.Error())))
	case streamErr != "":
		return what(fmt.Sprintf("the engine at %s could not pull it: %s", p.endpoint, oneLine(streamErr)))
	}
	return nil
}

// pullError is an image the engine lacks and could not pull.
type pullError struct {
	image string
	cause string // short: what stopped the pull
	msg   string
}

func (e *pullError) Error() string { return e.msg }

func (e *pullError) Unwrap() error { return ErrNoImage }

// pullCause shortens why a pull failed to its last cause: of an engine's
// `Get "https://registry/v2/": dial tcp: lookup registry on 10.0.0.1:53: no
// such host` it keeps what follows "dial tcp: ".
func pullCause(why string) string {
	if _, after, ok := strings.Cut(why, "dial tcp: "); ok {
		return "registry unreachable: " + after
	}
	return why
}

// pullRef splits an image reference into what the pull endpoint takes:
// repository and tag, or repository and digest.
func pullRef(image string) (repo, tag string) {
	if r, d, ok := strings.Cut(image, "@"); ok {
		return r, d
	}
	return splitImage(image)
}

// pullProgress tracks the layers of the images being pulled and, when it
// has a terminal, keeps one status line up to date.
type pullProgress struct {
	mu     sync.Mutex
	w      io.Writer // nil: track only
	order  []string
	images map[string]*imageProgress
	last   time.Time // of the last line drawn
	width  int       // of the last line drawn, to blank it
}

type imageProgress struct {
	layers map[string]*layerProgress
	done   bool
}

type layerProgress struct {
	current, total int64
	done           bool
}

func newPullProgress(w io.Writer, images []string) *pullProgress {
	p := &pullProgress{w: w, order: images, images: map[string]*imageProgress{}}
	for _, img := range images {
		p.images[img] = &imageProgress{layers: map[string]*layerProgress{}}
	}
	return p
}

// progressRedraw is the shortest interval between two redraws.
const progressRedraw = 100 * time.Millisecond

// update records one message of image's stream and redraws at most every
// progressRedraw.
func (p *pullProgress) update(image string, m pullMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ip := p.images[image]
	if ip == nil {
		return
	}
	layer := func() *layerProgress {
		l := ip.layers[m.ID]
		if l == nil {
			l = &layerProgress{}
			ip.layers[m.ID] = l
		}
		return l
	}
	switch {
	case m.ID == "" || strings.HasPrefix(m.Status, "Pulling from"):
		if strings.HasPrefix(m.Status, "Status:") || strings.HasPrefix(m.Status, "Digest:") {
			ip.done = ip.done || strings.HasPrefix(m.Status, "Status:")
		}
	case m.Status == "Downloading":
		l := layer()
		l.current, l.total = m.ProgressDetail.Current, m.ProgressDetail.Total
	case m.Status == "Download complete" || m.Status == "Verifying Checksum":
		l := layer()
		if l.total > 0 {
			l.current = l.total
		}
	case m.Status == "Pull complete" || m.Status == "Already exists":
		l := layer()
		l.done = true
		if l.total > 0 {
			l.current = l.total
		}
	case m.Status == "Pulling fs layer" || m.Status == "Waiting" || m.Status == "Extracting":
		layer()
	}
	if p.w != nil && time.Since(p.last) >= progressRedraw {
		p.drawLocked()
	}
}

// line returns one image's progress, e.g. "3/8 layers, 12.3/85.2 MB".
func (ip *imageProgress) line() string {
	var done int
	var cur, total int64
	for _, l := range ip.layers {
		if l.done {
			done++
		}
		cur += l.current
		total += l.total
	}
	if ip.done {
		return fmt.Sprintf("done (%d layers, %s)", len(ip.layers), megabytes(total))
	}
	return fmt.Sprintf("%d/%d layers, %s/%s", done, len(ip.layers), strings.TrimSuffix(megabytes(cur), " MB"), megabytes(total))
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func (p *pullProgress) drawLocked() {
	parts := make([]string, len(p.order))
	for i, img := range p.order {
		parts[i] = img + " " + p.images[img].line()
	}
	line := "pulling " + strings.Join(parts, ", ")
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.width = len(line)
	p.last = time.Now()
}

// finish draws the last state and ends the line.
func (p *pullProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w == nil || p.width == 0 && len(p.order) == 0 {
		return
	}
	p.drawLocked()
	fmt.Fprintln(p.w)
}

// summary says what was pulled, for the log.
func (p *pullProgress) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := append([]string(nil), p.order...)
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, img := range names {
		parts[i] = img + " " + p.images[img].line()
	}
	return strings.Join(parts, ", ")
}
