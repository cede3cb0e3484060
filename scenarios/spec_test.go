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
		old2, new2     string // a second replacement (optional)
	}{
		{"unknown top-level field", "expect:", "expectations: 1\nexpect:", []string{`bad.yaml:14: field "expectations": unknown field (valid: checkers, clients, cluster, description, expect, faults, liveness, model, name, seed, topics, workload)`}, "", ""},
		{"unknown nested field", "  rate: 10", "  rate: 10\n  ratee: 5", []string{`bad.yaml:12: field "workload.ratee": unknown field (valid: consumers, duration, group, keys, producers, rate, value-bytes)`}, "", ""},
		{"bad rate", "  rate: 10", "  rate: fast", []string{`bad.yaml:11: field "workload.rate": bad value: "fast" is not an integer`}, "", ""},
		{"bad range", "  rate: 10", "  rate: 10..2", []string{`bad.yaml:11: field "workload.rate"`, "empty"}, "", ""},
		{"bad duration", "  duration: 2s", "  duration: 2 seconds", []string{`bad.yaml:9: field "workload.duration"`, "not a duration"}, "", ""},
		{"a list where a value belongs", "  producers: 1", "  producers: [1, 2]", []string{`bad.yaml:10: field "workload.producers": expected a single value, found a list`}, "", ""},
		{"bad link model", "expect:", "model:\n  link: base=soon\nexpect:", []string{`bad.yaml:15: field "model.link"`, "base=soon"}, "", ""},
		{"bad fsync model", "expect:", "model:\n  fsync-latency: -2ms\nexpect:", []string{`bad.yaml:15: field "model.fsync-latency"`, "from 0 to 1m"}, "", ""},
		{"mixed idempotence among alternatives", "expect:", "clients:\n  idempotent: mixed|true\nexpect:", []string{`bad.yaml:15: field "clients.idempotent"`, "mixed stands alone"}, "", ""},
		{"too many brokers", "  brokers: 1", "  brokers: 6", []string{`bad.yaml:4: field "cluster.brokers": "6" is out of range [1, 5]`}, "", ""},
		{"standalone mixed with clusters", "  brokers: 1", "  brokers: 1..3", []string{`bad.yaml:4: field "cluster.brokers"`, "mixes the standalone broker"}, "", ""},
		{"voters on one broker", "  brokers: 1", "  brokers: 1\n  voters: 1", []string{`bad.yaml:5: field "cluster.voters"`, "brokers >= 2"}, "", ""},
		{"more voters than brokers", "  brokers: 1", "  brokers: 3..5\n  voters: 4", []string{`bad.yaml:5: field "cluster.voters": 4 voters: want 1..3`}, "", ""},
		{"replication config on one broker", "  brokers: 1", "  brokers: 1\n  configs:\n    replica.lag.time.max.ms: \"100\"", []string{`field "cluster.configs.replica.lag.time.max.ms": a replication config: needs cluster.brokers >= 2`}, "", ""},
		{"replica lag out of range", "  brokers: 1", "  brokers: 3\n  configs:\n    replica.lag.time.max.ms: 0..100", []string{`field "cluster.configs.replica.lag.time.max.ms"`, "out of range"}, "", ""},
		{"replica lag on one broker", "  brokers: 1", "  brokers: 1\n  configs:\n    replica.lag.time.max.ms: 100", []string{`field "cluster.configs.replica.lag.time.max.ms": a replication config: needs cluster.brokers >= 2`}, "", ""},
		{"a consumer kind a consumer cannot have", "expect:", "faults:\n  swarm:\n    kinds: [crash]\n    consumer-kinds: [pause, bit-rot]\nexpect:", []string{`field "faults.swarm.consumer-kinds[1]": bit-rot: a consumer can be crashed, paused or reset`}, "", ""},
		{"convergence of one broker", "  duration: 5s", "  duration: 5s\n  converge: 5s", []string{`field "liveness.converge": a cluster's convergence: needs cluster.brokers >= 2`}, "", ""},
		{"unknown broker config", "  brokers: 1", "  brokers: 3\n  configs:\n    replica.lag.time.ms: \"100\"", []string{`field "cluster.configs.replica.lag.time.ms": unknown broker config (valid: broker.heartbeat.interval.ms, default.replication.factor,`}, "", ""},
		{"replication factor above the brokers", "    partitions: 1", "    partitions: 1\n    replication-factor: 4", []string{`bad.yaml:8: field "topics[0].replication-factor"`, "a single broker holds one replica"}, "", ""},
		{name: "replication factor above a cluster", old: "  brokers: 1", new: "  brokers: 3", old2: "    partitions: 1", new2: "    partitions: 1\n    replication-factor: 4", want: []string{`bad.yaml:8: field "topics[0].replication-factor": "4" is out of range [1, 3]`}},
		{name: "min.insync above the replication factor", old: "  brokers: 1", new: "  brokers: 3", old2: "    partitions: 1", new2: "    partitions: 1\n    replication-factor: 2\n    configs:\n      min.insync.replicas: \"3\"", want: []string{`field "topics[0].configs.min.insync.replicas": 3 is above the replication factor (2)`}},
		{"symbol on one broker", "expect:", "faults:\n  schedule: |\n    at 1s crash leader:events-0\n    at 1.5s restart leader:events-0\nexpect:", []string{`bad.yaml:16: field "faults.schedule"`, "symbolic target: those need a cluster"}, "", ""},
		{name: "symbol with an unknown topic", old: "  brokers: 1", new: "  brokers: 3", old2: "expect:", new2: "faults:\n  schedule: |\n    at 1s crash leader:orders-0\n    at 1.5s restart leader:orders-0\nexpect:", want: []string{`field "faults.schedule"`, `names topic "orders", not a topic of this file`}},
		{name: "symbol past the partitions", old: "  brokers: 1", new: "  brokers: 3", old2: "expect:", new2: "faults:\n  schedule: |\n    at 1s crash leader:events-1\n    at 1.5s restart leader:events-1\nexpect:", want: []string{`field "faults.schedule"`, "partition 1 may not exist"}},
		{name: "symbol unhealed", old: "  brokers: 1", new: "  brokers: 3", old2: "expect:", new2: "faults:\n  schedule: |\n    at 1s crash leader:events-0\n    at 1.5s restart broker-1\nexpect:", want: []string{`the schedule does not end healed`, "leader:events-0 down", "restart leader:events-0"}},
		{"symbolic crash generator on one broker", "expect:", "faults:\n  crashes:\n    node: controller\n    count: 1\n    modes: [power-loss]\n    down: 1ms\n    min-uptime: 0s\nexpect:", []string{`field "faults.crashes.node"`, "need a cluster"}, "", ""},
		{"unknown swarm shape", "expect:", "faults:\n  swarm:\n    shapes: [isolate, ring]\nexpect:", []string{`field "faults.swarm.shapes[1]": unknown partition shape "ring"`}, "", ""},
		{"unknown checker", "expect:", "checkers: [queue, linearisable]\nexpect:", []string{`bad.yaml:14: field "checkers[1]": unknown checker "linearisable" (valid: linearizable, queue, liveness, group, final-read)`}, "", ""},
		{"unknown anomaly", "  anomalies: []", "  anomalies: [lost-writes]", []string{`bad.yaml:15: field "expect.anomalies[0]": unknown anomaly kind "lost-writes" (valid:`, "lost-write,"}, "", ""},
		{"unknown fault action", "expect:", "faults:\n  schedule: |\n    at 1s crash broker-1\n    at 1.5s crsh broker-1\nexpect:", []string{`bad.yaml:17: field "faults.schedule"`, `unknown action "crsh" (valid:`, "restart"}, "", ""},
		{"bad crash mode", "expect:", "faults:\n  schedule: |\n    at 1s crash broker-1 mode=melt\n    at 1.5s restart broker-1\nexpect:", []string{`bad.yaml:16: field "faults.schedule"`, `"melt"`, "power-loss"}, "", ""},
		{"unknown node", "expect:", "faults:\n  schedule: |\n    at 1s crash broker-2\n    at 1.5s restart broker-2\nexpect:", []string{`bad.yaml:16: field "faults.schedule"`, `"broker-2", not in this cluster`}, "", ""},
		{"unhealed schedule", "expect:", "faults:\n  schedule: |\n    at 1s crash broker-1\nexpect:", []string{`field "faults.schedule": the schedule does not end healed`, "at T restart broker-1"}, "", ""},
		{"fault after the safety phase", "expect:", "faults:\n  schedule: |\n    at 1s pause broker-1\n    at 3s resume broker-1\nexpect:", []string{`bad.yaml:17: field "faults.schedule"`, "after the safety phase"}, "", ""},
		{"unknown swarm kind", "expect:", "faults:\n  swarm:\n    kinds: [crash, meteor]\nexpect:", []string{`field "faults.swarm.kinds[1]"`, `unknown fault kind "meteor" (valid:`}, "", ""},
		{"unknown topic config", "    partitions: 1", "    partitions: 1\n    configs:\n      flush.mesages: \"1\"", []string{`bad.yaml:9: field "topics[0].configs.flush.mesages"`}, "", ""},
		{"bad keys", "  rate: 10", "  rate: 10\n  keys: pareto:3", []string{`bad.yaml:12: field "workload.keys"`, "uniform:N or zipf:N"}, "", ""},
		{"YAML syntax", "  rate: 10", "  rate: [10", []string{"bad.yaml:"}, "", ""},
		{"liveness shorter than its bound", "  duration: 5s\nexpect", "  duration: 1s\nexpect", []string{`field "liveness.duration"`, "at least the bound"}, "", ""},
		{"bad name", "name: tiny", "name: Tiny Scenario", []string{`bad.yaml:1: field "name"`}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(minimalSpec, c.old) {
				t.Fatalf("test bug: %q not in the spec", c.old)
			}
			text := strings.Replace(minimalSpec, c.old, c.new, 1)
			if c.old2 != "" {
				if !strings.Contains(text, c.old2) {
					t.Fatalf("test bug: %q not in the spec", c.old2)
				}
				text = strings.Replace(text, c.old2, c.new2, 1)
			}
			_, err := ParseSpec("bad.yaml", []byte(text))
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
