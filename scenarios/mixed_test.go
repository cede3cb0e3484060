package scenarios

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
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

// TestSwarmConsumersAndTimingKnobs: consumer-kinds draws a second swarm
// over the consumers (its knobs and faults name only consumers), and the
// replication timing configs are knobs drawn in their range.
func TestSwarmConsumersAndTimingKnobs(t *testing.T) {
	spec := strings.Replace(minimalSpec, "  brokers: 1", "  brokers: 3\n  configs:\n    replica.lag.time.max.ms: 1000..5000", 1)
	spec = strings.Replace(spec, "  producers: 1", "  producers: 1\n  consumers: 2", 1)
	spec = strings.Replace(spec, "  duration: 2s", "  duration: 20s", 1)
	spec = strings.Replace(spec, "expect:", "faults:\n  swarm:\n    kinds: [reset]\n    all-on: true\n    consumer-kinds: [pause]\nexpect:", 1)
	c, err := compileSpec("s.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	lags := map[int64]bool{}
	pauses := 0
	for seed := uint64(1); seed <= 30; seed++ {
		p, err := c.draw(simStream(seed))
		if err != nil {
			t.Fatal(err)
		}
		if p.replicaLagMs < 1000 || p.replicaLagMs > 5000 {
			t.Fatalf("seed %d: replica lag %d outside 1000..5000", seed, p.replicaLagMs)
		}
		lags[p.replicaLagMs] = true
		if !slices.Contains(p.knobs, "broker.replica.lag.time.max.ms="+strconv.FormatInt(p.replicaLagMs, 10)) {
			t.Fatalf("seed %d: no knob for the drawn lag in %v", seed, p.knobs)
		}
		if !slices.ContainsFunc(p.knobs, func(k string) bool { return strings.HasPrefix(k, "swarm-consumers.nodes=consumer-1,consumer-2") }) {
			t.Fatalf("seed %d: no consumer swarm knobs in %v", seed, p.knobs)
		}
		for _, st := range p.schedule.Steps {
			s := st.String()
			if strings.Contains(s, "pause ") {
				pauses++
				if !strings.Contains(s, "pause consumer-") {
					t.Fatalf("seed %d: %s: the consumer swarm paused a broker", seed, s)
				}
			}
		}
	}
	if len(lags) < 10 || pauses == 0 {
		t.Fatalf("%d distinct lags, %d consumer pauses over 30 seeds", len(lags), pauses)
	}
}

// TestConvergenceJudged: liveness.converge reports a cluster that never
// became whole, or did too late, as liveness, with the time it took.
func TestConvergenceJudged(t *testing.T) {
	for _, c := range []struct {
		cv    convergence
		kinds int
		stat  bool
	}{
		{convergence{watching: true, done: true, after: 2 * time.Second}, 0, true},
		{convergence{watching: true, done: true, after: 20 * time.Second}, 1, true},
		{convergence{watching: true, why: "events-0: ISR [1] of replicas [1 2 3]"}, 1, false},
		{convergence{}, 0, false},
	} {
		res := &Result{}
		c.cv.judge(res, 15*time.Second)
		if res.Anomalies["liveness"] != c.kinds {
			t.Errorf("%+v: anomalies %v", c.cv, res.Anomalies)
		}
		if _, ok := res.Stats["converged_after_heal_ms"]; ok != c.stat {
			t.Errorf("%+v: stats %v", c.cv, res.Stats)
		}
		if c.cv.why != "" && !strings.Contains(res.Findings[0].Evidence, c.cv.why) {
			t.Errorf("finding %q does not say what was missing", res.Findings[0].Evidence)
		}
	}
}

// TestConvergenceCaughtInARun: on a real cluster run, a broker restarted
// at the end of the safety phase takes time to rejoin every ISR. With a
// 1 ms convergence bound the runner reports it late (liveness, naming
// what was missing); with 10 s the same run passes and says how long it
// took.
func TestConvergenceCaughtInARun(t *testing.T) {
	spec := strings.Replace(minimalSpec, "  brokers: 1", "  brokers: 3", 1)
	spec = strings.Replace(spec, "    partitions: 1", "    partitions: 1\n    replication-factor: 3", 1)
	spec = strings.Replace(spec, "  duration: 2s", "  duration: 4s", 1)
	spec = strings.Replace(spec, "expect:", "faults:\n  schedule: |\n    at 2s crash broker-2 mode=process-kill\n    at 3s restart broker-2\nexpect:", 1)
	for _, c := range []struct {
		bound string
		late  bool
	}{{"1ms", true}, {"5s", false}} {
		s := strings.Replace(spec, "  duration: 5s", "  duration: 5s\n  converge: "+c.bound, 1)
		sc, _, err := LoadFile("converge.yaml", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		res, err := sc.Run(Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		took, ok := res.Stats["converged_after_heal_ms"]
		late := res.Anomalies["liveness"] > 0 && slices.ContainsFunc(res.Findings, func(f Finding) bool {
			return strings.Contains(f.Evidence, "became whole") && strings.Contains(f.Evidence, "until then: events-")
		})
		if !ok || took <= 0 || late != c.late || res.OK == c.late {
			t.Errorf("bound %s: converged after %d ms (%v), late %v, ok %v: %v", c.bound, took, ok, late, res.OK, res.Findings)
		}
	}
}

// TestConcreteSpecOfTheGenericSwarmReplaysTheRun: the concrete form of a
// cluster-swarm run (what `sim shrink` writes and pinned regressions
// are) keeps every drawn promise and knob the generic swarm adds (each
// producer's idempotence, the group's settings, the drawn replica lag,
// liveness.converge), so it replays the same run bit for bit.
func TestConcreteSpecOfTheGenericSwarmReplaysTheRun(t *testing.T) {
	sc := mustLookup(t, "cluster-swarm")
	for _, seed := range []uint64{3, 16} {
		want, err := sc.Run(Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		got, data := concreteRun(t, sc, seed)
		if got.TraceHash != want.TraceHash {
			t.Errorf("seed %d: concrete form trace %s, the run's %s\n%s", seed, got.TraceHash, want.TraceHash, data)
		}
	}
}
