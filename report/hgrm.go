package report

import (
	"bytes"
	"io"

	"github.com/ghostbench/ghostbench/check"
	"github.com/ghostbench/ghostbench/record"
)

// HgrmTicksPerHalfDistance is the number of percentile reporting ticks per
// half distance to 100%, as HdrHistogram's HistogramLogProcessor prints
// them by default.
const HgrmTicksPerHalfDistance = 5

// hgrmValueScale converts the histograms' microseconds into the
// milliseconds HdrHistogram's plotters expect.
const hgrmValueScale = 1000

// hgrmHeader is the header line of the Java and C implementations
// (outputPercentileDistribution, hdr_percentiles_print); some parsers match
// it literally, while hdrhistogram-go separates the names by tabs.
const hgrmHeader = "       Value     Percentile TotalCount 1/(1-Percentile)\n"

// WriteHgrm writes h in HdrHistogram's percentile distribution format
// (.hgrm: "Value Percentile TotalCount 1/(1-Percentile)" rows, then the
// Mean/StdDeviation/Max/Total count footer), values in milliseconds, so
// that HdrHistogram's plotFiles.html and similar tools read it. The rows
// and footer are hdrhistogram-go's PercentilesPrint with a value scale of
// 1000 (microseconds to milliseconds), the header line the Java one. It
// returns an error when h has no valid HDR encoding; an empty histogram
// writes the header and the footer only.
func WriteHgrm(w io.Writer, h *check.Histogram) error {
	d, err := h.Decode()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := d.PercentilesPrint(&buf, HgrmTicksPerHalfDistance, hgrmValueScale); err != nil {
		return err
	}
	out := buf.Bytes()
	if i := bytes.IndexByte(out, '\n'); i >= 0 && bytes.Contains(out[:i], []byte("Percentile")) {
		out = append([]byte(hgrmHeader), out[i+1:]...)
	}
	_, err = w.Write(out)
	return err
}

// Names of the latency kinds written as .hgrm files for each run.
const (
	HgrmRead  = "read"  // successful reads, hits and misses merged
	HgrmWrite = "write" // every write, failed ones included
)

// latencyOf returns the histogram of kind (HgrmRead or HgrmWrite) in r,
// nil when r has none.
func latencyOf(r *record.Run, kind string) *check.Histogram {
	if r == nil || r.Metrics == nil {
		return nil
	}
	switch kind {
	case HgrmRead:
		return mergedReads(r.Metrics)
	case HgrmWrite:
		return r.Metrics.Latency[check.LatencyWrite]
	}
	return nil
}
