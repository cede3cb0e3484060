// Package scenarios owns loglab's named scenarios and their runner: a
// scenario builds a simulated world (cluster, disks, network), drives a
// workload and a fault schedule through it from one seed, checks what
// happened, and returns a Result whose expectations either hold or not.
//
// Ownership and imports: scenarios may import everything below it (sim,
// netsim, faults, broker, client, checkers); nothing below imports
// scenarios. It runs inside the simulator, so the determinism rules apply:
// no wall clock (the CLI measures wall time), no goroutines, no OS.
//
// Scenario files: most scenarios are YAML files in library/ (embedded and
// registered at init like the Go ones; library/README.md documents the
// format with annotated examples). A file is decoded strictly (unknown
// fields are errors listing the valid ones), validated (load.go,
// compile.go: every error a *SpecError naming file, line and field), then
// for each seed its knobs are drawn into a plan (plan.go) and run
// (runner.go): safety phase with faults, a healed check, a liveness phase,
// a final read, and the checkers of package checkers (check.go). Shrink
// (shrink.go) minimises a failing run into a smaller file.
//
// Clusters: a file with cluster.brokers >= 2 runs a replicated cluster in
// combined mode (cluster.go: topics created through CreateTopics, the
// workload held back until every ISR is full); its faults may name roles
// (symbols.go: leader:TOPIC-P, follower:TOPIC-P, followers:TOPIC-P,
// controller, any-broker), bound at the fault and reused by its repair.
// cluster_broker.go is the only file that uses the broker's cluster API.
// A cluster run seeds the process-wide crypto/rand reader for raft
// (sim.InstallCryptoRand), so cluster runs never run in parallel in one
// process; `sim sweep` uses worker processes.
//
// Evidence: every scenario, file or Go, returns its history
// (Result.History) and its checkers' report (Result.Report) when run with
// Options.RecordTrace, so `sim run --out` writes history.jsonl and
// verdicts.json and `loglab check` judges the file again. log-crash
// (logcrash.go), which drives a partition log with no client, records its
// appends as sends and its recovery reads as polls, the last recovery's as
// the final read, only then (its verdict is its own checks).
//
// Invariants: a scenario's behaviour is a pure function of (name, seed,
// build). Every knob a run derives from its seed is listed in Result.Knobs,
// printed before the run. Result.Repro is the command that replays it.
// Recording the history draws nothing and schedules nothing: it leaves the
// trace as it is.
package scenarios
