// Package verdict holds the vocabulary every loglab checker reports in: a
// Verdict (pass, fail, unknown), an Anomaly with its evidence, and OpRef, the
// pointer from a finding back to the history records that prove it.
//
// Ownership and imports: this package owns only these types and their
// deterministic ordering. It imports the standard library and
// history; the checkers (linearizable, queue, liveness) and the
// top-level checkers package import it, never the other way round.
//
// Invariants: everything here is JSON-serialisable and ordered
// deterministically (Sort), so that two runs over the same history produce
// byte-identical reports. Unknown is its own verdict: a checker that could
// not decide (a porcupine timeout, a history too short to judge liveness)
// says so, and Worst never turns unknown into pass.
package verdict
