package scenarios

import (
	"slices"
	"testing"

	"github.com/loglab/loglab/checkers/finalread"
	"github.com/loglab/loglab/faults"
)

// The single-broker crash family (files in library/): producers (acks=all)
// and a consumer against one broker that is crashed and restarted, judged
// by the final read (checker final-read). Each fixes the flush policy and
// the kind of crash, so its expectation is fixed too.
var singleBrokerFamily = []struct {
	name      string
	powerLoss bool // power losses; false: process crashes
	unsafe    bool // must show lost-write on every seed
}{
	{"single-broker-flush-every-batch-survives-power-loss", true, false},
	{"single-broker-flush-interval-loses-acked-writes-on-power-loss", true, true},
	{"single-broker-flush-never-loses-acked-writes-on-power-loss", true, true},
	{"single-broker-flush-never-survives-process-crash", false, false},
}

func firstFindings(res *Result, n int) []Finding {
	if len(res.Findings) > n {
		return res.Findings[:n]
	}
	return res.Findings
}

// TestSingleBrokerSpecs pins what each scenario of the family checks: the
// final read alone, no anomalies (reads stable: unstable-read is not
// tolerated) for the safe ones, exactly lost-write for the unsafe ones,
// whose consumer may read records a power loss then erases.
func TestSingleBrokerSpecs(t *testing.T) {
	for _, v := range singleBrokerFamily {
		c := mustLookup(t, v.name).compiled
		if c == nil {
			t.Fatalf("%s is not a scenario file", v.name)
		}
		if !slices.Equal(c.checkers, []string{finalread.Name}) {
			t.Errorf("%s: checkers %v, want [final-read]", v.name, c.checkers)
		}
		wantExp, wantTol := []string(nil), []string(nil)
		if v.unsafe {
			wantExp, wantTol = []string{finalread.LostWrite}, []string{finalread.UnstableRead}
		}
		if !slices.Equal(c.expected, wantExp) || !slices.Equal(c.tolerated, wantTol) {
			t.Errorf("%s: expects %v tolerating %v, want %v tolerating %v", v.name, c.expected, c.tolerated, wantExp, wantTol)
		}
	}
}

// TestSingleBrokerScenariosMeetExpectations runs the family over many
// seeds: the safe ones must find nothing, the unsafe ones exactly
// lost-write, on every seed, and each run must have done real work
// (acknowledged sends, crashes, a final read).
func TestSingleBrokerScenariosMeetExpectations(t *testing.T) {
	seeds := uint64(20)
	if testing.Short() {
		seeds = 4
	}
	for _, v := range singleBrokerFamily {
		sc := mustLookup(t, v.name)
		t.Run(v.name, func(t *testing.T) {
			t.Parallel() // single-broker runs share nothing
			for s := uint64(1); s <= seeds; s++ {
				res, err := sc.Run(Options{Seed: s})
				if err != nil {
					t.Fatalf("seed %d: %v", s, err)
				}
				if !res.OK {
					t.Errorf("seed %d: want %v, found %v %v\nrepro: %s", s, res.Expected, res.Anomalies, firstFindings(res, 3), res.Repro)
				}
				st := res.Stats
				if st["sends_ok"] < 1000 || st["crashes"] < 1 || st["final_records"] == 0 || st["polls_ok"] == 0 {
					t.Errorf("seed %d exercised too little: %v", s, st)
				}
				if !v.unsafe && (st["final_records"] < st["sends_ok"] || st["unstable_reads"] != 0) {
					t.Errorf("seed %d: final read has %d records for %d acknowledged, %d unstable reads", s, st["final_records"], st["sends_ok"], st["unstable_reads"])
				}
			}
		})
	}
}

// TestSingleBrokerCrashModes guards the fault schedules: the power-loss
// scenarios use every power-loss mode across seeds and always end with a
// plain power loss (so an unsafe policy's loss is certain); the
// process-crash one only kills the process.
func TestSingleBrokerCrashModes(t *testing.T) {
	for _, v := range singleBrokerFamily {
		c := mustLookup(t, v.name).compiled
		modes := map[string]int{}
		for s := uint64(1); s <= 50; s++ {
			p, err := c.draw(simStream(s))
			if err != nil {
				t.Fatal(err)
			}
			last := ""
			for _, st := range p.schedule.Steps {
				if cr, ok := st.Action.(faults.Crash); ok {
					last = faults.CrashModeName(cr.Mode)
					modes[last]++
				}
			}
			if v.powerLoss && last != "power-loss" {
				t.Errorf("%s seed %d: last crash %q, want power-loss", v.name, s, last)
			}
		}
		want := []string{"power-loss", "keep-random-pages", "torn-sector"}
		if !v.powerLoss {
			want = []string{"process-kill"}
		}
		for _, m := range want {
			if modes[m] == 0 {
				t.Errorf("%s: no crash in mode %s over 50 seeds (%v)", v.name, m, modes)
			}
		}
		if len(modes) != len(want) {
			t.Errorf("%s: crash modes %v, want only %v", v.name, modes, want)
		}
	}
}
