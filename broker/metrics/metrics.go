// Package metrics is how the broker reports what it measures, without
// knowing who listens: a Recorder takes counters, gauges and latency
// observations by name and labels. On real sockets `loglab broker
// --metrics` and `loglab cluster --metrics` back it with Prometheus; in
// the simulator a Memory recorder keeps the same names for the run's
// output. Nothing here does I/O, so simulated brokers use it freely.
//
// Metric names (Prometheus conventions; labels in braces):
//
//	loglab_broker_requests_total{api}             requests handled
//	loglab_broker_request_duration_seconds{api}   from parsed to answered (histogram)
//	loglab_broker_bytes_in_total{topic}           record batch bytes appended by produce
//	loglab_broker_messages_in_total{topic}        records appended by produce
//	loglab_broker_bytes_out_total{topic}          record batch bytes served to consumers
//	loglab_broker_isr_shrinks_total               ISR removals proposed (AlterPartition)
//	loglab_broker_isr_expands_total               ISR additions proposed
//	loglab_broker_leader_elections_total          times this broker became a partition's leader
//	loglab_broker_group_rebalances_total          group generations completed
//	loglab_broker_under_replicated_partitions     led partitions whose ISR is smaller than their replicas (gauge)
//	loglab_broker_partitions_led                  partitions this broker leads (gauge)
//	loglab_broker_log_size_bytes{topic,partition} bytes of each log here (gauge)
//	loglab_log_flush_duration_seconds             one flush round of a log: its fsyncs (histogram)
//
// Invariants: labels are name/value pairs; a nil Recorder is never
// called (the broker holds Nop instead).
package metrics

import (
	"maps"
	"slices"
	"strings"
)

// Recorder receives measurements. Labels are alternating names and values.
type Recorder interface {
	Add(name string, delta float64, labels ...string)
	Set(name string, value float64, labels ...string)
	Observe(name string, seconds float64, labels ...string)
}

// Nop discards everything.
type Nop struct{}

func (Nop) Add(string, float64, ...string)     {}
func (Nop) Set(string, float64, ...string)     {}
func (Nop) Observe(string, float64, ...string) {}

// Memory keeps every series in memory (the simulator's recorder, and
// tests'). Observations keep their count and sum.
type Memory struct {
	values map[string]float64
	counts map[string]int64
}

// NewMemory returns an empty Memory recorder.
func NewMemory() *Memory {
	return &Memory{values: map[string]float64{}, counts: map[string]int64{}}
}

func series(name string, labels []string) string {
	if len(labels) == 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(labels[i] + `="` + labels[i+1] + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

func (m *Memory) Add(name string, d float64, labels ...string) { m.values[series(name, labels)] += d }
func (m *Memory) Set(name string, v float64, labels ...string) { m.values[series(name, labels)] = v }
func (m *Memory) Observe(name string, s float64, labels ...string) {
	k := series(name, labels)
	m.values[k+"_sum"] += s
	m.counts[k+"_count"]++
}

// Value is one series' value (counter, gauge, or an observation's _sum;
// _count series through Count).
func (m *Memory) Value(series string) float64 { return m.values[series] }

// Count is an observed series' number of observations.
func (m *Memory) Count(series string) int64 { return m.counts[series] }

// Totals sums every series of each metric name over its labels (what a
// simulated run reports), in sorted name order.
func (m *Memory) Totals() map[string]float64 {
	out := map[string]float64{}
	for _, k := range slices.Sorted(maps.Keys(m.values)) {
		name, _, _ := strings.Cut(k, "{")
		if strings.HasSuffix(k, "_sum") && strings.Contains(k, "{") {
			name += "_sum"
		}
		out[name] += m.values[k]
	}
	for _, k := range slices.Sorted(maps.Keys(m.counts)) {
		name, _, labelled := strings.Cut(k, "{")
		if labelled {
			name += "_count"
		}
		out[name] += float64(m.counts[k])
	}
	return out
}
