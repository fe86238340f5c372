package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// Proxy is an in-process TCP proxy between the harness and one server:
// Toxiproxy used as a library, listening on a loopback port of its own.
// Faults add and remove toxics on it (latency, dropped data) or disable it.
// Its methods are safe for concurrent use.
type Proxy struct {
	name     string
	upstream string

	mu     sync.Mutex
	p      *toxiproxy.Proxy
	addr   string
	closed bool
}

// newToxiproxyServer returns the Toxiproxy server object proxies hang off:
// only its metrics and logger are used (no HTTP API is started).
func newToxiproxyServer() *toxiproxy.ApiServer {
	return toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
}

// startProxy starts a proxy called name on 127.0.0.1:0 in front of
// upstream (host:port).
func startProxy(api *toxiproxy.ApiServer, name, upstream string) (*Proxy, error) {
	p := toxiproxy.NewProxy(api, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("start %s proxy in front of %s: %w", name, upstream, err)
	}
	p.Lock()
	addr := p.Listen
	p.Unlock()
	return &Proxy{name: name, upstream: upstream, p: p, addr: addr}, nil
}

// Name returns the proxy's name ("redis" or "postgres").
func (p *Proxy) Name() string { return p.name }

// Addr returns the address the proxy listens on (127.0.0.1:port).
func (p *Proxy) Addr() string { return p.addr }

// Upstream returns the address of the server behind the proxy.
func (p *Proxy) Upstream() string { return p.upstream }

// Toxic is one toxic to add: Type is a Toxiproxy toxic type ("latency",
// "timeout", ...), Stream "downstream" (server to harness) or "upstream",
// Attributes its attributes (JSON-encoded as Toxiproxy expects).
type Toxic struct {
	Name       string
	Type       string
	Stream     string
	Attributes any
}

// AddToxic adds t to every connection through the proxy, current and
// future, and returns once it is in place on all of them.
func (p *Proxy) AddToxic(t Toxic) error {
	body, err := json.Marshal(map[string]any{
		"name": t.Name, "type": t.Type, "stream": t.Stream, "toxicity": 1.0, "attributes": t.Attributes,
	})
	if err != nil {
		return fmt.Errorf("%s proxy: toxic %s: %w", p.name, t.Name, err)
	}
	if _, err := p.p.Toxics.AddToxicJson(strings.NewReader(string(body))); err != nil {
		return fmt.Errorf("%s proxy: add toxic %s: %w", p.name, t.Name, err)
	}
	return nil
}

// RemoveToxic removes the toxic called name. Removing a toxic that is not
// there does nothing (heals are idempotent). Data a toxic held back
// (latency) is delivered; removing a toxic that drops data (timeout)
// closes the connections it was on, since their byte streams lost data.
func (p *Proxy) RemoveToxic(ctx context.Context, name string) error {
	err := p.p.Toxics.RemoveToxic(ctx, name)
	if err != nil && !errors.Is(err, toxiproxy.ErrToxicNotFound) {
		return fmt.Errorf("%s proxy: remove toxic %s: %w", p.name, name, err)
	}
	return nil
}

// HasToxic reports whether a toxic called name is in place.
func (p *Proxy) HasToxic(name string) bool { return p.p.Toxics.GetToxic(name) != nil }

// Disable closes the listener and every connection through the proxy:
// clients see their connections closed and new ones refused.
func (p *Proxy) Disable() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.p.Stop()
}

// Enable listens again, on the same address, after Disable. Enabling an
// enabled proxy does nothing; a closed proxy stays closed.
func (p *Proxy) Enable() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("%s proxy: closed", p.name)
	}
	p.p.Lock()
	enabled := p.p.Enabled
	p.p.Unlock()
	if enabled {
		return nil
	}
	if err := p.p.Start(); err != nil {
		return fmt.Errorf("%s proxy: listen again on %s: %w", p.name, p.addr, err)
	}
	return nil
}

// Enabled reports whether the proxy is listening.
func (p *Proxy) Enabled() bool {
	p.p.Lock()
	defer p.p.Unlock()
	return p.p.Enabled
}

// Close removes every toxic, stops the listener and closes every
// connection through the proxy. It is idempotent.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.p.Toxics.ResetToxics(context.Background())
	p.p.Stop()
}
