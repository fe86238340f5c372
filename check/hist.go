package check

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Units of a Histogram's values.
const (
	// UnitMicros: values are durations in microseconds.
	UnitMicros = "us"
	// UnitVersions: values are counts of row versions (version lag).
	UnitVersions = "versions"
)

// Ranges of the histograms the checker records. Values above the highest
// are recorded as the highest and counted in Histogram.Clamped.
const (
	// HistSignificantDigits is the precision of every histogram: values
	// below 2048 are exact, larger ones within 0.1%.
	HistSignificantDigits = 3
	// MaxLatencyMicros is the highest duration recorded: 60 s.
	MaxLatencyMicros = 60_000_000
	// MaxVersionLag is the highest version lag recorded.
	MaxVersionLag = 1_000_000_000
)

// Histogram is the JSON form of one HdrHistogram: summary numbers for
// tables, and the whole histogram in HDR, so that percentiles and CDFs can
// be recomputed after a JSON round trip (Quantile, CDF, Decode).
type Histogram struct {
	// Unit is UnitMicros or UnitVersions.
	Unit string `json:"unit"`
	// Count is the number of recorded values (clamped ones included).
	Count int64 `json:"count"`
	// Min, Max and the percentiles are HdrHistogram's equivalent values:
	// exact below 2048, within 0.1% above. 0 when Count is 0.
	Min   int64   `json:"min"`
	Max   int64   `json:"max"`
	Mean  float64 `json:"mean"`
	P50   int64   `json:"p50"`
	P90   int64   `json:"p90"`
	P99   int64   `json:"p99"`
	P999  int64   `json:"p999"`
	P9999 int64   `json:"p9999"`
	// Clamped counts values that were out of range and recorded as the
	// nearest bound (0 or the highest trackable value).
	Clamped int64 `json:"clamped"`
	// HDR is the histogram in HdrHistogram's V2 compressed encoding,
	// base64 (the format of .hlog files; other HdrHistogram tools read it).
	// A Histogram made by the checker fills it when marshalled to JSON
	// (encoding costs a megabyte of zlib state, so it is done only when
	// needed); Decode, Quantile and CDF work either way.
	HDR string `json:"hdr"`

	live *hdr.Histogram // the recorded histogram, until encoded
}

// MarshalJSON encodes h, with HDR filled in. (A value receiver, so that a
// Histogram copied by value still marshals its HDR.)
func (h Histogram) MarshalJSON() ([]byte, error) {
	type plain Histogram // without the method
	p := plain(h)
	if p.HDR == "" && h.live != nil {
		enc, err := h.live.Encode(hdr.V2CompressedEncodingCookieBase)
		if err != nil {
			return nil, fmt.Errorf("check: encode histogram: %w", err)
		}
		p.HDR = string(enc)
	}
	return json.Marshal(p)
}

// CDFPoint is one step of a cumulative distribution: the fraction of
// recorded values that are at most Value.
type CDFPoint struct {
	Value    int64   `json:"value"`
	Fraction float64 `json:"fraction"`
}

// errEmptyHDR is returned by Decode for a Histogram without an encoding.
var errEmptyHDR = errors.New("check: histogram has no HDR encoding")

// Decode returns the HdrHistogram that h holds, a copy the caller may
// modify. It returns an error when HDR is empty or not a valid V2
// compressed encoding.
func (h *Histogram) Decode() (*hdr.Histogram, error) {
	if h != nil && h.live != nil && h.HDR == "" {
		return h.live.Clone(), nil
	}
	if h == nil || h.HDR == "" {
		return nil, errEmptyHDR
	}
	d, err := hdr.Decode([]byte(h.HDR))
	if err != nil {
		return nil, fmt.Errorf("check: decode histogram: %w", err)
	}
	return d, nil
}

// Quantile returns the value at quantile q (0 <= q <= 1; 0.99 is the 99th
// percentile), recomputed from HDR. It returns 0 for an empty histogram and
// -1 when HDR cannot be decoded (Decode says why).
func (h *Histogram) Quantile(q float64) int64 {
	d, err := h.Decode()
	if err != nil {
		return -1
	}
	return hdrQuantile(d, q)
}

// CDF returns the cumulative distribution recomputed from HDR, one point per
// non-empty HdrHistogram bucket, Value being the bucket's highest equivalent
// value, for plotting. It returns nil for an empty histogram or when HDR
// cannot be decoded (Decode says why).
func (h *Histogram) CDF() []CDFPoint {
	d, err := h.Decode()
	if err != nil || d.TotalCount() == 0 {
		return nil
	}
	total := float64(d.TotalCount())
	var pts []CDFPoint
	var cum int64
	for _, b := range d.Distribution() {
		if b.Count == 0 {
			continue
		}
		cum += b.Count
		pts = append(pts, CDFPoint{Value: b.To, Fraction: float64(cum) / total})
	}
	return pts
}

func hdrQuantile(d *hdr.Histogram, q float64) int64 {
	if d.TotalCount() == 0 {
		return 0
	}
	q = math.Max(0, math.Min(1, q))
	return d.ValueAtQuantile(q * 100)
}

// hdrHist is an HdrHistogram with a fixed range and a count of clamped
// values. It is not safe for concurrent use (a shard's lock protects it).
type hdrHist struct {
	h       *hdr.Histogram
	highest int64
	clamped int64
}

func newHDRHist(highest int64) *hdrHist {
	return &hdrHist{h: hdr.New(1, highest, HistSignificantDigits), highest: highest}
}

// record records v, clamped into [0, highest].
func (r *hdrHist) record(v int64) {
	if v < 0 {
		v = 0
		r.clamped++
	} else if v > r.highest {
		v = r.highest
		r.clamped++
	}
	_ = r.h.RecordValue(v) // cannot fail: v is in range
}

// mergeInto adds o into *dst (same range), creating it when needed.
func mergeInto(dst **hdrHist, o *hdrHist) {
	if o == nil {
		return
	}
	if *dst == nil {
		*dst = newHDRHist(o.highest)
	}
	(*dst).h.Merge(o.h)
	(*dst).clamped += o.clamped
}

// histogram returns the JSON form of r.
func (r *hdrHist) histogram(unit string) *Histogram {
	d := r.h
	out := &Histogram{Unit: unit, Count: d.TotalCount(), Clamped: r.clamped}
	if out.Count > 0 {
		out.Min = d.Min()
		out.Max = d.Max()
		out.Mean = d.Mean()
		out.P50 = hdrQuantile(d, 0.50)
		out.P90 = hdrQuantile(d, 0.90)
		out.P99 = hdrQuantile(d, 0.99)
		out.P999 = hdrQuantile(d, 0.999)
		out.P9999 = hdrQuantile(d, 0.9999)
	}
	out.live = d
	return out
}

// emptyHDR caches the encoding of an empty histogram by highest value:
// most of a run's histograms may be empty, and encoding allocates a zlib
// writer of about a megabyte.
var emptyHDR sync.Map // int64 -> string

// emptyHistogram returns the JSON form of an empty histogram.
func emptyHistogram(unit string, highest int64) *Histogram {
	if s, ok := emptyHDR.Load(highest); ok {
		return &Histogram{Unit: unit, HDR: s.(string)}
	}
	enc, err := newHDRHist(highest).h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil { // encoding an empty histogram does not fail
		return newHDRHist(highest).histogram(unit)
	}
	emptyHDR.Store(highest, string(enc))
	return &Histogram{Unit: unit, HDR: string(enc)}
}

// histogramOf returns the JSON form of r, which may be nil (empty).
func histogramOf(r *hdrHist, unit string, highest int64) *Histogram {
	if r == nil || r.h.TotalCount() == 0 && r.clamped == 0 {
		return emptyHistogram(unit, highest)
	}
	return r.histogram(unit)
}

// micros converts a duration in nanoseconds to microseconds, rounding up so
// that a positive duration never reads as 0 µs.
func ceilMicros(ns int64) int64 {
	if ns < 0 {
		return -1 // out of range: the histogram clamps it to 0 and counts it
	}
	return (ns + 999) / 1000
}

// MergeHistograms returns the histograms hs merged into one (nil ones
// skipped), nil when none can be decoded.
func MergeHistograms(hs ...*Histogram) *Histogram {
	var acc *hdrHist
	unit := UnitMicros
	for _, h := range hs {
		if h == nil {
			continue
		}
		d, err := h.Decode()
		if err != nil {
			continue
		}
		if acc == nil {
			acc = &hdrHist{h: hdr.New(1, d.HighestTrackableValue(), HistSignificantDigits), highest: d.HighestTrackableValue()}
			unit = h.Unit
		}
		acc.h.Merge(d)
		acc.clamped += h.Clamped
	}
	if acc == nil {
		return nil
	}
	return acc.histogram(unit)
}

// DurationHistogram returns the histogram (microseconds) of ds and how many
// of them were negative (recorded as 0).
func DurationHistogram(ds []time.Duration) (*Histogram, int64) {
	r := newHDRHist(MaxLatencyMicros)
	var neg int64
	for _, d := range ds {
		if d < 0 {
			neg++
			d = 0
		}
		r.record(ceilMicros(int64(d)))
	}
	h := r.histogram(UnitMicros)
	return h, neg
}
