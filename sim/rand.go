package sim

import "math/rand/v2"

// splitmix64 scrambles the run seed so that nearby seeds give unrelated
// streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnv1a64(s string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// Stream returns a new random stream for name derived from seed by the rule
// in the package doc. Callers outside a World (scenario generators) use it
// to draw from the same family of streams.
func Stream(seed uint64, name string) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(seed), fnv1a64(name)))
}
