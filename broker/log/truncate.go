package log

import (
	"fmt"
	"slices"

	"github.com/loglab/loglab/host"
)

// TruncateTo removes every batch that holds an offset at or above offset
// (a batch is never split: if offset falls inside one, LogEndOffset becomes
// that batch's base offset). offset >= LogEndOffset does nothing; offset
// below LogStartOffset is ErrOffsetOutOfRange. Leader-epoch entries
// starting at or after the new end go (Kafka's truncateFromEnd). The effect on reads and
// LogEndOffset is immediate. WhenDurable waiters above the new end get
// ErrTruncated. If the truncation goes below the checkpointed recovery
// point, the lowered checkpoint is made durable before any file changes and
// appends return ErrTruncationPending until then; Sync waits for it.
func (l *Log) TruncateTo(offset int64) error {
	if err := l.writable(); err != nil {
		return err
	}
	if offset >= l.LogEndOffset() {
		return nil
	}
	if offset < l.logStartOffset {
		return fmt.Errorf("%w: truncate to %d below log start offset %d", ErrOffsetOutOfRange, offset, l.logStartOffset)
	}
	si := l.segmentFor(offset)
	s := l.segs[si]
	pos, h, err := l.findBatch(s, offset)
	if err != nil {
		return err
	}
	newEnd := h.BaseOffset
	l.producers = nil // rebuilt from what is left when next needed
	removed := slices.Clone(l.segs[si+1:])
	l.segs = l.segs[:si+1]
	l.rolled = slices.DeleteFunc(l.rolled, func(r *segment) bool { return r.base >= s.base })

	// Rebuild the segment's in-memory state up to pos from its headers.
	keepIdx, keepTidx := s.idx, s.tidx
	s.resetIndexes()
	for p := int64(0); p < pos; {
		hh, err := l.readHeader(&segment{base: s.base, log: s.log, size: pos}, p)
		if err != nil {
			return l.fail(err)
		}
		s.noteBatch(p, hh, l.cfg.IndexIntervalBytes)
		p += int64(hh.Size())
	}
	written, twritten := commonPrefix(keepIdx, s.idx), commonTimePrefix(keepTidx, s.tidx)
	s.idxWritten, s.tidxWritten = written, twritten
	s.hasFirstAppend = false
	s.dirty = true
	l.truncEpoch++
	l.recoveryPoint = min(l.recoveryPoint, newEnd)

	kept := l.flush.waiters[:0]
	for _, w := range l.flush.waiters {
		if w.offset > newEnd {
			l.later(w.done, fmt.Errorf("%w: waited for %d, log truncated to %d", ErrTruncated, w.offset, newEnd))
			continue
		}
		kept = append(kept, w)
	}
	clear(l.flush.waiters[len(kept):])
	l.flush.waiters = kept

	apply := func() error {
		for _, r := range removed {
			if err := l.removeSegmentFiles(r); err != nil {
				return err
			}
		}
		if err := s.log.Truncate(pos); err != nil {
			return err
		}
		s.dirty = true // the truncation itself needs a sync
		if err := s.index.Truncate(int64(s.idxWritten) * IndexEntryBytes); err != nil {
			return err
		}
		if err := s.timeIndex.Truncate(int64(s.tidxWritten) * TimeIndexEntryBytes); err != nil {
			return err
		}
		return l.writeIndexes(s)
	}
	if newEnd >= l.ckpt.claimRP {
		if err := apply(); err != nil {
			return l.fail(err)
		}
		// Recovery rescans from below newEnd: the leader-epoch file may
		// be written before the truncation is durable.
		l.truncateEpochs(newEnd)
		return nil
	}
	// The leader-epoch file may forget the epochs above newEnd only once
	// a crash can no longer bring their batches back: writeEpochs waits
	// while truncPending.
	l.truncPending = true
	l.truncateEpochs(newEnd)
	l.writeCheckpoint(func(err error) {
		if err == nil && l.failed == nil {
			if err := apply(); err != nil {
				l.fail(err)
			}
		}
		l.truncPending = false
		l.writeEpochs()
		ats := l.afterTruncation
		l.afterTruncation = nil
		for _, f := range ats {
			f()
		}
	})
	return nil
}

func commonPrefix(a, b []indexEntry) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func commonTimePrefix(a, b []timeEntry) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// ApplyRetention deletes the oldest whole segments, never the active one,
// while the log without them stays at least RetentionBytes large or their
// largest timestamp is older than RetentionMs by the host's wall clock. It
// advances LogStartOffset at once; the files are removed once the new log
// start offset is checkpointed durably.
func (l *Log) ApplyRetention() (deletedSegments int, err error) {
	if err := l.usable(); err != nil {
		return 0, err
	}
	if l.truncPending {
		return 0, nil // after the truncation settles
	}
	now := l.h.Now().UnixMilli()
	total := l.Size()
	n := 0
	for n < len(l.segs)-1 {
		s := l.segs[n]
		byBytes := l.cfg.RetentionBytes > 0 && total-s.size >= l.cfg.RetentionBytes
		byTime := l.cfg.RetentionMs > 0 && s.maxTs != noTimestamp && now-s.maxTs > l.cfg.RetentionMs
		if !byBytes && !byTime {
			break
		}
		total -= s.size
		n++
	}
	if n == 0 {
		return 0, nil
	}
	deleted := slices.Clone(l.segs[:n])
	l.segs = slices.Delete(l.segs, 0, n)
	l.logStartOffset = max(l.logStartOffset, l.segs[0].base)
	// Deleted segments stay in l.rolled: until the new log start offset is
	// durable a crash brings them back, so their data must be as durable as
	// RecoveryPoint says.
	l.writeCheckpoint(func(err error) {
		if err != nil || l.failed != nil {
			return
		}
		for _, s := range deleted {
			if err := l.removeSegmentFiles(s); err != nil {
				l.fail(err)
				return
			}
		}
	})
	return n, nil
}

// Close makes the log durable (a final round and checkpoint, so the next
// Open scans only the active segment), closes its files and calls done.
// Appends fail with ErrClosed from the call on.
func (l *Log) Close(done func(error)) {
	if l.closing || l.closed {
		l.later(done, ErrClosed)
		return
	}
	if l.failed != nil {
		l.closed = true
		l.closeFiles(l.segs)
		l.later(done, l.failed)
		return
	}
	l.closing = true
	for _, t := range []*host.Timer{&l.flush.timer, &l.ckpt.timer} {
		if *t != nil {
			(*t).Stop()
			*t = nil
		}
	}
	finish := func(err error) {
		l.closed = true
		l.closeFiles(l.segs)
		// Waiters beyond the final log end offset can never be served.
		ws := l.flush.waiters
		l.flush.waiters = nil
		for _, w := range ws {
			l.later(w.done, ErrClosed)
		}
		if done != nil {
			done(err)
		}
	}
	l.Sync(func(err error) {
		if err != nil {
			finish(err)
			return
		}
		l.whenEpochsDurable(func(err error) {
			if err != nil {
				finish(err)
				return
			}
			l.writeCheckpoint(func(err error) {
				if err == nil {
					err = l.failed
				}
				finish(err)
			})
		})
	})
}
