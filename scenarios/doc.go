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
// Invariants: a scenario's behaviour is a pure function of (name, seed,
// build). Every knob a run derives from its seed is listed in Result.Knobs,
// printed before the run. Result.Repro is the command that replays it.
package scenarios
