package scenarios

import (
	"errors"
	"testing"

	"github.com/loglab/loglab/broker/bugzoo"
)

// The bug zoo's detection test: for every deliberate bug (package bugzoo),
// a sweep of the named scenario with the bug switched on must fail an
// expectation within zooSeeds seeds, and the same seeds with the bug off
// must pass, so the failure is the bug's doing. The seeds it takes are the
// testbed's detection power; docs/bugzoo.md records them.
const zooSeeds = 200

// zooEntry pairs a bug with a scenario that must catch it.
type zooEntry struct {
	bug, scenario string
}

var bugZoo = []zooEntry{
	{"ack-before-flush", "log-crash"},
	{"ack-before-flush", "single-broker-flush-every-batch-survives-power-loss"},
	{"recovery-keeps-corrupt-tail", "log-crash"},
	{"fetch-past-high-watermark", "single-broker-flush-every-batch-survives-power-loss"},
	{"index-off-by-one", "single-broker-flush-every-batch-survives-power-loss"},
	{"index-off-by-one", "log-crash"},
	// Replication (cluster scenarios; their runs never go in parallel).
	{"hw-before-isr", "replicated-zombie-leader-isolated-acks-all-loses-nothing"},
	{"isr-shrink-without-controller", "replicated-slow-follower-leaves-and-rejoins-isr"},
	{"follower-truncates-to-hw", "replicated-kip-101-leader-epoch-truncation-prevents-divergence"},
	{"fenced-leader-accepts-writes", "replicated-controller-leader-crash-and-isolation-loses-nothing"},
	{"unclean-election", "replicated-isr-shrunk-to-leader-stays-offline-without-unclean-election-loses-nothing"},
	{"recovery-loss-trusted", "replicated-last-isr-replica-loses-committed-records-in-recovery-never-leads-with-them"},
	{"hw-below-min-isr", "replicated-leader-alone-in-isr-commits-nothing-so-reads-never-diverge"},
	{"epoch-field-trusted", "cluster-swarm-seed-5000447-rerun-13-rotten-epoch-field-is-cut-so-the-leader-appends"},
	// Consumer groups and idempotence.
	{"commit-stale-generation", "group-member-paused-or-partitioned-past-its-session-is-fenced"},
	{"skip-sequence-check", "idempotent-producer-connection-resets-store-nothing-twice"},
	{"skip-sequence-check", "mixed-producers-connection-resets-each-judged-by-its-promise"},
}

// seedsToDetect runs seeds 1..zooSeeds with bugs on and returns the first
// that fails its expectation (0: none did).
func seedsToDetect(t *testing.T, sc *Scenario, bugs []string) (uint64, *Result) {
	t.Helper()
	for seed := uint64(1); seed <= zooSeeds; seed++ {
		res, err := sc.Run(Options{Seed: seed, Bugs: bugs})
		if err != nil {
			t.Fatalf("%s seed %d bugs %v: %v", sc.Name, seed, bugs, err)
		}
		if !res.OK {
			return seed, res
		}
	}
	return 0, nil
}

func TestBugZooEveryBugCaughtWithin200Seeds(t *testing.T) {
	covered := map[string]bool{}
	for _, z := range bugZoo {
		covered[z.bug] = true
	}
	for _, n := range bugzoo.Names() {
		if !covered[n] {
			t.Errorf("bug %q has no scenario in the zoo test", n)
		}
	}
	for _, z := range bugZoo {
		z := z
		t.Run(z.bug+"/"+z.scenario, func(t *testing.T) {
			sc, err := Lookup(z.scenario)
			if err != nil {
				t.Fatal(err)
			}
			if !isCluster(sc) {
				t.Parallel() // cluster runs seed the process-wide crypto/rand: one at a time
			}
			seed, res := seedsToDetect(t, sc, []string{z.bug})
			if seed == 0 {
				t.Fatalf("bug %s not detected by %s within %d seeds", z.bug, z.scenario, zooSeeds)
			}
			t.Logf("bug %s caught by %s at seed %d (seeds to detect: %d): anomalies %v", z.bug, z.scenario, seed, seed, res.Anomalies)
			if !hasKnob(res.Knobs, "bugzoo="+z.bug) {
				t.Errorf("knobs do not name the bug: %v", res.Knobs)
			}
			// The same seeds without the bug pass: the failure is the bug's.
			for s := uint64(1); s <= seed; s++ {
				clean, err := sc.Run(Options{Seed: s})
				if err != nil {
					t.Fatalf("seed %d without bug: %v", s, err)
				}
				if !clean.OK {
					t.Errorf("seed %d fails without the bug too: %v\nrepro: %s", s, clean.Anomalies, clean.Repro)
				}
			}
		})
	}
}

func hasKnob(knobs []string, k string) bool {
	for _, x := range knobs {
		if x == k {
			return true
		}
	}
	return false
}

func TestBugZooUnknownBugIsAnError(t *testing.T) {
	for _, name := range []string{"log-crash", "single-broker-flush-every-batch-survives-power-loss"} {
		sc, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sc.Run(Options{Seed: 1, Bugs: []string{"no-such-bug"}})
		if !errors.Is(err, bugzoo.ErrUnknownBug) {
			t.Errorf("%s: err = %v, want bugzoo.ErrUnknownBug", name, err)
		}
	}
}
