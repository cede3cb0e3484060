package scenarios

import (
	"errors"
	"strings"
	"testing"
)

const minimalSpec = `name: tiny
description: one producer, no faults
cluster:
  brokers: 1
topics:
  - name: events
    partitions: 1
workload:
  duration: 2s
  producers: 1
  rate: 10
liveness:
  duration: 5s
expect:
  anomalies: []
`

// TestSpecErrors: each malformed file gives one error naming the file, the
// line and the field; unknown names list the valid ones.
func TestSpecErrors(t *testing.T) {
	if _, err := ParseSpec("ok.yaml", []byte(minimalSpec)); err != nil {
		t.Fatalf("the minimal spec: %v", err)
	}
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"unknown top-level field", "expect:", "expectations: 1\nexpect:", []string{`bad.yaml:14: field "expectations": unknown field (valid: checkers, clients, cluster, description, expect, faults, liveness, name, seed, topics, workload)`}},
		{"unknown nested field", "  rate: 10", "  rate: 10\n  ratee: 5", []string{`bad.yaml:12: field "workload.ratee": unknown field (valid: consumers, duration, keys, producers, rate, value-bytes)`}},
		{"bad rate", "  rate: 10", "  rate: fast", []string{`bad.yaml:11: field "workload.rate": bad value: "fast" is not an integer`}},
		{"bad range", "  rate: 10", "  rate: 10..2", []string{`bad.yaml:11: field "workload.rate"`, "empty"}},
		{"bad duration", "  duration: 2s", "  duration: 2 seconds", []string{`bad.yaml:9: field "workload.duration"`, "not a duration"}},
		{"a list where a value belongs", "  producers: 1", "  producers: [1, 2]", []string{`bad.yaml:10: field "workload.producers": expected a single value, found a list`}},
		{"too many brokers", "  brokers: 1", "  brokers: 3", []string{`bad.yaml:4: field "cluster.brokers": 3 brokers: not yet supported`}},
		{"unknown checker", "expect:", "checkers: [queue, linearisable]\nexpect:", []string{`bad.yaml:14: field "checkers[1]": unknown checker "linearisable" (valid: linearizable, queue, liveness)`}},
		{"unknown anomaly", "  anomalies: []", "  anomalies: [lost-writes]", []string{`bad.yaml:15: field "expect.anomalies[0]": unknown anomaly kind "lost-writes" (valid:`, "lost-write,"}},
		{"unknown fault action", "expect:", "faults:\n  schedule: |\n    at 1s crash broker-1\n    at 1.5s crsh broker-1\nexpect:", []string{`bad.yaml:17: field "faults.schedule"`, `unknown action "crsh" (valid:`, "restart"}},
		{"bad crash mode", "expect:", "faults:\n  schedule: |\n    at 1s crash broker-1 mode=melt\n    at 1.5s restart broker-1\nexpect:", []string{`bad.yaml:16: field "faults.schedule"`, `"melt"`, "power-loss"}},
		{"unknown node", "expect:", "faults:\n  schedule: |\n    at 1s crash broker-2\n    at 1.5s restart broker-2\nexpect:", []string{`bad.yaml:16: field "faults.schedule"`, `"broker-2", not in this cluster`}},
		{"unhealed schedule", "expect:", "faults:\n  schedule: |\n    at 1s crash broker-1\nexpect:", []string{`field "faults.schedule": the schedule does not end healed`, "at T restart broker-1"}},
		{"fault after the safety phase", "expect:", "faults:\n  schedule: |\n    at 1s pause broker-1\n    at 3s resume broker-1\nexpect:", []string{`bad.yaml:17: field "faults.schedule"`, "after the safety phase"}},
		{"unknown swarm kind", "expect:", "faults:\n  swarm:\n    kinds: [crash, meteor]\nexpect:", []string{`field "faults.swarm.kinds[1]"`, `unknown fault kind "meteor" (valid:`}},
		{"unknown topic config", "    partitions: 1", "    partitions: 1\n    configs:\n      flush.mesages: \"1\"", []string{`bad.yaml:9: field "topics[0].configs.flush.mesages"`}},
		{"bad keys", "  rate: 10", "  rate: 10\n  keys: pareto:3", []string{`bad.yaml:12: field "workload.keys"`, "uniform:N or zipf:N"}},
		{"YAML syntax", "  rate: 10", "  rate: [10", []string{"bad.yaml:"}},
		{"liveness shorter than its bound", "  duration: 5s\nexpect", "  duration: 1s\nexpect", []string{`field "liveness.duration"`, "at least the bound"}},
		{"bad name", "name: tiny", "name: Tiny Scenario", []string{`bad.yaml:1: field "name"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(minimalSpec, c.old) {
				t.Fatalf("test bug: %q not in the spec", c.old)
			}
			_, err := ParseSpec("bad.yaml", []byte(strings.Replace(minimalSpec, c.old, c.new, 1)))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("%v does not match ErrInvalidSpec", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// TestMinimalSpecRuns: the smallest file runs and meets its expectation.
func TestMinimalSpecRuns(t *testing.T) {
	sc, _, err := LoadFile("tiny.yaml", []byte(minimalSpec))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sc.Run(Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || r.Stats["sends_ok"] < 10 || !strings.Contains(r.Repro, "--scenario-file tiny.yaml --seed 1") {
		t.Fatalf("%v %v %v %s", r.OK, r.Anomalies, r.Stats, r.Repro)
	}
}

// FuzzParseSpec: the parser never panics, and every error is a SpecError.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(minimalSpec))
	f.Add([]byte("name: [\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte(strings.Replace(minimalSpec, "rate: 10", "rate: 1..", 1)))
	entries, _ := libraryFS.ReadDir("library")
	for _, e := range entries {
		data, _ := libraryFS.ReadFile("library/" + e.Name())
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseSpec("fuzz.yaml", data)
		if err != nil && !errors.Is(err, ErrInvalidSpec) {
			t.Fatalf("error not classified: %v", err)
		}
	})
}
