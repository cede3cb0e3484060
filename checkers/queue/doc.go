// Package queue finds queue and durability anomalies in a history — the ones
// Jepsen found in Kafka-compatible systems — each with the operations that
// prove it. It needs no search: one pass over the operations interning
// partitions and values as small integer ids and indexing positions by
// (partition id, offset) in per-partition slices, then a pass per anomaly
// family over compact per-partition arrays; O(n log n) in operations and
// records read, the log factor only from sorting nearly sorted offsets and
// each producer's sends. A record read where it was acknowledged costs no
// hashing and no allocation; a million operations check in about a second
// (docs/performance.md).
//
// # Anomalies
//
// A position is (topic, partition, offset). A value is observed at a
// position when a send of it was acknowledged there (ok, with that offset)
// or an ok poll returned it there.
//
//	kind              Jepsen name            definition
//	divergent-offset  inconsistent-offsets   two different values observed at
//	                                         one position (acks and reads
//	                                         alike); evidence: the first
//	                                         operation observing each value
//	duplicate         duplicate              one value observed at two or
//	                                         more positions (e.g. a retry
//	                                         appended again, or an ack at one
//	                                         offset and a read at another)
//	lost-write        lost-write             a value acknowledged at offset o
//	                                         that no poll ever returned
//	                                         (anywhere), although an ok poll of
//	                                         its partition invoked after the
//	                                         send completed covered o (its
//	                                         fetch position <= o <= the last
//	                                         offset it returned); with
//	                                         Options.FinalReadsComplete, any
//	                                         acknowledged value never read.
//	                                         Acknowledged values never read
//	                                         otherwise are counted as unseen
//	                                         (Jepsen's unseen), not reported
//	gap               poll-skip              an ok poll whose records jump over
//	                                         offsets known to exist (observed
//	                                         by any operation): from its fetch
//	                                         position to its first record, or
//	                                         between two of its records
//	reorder           nonmonotonic-send      one producer (process) sent B to a
//	                                         partition after a send A of its
//	                                         own to that partition completed
//	                                         ok, yet B got a lower offset
//	non-monotonic     nonmonotonic-poll      an ok poll returned a record below
//	                                         its own fetch position
//
// Seeks. A client records each poll's fetch position in the poll invoke's
// offset. A consumer's next position is the last offset it read plus one (or
// the same position after an empty read); a poll invoked at any other
// position is a seek — an explicit reposition, never an anomaly by itself.
// Without a seek, a record below the position means the consumer's offsets
// went backwards (non-monotonic), and the evidence includes the previous
// poll that set the position. A record above the position, while offsets in
// between are known to exist, is a gap whether or not the poll followed a
// seek: a fetch from p must start at p. Offsets no operation observed cannot
// be told apart from offsets that never existed, so they are not gaps
// (loglab has neither compaction nor transaction markers, which would
// legitimately leave holes).
//
// "After" means by record index: the history Writer appends records in the
// order events happen, which is meaningful in simulation and in real runs
// alike.
//
// Ownership and imports: this package imports history and
// checkers/verdict only, and does no I/O.
package queue
