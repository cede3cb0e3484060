// Package host defines the Host: everything a loglab node (broker, controller,
// client, workload) may do to the world. A node is a single-threaded state
// machine; it never calls the OS, starts a goroutine, reads the wall clock or
// uses global randomness. It only calls its Host, and the Host calls it back
// on the node's loop.
//
// Two worlds implement Host: package host/realhost (TCP, os.File, fsync, the wall
// clock, one event-loop goroutine per node) and package sim (virtual time,
// netsim, a simulated disk, one goroutine for a whole cluster).
//
// Ownership and imports: this package owns the interfaces and the Kafka frame
// codec (a 4-byte big-endian length prefix before each request or response).
// It imports the standard library only.
//
// Invariants every implementation keeps (the contract nodes rely on):
//
//   - Callbacks (timers, OnFrame, OnClose, Sync completions, Post) run on the
//     node's loop, one at a time, never re-entrantly from inside the call that
//     registered them. A callback is never delivered after its node crashed or
//     stopped.
//   - Frames on one Conn are delivered in order, each exactly once, until the
//     connection closes; after OnClose no frame is delivered.
//   - File writes are visible to later reads at once; they are durable only
//     after a Sync issued after the write has completed with a nil error.
//     Creating, renaming or removing a file is durable only after a later
//     SyncDir of its directory has completed with a nil error.
//   - Durations are measured on a monotonic clock: Now may jump (clock faults),
//     timers do not.
package host
