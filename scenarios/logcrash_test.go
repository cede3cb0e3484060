package scenarios

import (
	"testing"

	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/sim/disk"
)

// TestLogCrashManySeeds is the crash-consistency sweep: hundreds of seeds,
// every flush policy and every crash mode, each run ending in a checked
// recovery.
func TestLogCrashManySeeds(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 30
	}
	modes := map[disk.CrashMode]int{}
	policies := map[string]int{}
	for s := 1; s <= seeds; s++ {
		k := drawLogCrashKnobs(sim.Stream(uint64(s), "scenario"))
		for _, c := range k.Crashes {
			modes[c.Mode]++
		}
		policies[policyClass(k.Policy)]++
		res, err := runLogCrash(Options{Seed: uint64(s)})
		if err != nil {
			t.Fatalf("seed %d: %v", s, err)
		}
		if !res.OK {
			t.Errorf("seed %d failed: %v %v\nrepro: %s", s, res.Anomalies, res.Findings, res.Repro)
		}
		if res.Stats["recoveries_checked"] < 2 || res.Stats["batches_appended"] == 0 {
			t.Errorf("seed %d exercised nothing: %v", s, res.Stats)
		}
	}
	for _, m := range []disk.CrashMode{disk.LoseUnsynced, disk.KeepRandomPages, disk.TornLastSector, disk.KeepPageCache} {
		if modes[m] == 0 {
			t.Errorf("no seed crashed in mode %v", m)
		}
	}
	for _, p := range []string{"every-batch", "every-ms", "never"} {
		if policies[p] == 0 {
			t.Errorf("no seed used flush policy %s", p)
		}
	}
}

func policyClass(p string) string {
	switch p {
	case "every-batch", "never":
		return p
	}
	return "every-ms"
}

// TestLogCrashSyncingPoliciesAcknowledge guards the check itself: under a
// syncing policy some batches must be acknowledged, or "nothing acknowledged
// was lost" would hold vacuously.
func TestLogCrashSyncingPoliciesAcknowledge(t *testing.T) {
	checked := 0
	for s := uint64(1); s <= 40; s++ {
		k := drawLogCrashKnobs(sim.Stream(s, "scenario"))
		if k.Policy != "every-batch" {
			continue
		}
		res, err := runLogCrash(Options{Seed: s})
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats["batches_acked_durable"] == 0 {
			t.Errorf("seed %d: every-batch policy acknowledged nothing: %v", s, res.Stats)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no every-batch seed in 1..40")
	}
}

// TestLogCrashCatchesLyingAcks shows the check has teeth: acknowledging
// batches before they are durable must be caught as lost-write on some
// seed that loses unsynced data.
func TestLogCrashCatchesLyingAcks(t *testing.T) {
	for s := uint64(1); s <= 50; s++ {
		res, err := runLogCrashWith(Options{Seed: s}, logCrashBugs{ackOnAppend: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Anomalies["lost-write"] > 0 {
			if res.OK {
				t.Fatal("a run with lost-write judged OK")
			}
			t.Logf("caught at seed %d: %v", s, res.Findings[0].Evidence)
			return
		}
	}
	t.Fatal("acks before durability went undetected for 50 seeds")
}
