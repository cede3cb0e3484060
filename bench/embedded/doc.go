// Package embedded runs a loglab cluster in this process on real sockets
// and files: N brokers, each on its own host/realhost Runtime, in combined
// mode (controller voters inside the first min(3, N) brokers, KRaft's
// process.roles=broker,controller). The `loglab cluster` command, the
// benchmarks that kill and restart brokers under load, and the interop
// tests all start their clusters here.
//
// Layout (as in `loglab cluster`): broker k (1-based, its node.id) listens
// on Host:BasePort+k-1; if it is a voter, its controller listener is on
// Host:BasePort+ControllerPortOffset+k-1; its data is in DataDir/broker-k.
// With BasePort 0 every port is picked free on Host at Start (and kept
// across Restart).
//
// Kill(k) is a process crash (kill -9): the runtime stops without the
// broker's clean shutdown; files are closed unsynced, so unsynced writes
// survive in the OS page cache as they would for a crashed JVM. It is not
// a power loss (the simulator models those). Restart(k) starts a fresh
// broker on the same ports and data directory.
//
// Ownership and imports: it owns nothing on disk but the directories it
// creates; it imports broker, broker/controller, broker/topics,
// host/realhost and franz-go (for WaitReady's Metadata). Real mode only:
// it uses goroutines, locks and the wall clock, and nothing in the
// simulator imports it. Every broker call from outside goes through Do,
// which runs on that broker's loop.
//
// Invariants: Stop stops every running broker cleanly (logs flushed and
// closed) and returns once their sockets and files are released; a
// Cluster's methods are safe from any goroutine.
//
//detcheck:exempt real sockets, goroutines and the wall clock (host/realhost, kgo); never runs in simulation
package embedded
