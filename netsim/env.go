package netsim

import "math/rand/v2"

// Env is the part of the simulated world netsim needs. Package sim implements it.
type Env interface {
	// Now is virtual time in nanoseconds since the start of the run.
	Now() int64
	// At runs fn at virtual time at (>= Now()) on node's loop. The world captures the node's
	// incarnation when At is called: if the node crashes before then, fn is dropped; while the
	// node is paused, fn is deferred until it resumes. Events at equal times run in At order.
	At(at int64, node string, fn func())
	// Rand returns the random stream reserved for name; the same name always gives the same stream.
	Rand(name string) *rand.Rand
	// Trace appends one event to the run's trace and its running hash.
	Trace(node, kind, detail string)
}
