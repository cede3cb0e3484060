package log

import (
	"errors"
	"time"

	"github.com/loglab/loglab/broker/bugzoo"
)

// Config is a partition log's configuration; names follow Kafka's topic
// configs. Zero values select the defaults noted.
type Config struct {
	// SegmentBytes rolls the active segment when an append would make it
	// larger (segment.bytes; 0: 1 GiB). At most 2 GiB, as positions are uint32.
	SegmentBytes int64
	// SegmentMs rolls the active segment once its first append is this old
	// on the host's monotonic clock (segment.ms; 0: never by age).
	SegmentMs int64
	// IndexIntervalBytes is the spacing of index entries (index.interval.bytes; 0: 4096).
	IndexIntervalBytes int64
	// MaxBatchBytes bounds an appended batch (max.message.bytes; 0: 1048588).
	MaxBatchBytes int
	// FlushMessages starts a sync once this many records are unflushed
	// (flush.messages; 0: never by count; 1: every batch).
	FlushMessages int64
	// FlushMs starts a sync this long after the first unflushed append
	// (flush.ms; 0: never by time).
	FlushMs int64
	// RetentionBytes deletes the oldest segments while the log would stay at
	// least this large without them (retention.bytes; 0: unlimited).
	RetentionBytes int64
	// RetentionMs deletes the oldest segments whose largest timestamp is
	// older than this by the host's wall clock (retention.ms; 0: unlimited).
	RetentionMs int64
	// LogAppendTime stamps each appended batch with the broker's time
	// (message.timestamp.type=LogAppendTime).
	LogAppendTime bool
	// CheckpointIntervalMs bounds how stale the recovery-point checkpoint
	// gets (log.flush.offset.checkpoint.interval.ms; 0: 60000).
	CheckpointIntervalMs int64
	// OnFlush, if set, is told the duration of every flush round that
	// completed without error (from its start to its last sync's
	// completion: what a metric of fsync latency wants).
	OnFlush func(d time.Duration)
	// Bugs switches on deliberate bugs, for testing the testbed only
	// (package bugzoo); the zero value, none, is the only correct one.
	Bugs bugzoo.Set
	// ScanAll makes Open scan every segment, not only those from the
	// recovery point on, and cut the log at the first torn or corrupt
	// batch wherever it lies (RecoveryCut reports it) instead of refusing
	// a log corrupt below its recovery point. A replica whose log rotted
	// reopens this way: it keeps the intact prefix, and its peers hold the
	// rest (broker/replica_recovery.go).
	ScanAll bool
}

// Defaults.
const (
	DefaultSegmentBytes         = 1 << 30
	MaxSegmentBytes             = 1<<31 - 1
	DefaultIndexIntervalBytes   = 4096
	DefaultMaxBatchBytes        = 1048588
	DefaultCheckpointIntervalMs = 60_000
)

func (c Config) withDefaults() Config {
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = DefaultSegmentBytes
	}
	if c.SegmentBytes > MaxSegmentBytes {
		c.SegmentBytes = MaxSegmentBytes
	}
	if c.IndexIntervalBytes <= 0 {
		c.IndexIntervalBytes = DefaultIndexIntervalBytes
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if c.CheckpointIntervalMs <= 0 {
		c.CheckpointIntervalMs = DefaultCheckpointIntervalMs
	}
	return c
}

// Errors; classify with errors.Is. Host errors (host.ErrIO...) are wrapped
// alongside.
var (
	// ErrCorruption: stored data fails its CRC or structure where it must be
	// intact (on read, or below the recovery point at open). Never served,
	// never silently truncated.
	ErrCorruption = errors.New("log: corruption")
	// ErrOffsetOutOfRange: the offset is below LogStartOffset or above LogEndOffset.
	ErrOffsetOutOfRange = errors.New("log: offset out of range")
	// ErrBatchTooLarge: an appended batch exceeds MaxBatchBytes.
	ErrBatchTooLarge = errors.New("log: batch too large")
	// ErrInvalidBatch: an appended batch fails validation (CRC, magic, counts,
	// or for a follower, offsets that do not continue the log). Wraps the
	// batch package's sentinel when it has one.
	ErrInvalidBatch = errors.New("log: invalid batch")
	// ErrLogFailed: a write or sync failed; the log is offline (see the
	// package doc).
	ErrLogFailed = errors.New("log: log failed")
	// ErrTruncationPending: a TruncateTo below the checkpointed recovery
	// point is being made durable; appends are refused until it is (wait
	// with Sync).
	ErrTruncationPending = errors.New("log: truncation pending")
	// ErrTruncated: a WhenDurable waiter's offset was removed by TruncateTo.
	ErrTruncated = errors.New("log: offsets truncated")
	// ErrClosed: the log is closed or closing.
	ErrClosed = errors.New("log: closed")
)
