package log

import (
	"fmt"
	"math"
	"time"

	"github.com/loglab/loglab/wire/batch"
)

// AppendInfo describes an append.
type AppendInfo struct {
	FirstOffset  int64 // offset of the first record
	LastOffset   int64 // offset of the last record
	MaxTimestamp int64 // largest batch maxTimestamp (the append time under LogAppendTime)
	// LogAppendTime is the broker time stamped on the batch, -1 unless
	// Config.LogAppendTime.
	LogAppendTime int64
	RecordCount   int64
	Bytes         int
	// Duplicate: the batch repeated one of its idempotent producer's
	// last five and was not written; the offsets are the original's.
	Duplicate bool
}

// Append appends one producer batch (exactly one whole v2 batch) as the
// leader: it validates it (size, magic, CRC, recordCount ==
// lastOffsetDelta+1 > 0), assigns offsets from LogEndOffset by rewriting the
// base offset in b in place (records are not re-encoded), stamps
// LogAppendTime if configured (which rewrites the CRC), and writes it. b is
// patched in place and not retained. The data is durable once
// RecoveryPoint passes LastOffset (see WhenDurable).
//
// The batch's PartitionLeaderEpoch is kept as sent and feeds the
// leader-epoch cache like a follower's batch (see AppendAsFollower; an
// epoch older than one with data is ErrEpochInvariant).
// Replicated partitions use AppendAsLeader.
func (l *Log) Append(b []byte) (AppendInfo, error) {
	if err := l.writable(); err != nil {
		return AppendInfo{}, err
	}
	if len(b) > l.cfg.MaxBatchBytes {
		return AppendInfo{}, fmt.Errorf("%w: %d bytes, limit %d", ErrBatchTooLarge, len(b), l.cfg.MaxBatchBytes)
	}
	h, err := batch.Validate(b)
	if err != nil {
		return AppendInfo{}, fmt.Errorf("%w: %w", ErrInvalidBatch, err)
	}
	if h.Size() != len(b) {
		return AppendInfo{}, fmt.Errorf("%w: %d bytes after the batch (one batch per append)", ErrInvalidBatch, len(b)-h.Size())
	}
	if h.RecordCount <= 0 || int64(h.RecordCount) != int64(h.LastOffsetDelta)+1 {
		return AppendInfo{}, fmt.Errorf("%w: recordCount %d, lastOffsetDelta %d", ErrInvalidBatch, h.RecordCount, h.LastOffsetDelta)
	}
	if err := l.epochRegression(b); err != nil {
		return AppendInfo{}, err
	}
	leo := l.LogEndOffset()
	if leo > math.MaxInt64-int64(h.LastOffsetDelta) {
		return AppendInfo{}, fmt.Errorf("%w: offsets overflow", ErrInvalidBatch)
	}
	if idempotent(h) {
		dup, err := l.checkProducer(h)
		if err != nil {
			return AppendInfo{}, err
		}
		if dup != nil {
			return AppendInfo{FirstOffset: dup.firstOffset, LastOffset: dup.lastOffset, MaxTimestamp: dup.maxTimestamp,
				LogAppendTime: -1, RecordCount: int64(h.RecordCount), Duplicate: true}, nil
		}
	}
	batch.SetBaseOffset(b, leo)
	h.BaseOffset = leo
	info := AppendInfo{FirstOffset: leo, LastOffset: h.LastOffset(), LogAppendTime: -1,
		RecordCount: int64(h.RecordCount), Bytes: len(b)}
	if l.cfg.LogAppendTime {
		now := l.h.Now().UnixMilli()
		batch.SetLogAppendTime(b, now)
		h.MaxTimestamp, h.Attributes = now, h.Attributes|batch.AttrLogAppendTime
		info.LogAppendTime = now
	}
	info.MaxTimestamp = h.MaxTimestamp
	if err := l.write(b, info.LastOffset); err != nil {
		return AppendInfo{}, err
	}
	s := l.active()
	s.noteBatch(s.size, h, l.cfg.IndexIntervalBytes)
	l.observeEpoch(h.PartitionLeaderEpoch, leo)
	if l.producers != nil {
		observeProducer(l.producers, h)
	}
	return info, l.finishWrite(s, info.RecordCount)
}

// AppendAsLeader stamps the batch with the leader's epoch (outside the
// CRC, so no re-checksum), as Kafka's leader does, then appends it like
// Append: an epoch newer than the cache's latest gets the entry
// (leaderEpoch, FirstOffset) (normally AssignEpoch made it already). An
// epoch older than the cache's latest is a stale leader: ErrEpochInvariant,
// nothing written.
func (l *Log) AppendAsLeader(b []byte, leaderEpoch int32) (AppendInfo, error) {
	if err := l.checkLeaderEpoch(leaderEpoch); err != nil {
		return AppendInfo{}, err
	}
	if len(b) >= batch.HeaderBytes {
		batch.SetPartitionLeaderEpoch(b, leaderEpoch)
	}
	return l.Append(b)
}

// AppendAsFollower appends batches fetched from the leader (one or more
// whole v2 batches) keeping their offsets: the first must start at
// LogEndOffset and each must continue the previous one. Batches are
// validated (CRC, magic) but not size-limited. b is not modified or retained.
// Each batch's PartitionLeaderEpoch updates the leader-epoch cache as
// Kafka's assign does (see assignEntry): an epoch other than the latest
// (>= 0) removes the entries assigned at becoming leader that never got
// data, and adds (epoch, baseOffset). A batch in an epoch older than one
// that has data before it is a history no correct leader writes:
// ErrEpochInvariant, nothing written (Kafka takes it).
func (l *Log) AppendAsFollower(b []byte) (AppendInfo, error) {
	if err := l.writable(); err != nil {
		return AppendInfo{}, err
	}
	leo := l.LogEndOffset()
	info := AppendInfo{FirstOffset: leo, LastOffset: leo - 1, LogAppendTime: -1, MaxTimestamp: -1, Bytes: len(b)}
	it := batch.Iterate(b)
	next := leo
	for it.Next() {
		h := it.Header()
		if h.BaseOffset != next {
			return AppendInfo{}, fmt.Errorf("%w: batch base offset %d, log end offset %d", ErrInvalidBatch, h.BaseOffset, next)
		}
		next = h.NextOffset()
		info.RecordCount += int64(h.RecordCount)
		info.MaxTimestamp = max(info.MaxTimestamp, h.MaxTimestamp)
	}
	if it.Err() != nil || it.Offset() != len(b) || len(b) == 0 {
		return AppendInfo{}, fmt.Errorf("%w: %d of %d bytes are whole valid batches: %v", ErrInvalidBatch, it.Offset(), len(b), it.Err())
	}
	if err := l.epochRegression(b); err != nil {
		return AppendInfo{}, err
	}
	info.LastOffset = next - 1
	if err := l.write(b, info.LastOffset); err != nil {
		return AppendInfo{}, err
	}
	s := l.active()
	pos := s.size
	it = batch.Iterate(b)
	for it.Next() {
		h := it.Header()
		s.noteBatch(pos+int64(it.Offset()), h, l.cfg.IndexIntervalBytes)
		l.observeEpoch(h.PartitionLeaderEpoch, h.BaseOffset)
		if l.producers != nil {
			observeProducer(l.producers, h)
		}
	}
	return info, l.finishWrite(s, info.RecordCount)
}

func (l *Log) writable() error {
	if err := l.usable(); err != nil {
		return err
	}
	if l.truncPending {
		return ErrTruncationPending
	}
	return nil
}

// write rolls if needed and writes b at the end of the active segment.
func (l *Log) write(b []byte, lastOffset int64) error {
	s := l.active()
	now := l.h.Monotonic()
	if s.size > 0 && (s.size+int64(len(b)) > l.cfg.SegmentBytes ||
		(l.cfg.SegmentMs > 0 && s.hasFirstAppend && now-s.firstAppend >= time.Duration(l.cfg.SegmentMs)*time.Millisecond) ||
		lastOffset-s.base > math.MaxUint32) {
		if err := l.roll(); err != nil {
			return l.fail(err)
		}
		s = l.active()
	}
	if _, err := s.log.WriteAt(b, s.size); err != nil {
		return l.fail(err)
	}
	if !s.hasFirstAppend {
		s.firstAppend, s.hasFirstAppend = now, true
	}
	s.dirty = true
	return nil
}

func (l *Log) finishWrite(s *segment, records int64) error {
	if err := l.writeIndexes(s); err != nil {
		return l.fail(err)
	}
	l.afterAppend(records)
	return nil
}

// roll makes a new active segment at LogEndOffset. The old one gets its
// final time-index entry and joins the next round (data and indexes), as do
// the new files' directory entries; a round is requested now, as Kafka
// flushes a rolled segment in the background.
func (l *Log) roll() error {
	old := l.active()
	old.finalTimeEntry()
	if err := l.writeIndexes(old); err != nil {
		return err
	}
	base := old.next
	s, err := l.openSegment(base, true)
	if err != nil {
		l.closeFiles([]*segment{s})
		return err
	}
	// A file left by an earlier life of this offset range must not leak in.
	for _, f := range [...]interface{ Truncate(int64) error }{s.log, s.index, s.timeIndex} {
		if err := f.Truncate(0); err != nil {
			l.closeFiles([]*segment{s})
			return err
		}
	}
	l.segs = append(l.segs, s)
	l.rolled = append(l.rolled, old)
	l.dirDirty = true
	l.requestRound()
	return nil
}
