package scenarios

import (
	//detcheck:allow crypto-rand the test checks a cluster run restores the process-wide reader
	cryptorand "crypto/rand"
	"testing"
)

// TestSameSeedSameTraceHash runs every scenario for several seeds twice in
// one process: equal seeds must give equal trace hashes and results,
// different seeds different hashes. (cmd/loglab's test repeats this in a
// fresh process.) Cluster scenarios included: raft's election jitter comes
// from crypto/rand, which each run seeds (sim.InstallCryptoRand).
func TestSameSeedSameTraceHash(t *testing.T) {
	for _, sc := range All() {
		hashes := map[string]uint64{}
		seeds := uint64(4)
		if isCluster(sc) {
			seeds = 2 // raft, replica fetchers and the admin node too
		}
		for seed := uint64(1); seed <= seeds; seed++ {
			a, err := sc.Run(Options{Seed: seed})
			if err != nil {
				t.Fatalf("%s seed %d: %v", sc.Name, seed, err)
			}
			b, err := sc.Run(Options{Seed: seed})
			if err != nil {
				t.Fatalf("%s seed %d: %v", sc.Name, seed, err)
			}
			if a.TraceHash != b.TraceHash || a.Events != b.Events || a.OK != b.OK {
				t.Errorf("%s seed %d not deterministic: %s/%d vs %s/%d", sc.Name, seed, a.TraceHash, a.Events, b.TraceHash, b.Events)
			}
			if prev, dup := hashes[a.TraceHash]; dup {
				t.Errorf("%s: seeds %d and %d share trace hash %s", sc.Name, prev, seed, a.TraceHash)
			}
			hashes[a.TraceHash] = seed
		}
	}
}

// TestClusterRunLeavesCryptoRandAlone: a cluster run seeds the
// process-wide crypto/rand reader and restores it, so runs follow one
// another in a process (and a second concurrent install would panic rather
// than silently share the stream).
func TestClusterRunLeavesCryptoRandAlone(t *testing.T) {
	sc, err := Lookup("replicated-rolling-restart-loses-nothing")
	if err != nil {
		t.Fatal(err)
	}
	before := cryptorand.Reader
	a, err := sc.Run(Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if cryptorand.Reader != before {
		t.Fatal("crypto/rand.Reader not restored after a cluster run")
	}
	b, err := sc.Run(Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if a.TraceHash != b.TraceHash || a.Events != b.Events {
		t.Fatalf("seed 5 twice: %s/%d vs %s/%d", a.TraceHash, a.Events, b.TraceHash, b.Events)
	}
}
