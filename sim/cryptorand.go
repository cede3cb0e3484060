package sim

import (
	//detcheck:allow crypto-rand swaps the process-wide crypto/rand.Reader for a seeded stream; reads nothing from the OS
	cryptorand "crypto/rand"
	"io"
	"math/rand/v2"
)

// cryptoRandInstalled guards against two runs seeding the process-wide
// reader at once (parallel worlds in one process would share it).
var cryptoRandInstalled bool

// InstallCryptoRand replaces the process-wide crypto/rand.Reader with a
// stream seeded from seed (stream "crypto/rand", see Stream) for one run,
// and returns the function that restores the previous reader.
//
// Why: go.etcd.io/raft/v3 (v3.6.0, raft.go) draws each election timeout as
// crypto/rand.Int(crypto/rand.Reader, n) — it reads the package variable
// Reader, and crypto/rand.Int reads its io.Reader argument directly (unlike
// crypto/rand.Prime and the key generators, which since Go 1.26 ignore a
// custom reader unless GODEBUG=cryptocustomrand=1). So swapping the
// variable makes raft's jitter a function of the seed, and the draws happen
// in event order on the world's single goroutine.
//
// Install once per run, before starting nodes that use raft, and restore
// when the run ends. The reader is process-wide: runs that use raft must not
// execute in parallel within one process (use separate processes for
// parallel sweeps); a second concurrent install panics. Tests may instead
// use testing/cryptotest.SetGlobalRandom, which also seeds crypto/rand.Read.
func InstallCryptoRand(seed uint64) (restore func()) {
	if cryptoRandInstalled {
		panic("sim: InstallCryptoRand: a seeded crypto/rand reader is already installed")
	}
	cryptoRandInstalled = true
	prev := cryptorand.Reader
	cryptorand.Reader = &seededReader{r: Stream(seed, "crypto/rand")}
	return func() {
		cryptorand.Reader = prev
		cryptoRandInstalled = false
	}
}

// seededReader is an io.Reader over a seeded stream; it never fails.
type seededReader struct {
	r   *rand.Rand
	buf uint64
	n   int // bytes left in buf
}

var _ io.Reader = (*seededReader)(nil)

func (s *seededReader) Read(p []byte) (int, error) {
	for i := range p {
		if s.n == 0 {
			s.buf, s.n = s.r.Uint64(), 8
		}
		p[i] = byte(s.buf)
		s.buf >>= 8
		s.n--
	}
	return len(p), nil
}
