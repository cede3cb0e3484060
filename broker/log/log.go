package log

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"path"
	"slices"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire/batch"
)

// Log is one partition's log. All methods must be called on the node's
// loop; callbacks (done) run there too, never from inside the call that
// registered them.
type Log struct {
	h   host.Host
	dir string
	cfg Config

	segs           []*segment // ascending base offsets; the last is active
	logStartOffset int64
	recoveryPoint  int64
	// recoveryCut is the offset at which Open's recovery cut a torn or
	// corrupt tail (-1: it cut nothing). See RecoveryCut.
	recoveryCut int64

	flush  flusher
	ckpt   checkpointer
	epochs epochCache
	// producers is the idempotent producers' state (producers.go); nil
	// until first needed after an open or a truncation.
	producers map[int64]*producerEntry

	failed  error // wraps ErrLogFailed once a write or sync failed
	closing bool
	closed  bool

	// truncPending: a TruncateTo below the checkpointed recovery point waits
	// for the lowered checkpoint; afterTruncation runs once it is applied.
	truncPending    bool
	afterTruncation []func()
	truncEpoch      uint64

	dirDirty, parentDirty bool       // directory entries changed since the last round
	rolled                []*segment // segments rolled since the last round: data and indexes to sync

	scratch []byte // scan and index-encoding buffer
	hdr     [batch.HeaderBytes]byte
}

// Open opens (creating if needed) the log in dir and recovers it
// synchronously (see the package doc). A first sync round is started at
// once; RecoveryPoint reaches LogEndOffset when it completes.
func Open(h host.Host, dir string, cfg Config) (*Log, error) {
	l := &Log{h: h, dir: dir, cfg: cfg.withDefaults(), recoveryCut: -1}
	l.ckpt.rp, l.ckpt.claimRP = -1, -1
	l.epochs.dirtyFrom, l.epochs.flightFrom = math.MaxInt64, math.MaxInt64
	if err := l.recover(); err != nil {
		l.closeFiles(l.segs)
		return nil, err
	}
	l.parentDirty, l.dirDirty = true, true
	l.startRound()
	l.writeEpochs() // if recovery changed the leader-epoch cache
	return l, nil
}

// LogStartOffset is the first offset still in the log.
func (l *Log) LogStartOffset() int64 { return l.logStartOffset }

// LogEndOffset is the offset the next appended record gets.
func (l *Log) LogEndOffset() int64 { return l.active().next }

// RecoveryPoint is the durable offset: every offset below it is synced.
func (l *Log) RecoveryPoint() int64 { return l.recoveryPoint }

// Size is the total size of the segments in bytes.
func (l *Log) Size() int64 {
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// NumSegments is the number of segments, the active one included.
func (l *Log) NumSegments() int { return len(l.segs) }

// Err is the error that failed the log (wrapping ErrLogFailed), or nil.
func (l *Log) Err() error { return l.failed }

func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// usable reports why the log cannot be used, if it cannot.
func (l *Log) usable() error {
	if l.failed != nil {
		return l.failed
	}
	if l.closing || l.closed {
		return ErrClosed
	}
	return nil
}

// segmentFor returns the index of the segment holding offset (the last one
// whose base offset is at or below it).
func (l *Log) segmentFor(offset int64) int {
	i, found := slices.BinarySearchFunc(l.segs, offset, func(s *segment, o int64) int { return cmp.Compare(s.base, o) })
	if found {
		return i
	}
	return max(i-1, 0)
}

// fail puts the log in the failed state: waiters and later calls get err
// wrapped with ErrLogFailed.
func (l *Log) fail(err error) error {
	if l.failed != nil {
		return l.failed
	}
	l.failed = fmt.Errorf("%w: %s: %w", ErrLogFailed, l.dir, err)
	l.h.Logger().Error("partition log failed; it serves nothing until reopened", "dir", l.dir, "err", err)
	if l.flush.timer != nil {
		l.flush.timer.Stop()
		l.flush.timer = nil
	}
	if l.ckpt.timer != nil {
		l.ckpt.timer.Stop()
		l.ckpt.timer = nil
	}
	ws := l.flush.waiters
	l.flush.waiters = nil
	for _, w := range ws {
		l.later(w.done, l.failed)
	}
	cbs := l.ckpt.waiters
	cbs = append(cbs, l.ckpt.next...)
	cbs = append(cbs, l.epochs.waiters...)
	l.ckpt.waiters, l.ckpt.next, l.epochs.waiters = nil, nil, nil
	for _, cb := range cbs {
		l.later(cb, l.failed)
	}
	ats := l.afterTruncation
	l.afterTruncation = nil
	for _, f := range ats {
		l.h.Post(f)
	}
	return l.failed
}

// later calls done(err) on the loop after the current callback.
func (l *Log) later(done func(error), err error) {
	if done != nil {
		l.h.Post(func() { done(err) })
	}
}

func (l *Log) closeFiles(segs []*segment) {
	for _, s := range segs {
		for _, f := range []host.File{s.log, s.index, s.timeIndex} {
			if f != nil {
				_ = f.Close() // read-only use is over; a close error changes nothing durable
			}
		}
		s.log, s.index, s.timeIndex = nil, nil, nil
	}
}

// removeSegmentFiles closes and removes a segment's files (durable after
// the next round's SyncDir).
func (l *Log) removeSegmentFiles(s *segment) error {
	l.closeFiles([]*segment{s})
	l.dirDirty = true
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		if err := l.h.Disk().Remove(segmentName(l.dir, s.base, suf)); err != nil && !errors.Is(err, host.ErrNotExist) {
			return err
		}
	}
	return nil
}

// openSegment opens (creating if asked) a segment's three files.
func (l *Log) openSegment(base int64, create bool) (*segment, error) {
	s := &segment{base: base, next: base, maxTs: noTimestamp}
	var err error
	d := l.h.Disk()
	if s.log, err = d.OpenFile(segmentName(l.dir, base, logSuffix), create); err != nil {
		return s, err
	}
	if s.index, err = d.OpenFile(segmentName(l.dir, base, indexSuffix), true); err != nil {
		return s, err
	}
	if s.timeIndex, err = d.OpenFile(segmentName(l.dir, base, timeIndexSuffix), true); err != nil {
		return s, err
	}
	return s, nil
}

// rewriteIndexes replaces a segment's index files with its in-memory
// indexes.
func (l *Log) rewriteIndexes(s *segment) error {
	if err := s.index.Truncate(0); err != nil {
		return err
	}
	if err := s.timeIndex.Truncate(0); err != nil {
		return err
	}
	s.idxWritten, s.tidxWritten = 0, 0
	return l.writeIndexes(s)
}

// writeIndexes appends the index entries not yet in the files.
func (l *Log) writeIndexes(s *segment) error {
	if len(s.idx) > s.idxWritten {
		l.scratch = encodeIndex(l.scratch[:0], s.idx[s.idxWritten:])
		if _, err := s.index.WriteAt(l.scratch, int64(s.idxWritten)*IndexEntryBytes); err != nil {
			return err
		}
		s.idxWritten = len(s.idx)
	}
	if len(s.tidx) > s.tidxWritten {
		l.scratch = encodeTimeIndex(l.scratch[:0], s.tidx[s.tidxWritten:])
		if _, err := s.timeIndex.WriteAt(l.scratch, int64(s.tidxWritten)*TimeIndexEntryBytes); err != nil {
			return err
		}
		s.tidxWritten = len(s.tidx)
	}
	return nil
}

func (l *Log) parentDir() string { return path.Dir(l.dir) }
