// Package batch reads, checks, patches and builds Kafka v2 record batches
// (magic 2, Kafka 0.11+), the unit loglab stores and sends unchanged: a
// broker validates a batch's header and CRC and rewrites its base offset in
// place, it never re-encodes the records.
//
// Ownership and imports: this package owns the byte layout of a record batch.
// It imports the standard library and franz-go's kmsg (used by Build to encode
// records). It has no state and does no I/O.
//
// # Format (all integers big-endian, Kafka's RecordBatch v2)
//
//	offset size field
//	     0    8 baseOffset            first offset of the batch
//	     8    4 batchLength           bytes after this field (size = 12 + batchLength)
//	    12    4 partitionLeaderEpoch  set by the leader, outside the CRC
//	    16    1 magic                 2
//	    17    4 crc                   CRC-32C (Castagnoli) of bytes 21..size
//	    21    2 attributes            bits 0-2 compression, 3 timestamp type
//	                                  (1 = LogAppendTime), 4 transactional,
//	                                  5 control, 6 delete horizon
//	    23    4 lastOffsetDelta       last offset = baseOffset + lastOffsetDelta
//	    27    8 baseTimestamp         ms
//	    35    8 maxTimestamp          ms (the append time under LogAppendTime)
//	    43    8 producerId            -1 if not idempotent
//	    51    2 producerEpoch         -1 if not idempotent
//	    53    4 baseSequence          -1 if not idempotent
//	    57    4 recordCount
//	    61      records               recordCount records, possibly compressed
//
// A record (uncompressed) is: length varint (bytes that follow), attributes
// int8, timestampDelta varlong, offsetDelta varint, key (varint length, -1 =
// null, then bytes), value (likewise), header count varint, then per header a
// varint-length key string and a varint-length (-1 = null) value.
//
// Because baseOffset, batchLength and partitionLeaderEpoch precede the CRC'd
// range, the broker assigns offsets and stamps the leader epoch without
// recomputing the CRC; LogAppendTime changes attributes and maxTimestamp and
// so recomputes it.
//
// # Invariants (fuzzed)
//
// ParseHeader, Validate, Records and Iterate never panic on any input, never
// read or return bytes beyond their input, and classify every failure with
// ErrTruncated (input ends inside the batch), ErrCorrupt (the bytes cannot be
// a valid batch) or ErrUnsupportedCompression. Build → Validate → Records
// round-trips.
package batch
