// Package sim is loglab's deterministic world: it runs a whole cluster of
// sans-IO nodes on one goroutine, in virtual time, and can crash, restart,
// pause and skew them. One seed replays one run bit for bit.
//
// Ownership and imports: sim owns the event queue, the virtual clock, the
// per-node random streams, node lifecycle, the simulated Host given to each
// node, and the trace with its running hash. It imports host, netsim (the
// network model) and sim/disk (the storage model). Nothing in sim may start a
// goroutine, read the wall clock, use global randomness or touch the OS; the
// detcheck analyzer enforces this.
//
// # Events
//
// Every callback a node receives (Start, timers, Post, network deliveries,
// disk completions) and every world action (a fault) is an event in one
// priority queue ordered by (virtual time, sequence number). The sequence
// number is a counter incremented for each scheduled event, so two events at
// the same instant run in the order they were scheduled. Running an event
// advances the virtual clock to its time; time never goes back.
//
// An event scheduled for a node captures the node's incarnation. A crash or a
// clean stop increments the incarnation, so events of the old incarnation are
// dropped when they come up. A paused node's events are held, in order, and
// are re-queued at the resume instant.
//
// # Random streams
//
// The run has one seed. Every consumer of randomness gets its own named
// stream, so adding a draw in one component never shifts another's:
//
//	stream(name) = rand.New(rand.NewPCG(splitmix64(seed), fnv1a64(name)))
//
// Names in use: "node/<name>/<incarnation>" for a node's Host.Rand,
// "netsim/link/<from>><to>" for each directed link's latencies, "disk/<name>" for a node's disk, and
// scenario-chosen names such as "workload" or "faults".
//
// # Trace
//
// The world appends a record for every event it runs and every record that
// netsim and the disk report (deliveries, disk writes with a hash of their
// bytes, syncs, crashes, faults). The running hash is FNV-1a 64 over
// (time, node, kind, detail) of every record in order; equal seeds and
// builds give equal hashes. The text of the records is kept only when
// Config.RecordTrace is set.
//
// # Time
//
// Virtual time is nanoseconds since the start of the run. A node's Now is
// Config.Epoch + virtual time + the node's clock offset (clock faults move
// the offset); its Monotonic clock and its timers use virtual time alone.
package sim
