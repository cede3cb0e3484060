package log

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/loglab/loglab/wire/batch"
)

// Read returns whole batches starting with the batch that contains offset:
// as many as fit in maxBytes, but at least that first batch even if it is
// larger (KIP-74), and never past the end of its segment (read again from
// the next offset). Every batch is CRC-verified and its leader epoch,
// which the CRC does not cover, checked against the leader-epoch cache:
// damaged data is never returned, the error wraps ErrCorruption. offset == LogEndOffset returns
// no bytes; offset outside [LogStartOffset, LogEndOffset] returns
// ErrOffsetOutOfRange.
func (l *Log) Read(offset int64, maxBytes int) ([]byte, error) {
	return l.ReadInto(nil, offset, maxBytes)
}

// ReadInto is Read appending to dst (reuse a buffer to read without
// allocating). On error it returns dst unchanged.
func (l *Log) ReadInto(dst []byte, offset int64, maxBytes int) ([]byte, error) {
	if err := l.usable(); err != nil {
		return dst, err
	}
	if offset < l.logStartOffset || offset > l.LogEndOffset() {
		return dst, fmt.Errorf("%w: offset %d, log [%d, %d]", ErrOffsetOutOfRange, offset, l.logStartOffset, l.LogEndOffset())
	}
	if offset == l.LogEndOffset() {
		return dst, nil
	}
	s := l.segs[l.segmentFor(offset)]
	pos, h, err := l.findBatch(s, offset)
	if err != nil {
		return dst, err
	}
	want := min(int64(max(maxBytes, 0)), s.size-pos)
	want = max(want, int64(h.Size()))
	start := len(dst)
	dst = slices.Grow(dst, int(want))[:start+int(want)]
	buf := dst[start:]
	if n, err := s.log.ReadAt(buf, pos); err != nil && !(errors.Is(err, io.EOF) && n == len(buf)) {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: segment %d ends at %d, expected %d bytes", ErrCorruption, s.base, pos+int64(n), s.size)
		}
		return dst[:start], fmt.Errorf("log: read segment %d at %d: %w", s.base, pos, err)
	}
	it := batch.Iterate(buf)
	next := h.BaseOffset
	k := l.epochIndex(next)
	for it.Next() {
		bh := it.Header()
		if bh.BaseOffset != next {
			return dst[:start], fmt.Errorf("%w: segment %d position %d: base offset %d, want %d",
				ErrCorruption, s.base, pos+int64(it.Offset()), bh.BaseOffset, next)
		}
		if err := l.checkBatchEpoch(bh, &k); err != nil {
			return dst[:start], fmt.Errorf("%w: segment %d position %d", err, s.base, pos+int64(it.Offset()))
		}
		next = bh.NextOffset()
	}
	if it.Err() != nil || it.Offset() == 0 {
		return dst[:start], fmt.Errorf("%w: segment %d position %d: %v", ErrCorruption, s.base, pos+int64(it.Offset()), it.Err())
	}
	return dst[:start+it.Offset()], nil
}

// findBatch returns the position and header of the batch in s that holds
// offset (offset must be in [s.base, s.next)), starting from the index and
// walking headers.
func (l *Log) findBatch(s *segment, offset int64) (int64, batch.Header, error) {
	pos, expected := l.bugIndexOffByOne(s, offset)
	for {
		h, err := l.readHeader(s, pos)
		if err != nil {
			return 0, h, err
		}
		if h.BaseOffset != expected {
			return 0, h, fmt.Errorf("%w: segment %d position %d: base offset %d, want %d", ErrCorruption, s.base, pos, h.BaseOffset, expected)
		}
		if h.NextOffset() > offset {
			return pos, h, nil
		}
		pos += int64(h.Size())
		expected = h.NextOffset()
	}
}

// readHeader reads the batch header at pos (no CRC check: the caller reads
// and verifies the whole batch before using its contents).
func (l *Log) readHeader(s *segment, pos int64) (batch.Header, error) {
	if pos+batch.HeaderBytes > s.size {
		return batch.Header{}, fmt.Errorf("%w: segment %d: header at %d past the end %d", ErrCorruption, s.base, pos, s.size)
	}
	if n, err := s.log.ReadAt(l.hdr[:], pos); err != nil && !(errors.Is(err, io.EOF) && n == len(l.hdr)) {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: segment %d shorter than %d", ErrCorruption, s.base, s.size)
		}
		return batch.Header{}, fmt.Errorf("log: read segment %d at %d: %w", s.base, pos, err)
	}
	h, err := batch.ParseHeader(l.hdr[:])
	if err != nil || h.Magic != batch.Magic || pos+int64(h.Size()) > s.size || h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: segment %d: bad batch header at %d: %v", ErrCorruption, s.base, pos, err)
	}
	return h, nil
}

// OffsetForTimestamp returns the first offset whose record timestamp is at
// or after ts (ms), using the time index (Kafka's ListOffsets by
// timestamp). For compressed or LogAppendTime batches it is the offset of
// the first batch whose maxTimestamp is at or after ts. ok is false when no
// record is that recent.
func (l *Log) OffsetForTimestamp(ts int64) (offset int64, ok bool, err error) {
	if err := l.usable(); err != nil {
		return 0, false, err
	}
	for _, s := range l.segs {
		if s.maxTs == noTimestamp || s.maxTs < ts || s.size == 0 {
			continue
		}
		// The last time entry below ts: every batch up to it is older.
		start := s.base
		i, _ := slices.BinarySearchFunc(s.tidx, ts, func(e timeEntry, t int64) int {
			if e.ts < t {
				return -1
			}
			return 1
		})
		if i > 0 {
			start = s.base + int64(s.tidx[i-1].rel)
		}
		pos, h, err := l.findBatch(s, start)
		if err != nil {
			return 0, false, err
		}
		for {
			if h.MaxTimestamp >= ts {
				off, err := l.offsetInBatch(s, pos, h, ts)
				return max(off, l.logStartOffset), err == nil, err
			}
			pos += int64(h.Size())
			if pos >= s.size {
				break
			}
			if h, err = l.readHeader(s, pos); err != nil {
				return 0, false, err
			}
		}
	}
	return 0, false, nil
}

// offsetInBatch finds the first record at or after ts in the batch at pos.
func (l *Log) offsetInBatch(s *segment, pos int64, h batch.Header, ts int64) (int64, error) {
	if h.Compression() != 0 || h.LogAppendTime() {
		return h.BaseOffset, nil
	}
	b := make([]byte, h.Size())
	if n, err := s.log.ReadAt(b, pos); err != nil && !(errors.Is(err, io.EOF) && n == len(b)) {
		return 0, fmt.Errorf("log: read segment %d at %d: %w", s.base, pos, err)
	}
	rs, err := batch.Records(b)
	if err != nil {
		return 0, fmt.Errorf("%w: segment %d position %d: %w", ErrCorruption, s.base, pos, err)
	}
	for _, r := range rs {
		if h.BaseTimestamp+r.TimestampDelta >= ts {
			return h.BaseOffset + int64(r.OffsetDelta), nil
		}
	}
	return h.BaseOffset, nil
}
