package log

import "github.com/loglab/loglab/broker/bugzoo"

// Deliberate bugs for the bug zoo (package bugzoo), test-only. Each has
// one seam in the production path, a one-line call of a bug* method
// below (the way FoundationDB keeps its BUGGIFY points one line long);
// the bug's logic lives here. With the zero Config.Bugs every seam is a
// bit test that does nothing.

// bugAckBeforeFlush (bugzoo.AckBeforeFlush): WhenDurable answers at once,
// before the flush policy has synced the offset.
func (l *Log) bugAckBeforeFlush() bool { return l.cfg.Bugs.Has(bugzoo.AckBeforeFlush) }

// bugSkipSequenceCheck (bugzoo.SkipSequenceCheck): an idempotent
// producer's batch is appended whatever its sequence number.
func (l *Log) bugSkipSequenceCheck() bool { return l.cfg.Bugs.Has(bugzoo.SkipSequenceCheck) }

// bugIndexOffByOne is s.floor(offset), or with bugzoo.IndexOffByOne the
// slipped search floorOffByOne.
func (l *Log) bugIndexOffByOne(s *segment, offset int64) (pos, base int64) {
	if l.cfg.Bugs.Has(bugzoo.IndexOffByOne) {
		return s.floorOffByOne(offset)
	}
	return s.floor(offset)
}

// bugKeepsCorruptTail (bugzoo.RecoveryKeepsCorruptTail): recovery keeps
// a segment's corrupt tail (size bytes) instead of truncating it, and
// reports no cut. It reports whether the bug is on.
func (l *Log) bugKeepsCorruptTail(s *segment, size int64) bool {
	if !l.cfg.Bugs.Has(bugzoo.RecoveryKeepsCorruptTail) {
		return false
	}
	s.size = size
	l.recoveryCut = -1
	return true
}

// floorOffByOne is floor with the classic binary-search slip: it returns
// the first index entry past offset instead of the last one at or before
// it, so the read starts one entry too far and skips the batches between
// (bugzoo.IndexOffByOne). At the segment's tail, where no entry lies past
// offset, it behaves like floor.
func (s *segment) floorOffByOne(offset int64) (pos int64, base int64) {
	rel := offset - s.base
	for _, e := range s.idx {
		if int64(e.rel) > rel {
			return int64(e.pos), s.base + int64(e.rel)
		}
	}
	return s.floor(offset)
}

// bugTrustEpochField (bugzoo.EpochFieldTrusted): reads and recovery take
// every batch's leader epoch as written.
func (l *Log) bugTrustEpochField() bool { return l.cfg.Bugs.Has(bugzoo.EpochFieldTrusted) }
