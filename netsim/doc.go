// Package netsim is loglab's simulated network: addresses, connections,
// latency/jitter/bandwidth models, partitions (symmetric, one-way, bridge,
// isolation), resets and the network side of crashes. Package sim builds one
// Network per world and gives each node its view, For(node), as the node's
// host.Network.
//
// Ownership and imports: netsim owns everything between a Send and the
// matching OnFrame. It imports host and the standard library only; the world
// reaches it through the Env interface (virtual clock, per-node event
// scheduling, named random streams, the trace), so netsim never imports sim.
// Like all simulated code it starts no goroutine, reads no wall clock, uses
// no global randomness, and lets no map order reach behaviour: connections
// live in a slice in creation order, listeners are found by address.
//
// # Addresses
//
// A node is named ("broker-1"); an address is "name:port". Listen's host part
// must be the node's own name or empty (":9092"). A dialer's local address is
// "name:<port>" with ports counted per node from EphemeralPortStart (40000) in
// Dial order, so addresses are deterministic.
//
// # Connections and the FIFO rule
//
// A connection is two FIFO frame streams, one per direction, like TCP: in
// order, exactly once, nothing lost while it is up. Send copies the frame, so
// a receiver never aliases a sender's buffer. Each frame (and each control
// segment: FIN, RST) gets a delivery time
//
//	due = max(due of the previous item in this direction, start + delay)
//
// where delay = Link.Latency + a Jitter sample, and start is now, or, on a
// link with BytesPerSecond, when the link has finished serializing the frame
// (len*1e9/BytesPerSecond ns after the previous frame on that directed link).
// The max keeps FIFO however the jitter falls. An internal assertion panics if
// a delivery ever finds another item at the head of its stream.
//
// Every callback into a node (accept, OnFrame, OnClose) runs inside an
// Env.At event on that node's loop, never inside Send, Dial or Close. The
// world drops events of a crashed incarnation and defers those of a paused
// node, in order.
//
// Dial sends a SYN that takes one link delay. If a listener is at the address
// its accept runs (on the listener's loop) and the connection is established
// at that instant; frames the dialer sent meanwhile then go out behind it. If
// nobody listens, the dialer gets OnClose(ErrConnRefused) one delay later (a
// round trip). A SYN across a partition waits (TCP retransmits it); if the
// connection is not established within DialOptions.Timeout
// (host.DefaultDialTimeout) the dialer gets OnClose wrapping ErrTimeout.
//
// The receiving end enforces its MaxFrameBytes (ListenOptions/DialOptions,
// 0 = host.DefaultMaxFrameBytes): a larger frame resets the connection and
// both ends get OnClose wrapping ErrFrameTooLarge.
//
// Close sends FIN after everything queued; the peer gets OnClose(nil) after
// the last frame, and the closer gets OnClose(nil) at once (each end's
// OnClose runs exactly once). Frames still arriving for a closed end are
// dropped. Send after Close, or once OnClose is scheduled, returns ErrClosed.
//
// # Partitions: hold, then reset
//
// Reachability is directed. Isolate, Split, OneWay and Bridge add blocked
// directions; Heal removes them all. A blocked direction HOLDS its frames:
// those not yet delivered are taken off the wire and wait, in order, as TCP
// retransmission would. When the direction is reachable again they go out
// with fresh delays, in order. If a direction has held frames for
// Config.StallTimeout (DefaultStallTimeout, 30 s; TCP's user timeout) the
// connection is reset: both ends get OnClose wrapping ErrConnReset and every
// held or in-flight frame is lost. The stall check is one Env.At timer per
// stalled direction, armed when frames start being held and disarmed when
// they drain; nothing polls.
//
// # Resets and crashes
//
// ResetConnections, ResetConn and ResetRandomConnection kill connections at
// once: in-flight and held frames are lost and both ends get OnClose wrapping
// ErrConnReset in the same virtual instant (as do stalls and oversized
// frames).
//
// NodeDown (called by the world on a crash or stop) removes the node's
// listeners and silences its ends. Its OS resets its sockets: frames it had
// already put on the wire still arrive, what it had only queued is lost, and
// an RST follows them, so the peer gets OnClose wrapping ErrConnReset one link
// delay later (held like any frame if a partition is in the way). What peers
// send to the dead node meanwhile is lost. A SYN to a node that is down is
// refused by its OS.
//
// # Randomness
//
// netsim draws only from Env.Rand, one stream per directed link named
// LinkStream(from, to) = "netsim/link/<from>><to>", so the delays on a link
// depend on the seed and that link's own traffic only. A jitter-free link
// draws nothing. ResetRandomConnection uses the caller's stream. Sampling is
// integer-only (exponential by von Neumann's comparison method, Pareto by
// integer division and square root), so a seed gives the same delays on every
// platform.
//
// # Trace
//
// Every listen, dial, accept, refusal, delivery, FIN, RST, reset, timeout,
// close callback and partition change calls Env.Trace with a compact detail:
// the connection id and addresses, and for a frame its length and FNV-64a
// hash (FrameHash), so a run's trace hash covers every byte on the wire.
package netsim
