package report

import (
	"io"
)

// HgrmTicksPerHalfDistance is the number of percentile reporting ticks per
// half distance to 100%, as HdrHistogram's HistogramLogProcessor prints
// them by default.
const HgrmTicksPerHalfDistance = 5

// hgrmValueScale converts the histograms' microseconds into the
// milliseconds HdrHistogram's plotters expect.
const hgrmValueScale = 1000

// WriteHgrm writes h in HdrHistogram's percentile distribution format
// (.hgrm, as hdrhistogram-go's PercentilesPrint and the Java
// HistogramLogProcessor write it: "Value Percentile TotalCount
// 1/(1-Percentile)" rows, then the Mean/StdDeviation/Max/Total count
// footer), values in milliseconds, so that HdrHistogram's plotFiles.html
// and similar tools read it. It returns an error when h has no valid HDR
// encoding; an empty histogram writes the header and the footer only.
func WriteHgrm(w io.Writer, h *Histogram) error {
	d, err := h.Decode()
	if err != nil {
		return err
	}
	ew := &errWriter{w: w}
	_, err = d.PercentilesPrint(ew, HgrmTicksPerHalfDistance, hgrmValueScale)
	if err != nil {
		return err
	}
	return ew.err
}

// Names of the latency kinds written as .hgrm files for each run.
const (
	HgrmRead  = "read"  // successful reads, hits and misses merged
	HgrmWrite = "write" // every write, failed ones included
)

// latencyOf returns the histogram of kind (HgrmRead or HgrmWrite) in r,
// nil when r has none.
func latencyOf(r *Run, kind string) *Histogram {
	if r == nil || r.Metrics == nil {
		return nil
	}
	switch kind {
	case HgrmRead:
		return mergedReads(r.Metrics)
	case HgrmWrite:
		return r.Metrics.Latency[LatencyWrite]
	}
	return nil
}
