package faults

import (
	"context"
	"fmt"
)

// toxicFault is a fault made of toxics on one proxy: in effect once they
// are on every connection (Toxiproxy adds a toxic to all links before
// AddToxic returns), healed once they are removed and the server answers
// through the proxy again.
type toxicFault struct {
	name    string
	proxy   *Proxy
	toxics  []Toxic
	answers func(ctx context.Context) error // the server answers through the proxy
	closer  interface{ Close() error }      // what answers uses, closed by Setup.Close; may be nil
}

// Close releases what the heal confirmation uses.
func (f *toxicFault) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

func (f *toxicFault) Name() string { return f.name }

// Inject adds the toxics; a toxic already in place (a second Inject) is
// left as is.
func (f *toxicFault) Inject(ctx context.Context) error {
	for _, t := range f.toxics {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.proxy.HasToxic(t.Name) {
			continue
		}
		if err := f.proxy.AddToxic(t); err != nil {
			return err
		}
	}
	return nil
}

// Heal removes the toxics (none there is fine) and waits until the server
// answers through the proxy.
func (f *toxicFault) Heal(ctx context.Context) error {
	for _, t := range f.toxics {
		if err := f.proxy.RemoveToxic(ctx, t.Name); err != nil {
			return err
		}
	}
	return f.answers(ctx)
}

// toxicName names a toxic of step i uniquely on its proxy.
func toxicName(step int, what string) string { return fmt.Sprintf("step%d-%s", step, what) }

// proxyOf returns the proxy a kind declared it needs, or an error when
// Prepare did not start it (a kind whose Needs lie).
func proxyOf(p *Proxy, name string) (*Proxy, error) {
	if p == nil {
		return nil, fmt.Errorf("no %s proxy: the kind must declare that it needs one", name)
	}
	return p, nil
}

// redisAnswersVia returns a check that Redis answers PING through p and
// through the run's client.
func redisAnswersVia(env Env, p *Proxy) func(ctx context.Context) error {
	return func(ctx context.Context) error { return env.redisBack(ctx, p.Addr()) }
}
