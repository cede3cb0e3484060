// Package checkers runs loglab's checkers over a recorded history (the JSONL
// format of package history) and gathers their findings in one Report.
//
// The checkers, by name (Names):
//
//	linearizable  each partition's log is linearizable (porcupine); package
//	              linearizable
//	queue         queue and durability anomalies with evidence: lost-write,
//	              duplicate, divergent-offset, gap, reorder, non-monotonic;
//	              package queue
//	liveness      after the last heal, sends and polls succeed again within
//	              a bound; package liveness
//	group         consumer groups: double-ownership within a generation,
//	              skipped records after a rebalance, offset-went-back,
//	              stale-commit-accepted; package group. It runs only on
//	              histories with group operations; the other three see
//	              sends and polls only.
//	final-read    durability judged by the final read alone (the polls of
//	              one process, "final-reader" by default, that drained
//	              every partition after the faults): lost-write,
//	              divergent-offset, unstable-read, phantom; package
//	              finalread. It runs only when named, never by default.
//
// Check runs the selected ones (Options.Checkers; by default the first four,
// Names; AllNames lists them all; an unknown name is an error wrapping
// ErrUnknownChecker that lists the valid names).
// CheckFile parses first and puts the file name before every error, so a
// malformed history yields one error naming the file, the line and the
// field, never a panic.
//
// Verdicts are pass, fail or unknown (package verdict); the report's is the
// worst. Unknown is never pass: it means a checker could not decide — a
// linearizability search out of budget, or a history that ends before the
// liveness bound elapsed.
//
// Determinism: the report is a pure function of the history and the options,
// ordered without map iteration, with one exception: porcupine's time budget
// is wall-clock, so on a slow machine a partition can come out unknown
// instead of pass or fail. That is why trace hashes never include checker
// verdicts, and why a timeout is reported as unknown, never as pass.
// Porcupine runs its search on a goroutine of its own; it is an imported
// library and its verdict (without a timeout) does not depend on scheduling.
//
// Ownership and imports: this package owns the Report and the selection of
// checkers. It imports history, checkers/verdict and the
// checkers' packages, and does no I/O: the caller hands it an io.Reader and, for
// porcupine's HTML, a WriteFile callback (linearizable.Options.WriteFile).
package checkers
