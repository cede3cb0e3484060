package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire/batch"
)

// Frozen file-format constants (see the package doc).
const (
	IndexEntryBytes     = 8
	TimeIndexEntryBytes = 12
	logSuffix           = ".log"
	indexSuffix         = ".index"
	timeIndexSuffix     = ".timeindex"
	nameDigits          = 20

	noTimestamp = math.MinInt64
)

type indexEntry struct{ rel, pos uint32 }

type timeEntry struct {
	ts  int64
	rel uint32
}

// segment is one .log file and its indexes, kept in memory as well (they
// are tiny: one entry per IndexIntervalBytes) so lookups never touch disk.
type segment struct {
	base int64
	next int64 // offset after the last batch; base when empty
	size int64 // bytes of whole batches

	log, index, timeIndex host.File
	idx                   []indexEntry
	tidx                  []timeEntry
	idxWritten            int // entries of idx already in the .index file
	tidxWritten           int

	maxTs          int64 // largest batch maxTimestamp, noTimestamp if none
	lastBatchRel   uint32
	lastIndexedPos int64

	firstAppend    time.Duration // monotonic time of the first append since open
	hasFirstAppend bool
	dirty          bool // written since the last sync round started
}

func segmentName(dir string, base int64, suffix string) string {
	return fmt.Sprintf("%s/%0*d%s", dir, nameDigits, base, suffix)
}

// parseSegmentName returns the base offset of a "%020d<suffix>" file name.
func parseSegmentName(name, suffix string) (int64, bool) {
	if len(name) != nameDigits+len(suffix) || name[nameDigits:] != suffix {
		return 0, false
	}
	var v int64
	for _, c := range name[:nameDigits] {
		if c < '0' || c > '9' || v > (math.MaxInt64-9)/10 {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// noteBatch records a batch written at pos: end offset, size, max timestamp
// and, every IndexIntervalBytes, index entries.
func (s *segment) noteBatch(pos int64, h batch.Header, interval int64) {
	rel := uint32(h.BaseOffset - s.base)
	if h.MaxTimestamp > s.maxTs {
		s.maxTs = h.MaxTimestamp
	}
	if pos > 0 && pos-s.lastIndexedPos >= interval {
		s.idx = append(s.idx, indexEntry{rel: rel, pos: uint32(pos)})
		s.lastIndexedPos = pos
		if n := len(s.tidx); n == 0 || s.maxTs > s.tidx[n-1].ts {
			s.tidx = append(s.tidx, timeEntry{ts: s.maxTs, rel: rel})
		}
	}
	s.lastBatchRel = rel
	s.next = h.NextOffset()
	s.size = pos + int64(h.Size())
}

// finalTimeEntry makes the time index's last entry carry the segment's
// largest timestamp, as Kafka does when a segment becomes inactive.
func (s *segment) finalTimeEntry() {
	if s.maxTs == noTimestamp || s.next == s.base {
		return
	}
	if n := len(s.tidx); n == 0 || s.maxTs > s.tidx[n-1].ts {
		s.tidx = append(s.tidx, timeEntry{ts: s.maxTs, rel: s.lastBatchRel})
	}
}

// resetIndexes forgets everything derived from the segment's batches.
func (s *segment) resetIndexes() {
	s.next, s.size = s.base, 0
	s.idx, s.tidx = s.idx[:0], s.tidx[:0]
	s.idxWritten, s.tidxWritten = 0, 0
	s.maxTs, s.lastBatchRel, s.lastIndexedPos = noTimestamp, 0, 0
}

// floor returns the position and offset of the last indexed batch at or
// before offset (position 0 and the base offset if none).
func (s *segment) floor(offset int64) (pos int64, base int64) {
	rel := offset - s.base
	lo, hi := 0, len(s.idx) // first entry with rel > target
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if int64(s.idx[m].rel) <= rel {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0, s.base
	}
	e := s.idx[lo-1]
	return int64(e.pos), s.base + int64(e.rel)
}

func encodeIndex(dst []byte, es []indexEntry) []byte {
	for _, e := range es {
		dst = binary.BigEndian.AppendUint32(dst, e.rel)
		dst = binary.BigEndian.AppendUint32(dst, e.pos)
	}
	return dst
}

func encodeTimeIndex(dst []byte, es []timeEntry) []byte {
	for _, e := range es {
		dst = binary.BigEndian.AppendUint64(dst, uint64(e.ts))
		dst = binary.BigEndian.AppendUint32(dst, e.rel)
	}
	return dst
}

var errBadIndex = errors.New("log: inconsistent index")

// decodeIndex parses and checks an offset index of a segment holding
// maxRel+1 offsets in segSize bytes: whole entries, strictly increasing,
// inside the segment. It never panics (fuzzed).
func decodeIndex(b []byte, maxRel int64, segSize int64) ([]indexEntry, error) {
	if len(b)%IndexEntryBytes != 0 {
		return nil, fmt.Errorf("%w: %d bytes", errBadIndex, len(b))
	}
	es := make([]indexEntry, 0, len(b)/IndexEntryBytes)
	for i := 0; i < len(b); i += IndexEntryBytes {
		e := indexEntry{rel: binary.BigEndian.Uint32(b[i:]), pos: binary.BigEndian.Uint32(b[i+4:])}
		if e.pos == 0 || int64(e.pos) >= segSize || int64(e.rel) > maxRel {
			return nil, fmt.Errorf("%w: entry %d %+v outside the segment", errBadIndex, i/IndexEntryBytes, e)
		}
		if n := len(es); n > 0 && (e.rel <= es[n-1].rel || e.pos <= es[n-1].pos) {
			return nil, fmt.Errorf("%w: entry %d not increasing", errBadIndex, i/IndexEntryBytes)
		}
		es = append(es, e)
	}
	return es, nil
}

// decodeTimeIndex parses and checks a time index: whole entries, timestamps
// strictly increasing, relative offsets non-decreasing and inside the segment.
func decodeTimeIndex(b []byte, maxRel int64) ([]timeEntry, error) {
	if len(b)%TimeIndexEntryBytes != 0 {
		return nil, fmt.Errorf("%w: %d bytes", errBadIndex, len(b))
	}
	es := make([]timeEntry, 0, len(b)/TimeIndexEntryBytes)
	for i := 0; i < len(b); i += TimeIndexEntryBytes {
		e := timeEntry{ts: int64(binary.BigEndian.Uint64(b[i:])), rel: binary.BigEndian.Uint32(b[i+8:])}
		if int64(e.rel) > maxRel || e.ts == noTimestamp {
			return nil, fmt.Errorf("%w: time entry %d outside the segment", errBadIndex, i/TimeIndexEntryBytes)
		}
		if n := len(es); n > 0 && (e.ts <= es[n-1].ts || e.rel < es[n-1].rel) {
			return nil, fmt.Errorf("%w: time entry %d not increasing", errBadIndex, i/TimeIndexEntryBytes)
		}
		es = append(es, e)
	}
	return es, nil
}

// readAll reads a whole small file.
func readAll(f host.File) ([]byte, error) {
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF)) {
		return nil, err
	}
	return b, nil
}

// scanResult says where and why a segment scan stopped.
type scanResult struct {
	end  int64 // bytes of whole, valid, contiguous batches
	bad  error // why the scan stopped before the file's end (nil: clean)
	read error // an I/O error: the scan proves nothing
}

// scan reads the segment's batches from position 0, CRC-verified and with
// contiguous offsets starting at s.base, and rebuilds the in-memory indexes.
// Every batch kept is shown to epochs (if not nil), in order.
// buf is a reusable scratch buffer; the grown one is returned.
func (s *segment) scan(fileSize, interval int64, buf []byte, epochs *epochRebuilder) (scanResult, []byte) {
	const chunk = 1 << 20
	s.resetIndexes()
	pos := int64(0)
	for pos < fileSize {
		want := min(int64(chunk), fileSize-pos)
		if int64(cap(buf)) < want {
			buf = make([]byte, want)
		}
		b := buf[:want]
		if n, err := s.log.ReadAt(b, pos); err != nil && !(errors.Is(err, io.EOF) && int64(n) == want) {
			return scanResult{end: pos, read: err}, buf
		}
		it := batch.Iterate(b)
		for it.Next() {
			h := it.Header()
			if h.BaseOffset != s.next {
				return scanResult{end: pos + int64(it.Offset()), bad: fmt.Errorf("batch at %d has base offset %d, want %d", pos+int64(it.Offset()), h.BaseOffset, s.next)}, buf
			}
			if h.LastOffset()-s.base > math.MaxUint32 {
				return scanResult{end: pos + int64(it.Offset()), bad: fmt.Errorf("offset %d too far from segment base", h.LastOffset())}, buf
			}
			if epochs != nil {
				var next *batch.Header
				if rest := b[it.End():]; len(rest) >= batch.HeaderBytes {
					if nh, err := batch.ParseHeader(rest); err == nil {
						next = &nh
					}
				}
				if err := epochs.check(h, next); err != nil {
					return scanResult{end: pos + int64(it.Offset()), bad: err}, buf
				}
				epochs.observe(h)
			}
			s.noteBatch(pos+int64(it.Offset()), h, interval)
		}
		if it.Err() != nil {
			return scanResult{end: pos + int64(it.Offset()), bad: it.Err()}, buf
		}
		if it.Offset() > 0 {
			pos += int64(it.Offset())
			continue
		}
		// Not even one whole batch in the chunk: a batch larger than the
		// chunk, or a torn or garbage tail.
		h, err := batch.ParseHeader(b)
		if err != nil {
			return scanResult{end: pos, bad: err}, buf
		}
		if int64(h.Size()) > fileSize-pos {
			return scanResult{end: pos, bad: fmt.Errorf("%w: batch of %d bytes, %d left in file", batch.ErrTruncated, h.Size(), fileSize-pos)}, buf
		}
		buf = make([]byte, h.Size())
		b = buf
		if n, err := s.log.ReadAt(b, pos); err != nil && !(errors.Is(err, io.EOF) && n == len(b)) {
			return scanResult{end: pos, read: err}, buf
		}
		h, err = batch.Validate(b)
		if err != nil {
			return scanResult{end: pos, bad: err}, buf
		}
		if h.BaseOffset != s.next || h.LastOffset()-s.base > math.MaxUint32 {
			return scanResult{end: pos, bad: fmt.Errorf("batch at %d has base offset %d, want %d", pos, h.BaseOffset, s.next)}, buf
		}
		if epochs != nil {
			if err := epochs.check(h, nil); err != nil {
				return scanResult{end: pos, bad: err}, buf
			}
			epochs.observe(h)
		}
		s.noteBatch(pos, h, interval)
		pos += int64(h.Size())
	}
	return scanResult{end: pos}, buf
}
