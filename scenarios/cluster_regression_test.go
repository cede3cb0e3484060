package scenarios

import "testing"

// TestClusterSwarmRegressionFencedReplicaHoldsCommittedLog pins the seeds
// of cluster-swarm that lost acknowledged writes before the fix: a
// replica whose log reopened below its checkpointed high watermark (rot
// cut by recovery, or a power loss) was elected as the last ISR member and
// asked only the *unfenced* replicas whether one held more of the
// committed log. Every other replica had just been fenced (heartbeats
// lapsed during pauses), so it led at once with its short log and the
// followers truncated acknowledged records away (seed 352: events-1
// offsets 286-404, divergent-offset 119). It now asks fenced replicas too
// and waits (bounded) for one holding more to come back, then hands over.
func TestClusterSwarmRegressionFencedReplicaHoldsCommittedLog(t *testing.T) {
	sc := mustLookup(t, "cluster-swarm")
	for _, seed := range []uint64{352, 1704, 1866} {
		res, err := sc.Run(Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK {
			t.Errorf("seed %d: %v\nrepro: %s", seed, res.Anomalies, res.Repro)
		}
	}
}
