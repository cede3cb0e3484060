package scenarios

import (
	"slices"
	"strings"
	"testing"
)

// TestMixedProducersJudgedByTheirPromise: with clients.idempotent: mixed
// a plain producer's duplicates are counted per producer and tolerated,
// an idempotent producer's are anomalies. skip-sequence-check makes the
// idempotent ones duplicate; every duplicate reported must then be of an
// idempotent producer's record, and every tolerated one of a plain one's.
func TestMixedProducersJudgedByTheirPromise(t *testing.T) {
	sc := mustLookup(t, "mixed-producers-connection-resets-each-judged-by-its-promise")
	for _, bug := range [][]string{nil, {"skip-sequence-check"}} {
		sawTolerated, sawReported := false, false
		for seed := uint64(1); seed <= 3; seed++ {
			res, err := sc.Run(Options{Seed: seed, Bugs: bug})
			if err != nil {
				t.Fatal(err)
			}
			var idem []string
			for _, k := range res.Knobs {
				if v, ok := strings.CutPrefix(k, "client.idempotent="); ok {
					idem = strings.Split(v, ",")
				}
			}
			if idem == nil {
				t.Fatalf("seed %d: no client.idempotent knob in %v", seed, res.Knobs)
			}
			for name, n := range res.Stats {
				p, ok := strings.CutPrefix(name, "duplicates_tolerated.")
				if !ok || n == 0 {
					continue
				}
				sawTolerated = true
				if slices.Contains(idem, p) {
					t.Errorf("seed %d bugs %v: idempotent %s's duplicates tolerated (%d)", seed, bug, p, n)
				}
			}
			for _, f := range res.Findings {
				if f.Kind != "duplicate" {
					continue
				}
				sawReported = true
				if !slices.ContainsFunc(idem, func(p string) bool { return strings.Contains(f.Evidence, `value "`+p+"/") }) {
					t.Errorf("seed %d bugs %v: a plain producer's duplicate reported: %s", seed, bug, f.Evidence)
				}
			}
			if bug == nil && !res.OK {
				t.Errorf("seed %d: %v %v", seed, res.Anomalies, firstFindings(res, 3))
			}
		}
		if !sawTolerated {
			t.Errorf("bugs %v: no plain producer's duplicate in seeds 1-3: the test shows nothing", bug)
		}
		if bug != nil && !sawReported {
			t.Errorf("skip-sequence-check: no idempotent producer duplicated in seeds 1-3")
		}
	}
}
