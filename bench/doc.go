// Package bench drives throughput and latency benchmarks against real
// sockets: this broker (started in-process on host/realhost) or any
// Kafka-compatible broker, with franz-go's kgo as the load client, so that
// peers are measured side by side by the same client with the same
// settings.
//
// Ownership and imports: it owns the load driver (Produce: kgo producing
// fixed-size random records asynchronously, per-record latency from the
// Produce call to its promise in an HDR histogram) and the in-process
// targets (StartLoglab, StartKfake). It imports broker, host/realhost,
// franz-go (kgo, kmsg, kfake) and HdrHistogram. Nothing in the simulator
// imports it.
//
// Workloads (workload.go, run.go) are the `loglab bench` command's engine:
// an OpenMessaging-Benchmark-shaped Workload run by Run against any
// bootstrap address — producers paced open-loop with per-record scheduled
// times (publish and end-to-end latency measured from them: no
// coordinated omission), one consumer group per topic, reports per window
// and in aggregate from HDR histograms, and a search for the maximum
// sustainable rate.
//
// The benchmarks themselves are testing.B functions in this package's test
// files (see docs/performance.md for the commands and results); they
// report MB/s, p50/p99 latency and, for the broker's produce path without
// the network, allocations per request and per record.
//
// Invariants: every target started here is stopped by the Stop it returns;
// Produce never returns before every record it produced has its promise
// called, so a Result counts finished records only.
//
//detcheck:exempt drives real sockets and goroutines (kgo, realhost, kfake), never runs in simulation
package bench
