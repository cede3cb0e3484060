// Package sweep runs one scenario over a range of seeds in parallel worker
// processes and sums the results up: runs, passes, failures, anomalies by
// kind, seeds per minute, and for every failing seed the command that
// replays it. Shards split one range over machines: shard I/N keeps the
// seeds with (seed-A) % N == I, and Merge adds the shards' summaries back
// up (docs/sweeps.md).
//
// Workers are processes, not goroutines, so that a run that crashes or
// leaks cannot take the sweep down and every run starts from a fresh
// process: Run re-executes a binary (by default the running one, with
// WorkerArgs) that calls Serve, which reads seeds on stdin, one per line,
// and writes each seed's scenarios.Result as one JSON line.
//
// WriteRunDir and WriteResultText are the evidence of one run (`loglab sim
// run --out DIR`): the result, the trace, the history and the verdicts.
//
// Ownership and imports: it owns the worker processes it starts and the
// files of an --out directory. It imports scenarios, reports (the summary
// and JUnit formats) and broker/bugzoo; nothing that runs in simulation
// imports it.
//
//detcheck:exempt starts worker processes and goroutines and reads the wall clock; never runs in simulation
package sweep
