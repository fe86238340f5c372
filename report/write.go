package report

import (
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so a reader (or an interrupted run) never sees a
// half-written file. It creates the directory when missing.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := firstErr(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ErrLink is returned for a symbolic link met inside a results folder:
// ghostbench neither writes nor reads through one there, so that a
// planted link cannot send files elsewhere.
var ErrLink = errors.New("a symbolic link inside the results folder; ghostbench does not follow links there (remove it)")

// noLinks returns an error wrapping ErrLink when rel, or a folder on the
// way to it, is a symbolic link in r. What does not exist yet is fine.
func noLinks(r *os.Root, rel string) error {
	rel = filepath.Clean(rel)
	parts := strings.Split(rel, string(filepath.Separator))
	for i := range parts {
		p := filepath.Join(parts[:i+1]...)
		fi, err := r.Lstat(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%s: %w", filepath.Join(r.Name(), p), ErrLink)
		}
	}
	return nil
}

// WriteFileIn writes data to rel inside the folder root, atomically
// (a temporary file and a rename), creating the folders on the way. It
// works relative to root (os.Root: nothing outside it can be reached) and
// refuses a symbolic link on the way with ErrLink.
func WriteFileIn(root, rel string, data []byte) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := noLinks(r, rel); err != nil {
		return err
	}
	if d := filepath.Dir(rel); d != "." {
		if err := r.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	var tmp string
	var f *os.File
	for range 10 {
		tmp = filepath.Join(filepath.Dir(rel), "."+filepath.Base(rel)+".tmp"+randomTag())
		f, err = r.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if !errors.Is(err, os.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := firstErr(werr, serr, cerr); err != nil {
		r.Remove(tmp)
		return err
	}
	if err := r.Rename(tmp, rel); err != nil {
		r.Remove(tmp)
		return err
	}
	return nil
}

// ReadFileIn reads rel inside the folder root, refusing a symbolic link on
// the way (ErrLink) and anything outside root.
func ReadFileIn(root, rel string) ([]byte, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if err := noLinks(r, rel); err != nil {
		return nil, err
	}
	return r.ReadFile(rel)
}

// removeIn removes rel inside root when it exists, never through a link.
func removeIn(root, rel string) error {
	r, err := os.OpenRoot(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	if err := noLinks(r, filepath.Dir(rel)); err != nil {
		return err
	}
	if err := r.Remove(rel); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func randomTag() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// WriteJSON writes v as indented JSON to path, atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// ReadRun reads a run.json.
func ReadRun(path string) (*record.Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeRun(path, b)
}

// readRunIn reads the run.json rel inside the results folder root, never
// through a link.
func readRunIn(root, rel string) (*record.Run, error) {
	b, err := ReadFileIn(root, rel)
	if err != nil {
		return nil, err
	}
	return decodeRun(filepath.Join(root, rel), b)
}

func decodeRun(path string, b []byte) (*record.Run, error) {
	var r record.Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Schema != record.SchemaVersion {
		return nil, fmt.Errorf("%s: schema %d, this ghostbench reads schema %d", path, r.Schema, record.SchemaVersion)
	}
	if err := validateRun(path, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// SummaryRow is one run's headline numbers, as every table shows them.
type SummaryRow struct {
	Scenario, Strategy string
	Status             record.Status
	OpsPerSec          float64
	StaleRatio         *float64
	P99StalenessUs     int64
	MaxStaleWindowUs   int64
	StaleUntilTTL      int64
	GhostUntilTTL      int64
	StaleReads         int64
	OKReads            int64
	GhostReads         int64
	EarlyReads         int64
	UnknownReads       int64
	Availability       *float64
	HitRatio           *float64
	ReadP50, ReadP99   int64
	ReadP999           int64
	WriteP50, WriteP99 int64
	WriteP999          int64
	Warnings           int64
	// InvalidationLagP50Us and InvalidationLagP99Us are the achieved
	// invalidation lag of a strategy with a pipeline, nil for others;
	// LagBehind is Run.LagBehind.
	InvalidationLagP50Us, InvalidationLagP99Us *int64
	LagBehind                                  bool
	// InvalidationLagStages are the stages of the invalidation lag with
	// samples (record.LagStage), in order; nil without stages.
	InvalidationLagStages []LagStageRow
	// RYWPerMillion is read-your-writes violations per million reads
	// (nil when the run record has no such measure); RYWP99Us the 99th
	// percentile of their age.
	RYWPerMillion *float64
	RYWP99Us      int64
	RYWViolations int64
	// DB holds the database load (nil when the run record has none, or
	// the strategy's database reads were not recorded).
	DB *DBLoadRow
}

// Summarize returns the headline numbers of r. Read latency merges hits and
// misses.
func Summarize(r *record.Run) SummaryRow {
	row := SummaryRow{Scenario: r.Scenario, Strategy: r.Strategy, Status: r.Status}
	m := r.Metrics
	if m == nil {
		return row
	}
	ops := m.Reads.Total + m.Writes.Attempted
	if r.MeasuredSeconds > 0 {
		row.OpsPerSec = float64(ops) / r.MeasuredSeconds
	}
	row.StaleRatio = m.Reads.StaleRatio
	row.HitRatio = m.Reads.HitRatio
	if m.Reads.StalenessAge != nil {
		row.P99StalenessUs = m.Reads.StalenessAge.P99
	}
	row.MaxStaleWindowUs = m.StaleWindow.MaxUs
	if h := m.StaleWindow.Histogram; h != nil && h.Max > row.MaxStaleWindowUs {
		// HdrHistogram's equivalent value, as the staleness percentiles
		// are, so that p99 staleness <= max stale window shows as such.
		row.MaxStaleWindowUs = h.Max
	}
	row.StaleUntilTTL = m.Audit.StaleUntilTTL
	row.GhostUntilTTL = m.Audit.GhostUntilTTL
	row.StaleReads, row.GhostReads, row.EarlyReads, row.UnknownReads = m.Reads.Stale, m.Reads.Ghost, m.Reads.Early, m.Reads.Unknown
	row.Availability = m.Writes.Availability
	row.OKReads = m.Reads.OK
	row.Warnings = m.Warnings
	row.RYWPerMillion, row.RYWViolations, row.RYWP99Us = rywRow(r.RYW)
	if rd := mergedReads(m); rd != nil {
		row.ReadP50, row.ReadP99, row.ReadP999 = rd.Quantile(0.5), rd.Quantile(0.99), rd.Quantile(0.999)
	}
	if w := m.Latency[check.LatencyWrite]; w != nil {
		row.WriteP50, row.WriteP99, row.WriteP999 = w.P50, w.P99, w.P999
	}
	row.DB = dbLoadRow(r)
	if h := r.InvalidationLag; h != nil && h.Count > 0 {
		row.InvalidationLagP50Us, row.InvalidationLagP99Us = i64ptr(h.P50), i64ptr(h.P99)
		row.LagBehind = r.LagBehind()
		row.InvalidationLagStages = lagStageRows(r)
	}
	return row
}

// mergedReads returns the read-hit and read-miss histograms merged.
func mergedReads(m *check.Metrics) *check.Histogram {
	return check.MergeHistograms(m.Latency[check.LatencyReadHit], m.Latency[check.LatencyReadMiss])
}

// SummaryHeader names the columns of WriteSummaryText and WriteSummaryCSV.
var summaryHeader = []string{
	"scenario", "strategy", "status", "ops/s", "stale ratio", "stale", "ghost", "early",
	"p99 staleness", "max stale window", "inval lag p50", "inval lag p99", "stale-until-TTL", "ghost-until-TTL",
	"ryw/1M reads", "ryw p99 age", "write avail", "hit ratio", "read p50", "read p99", "read p99.9", "write p50", "write p99", "write p99.9",
	"inval lag stages p50/p99",
}

func (s SummaryRow) cells(human bool) []string {
	f := func(p *float64, prec int) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'f', prec, 64)
	}
	us := func(v int64) string {
		if human {
			return FormatMicros(v)
		}
		return strconv.FormatInt(v, 10)
	}
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	return []string{
		s.Scenario, s.Strategy, string(s.Status), strconv.FormatFloat(s.OpsPerSec, 'f', 0, 64),
		f(s.StaleRatio, 5), i(s.StaleReads), i(s.GhostReads), i(s.EarlyReads),
		us(s.P99StalenessUs), us(s.MaxStaleWindowUs), lagMicros(s.InvalidationLagP50Us, human), lagMicros(s.InvalidationLagP99Us, human),
		i(s.StaleUntilTTL), i(s.GhostUntilTTL),
		f(s.RYWPerMillion, 1), us(s.RYWP99Us), f(s.Availability, 4), f(s.HitRatio, 3), us(s.ReadP50), us(s.ReadP99), us(s.ReadP999),
		us(s.WriteP50), us(s.WriteP99), us(s.WriteP999),
		lagStagesText(s.InvalidationLagStages, human),
	}
}

// FormatMicros renders microseconds for people: 850µs, 12.3ms, 1.25s.
func FormatMicros(v int64) string {
	switch {
	case v < 1000:
		return strconv.FormatInt(v, 10) + "µs"
	case v < 1_000_000:
		return strconv.FormatFloat(float64(v)/1000, 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(float64(v)/1e6, 'f', 2, 64) + "s"
	}
}

// WriteSummaryText writes one aligned row per run.
func WriteSummaryText(w io.Writer, runs []*record.Run) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	for i, h := range summaryHeader {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, h)
	}
	fmt.Fprintln(tw, "\t")
	for _, r := range runs {
		for i, c := range Summarize(r).cells(true) {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw, "\t")
	}
	return tw.Flush()
}

// WriteSummaryCSV writes a header and one row per run; durations in
// microseconds.
func WriteSummaryCSV(w io.Writer, runs []*record.Run) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(summaryHeader); err != nil {
		return err
	}
	for _, r := range runs {
		if err := cw.Write(Summarize(r).cells(false)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteRunText writes one run's numbers for a terminal, one per line:
// reads and their verdicts, writes and their failures, stale windows,
// convergence, the audit and latency percentiles.
func WriteRunText(w io.Writer, r *record.Run) error {
	s := Summarize(r)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	ratio := func(x *float64) string {
		if x == nil {
			return "-"
		}
		return strconv.FormatFloat(*x, 'g', 4, 64)
	}
	p("run\t%s (%s)", r.ID, r.Status)
	if r.Error != "" {
		p("error\t%s", r.Error)
	}
	for _, n := range r.Notes {
		p("note\t%s", n)
	}
	p("strategy / scenario\t%s / %s, seed %d", r.Strategy, r.Scenario, r.Seed)
	if t := r.Env.Topology; t != "" {
		p("topology\t%s", t)
	}
	for _, f := range r.Faults {
		for _, e := range f.Events {
			p("  %s\t%.3fs %s", f.Fault, e.At, e.What)
		}
	}
	m := r.Metrics
	if m == nil {
		p("metrics\tnone")
		return tw.Flush()
	}
	p("measured\t%.1fs, %.0f ops/s", r.MeasuredSeconds, s.OpsPerSec)
	p("reads\t%d (%d hits, %d misses, hit ratio %s), %d errors", m.Reads.Total, m.Reads.Hits, m.Reads.Misses, ratio(m.Reads.HitRatio), m.Reads.Total-m.Reads.OK)
	p("  stale\t%d (ratio %s), p50/p99/max age %s / %s / %s", m.Reads.Stale, ratio(m.Reads.StaleRatio),
		FormatMicros(m.Reads.StalenessAge.P50), FormatMicros(m.Reads.StalenessAge.P99), FormatMicros(m.Reads.StalenessAge.Max))
	p("  ghost / early / unknown\t%d / %d / %d", m.Reads.Ghost, m.Reads.Early, m.Reads.Unknown)
	writeRYWText(p, r)
	p("writes\t%d attempted, %d committed, availability %s", m.Writes.Attempted, m.Writes.Committed, ratio(m.Writes.Availability))
	var failed []string
	for _, c := range []string{"redis", "postgres", "timeout", "indeterminate", "other"} {
		if n := m.Writes.Failed[c]; n > 0 {
			failed = append(failed, fmt.Sprintf("%s %d", c, n))
		}
	}
	if len(failed) > 0 {
		p("  failed\t%s", strings.Join(failed, ", "))
	}
	p("stale windows\t%d of %d writes (fraction %s), max %s", m.StaleWindow.WithWindow, m.StaleWindow.Writes, ratio(m.StaleWindow.Fraction), FormatMicros(m.StaleWindow.MaxUs))
	for _, c := range m.Convergence {
		if c.Samples == 0 {
			continue
		}
		capped := ""
		if c.NinesCapped {
			capped = "+"
		}
		p("convergence @%s\t%d/%d consistent (%s%s nines)", FormatMicros(c.OffsetUs), c.Consistent, c.Samples, ratio(c.Nines), capped)
	}
	p("audit\t%d keys, %d cached: %d stale until TTL, %d ghost until TTL, %d unknown", m.Audit.Checked, m.Audit.Present, m.Audit.StaleUntilTTL, m.Audit.GhostUntilTTL, m.Audit.Unknown)
	writeInstancesText(p, r)
	if m.Warnings > 0 {
		p("warnings\t%d cache errors after COMMIT (writes not failed)", m.Warnings)
	}
	if h := r.InvalidationLag; h != nil && h.Count > 0 {
		p("invalidation lag\tp50 %s  p99 %s  max %s  (n=%d, configured %s)", FormatMicros(h.P50), FormatMicros(h.P99), FormatMicros(h.Max), h.Count, FormatMicros(r.InvalidationLagConfiguredUs))
		writeLagStagesText(p, r)
		if w := r.LagWarning(); w != "" {
			p("WARNING\t%s", w)
		}
	}
	writeDBLoadText(p, r)
	for _, n := range r.Notices {
		p("WARNING\t%s", n)
	}
	if m.FillWarnings > 0 {
		p("fill warnings\t%d cache errors on the read path (reads served from the database or not cached)", m.FillWarnings)
	}
	if len(m.Violations) > 0 {
		p("CHECKER BUG\tinvariants broken: %s", strings.Join(m.Violations, "; "))
	}
	for _, name := range []string{check.LatencyReadHit, check.LatencyReadMiss, check.LatencyWrite} {
		h := m.Latency[name]
		if h == nil || h.Count == 0 {
			continue
		}
		p("latency %s\tp50 %s  p99 %s  p99.9 %s  max %s  (n=%d)", name, FormatMicros(h.P50), FormatMicros(h.P99), FormatMicros(h.P999), FormatMicros(h.Max), h.Count)
	}
	for _, f := range r.Faults {
		p("fault %s\tscheduled %.2fs-%.2fs, in effect %.3fs-%.3fs %s%s", f.Fault, f.ScheduledStart, f.ScheduledEnd, f.Start, f.End, f.InjectError, f.HealError)
	}
	return tw.Flush()
}
