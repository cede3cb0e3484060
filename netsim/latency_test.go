package netsim

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func samples(j Jitter, n int) []int64 {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(j.Sample(r))
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

func mean(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s / int64(len(xs))
}

func within(t *testing.T, what string, got, want, tolPercent int64) {
	t.Helper()
	if d := got - want; d*100 > want*tolPercent || -d*100 > want*tolPercent {
		t.Errorf("%s = %d, want %d ±%d%%", what, got, want, tolPercent)
	}
}

func TestJitterDistributions(t *testing.T) {
	const n = 200_000
	const scale = 1_000_000
	u := samples(Jitter{Dist: DistUniform, Scale: scale}, n)
	if u[0] < 0 || u[n-1] > scale {
		t.Errorf("uniform out of [0, %d]: %d..%d", scale, u[0], u[n-1])
	}
	within(t, "uniform mean", mean(u), scale/2, 2)

	e := samples(Jitter{Dist: DistExponential, Scale: scale}, n)
	within(t, "exponential mean", mean(e), scale, 2)
	// P(X > mean) = e^-1; P(X > 3 mean) = e^-3.
	above := func(xs []int64, v int64) int64 {
		return int64(len(xs) - sort.Search(len(xs), func(i int) bool { return xs[i] > v }))
	}
	within(t, "exponential P(X>mean)*1e4", above(e, scale)*10_000/n, 3679, 3)
	within(t, "exponential P(X>3mean)*1e4", above(e, 3*scale)*10_000/n, 498, 8)

	p1 := samples(Jitter{Dist: DistPareto, Scale: scale}, n)
	within(t, "pareto(1) median", p1[n/2], scale, 3)
	if p1[n-1] != DefaultParetoCapFactor*scale {
		t.Errorf("pareto(1) max %d, want the default cap %d", p1[n-1], DefaultParetoCapFactor*scale)
	}
	// P(X > 9 scale) = 1/10 for alpha 1.
	within(t, "pareto(1) P(X>9s)*1e4", above(p1, 9*scale)*10_000/n, 1000, 3)

	p2 := samples(Jitter{Dist: DistPareto, Scale: scale, Alpha: 2, Cap: 5 * scale}, n)
	within(t, "pareto(2) median", p2[n/2], 414_214, 3) // sqrt(2)-1
	if p2[n-1] != 5*scale {
		t.Errorf("pareto(2) max %d, want cap %d", p2[n-1], 5*scale)
	}

	c := samples(Jitter{Dist: DistExponential, Scale: scale, Cap: scale / 2}, 1000)
	if c[999] != scale/2 {
		t.Errorf("exponential cap: max %d", c[999])
	}
}

func TestNoJitterDrawsNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	twin := rand.New(rand.NewPCG(1, 2))
	for _, j := range []Jitter{{}, {Dist: DistUniform}, {Dist: DistNone, Scale: time.Second}} {
		if v := j.Sample(r); v != 0 {
			t.Errorf("%+v sampled %d", j, v)
		}
	}
	if r.Uint64() != twin.Uint64() {
		t.Error("a zero jitter drew from the stream")
	}
}

func TestIsqrt(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := rapid.Uint64().Draw(t, "x")
		r := isqrt(x)
		if r > 1<<32-1 || r*r > x || (r+1 <= 1<<32-1 && (r+1)*(r+1) <= x) {
			t.Fatalf("isqrt(%d) = %d", x, r)
		}
	})
}

func TestSampleNeverNegative(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		j := Jitter{
			Dist:  Dist(rapid.IntRange(0, 4).Draw(t, "dist")),
			Scale: time.Duration(rapid.Int64Range(-10, 1<<62).Draw(t, "scale")),
			Alpha: rapid.IntRange(0, 3).Draw(t, "alpha"),
			Cap:   time.Duration(rapid.Int64Range(0, 1<<62).Draw(t, "cap")),
		}
		r := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "s"), 0))
		for range 20 {
			v := j.Sample(r)
			if v < 0 || (j.Cap > 0 && v > j.Cap) {
				t.Fatalf("%+v sampled %d", j, v)
			}
		}
	})
}
