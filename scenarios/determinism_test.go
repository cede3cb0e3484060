package scenarios

import "testing"

// TestSameSeedSameTraceHash runs every scenario for several seeds twice in
// one process: equal seeds must give equal trace hashes and results,
// different seeds different hashes. (cmd/loglab's test repeats this in a
// fresh process.)
func TestSameSeedSameTraceHash(t *testing.T) {
	for _, sc := range All() {
		hashes := map[string]uint64{}
		for seed := uint64(1); seed <= 4; seed++ {
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
