// Package log is one partition's log: a directory of segments holding Kafka
// v2 record batches, with sparse offset and time indexes, a recovery-point
// checkpoint, a leader-epoch cache, a flush policy with group commit,
// retention and crash recovery.
//
// Ownership and imports: this package owns a partition directory's files
// and their format. It imports host, wire/batch and the standard library;
// it does all I/O through host.Host (Disk for files, AfterFunc for flush.ms,
// Now for timestamps, Monotonic for segment age, Logger). It is
// single-threaded: every method and every callback runs on the node's loop.
// It starts no goroutine and never blocks; durability is reported through
// callbacks.
//
// # On-disk format (frozen; all integers big-endian)
//
//	<dir>/
//	  00000000000000000000.log        segment: whole v2 batches back to back
//	  00000000000000000000.index      sparse offset index of that segment
//	  00000000000000000000.timeindex  sparse time index of that segment
//	  00000000000000004711.log        next segment, named by its base offset (%020d)
//	  ...
//	  log.checkpoint                  recovery point + log start offset
//	  log.checkpoint.tmp              a checkpoint being written (removed on open)
//	  leader-epoch-checkpoint         leader-epoch cache
//	  leader-epoch-checkpoint.tmp     one being written (removed on open)
//
//	segment (.log)
//	+-----------------+-----------------+-- ... --+-----------------+
//	| batch base=B    | batch base=B+n0 |         | batch           |
//	+-----------------+-----------------+-- ... --+-----------------+
//	each batch: 61-byte v2 header + records (see package batch); offsets are
//	contiguous: a batch's baseOffset is the previous batch's lastOffset+1, the
//	first one's is the segment's base offset.
//
//	offset index (.index), 8-byte entries, strictly increasing in both fields
//	+----------------------------+----------------------------+
//	| relative offset uint32     | file position uint32       |
//	+----------------------------+----------------------------+
//	"the batch whose baseOffset is base+rel starts at position": one entry
//	for the first batch starting IndexIntervalBytes or more after the last
//	indexed position (position 0 is implied and never stored).
//
//	time index (.timeindex), 12-byte entries, timestamps strictly increasing,
//	relative offsets non-decreasing
//	+----------------------------+----------------------------+
//	| max timestamp so far int64 | relative offset uint32     |
//	+----------------------------+----------------------------+
//	"every batch up to and including the one at base+rel has maxTimestamp <=
//	ts": written with the offset index entries when the maximum grew, and once
//	more when the segment is rolled, so an inactive segment's last entry is its
//	largest timestamp.
//
//	checkpoint (log.checkpoint), 24 bytes
//	+-------+---------------------+----------------------+-----------+
//	| "LLCK"| recoveryPoint int64 | logStartOffset int64 | crc32c    |
//	+-------+---------------------+----------------------+-----------+
//	crc32c (Castagnoli) of the first 20 bytes. Written to log.checkpoint.tmp,
//	synced, renamed over log.checkpoint, then the directory is synced.
//
//	leader-epoch checkpoint (leader-epoch-checkpoint), Kafka's text format,
//	ASCII, every line ending in "\n", canonical decimals:
//	  0                         version
//	  N                         number of entries
//	  <epoch> <startOffset>     N lines, both strictly increasing, >= 0
//	Written like log.checkpoint (tmp, sync, rename, directory sync) whenever
//	the entries change, one write at a time. Anything else in the file
//	counts as corrupt.
//
// # Leader-epoch cache (Kafka's LeaderEpochFileCache, KIP-101, KIP-279)
//
// Entries (Epoch, StartOffset): leader epoch Epoch's batches start at
// StartOffset. Invariants:
//
//   - epochs strictly increase, StartOffsets strictly increase;
//   - every StartOffset < LogEndOffset, except possibly the latest entry's,
//     which may equal it (assigned by AssignEpoch on becoming leader,
//     before the epoch has data);
//   - batch epochs (those >= 0) never decrease along the log: Append and
//     AppendAsFollower refuse a batch in an epoch older than one that has
//     data before it, AppendAsLeader one older than the latest entry,
//     AssignEpoch one older than an epoch with data (ErrEpochInvariant);
//   - so the entries are one entry at the first batch of each epoch (plus
//     at most one data-less latest entry): every batch's
//     PartitionLeaderEpoch is the epoch of the entry starting last at or
//     before it (batches below the first entry and epochs < 0 aside).
//     Reads and recovery hold the batches to that, as the CRC does not
//     cover the field (checkBatchEpoch, epochRebuilder.check);
//   - TruncateTo drops entries starting at or after the new end
//     (truncateFromEnd). As LogStartOffset advances, the entries are seen
//     through Kafka's truncateFromStart: those below it go except the last,
//     whose StartOffset reads as LogStartOffset. The file stores entries
//     unraised (its first may start below the log start offset) and keeps
//     the hidden ones until the new log start offset is durable.
//
// Crash consistency: the recovery-point checkpoint never claims an offset
// at or past one where the leader-epoch file may still disagree with the
// log (an entry added or dropped whose write has not completed), so
// recovery rescans every batch the file may be wrong about. A truncation
// below the checkpointed recovery point writes the file only after the
// truncation is applied.
//
// # Durability invariants
//
//   - RecoveryPoint: every offset below it is durable (its segment's data and
//     directory entry were synced by a sync that completed without error).
//     The checkpoint never claims more: it is written from RecoveryPoint.
//   - An inactive segment's .log, .index and .timeindex are synced by the
//     first sync after its roll, before RecoveryPoint can pass its end; the
//     active segment's indexes are synced only on roll and Close (recovery
//     rebuilds them).
//   - A TruncateTo below the checkpointed recovery point lowers the
//     checkpoint durably before any file is changed; until then appends
//     return ErrTruncationPending. Retention writes the new log start offset
//     durably before it removes files.
//
// # Flush policy (Kafka's flush.messages and flush.ms)
//
//   - every batch: FlushMessages = 1 (each append asks for a sync);
//   - every N ms: FlushMs = N (a sync at most N ms after the first unflushed append);
//   - never (both 0, Kafka's default): only on roll, Sync and Close; durability
//     comes from replication.
//
// Syncs use group commit: at most one sync round is in flight; appends that
// arrive during it are covered by the next round, started as soon as the
// current one completes. A round syncs the active segment, every segment
// rolled since the last round (data and indexes), and the partition directory
// if files were created or removed; when all complete without error,
// RecoveryPoint becomes the log end offset captured when the round started,
// and every WhenDurable waiter at or below it is released.
//
// A failed sync or write (host.ErrIO, host.ErrNoSpace...) leaves durability
// unknown, so the log fails like a Kafka log directory going offline: waiters
// and every later call get an error wrapping ErrLogFailed and the cause;
// RecoveryPoint stays where it was. The broker must treat the partition as
// offline; reopening (after a restart) recovers from disk.
//
// # Recovery (Open)
//
//  1. Read log.checkpoint (a missing or corrupt one counts as recovery point
//     0, log start offset 0: everything is scanned). Remove log.checkpoint.tmp,
//     index files without a .log, and whole segments below the checkpointed
//     log start offset (an interrupted retention).
//  2. Segments before the last one whose base offset is below the recovery
//     point are trusted: their indexes are loaded and checked (size a multiple
//     of the entry size, strictly increasing, positions inside the segment);
//     an inconsistent or missing index is rebuilt by scanning the segment.
//  3. From that segment on, every batch is read and CRC-verified and offsets
//     must be contiguous; its leader epoch must match leader-epoch-checkpoint
//     below the checkpointed recovery point, must not be below the epoch
//     before it, and a single batch must not rise above the epochs on both
//     sides of it. At the first torn, corrupt, misplaced or garbage
//     batch the log ends: that segment is truncated there, later segments are
//     deleted. If that point is below the checkpointed recovery point, the
//     damage hit synced data (bit rot, not a torn write): Open fails with
//     ErrCorruption instead of truncating. A log that ends below the
//     checkpointed recovery point fails the same way.
//  4. Indexes of scanned segments are rebuilt. A first sync round is started
//     at once (it syncs every scanned segment and the directories), after
//     which RecoveryPoint is the log end offset.
//  5. The leader-epoch cache: entries of leader-epoch-checkpoint starting
//     below the first scanned segment's base offset (and below the log end)
//     are kept; the scanned batches are applied to them as appends would
//     (the result is what the log held before the crash). A missing or
//     corrupt file rebuilds the cache from the headers of every segment
//     (logged). If the result differs from the file, the file is rewritten
//     at once.
//
// Reads verify every batch's CRC and its leader epoch against the cache,
// so bit rot anywhere is reported as ErrCorruption and never served (a
// rotten epoch in the last batches recovery scans reads as a new epoch:
// the broker, which knows the controller's epoch, cuts it). Open never panics on any file content
// (fuzzed).
package log
