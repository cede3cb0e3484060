package netsim

import (
	"math/bits"
	"math/rand/v2"
	"time"
)

// Link is the model of one directed link (from one node to another): every
// frame waits Latency plus a Jitter sample, and, if BytesPerSecond is set,
// its serialization time on the link.
type Link struct {
	// Latency is the fixed one-way delay.
	Latency time.Duration
	// Jitter is added to Latency, drawn afresh for every frame.
	Jitter Jitter
	// BytesPerSecond is the link's bandwidth; 0 means unlimited. Frames on
	// one link (all connections from one node to another) serialize one
	// after the other, each taking len*1e9/BytesPerSecond ns.
	BytesPerSecond int64
}

// Dist names a jitter distribution.
type Dist uint8

const (
	// DistNone adds no jitter.
	DistNone Dist = iota
	// DistUniform draws jitter uniformly from [0, Scale].
	DistUniform
	// DistExponential draws jitter from an exponential distribution with
	// mean Scale.
	DistExponential
	// DistPareto draws a long tail: Scale*(U^(-1/Alpha) - 1) for U uniform
	// in (0, 1], so the median is about Scale*(2^(1/Alpha)-1) and rare
	// frames wait up to Cap.
	DistPareto
)

func (d Dist) String() string {
	switch d {
	case DistNone:
		return "none"
	case DistUniform:
		return "uniform"
	case DistExponential:
		return "exponential"
	case DistPareto:
		return "pareto"
	}
	return "dist(" + itoa(int64(d)) + ")"
}

// Jitter is a random delay added to a link's fixed latency.
type Jitter struct {
	Dist Dist
	// Scale is the distribution's size parameter (see Dist).
	Scale time.Duration
	// Alpha is DistPareto's shape: 1 (the default, the heaviest tail) or 2.
	Alpha int
	// Cap bounds every sample when > 0. DistPareto with Cap 0 is capped at
	// 100*Scale.
	Cap time.Duration
}

// DefaultParetoCapFactor bounds DistPareto jitter when Jitter.Cap is 0.
const DefaultParetoCapFactor = 100

// Sample draws one jitter value in nanoseconds from r. It uses integer
// arithmetic only, so a seed gives the same samples on every platform.
func (j Jitter) Sample(r *rand.Rand) time.Duration {
	scale := int64(j.Scale)
	if scale <= 0 || j.Dist == DistNone {
		return 0
	}
	limit := int64(j.Cap)
	var v int64
	switch j.Dist {
	case DistUniform:
		v = r.Int64N(scale + 1)
	case DistExponential:
		v = sampleExponential(r, uint64(scale))
	case DistPareto:
		if limit <= 0 {
			limit = scale * DefaultParetoCapFactor
		}
		v = samplePareto(r, uint64(scale), j.Alpha, uint64(limit))
	default:
		return 0
	}
	if limit > 0 && v > limit {
		v = limit
	}
	return time.Duration(v)
}

// sample is the link's one-way delay for one frame, in nanoseconds.
func (l Link) sample(r *rand.Rand) int64 {
	d := int64(l.Latency) + int64(l.Jitter.Sample(r))
	if d < 0 {
		return 0
	}
	return d
}

// sampleExponential is von Neumann's method (1951): it needs only
// comparisons of uniform integers, no logarithm, so it is exact and
// platform-independent. Draw U1 > U2 > ... > Un <= U(n+1): given U1 = x the
// run length n is odd with probability e^-x, so an odd run accepts x as the
// fractional part; every rejected round adds 1 to the integer part, which is
// therefore geometric with ratio e^-1. Together: Exp(1), scaled by mean.
func sampleExponential(r *rand.Rand, mean uint64) int64 {
	for k := uint64(0); ; k++ {
		u := r.Uint64()
		x, n := u, 1
		for {
			v := r.Uint64()
			if v >= x {
				break
			}
			x = v
			n++
		}
		if n%2 == 1 || k >= 64 {
			frac, _ := bits.Mul64(u, mean) // floor(u/2^64 * mean)
			return satAdd(satMul(k, mean), frac)
		}
	}
}

// samplePareto returns scale*(U^(-1/alpha) - 1), at most limit.
func samplePareto(r *rand.Rand, scale uint64, alpha int, limit uint64) int64 {
	if alpha == 2 {
		// U = u/2^62 with u in [1, 2^62]; U^(-1/2) = 2^31/isqrt(u).
		u := r.Uint64()>>2 + 1
		s := isqrt(u)
		return mulDivCapped(scale, 1<<31-s, s, limit)
	}
	// U = u/2^53 with u in [1, 2^53]; 1/U - 1 = (2^53-u)/u.
	u := r.Uint64()>>11 + 1
	return mulDivCapped(scale, 1<<53-u, u, limit)
}

// mulDivCapped is min(a*b/d, limit) without overflow.
func mulDivCapped(a, b, d, limit uint64) int64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= d {
		return int64(min(limit, 1<<63-1))
	}
	q, _ := bits.Div64(hi, lo, d)
	return int64(min(q, limit, 1<<63-1))
}

// isqrt is floor(sqrt(x)) by Newton's method on integers.
func isqrt(x uint64) uint64 {
	if x == 0 {
		return 0
	}
	r := uint64(1) << ((bits.Len64(x) + 1) / 2) // >= sqrt(x)
	for {
		y := (r + x/r) / 2
		if y >= r {
			return r
		}
		r = y
	}
}

func satMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 || lo > 1<<63-1 {
		return 1<<63 - 1
	}
	return lo
}

func satAdd(a, b uint64) int64 {
	s := a + b
	if s < a || s > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(s)
}
