// Package broker is loglab's Kafka broker: a host.Node that speaks
// Apache Kafka's wire protocol on a listener, keeps a catalogue of topics
// and serves each partition from a log (package broker/log). It runs
// unchanged on real sockets (host/realhost) and in the simulator (sim).
//
// Ownership and imports: broker owns the protocol front end (framing is
// the Host's; request headers, dispatch, per-connection ordering and
// limits are here), one handler per API key (files keyNN_name.go, each
// headed by the versions it serves and its deliberate simplifications),
// topic and partition state, and the mapping of log errors to Kafka error
// codes. It imports host, broker/log, broker/batch, broker/topics and
// franz-go's kmsg (every request and response body) and kerr (error
// codes). It never imports sim, netsim or realhost.
//
// # Request path
//
//	frame (host) → peekHeader (key, version, correlation id)
//	             → lookupAPI: unknown key or unsupported version → close
//	               (a too-new ApiVersions instead gets a v0 answer, KIP-511)
//	             → parseHeader (v1; v2 tagged fields when flexible)
//	             → kmsg ReadFrom (malformed → close)
//	             → handler → respond / noResponse / closeConn
//
// Responses leave in request order per connection; handling is pipelined
// up to MaxInFlightRequests unanswered requests, later frames wait
// unparsed, and past MaxQueuedRequests waiting frames the connection is
// closed. Bad input is logged once (one line per event) and answered
// with the Kafka error code, or by closing the connection when the
// request cannot be parsed, as Kafka does; it never stops the broker or
// touches stored data.
//
// # Invariants
//
//   - Everything runs on the node's loop; no goroutines, no wall clock
//     except through the Host, no map iteration order in behaviour
//     (topic names are sorted wherever they are walked).
//   - A topic is visible to clients only once its catalogue entry is
//     durable; a deleted topic disappears before its files are removed.
//   - Each request is answered at most once; a request whose connection
//     closed is never answered.
//   - On one broker the high watermark is the log end offset, the leader
//     epoch is 0 and the ISR is this broker; the fields carry Kafka's
//     names so replication can give them meaning later.
package broker
