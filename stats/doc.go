// Package stats is the arithmetic behind ghostbench's verdicts across
// repetitions: the estimate of a metric over the repetitions of one bench
// cell with a 95% interval, and the test that says whether two cells
// differ. It uses the standard library only and does no I/O.
//
// # Continuous metrics
//
// Latencies, throughput and stale windows are summarised, as benchstat does,
// by the median of the repetitions and the order-statistic confidence
// interval of the median: the interval [x(k), x(n-k+1)] of the sorted
// sample with the largest k whose coverage, 1 - 2·P(Binomial(n, ½) < k),
// is still at least the confidence level. It assumes nothing about the
// distribution, but needs n >= 6 at 95% (1 - 2/2^6 = 0.969); with fewer
// repetitions MedianCI reports that no interval exists.
//
// # Counts of rare events
//
// Ghost reads, keys stale or ghost until TTL and stale reads come in
// clusters (one bad write makes many stale reads, one failed DEL leaves a
// key stale until its TTL), so single reads are not independent and an
// interval that treats them as such is far too narrow. The independent unit
// is the repetition: a fresh schema, key prefix and seed. CountCI gives the
// mean per repetition (or the pooled rate per unit of exposure, for ratios)
// with an interval that is the envelope of two:
//
//   - the exact (Garwood) Poisson interval of the total count, divided by
//     the total exposure: honest with few events, and with an upper bound
//     above zero when no event was seen (3.69 events over all repetitions at
//     95%);
//   - the Student t interval of the per-repetition rates: it widens with
//     the spread between repetitions, which is what clustering produces.
//
// Taking the wider bound on each side keeps the interval honest in both
// regimes; the calibration tests measure its coverage.
//
// # Comparing two cells
//
// MannWhitney is the two-sided Mann-Whitney U test (Wilcoxon rank-sum) that
// benchstat uses: exact (by enumerating every assignment of the pooled,
// mid-ranked sample, so ties are handled exactly) when the pooled sample is
// small, the normal approximation with tie and continuity correction
// otherwise. Two cells are significantly different at level Alpha (0.05)
// when its p-value is below Alpha.
package stats
