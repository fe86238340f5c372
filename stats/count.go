package stats

import "math"

// CountCI estimates a rate of rare events from repetitions: counts[i]
// events were seen in repetition i with exposure[i] (the repetition's
// number of reads for a ratio; nil means 1 per repetition, a count per
// repetition). Value is the pooled rate, sum(counts)/sum(exposure), and
// the interval at level conf is the envelope of the exact Poisson
// interval of the total and the Student t interval of the per-repetition
// rates (see the package doc). Repetitions with zero exposure are
// skipped. HasCI is false with no repetition left; with one, the interval
// is the Poisson one alone.
func CountCI(counts []int64, exposure []float64, conf float64) Estimate {
	e := Estimate{Method: MethodCount}
	var total int64
	var expo float64
	var rates []float64
	for i, c := range counts {
		x := 1.0
		if exposure != nil {
			x = exposure[i]
		}
		if x <= 0 {
			continue
		}
		total += c
		expo += x
		rates = append(rates, float64(c)/x)
	}
	e.N = len(rates)
	if e.N == 0 {
		e.Value, e.Lo, e.Hi = math.NaN(), math.NaN(), math.NaN()
		return e
	}
	e.Value = float64(total) / expo
	// Overdispersion: with events in clusters the variance between
	// repetitions exceeds the Poisson one (variance = mean) by the factor
	// phi, and total/phi is about the number of independent clusters.
	phi := 1.0
	if e.N >= 2 && total > 0 {
		// per-repetition counts scaled to the mean exposure
		scaled := make([]float64, len(rates))
		for i, r := range rates {
			scaled[i] = r * expo / float64(e.N)
		}
		m, sd := meanSD(scaled)
		phi = math.Max(1, sd*sd/m)
	}
	pl, ph := poissonCI(float64(total)/phi, conf)
	e.Lo, e.Hi = pl*phi/expo, ph*phi/expo
	if e.N >= 2 {
		m, sd := meanSD(rates)
		h := TQuantile(1-(1-conf)/2, e.N-1) * sd / math.Sqrt(float64(e.N))
		e.Lo = math.Min(e.Lo, math.Max(0, m-h))
		e.Hi = math.Max(e.Hi, m+h)
	}
	e.HasCI = true
	e.Coverage = conf
	return e
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// PoissonCI is the exact (Garwood) interval at level conf of the mean of
// a Poisson variable of which k was observed: lo is 0 for k = 0, and
// otherwise P(X >= k; lo) = P(X <= k; hi) = (1-conf)/2.
func PoissonCI(k int64, conf float64) (lo, hi float64) {
	return poissonCI(float64(k), conf)
}

// poissonCI is PoissonCI for a count that may be fractional (an effective
// count), through the gamma function.
func poissonCI(k float64, conf float64) (lo, hi float64) {
	a := (1 - conf) / 2
	cdf := func(k float64, lam float64) float64 { // P(X <= k; lam)
		if lam <= 0 {
			return 1
		}
		return gammaQ(k+1, lam)
	}
	bisect := func(f func(float64) float64, target, lo, hi float64) float64 {
		// f decreasing in lam
		for range 200 {
			mid := (lo + hi) / 2
			if f(mid) > target {
				lo = mid
			} else {
				hi = mid
			}
			if hi-lo <= 1e-12*math.Max(1, hi) {
				break
			}
		}
		return (lo + hi) / 2
	}
	top := k + 20*math.Sqrt(k+1) + 20
	hi = bisect(func(l float64) float64 { return cdf(k, l) }, a, 0, top)
	if k > 0 {
		// P(X >= k) = 1 - P(X <= k-1) = a  <=>  P(X <= k-1) = 1-a
		lo = bisect(func(l float64) float64 { return cdf(k-1, l) }, 1-a, 0, top)
	}
	return lo, hi
}

// gammaQ is the regularized upper incomplete gamma function Q(a, x), by
// the series (x < a+1) or the continued fraction (Numerical Recipes 6.2).
func gammaQ(a, x float64) float64 {
	if x <= 0 {
		return 1
	}
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, del, ap := 1/a, 1/a, a
		for range 100000 {
			ap++
			del *= x / ap
			sum += del
			if math.Abs(del) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return 1 - sum*math.Exp(-x+a*math.Log(x)-lg)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 100000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return math.Exp(-x+a*math.Log(x)-lg) * h
}

// TQuantile returns the p-quantile (0.5 <= p < 1) of Student's t
// distribution with df degrees of freedom, by bisection on its CDF (the
// regularized incomplete beta function).
func TQuantile(p float64, df int) float64 {
	if df < 1 {
		return math.NaN()
	}
	v := float64(df)
	cdf := func(t float64) float64 { // P(T <= t), t >= 0
		x := v / (v + t*t)
		return 1 - 0.5*betaI(v/2, 0.5, x)
	}
	lo, hi := 0.0, 1.0
	for cdf(hi) < p {
		hi *= 2
		if hi > 1e12 {
			return math.Inf(1)
		}
	}
	for range 200 {
		mid := (lo + hi) / 2
		if cdf(mid) < p {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-12*hi {
			break
		}
	}
	return (lo + hi) / 2
}

// betaI is the regularized incomplete beta function I_x(a, b), by its
// continued fraction (Numerical Recipes 6.4).
func betaI(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log(1-x))
	if x < (a+1)/(a+b+2) {
		return front * betacf(a, b, x) / a
	}
	return 1 - front*betacf(b, a, 1-x)/b
}

func betacf(a, b, x float64) float64 {
	const tiny = 1e-300
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m < 10000; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return h
}
