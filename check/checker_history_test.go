package check

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ghostbench/ghostbench"
)

// The histories in testdata/histories are tiny scripts, one call per line,
// fed to a Checker in file order (so a line order can reproduce a late
// event). Times are integers in microseconds. Lines:
//
//	keys N                                 (first line; also: openloop, fullhistory)
//	began         k=K t=T v=V
//	sending       k=K t=T v=V sent=S
//	committed     k=K t=T v=V sent=S ack=A
//	aborted       k=K t=T v=V sent=S       (sent=-1: COMMIT never sent)
//	indeterminate k=K t=T v=V sent=S
//	write k=K t=T at=I..C [err=CLASS] [warmup]
//	read  k=K v=V t=T at=I..C [miss] [warmup] [err=CLASS]
//	audit k=K cache=V/T ttl=US db=V/T  |  audit k=K absent db=V/T
//	ledger T=committed T=aborted ...   |  ledger fail
//	want name=value ...                (checked after Finish)
//
// want names: the ReadMetrics/WriteMetrics counters (stale, ghost, early,
// unknown, fresh, reads, ok, hits, misses, attempted, committed,
// not_committed, writes_unknown, failed.CLASS, errors_returned.CLASS,
// read_errors.CLASS, committed_despite_error, ok_not_committed), audit
// counters (audit_checked, audit_present, audit_ghost, audit_stale,
// audit_unknown), harness, finish_err (0/1), window_writes, with_window,
// window_max (µs), and lists of exact values: ages (µs), lags, windows (µs).

// historyScript is a parsed history.
type historyScript struct {
	cfg    CheckerConfig
	steps  []func(c *Checker)
	ledger map[ghostbench.Token]bool
	fail   bool
	want   map[string]string
}

func parseHistoryScript(t *testing.T, path string) *historyScript {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := &historyScript{want: map[string]string{}}
	sc := bufio.NewScanner(f)
	line := 0
	client := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if i := strings.Index(text, "#"); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if text == "" {
			continue
		}
		fields := strings.Fields(text)
		verb, args := fields[0], fields[1:]
		kv := map[string]string{}
		flags := map[string]bool{}
		for _, a := range args {
			if k, v, ok := strings.Cut(a, "="); ok {
				kv[k] = v
			} else {
				flags[a] = true
			}
		}
		fail := func(format string, a ...any) {
			t.Fatalf("%s:%d: %s", path, line, fmt.Sprintf(format, a...))
		}
		num := func(name string) int64 {
			v, ok := kv[name]
			if !ok {
				fail("missing %s=", name)
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				fail("%s: %v", name, err)
			}
			return n
		}
		atUs := func(name string) time.Duration {
			n := num(name)
			if n < 0 {
				return time.Duration(n)
			}
			return time.Duration(n) * time.Microsecond
		}
		value := func(name string) ghostbench.Value {
			v, tok, ok := strings.Cut(kv[name], "/")
			if !ok {
				fail("%s= wants VERSION/TOKEN", name)
			}
			vn, err1 := strconv.ParseInt(v, 10, 64)
			tn, err2 := strconv.ParseInt(tok, 10, 64)
			if err := errors.Join(err1, err2); err != nil {
				fail("%s: %v", name, err)
			}
			return ghostbench.Value{Version: vn, Token: ghostbench.Token(tn), Balance: 100 * vn}
		}
		interval := func() (time.Duration, time.Duration) {
			a, b, ok := strings.Cut(kv["at"], "..")
			if !ok {
				fail("at= wants INVOKE..COMPLETE")
			}
			i, err1 := strconv.ParseInt(a, 10, 64)
			c, err2 := strconv.ParseInt(b, 10, 64)
			if err := errors.Join(err1, err2); err != nil {
				fail("at: %v", err)
			}
			return time.Duration(i) * time.Microsecond, time.Duration(c) * time.Microsecond
		}
		errOf := func() (ghostbench.ErrClass, error) {
			name, ok := kv["err"]
			if !ok {
				return ghostbench.ClassNone, nil
			}
			for _, cls := range ghostbench.ErrClasses() {
				if cls.String() == name {
					return cls, fmt.Errorf("injected %s error", name)
				}
			}
			fail("unknown class %q", name)
			return 0, nil
		}
		key := func() ghostbench.Key { return ghostbench.Key(num("k")) }
		tok := func() ghostbench.Token { return ghostbench.Token(num("t")) }

		switch verb {
		case "keys":
			n, err := strconv.Atoi(args[0])
			if err != nil {
				fail("keys: %v", err)
			}
			s.cfg.Keys = n
			s.cfg.OpenLoop = flags["openloop"]
			s.cfg.FullHistory = flags["fullhistory"]
		case "began":
			k, tk, v := key(), tok(), num("v")
			s.steps = append(s.steps, func(c *Checker) { c.Began(k, tk, v) })
		case "sending":
			k, tk, v, sent := key(), tok(), num("v"), atUs("sent")
			s.steps = append(s.steps, func(c *Checker) { c.CommitSending(k, tk, v, sent) })
		case "committed":
			k, tk, v, sent, ack := key(), tok(), num("v"), atUs("sent"), atUs("ack")
			s.steps = append(s.steps, func(c *Checker) { c.Committed(k, tk, v, sent, ack) })
		case "aborted":
			k, tk, v, sent := key(), tok(), num("v"), atUs("sent")
			s.steps = append(s.steps, func(c *Checker) { c.Aborted(k, tk, v, sent) })
		case "indeterminate":
			k, tk, v, sent := key(), tok(), num("v"), atUs("sent")
			s.steps = append(s.steps, func(c *Checker) { c.Indeterminate(k, tk, v, sent) })
		case "write", "read":
			client++
			op := &ghostbench.Op{Key: key(), Client: client, Measured: !flags["warmup"]}
			op.Invoke, op.Complete = interval()
			op.Intended = op.Invoke
			op.Class, op.Err = errOf()
			if verb == "write" {
				op.Kind = ghostbench.OpWrite
				op.Token = tok()
			} else {
				op.Kind = ghostbench.OpRead
				if op.Err == nil {
					op.Value = ghostbench.Value{Version: num("v"), Token: tok()}
					op.Value.Balance = 100 * op.Value.Version
					op.Hit = !flags["miss"]
				}
			}
			s.steps = append(s.steps, func(c *Checker) { c.Observe(op) })
		case "audit":
			k, db := key(), value("db")
			if flags["absent"] {
				s.steps = append(s.steps, func(c *Checker) { c.AuditKey(k, ghostbench.Value{}, 0, false, db) })
				break
			}
			cache, ttl := value("cache"), atUs("ttl")
			s.steps = append(s.steps, func(c *Checker) { c.AuditKey(k, cache, ttl, true, db) })
		case "ledger":
			if flags["fail"] {
				s.fail = true
				break
			}
			s.ledger = map[ghostbench.Token]bool{}
			for k, v := range kv {
				n, err := strconv.ParseInt(k, 10, 64)
				if err != nil || (v != "committed" && v != "aborted") {
					fail("ledger wants TOKEN=committed|aborted, got %s=%s", k, v)
				}
				s.ledger[ghostbench.Token(n)] = v == "committed"
			}
		case "want":
			for k, v := range kv {
				s.want[k] = v
			}
		default:
			fail("unknown verb %q", verb)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if s.cfg.Keys == 0 {
		t.Fatalf("%s: no keys line", path)
	}
	if len(s.want) == 0 {
		t.Fatalf("%s: no want line: a history must check something", path)
	}
	return s
}

// run feeds the script to a new checker and finishes it.
func (s *historyScript) run(t *testing.T) (*Metrics, error) {
	t.Helper()
	c, err := NewChecker(s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range s.steps {
		step(c)
	}
	resolve := func(ctx context.Context, tokens []ghostbench.Token) (map[ghostbench.Token]bool, error) {
		if s.fail {
			return nil, errors.New("ledger unreachable")
		}
		out := map[ghostbench.Token]bool{}
		for _, tk := range tokens {
			if v, ok := s.ledger[tk]; ok {
				out[tk] = v
			}
		}
		return out, nil
	}
	m, err := c.Finish(context.Background(), resolve)
	if m == nil {
		t.Fatalf("Finish returned no metrics (err %v)", err)
	}
	return m, err
}

// values lists the values recorded in h, in order (exact below 2048).
func recordedValues(t *testing.T, h *Histogram) string {
	t.Helper()
	d, err := h.Decode()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range d.Distribution() {
		for range b.Count {
			out = append(out, strconv.FormatInt(b.From, 10))
		}
	}
	return strings.Join(out, ",")
}

// metric returns the named quantity of m as a string.
func historyMetric(t *testing.T, m *Metrics, finishErr error, name string) (string, bool) {
	t.Helper()
	if cls, ok := strings.CutPrefix(name, "failed."); ok {
		return strconv.FormatInt(m.Writes.Failed[cls], 10), true
	}
	if cls, ok := strings.CutPrefix(name, "errors_returned."); ok {
		return strconv.FormatInt(m.Writes.ErrorsReturned[cls], 10), true
	}
	if cls, ok := strings.CutPrefix(name, "read_errors."); ok {
		return strconv.FormatInt(m.Reads.Errors[cls], 10), true
	}
	r, w, a, sw := &m.Reads, &m.Writes, &m.Audit, &m.StaleWindow
	ints := map[string]int64{
		"reads": r.Total, "ok": r.OK, "hits": r.Hits, "misses": r.Misses,
		"fresh": r.Fresh, "stale": r.Stale, "ghost": r.Ghost, "early": r.Early, "unknown": r.Unknown,
		"attempted": w.Attempted, "committed": w.Committed, "not_committed": w.NotCommitted,
		"writes_unknown": w.Unknown, "committed_despite_error": w.CommittedDespiteError,
		"ok_not_committed": w.OKNotCommitted,
		"audit_checked":    a.Checked, "audit_present": a.Present, "audit_ghost": a.GhostUntilTTL,
		"audit_stale": a.StaleUntilTTL, "audit_unknown": a.Unknown,
		"harness":       m.HarnessErrors,
		"window_writes": sw.Writes, "with_window": sw.WithWindow, "window_max": sw.MaxUs,
		"examples": int64(len(m.Examples)),
	}
	if v, ok := ints[name]; ok {
		return strconv.FormatInt(v, 10), true
	}
	switch name {
	case "finish_err":
		if finishErr != nil {
			return "1", true
		}
		return "0", true
	case "ages":
		return recordedValues(t, r.StalenessAge), true
	case "lags":
		return recordedValues(t, r.VersionLag), true
	case "windows":
		return recordedValues(t, sw.Histogram), true
	}
	return "", false
}

func TestHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no histories in testdata/histories")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			s := parseHistoryScript(t, path)
			m, err := s.run(t)
			names := make([]string, 0, len(s.want))
			for k := range s.want {
				names = append(names, k)
			}
			slices.Sort(names)
			for _, name := range names {
				got, ok := historyMetric(t, m, err, name)
				if !ok {
					t.Fatalf("unknown want name %q", name)
				}
				if want := s.want[name]; got != want {
					t.Errorf("%s: got %s, want %s", name, got, want)
				}
			}
			if m != nil && len(m.Violations) > 0 {
				t.Errorf("invariants broken: %v", m.Violations)
			}
			if t.Failed() {
				t.Logf("finish error: %v", err)
				for _, a := range m.Examples {
					t.Logf("example: %+v", a)
				}
			}
		})
	}
}
