// Package bugzoo names loglab's deliberate broker bugs: switches that exist
// only for testing, to measure the testbed's detection power. Each entry
// turns on one realistic bug at one clearly marked place in the broker or
// its log (grep for "bugzoo." to find every branch); a sweep over a
// scenario must catch each within 200 seeds (scenarios/bugzoo_test.go),
// and the seeds it takes are the testbed's score (docs/bugzoo.md).
//
// Never set a Set in production configuration: the zero Set (no bugs) is
// the only correct one.
//
// Ownership and imports: this package owns the names and the Set type
// only; it imports the standard library and nothing of loglab, so that
// broker and broker/log can both import it.
//
// Invariants: names are stable (they appear in repro commands and docs);
// a Set is a comparable value whose zero value has no bug on; Parse
// accepts exactly the names of Names and lists them when it refuses one.
package bugzoo
