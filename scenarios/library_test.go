package scenarios

import (
	"math/rand/v2"
	"os"

	"errors"
	"github.com/loglab/loglab/sim"
	"path"
	"strings"
	"testing"
)

// TestLibraryFilesParse: every embedded file compiles and is named after
// its scenario, so `sim run --scenario NAME` and the file agree.
func TestLibraryFilesParse(t *testing.T) {
	entries, err := libraryFS.ReadDir("library")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if path.Ext(e.Name()) != ".yaml" {
			continue
		}
		n++
		data, _ := libraryFS.ReadFile("library/" + e.Name())
		spec, err := ParseSpec(e.Name(), data)
		if err != nil {
			t.Fatal(err)
		}
		if spec.Name+".yaml" != e.Name() {
			t.Errorf("%s holds scenario %q", e.Name(), spec.Name)
		}
		if _, err := Lookup(spec.Name); err != nil {
			t.Errorf("%s not registered: %v", spec.Name, err)
		}
	}
	if n < 10 {
		t.Errorf("%d library files, want at least 10", n)
	}
}

// isCluster reports a file scenario with a replicated cluster: its runs
// must not run in parallel in one process (sim.InstallCryptoRand).
func isCluster(sc *Scenario) bool { return sc.compiled != nil && sc.compiled.cluster() }

// clusterSeeds is how many seeds the package tests run per cluster
// scenario: 3, or 10 with LOGLAB_LONG=1.
func clusterSeeds() uint64 {
	if os.Getenv("LOGLAB_LONG") != "" {
		return 10
	}
	return 3
}

func fileScenarios() []*Scenario {
	var out []*Scenario
	for _, s := range All() {
		if s.compiled != nil {
			out = append(out, s)
		}
	}
	return out
}

// TestLibraryScenariosMeetExpectations runs every file scenario on a few
// seeds: each must meet its expectation and do real work. (The 200- and
// 1000-seed sweeps run with `loglab sim sweep`; see the library README.)
func TestLibraryScenariosMeetExpectations(t *testing.T) {
	seeds := uint64(10)
	if testing.Short() {
		seeds = 2
	}
	for _, sc := range fileScenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			n := seeds
			if isCluster(sc) {
				// A cluster run seeds the process-wide crypto/rand reader
				// (raft's jitter): never in parallel. Fewer seeds keep the
				// package test short; LOGLAB_LONG=1 runs ten.
				n = min(seeds, clusterSeeds())
			} else {
				t.Parallel() // runs share nothing: each builds its own world
			}
			for s := uint64(1); s <= n; s++ {
				res, err := sc.Run(Options{Seed: s})
				if err != nil {
					t.Fatalf("seed %d: %v", s, err)
				}
				if !res.OK {
					t.Errorf("seed %d: want %v (tolerating %v), found %v %v\nrepro: %s", s, res.Expected, res.Tolerated, res.Anomalies, firstFindings(res, 3), res.Repro)
				}
				sent := res.Stats["sends_ok"]
				if hasKnob(res.Knobs, "client.acks=0") {
					sent = res.Stats["sends_info"] // acks=0: no send is ever acknowledged
				}
				if sent < 100 || res.Stats["polls_ok"] == 0 || len(res.History) == 0 {
					t.Errorf("seed %d exercised too little: %v", s, res.Stats)
				}
				if res.Stats["faults"] == 0 && !strings.Contains(sc.Name, "swarm") {
					t.Errorf("seed %d: no fault struck", s)
				}
			}
		})
	}
}

// TestFileScenarioReplay: the same seed gives the same trace hash and
// verdict, and the shrinker's concrete form of a run (every knob fixed,
// the drawn schedule pasted) replays the very same run.
func TestFileScenarioReplay(t *testing.T) {
	sc, err := Lookup("single-broker-flush-every-1000-messages-loses-acked-writes-on-power-loss")
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []uint64{3, 8} {
		a, err := sc.Run(Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		b, err := sc.Run(Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if a.TraceHash != b.TraceHash || a.OK != b.OK || a.Events != b.Events || strings.Join(a.AnomalyKinds(), ",") != strings.Join(b.AnomalyKinds(), ",") {
			t.Fatalf("seed %d: %s %v %v vs %s %v %v", seed, a.TraceHash, a.OK, a.Anomalies, b.TraceHash, b.OK, b.Anomalies)
		}
		c, _ := concreteRun(t, sc, seed)
		if c.TraceHash != a.TraceHash || c.OK != a.OK {
			t.Errorf("seed %d: concrete file replays %s ok=%v, the library scenario %s ok=%v", seed, c.TraceHash, c.OK, a.TraceHash, a.OK)
		}
	}
}

// concreteRun runs the concrete form of sc's run at seed (every knob
// fixed to its draw, the schedule pasted: what `sim shrink` writes) and
// returns its result and the file.
func concreteRun(t *testing.T, sc *Scenario, seed uint64) (*Result, []byte) {
	t.Helper()
	p, err := sc.compiled.draw(simStream(seed))
	if err != nil {
		t.Fatal(err)
	}
	data, err := marshalSpec(concreteSpec(sc.compiled.spec, p))
	if err != nil {
		t.Fatal(err)
	}
	csc, _, err := LoadFile("concrete.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	res, err := csc.Run(Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return res, data
}

// TestShrinkReproduces shrinks a known-unsafe run and replays the output
// through the file path: the same anomaly, from a smaller scenario.
func TestShrinkReproduces(t *testing.T) {
	sc, err := Lookup("single-broker-flush-every-1000-messages-loses-acked-writes-on-power-loss")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Shrink(sc, ShrinkOptions{Seed: 3, MaxRuns: 40})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != "divergent-offset" || res.Before == res.After {
		t.Fatalf("kind %s, %s -> %s", res.Kind, res.Before, res.After)
	}
	min, spec, err := LoadFile("min.yaml", res.YAML)
	if err != nil {
		t.Fatalf("%v\n%s", err, res.YAML)
	}
	if spec.Seed == nil || *spec.Seed != 3 {
		t.Fatalf("seed not noted: %s", res.YAML)
	}
	r, err := min.Run(Options{Seed: *spec.Seed})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || r.Anomalies["divergent-offset"] == 0 || r.TraceHash != res.Result.TraceHash {
		t.Fatalf("shrunk file: ok=%v %v %s (shrinker saw %s)\n%s", r.OK, r.Anomalies, r.TraceHash, res.Result.TraceHash, res.YAML)
	}
	orig, _ := sc.Run(Options{Seed: 3})
	if r.Events >= orig.Events {
		t.Errorf("shrunk run has %d events, the original %d", r.Events, orig.Events)
	}
	// A Go scenario cannot be shrunk; a passing safe run has nothing to keep.
	if _, err := Shrink(mustLookup(t, "log-crash"), ShrinkOptions{Seed: 1}); err == nil {
		t.Error("shrinking a Go scenario: no error")
	}
	if _, err := Shrink(mustLookup(t, "single-broker-clock-jumps-lose-nothing"), ShrinkOptions{Seed: 1}); !errors.Is(err, ErrNothingToShrink) {
		t.Errorf("shrinking a passing run: %v", err)
	}
}

func mustLookup(t *testing.T, name string) *Scenario {
	t.Helper()
	sc, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func simStream(seed uint64) *rand.Rand { return sim.Stream(seed, "scenario") }
