package log

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/loglab/loglab/host"
)

// recover implements the recovery algorithm of the package doc.
func (l *Log) recover() error {
	d := l.h.Disk()
	if err := d.MkdirAll(l.dir); err != nil {
		return fmt.Errorf("log: mkdir %s: %w", l.dir, err)
	}
	names, err := d.List(l.dir)
	if err != nil {
		return fmt.Errorf("log: list %s: %w", l.dir, err)
	}
	rp, lso := l.readCheckpoint(names)
	ckptRP := rp // the leader-epoch file describes every batch below it
	if l.cfg.ScanAll {
		rp = min(rp, lso) // trust nothing: scan from the log start
	}
	l.ckpt.rp, l.ckpt.claimRP = rp, rp
	fileEpochs, epochsOK := l.readEpochCheckpoint(names)
	scanned := newEpochRebuilder()
	scanned.trusting = l.bugTrustEpochField()

	var bases []int64
	indexes := map[int64]int{} // base -> bit 1 .index, bit 2 .timeindex
	for _, n := range names {
		switch {
		case n == checkpointTmp || n == epochCheckpointTmp:
			if err := d.Remove(l.dir + "/" + n); err != nil && !errors.Is(err, host.ErrNotExist) {
				return fmt.Errorf("log: remove %s: %w", n, err)
			}
		default:
			if b, ok := parseSegmentName(n, logSuffix); ok {
				bases = append(bases, b)
			} else if b, ok := parseSegmentName(n, indexSuffix); ok {
				indexes[b] |= 1
			} else if b, ok := parseSegmentName(n, timeIndexSuffix); ok {
				indexes[b] |= 2
			}
		}
	}
	slices.Sort(bases)
	// Orphan indexes (their segment's removal half done) go.
	for _, b := range slices.Sorted(maps.Keys(indexes)) {
		if _, found := slices.BinarySearch(bases, b); found {
			continue
		}
		if err := l.removeSegmentFiles(&segment{base: b}); err != nil {
			return fmt.Errorf("log: remove orphan index: %w", err)
		}
	}
	// Whole segments below the checkpointed log start offset: an
	// interrupted retention.
	for len(bases) > 1 && bases[1] <= lso {
		if err := l.removeSegmentFiles(&segment{base: bases[0]}); err != nil {
			return fmt.Errorf("log: remove retained segment: %w", err)
		}
		bases = bases[1:]
	}
	if len(bases) == 0 {
		if rp > lso {
			return fmt.Errorf("%w: %s has no segment but recovery point %d", ErrCorruption, l.dir, rp)
		}
		s, err := l.openSegment(lso, true)
		l.segs = append(l.segs, s)
		if err != nil {
			return fmt.Errorf("log: create first segment: %w", err)
		}
		l.logStartOffset = lso
		l.recoveryPoint = lso
		return l.recoverEpochs(fileEpochs, epochsOK, lso, scanned)
	}

	// Segments before the last one starting below the recovery point are
	// trusted; scanning starts there.
	first := 0
	for i, b := range bases {
		if b < rp {
			first = i
		}
	}
	for i := 0; i < first; i++ {
		s, err := l.openSegment(bases[i], false)
		l.segs = append(l.segs, s)
		if err != nil {
			return fmt.Errorf("log: open segment %d: %w", bases[i], err)
		}
		if err := l.loadTrusted(s, bases[i+1], indexes[bases[i]] == 3); err != nil {
			return err
		}
	}
	if epochsOK {
		scanned.trustFile(fileEpochs, ckptRP, bases[first])
	}
	for i := first; i < len(bases); i++ {
		s, err := l.openSegment(bases[i], false)
		l.segs = append(l.segs, s)
		if err != nil {
			return fmt.Errorf("log: open segment %d: %w", bases[i], err)
		}
		expected := s.base
		if i > first {
			expected = l.segs[i-1].next
		}
		var res scanResult
		size, err := s.log.Size()
		if err != nil {
			return fmt.Errorf("log: size of segment %d: %w", s.base, err)
		}
		if s.base != expected {
			s.resetIndexes()
			s.next = expected // the log ends where the previous segment did
			res = scanResult{bad: fmt.Errorf("segment base %d does not continue the log at %d", s.base, expected)}
		} else {
			res, l.scratch = s.scan(size, l.cfg.IndexIntervalBytes, l.scratch, scanned)
		}
		if res.read != nil {
			return fmt.Errorf("log: read segment %d: %w", s.base, res.read)
		}
		if res.bad != nil || res.end < size {
			if s.next < rp {
				return fmt.Errorf("%w: %s segment %d position %d (offset %d, below recovery point %d): %v",
					ErrCorruption, l.dir, s.base, res.end, s.next, rp, res.bad)
			}
			l.h.Logger().Warn("log recovery truncates a torn or corrupt tail",
				"dir", l.dir, "segment", s.base, "position", res.end, "offset", s.next, "reason", fmt.Sprint(res.bad))
			l.recoveryCut = s.next
			for _, b := range bases[i+1:] {
				if err := l.removeSegmentFiles(&segment{base: b}); err != nil {
					return fmt.Errorf("log: remove segment %d: %w", b, err)
				}
			}
			if s.base != expected {
				// A segment that does not continue the log goes entirely.
				l.segs = l.segs[:len(l.segs)-1]
				if err := l.removeSegmentFiles(s); err != nil {
					return fmt.Errorf("log: remove segment %d: %w", s.base, err)
				}
				break
			}
			if !l.bugKeepsCorruptTail(s, size) {
				if err := s.log.Truncate(res.end); err != nil {
					return fmt.Errorf("log: truncate segment %d: %w", s.base, err)
				}
			}
			if err := l.rewriteIndexes(s); err != nil {
				return fmt.Errorf("log: rewrite indexes of %d: %w", s.base, err)
			}
			break
		}
		if err := l.rewriteIndexes(s); err != nil {
			return fmt.Errorf("log: rewrite indexes of %d: %w", s.base, err)
		}
	}
	// Scanned segments other than the active one become inactive again:
	// give them their final time entry; the first round syncs them all.
	for i := first; i < len(l.segs); i++ {
		s := l.segs[i]
		if i < len(l.segs)-1 {
			s.finalTimeEntry()
			if err := l.writeIndexes(s); err != nil {
				return fmt.Errorf("log: write indexes of %d: %w", s.base, err)
			}
		}
		s.dirty = true
		if i < len(l.segs)-1 {
			l.rolled = append(l.rolled, s)
		}
	}
	leo := l.active().next
	if leo < rp {
		return fmt.Errorf("%w: %s ends at offset %d, below recovery point %d", ErrCorruption, l.dir, leo, rp)
	}
	l.logStartOffset = min(max(lso, l.segs[0].base), leo)
	l.recoveryPoint = max(min(rp, leo), l.segs[0].base)
	return l.recoverEpochs(fileEpochs, epochsOK, bases[first], scanned)
}

// loadTrusted loads a trusted segment's indexes, rebuilding them by a scan
// when they are missing or inconsistent. nextBase is the next segment's base.
func (l *Log) loadTrusted(s *segment, nextBase int64, haveBoth bool) error {
	size, err := s.log.Size()
	if err != nil {
		return fmt.Errorf("log: size of segment %d: %w", s.base, err)
	}
	maxRel := nextBase - s.base - 1
	if maxRel < 0 || maxRel > math.MaxUint32 || size > MaxSegmentBytes {
		return fmt.Errorf("%w: %s segment %d of %d bytes before segment %d", ErrCorruption, l.dir, s.base, size, nextBase)
	}
	var bad error
	if !haveBoth {
		bad = errors.New("missing index file")
	} else {
		ib, err := readAll(s.index)
		if err != nil {
			return fmt.Errorf("log: read index of %d: %w", s.base, err)
		}
		tb, err := readAll(s.timeIndex)
		if err != nil {
			return fmt.Errorf("log: read time index of %d: %w", s.base, err)
		}
		if s.idx, bad = decodeIndex(ib, maxRel, size); bad == nil {
			s.tidx, bad = decodeTimeIndex(tb, maxRel)
		}
		if bad == nil && len(s.tidx) == 0 && size > 0 {
			bad = errors.New("empty time index for a non-empty inactive segment")
		}
	}
	if bad == nil {
		s.next, s.size = nextBase, size
		s.idxWritten, s.tidxWritten = len(s.idx), len(s.tidx)
		if n := len(s.idx); n > 0 {
			s.lastIndexedPos = int64(s.idx[n-1].pos)
		}
		if n := len(s.tidx); n > 0 {
			s.maxTs, s.lastBatchRel = s.tidx[n-1].ts, s.tidx[n-1].rel
		}
		return nil
	}
	l.h.Logger().Warn("log recovery rebuilds an index", "dir", l.dir, "segment", s.base, "reason", bad.Error())
	var res scanResult
	res, l.scratch = s.scan(size, l.cfg.IndexIntervalBytes, l.scratch, nil)
	if res.read != nil {
		return fmt.Errorf("log: read segment %d: %w", s.base, res.read)
	}
	if res.bad != nil || res.end != size || s.next != nextBase {
		return fmt.Errorf("%w: %s segment %d (below the recovery point) position %d offset %d, next segment %d: %v",
			ErrCorruption, l.dir, s.base, res.end, s.next, nextBase, res.bad)
	}
	s.finalTimeEntry()
	if err := l.rewriteIndexes(s); err != nil {
		return fmt.Errorf("log: rewrite indexes of %d: %w", s.base, err)
	}
	l.rolled = append(l.rolled, s)
	return nil
}

// RecoveryCut reports the offset at which Open's recovery cut a torn or
// corrupt tail, and whether it cut one. Recovery cannot tell a torn write
// that was never acknowledged from synced records that rotted: in a
// replicated partition the bytes it dropped may have held committed
// records, so the replica must not lead with this log before asking the
// others (broker/replica_recovery.go).
func (l *Log) RecoveryCut() (offset int64, ok bool) {
	return l.recoveryCut, l.recoveryCut >= 0
}
