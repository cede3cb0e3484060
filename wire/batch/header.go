package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Frozen layout constants (see the package doc).
const (
	// HeaderBytes is the size of the v2 batch header, records excluded.
	HeaderBytes = 61
	// LengthFieldEnd is where batchLength ends: size = LengthFieldEnd + batchLength.
	LengthFieldEnd = 12
	// Magic is the only record format this package handles.
	Magic = 2

	offBaseOffset           = 0
	offBatchLength          = 8
	offPartitionLeaderEpoch = 12
	offMagic                = 16
	offCRC                  = 17
	offAttributes           = 21
	offLastOffsetDelta      = 23
	offBaseTimestamp        = 27
	offMaxTimestamp         = 35
	offProducerID           = 43
	offProducerEpoch        = 51
	offBaseSequence         = 53
	offRecordCount          = 57

	// minBatchLength is batchLength for a batch with no record bytes.
	minBatchLength = HeaderBytes - LengthFieldEnd
)

// Attribute bits.
const (
	AttrCompressionMask  int16 = 0x07
	AttrLogAppendTime    int16 = 0x08
	AttrTransactional    int16 = 0x10
	AttrControl          int16 = 0x20
	AttrHasDeleteHorizon int16 = 0x40
)

var (
	// ErrCorrupt: the bytes cannot be a valid v2 batch (bad length, magic,
	// CRC, counts or record encoding).
	ErrCorrupt = errors.New("batch: corrupt record batch")
	// ErrTruncated: the input ends inside the batch (a partial trailing
	// batch, as fetch responses and torn writes end).
	ErrTruncated = errors.New("batch: truncated record batch")
	// ErrUnsupportedCompression: the records are compressed; this package
	// only decodes uncompressed records (headers and CRCs work regardless).
	ErrUnsupportedCompression = errors.New("batch: unsupported compression")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is a parsed v2 batch header. Field names are Kafka's.
type Header struct {
	BaseOffset           int64
	BatchLength          int32
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	RecordCount          int32
}

// Size is the whole batch's size in bytes.
func (h Header) Size() int { return LengthFieldEnd + int(h.BatchLength) }

// LastOffset is the offset of the batch's last record.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset after the batch.
func (h Header) NextOffset() int64 { return h.LastOffset() + 1 }

// Compression is the codec id (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).
func (h Header) Compression() int { return int(h.Attributes & AttrCompressionMask) }

// LogAppendTime reports whether timestamps are the broker's append time.
func (h Header) LogAppendTime() bool { return h.Attributes&AttrLogAppendTime != 0 }

// Transactional reports the transactional attribute bit.
func (h Header) Transactional() bool { return h.Attributes&AttrTransactional != 0 }

// Control reports the control-batch attribute bit.
func (h Header) Control() bool { return h.Attributes&AttrControl != 0 }

// ParseHeader decodes the 61-byte header at the start of b. It checks only
// what it must to report a size: the header is complete and batchLength is
// at least the header's own length. It does not check magic, CRC or whether
// b holds the whole batch (Validate does).
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderBytes {
		// A batchLength that cannot even cover a header is garbage, not a
		// short read, once we can see it.
		if len(b) >= LengthFieldEnd {
			if l := int32(binary.BigEndian.Uint32(b[offBatchLength:])); l < minBatchLength {
				return Header{}, fmt.Errorf("%w: batchLength %d", ErrCorrupt, l)
			}
		}
		return Header{}, fmt.Errorf("%w: %d of %d header bytes", ErrTruncated, len(b), HeaderBytes)
	}
	h := Header{
		BaseOffset:           int64(binary.BigEndian.Uint64(b[offBaseOffset:])),
		BatchLength:          int32(binary.BigEndian.Uint32(b[offBatchLength:])),
		PartitionLeaderEpoch: int32(binary.BigEndian.Uint32(b[offPartitionLeaderEpoch:])),
		Magic:                int8(b[offMagic]),
		CRC:                  binary.BigEndian.Uint32(b[offCRC:]),
		Attributes:           int16(binary.BigEndian.Uint16(b[offAttributes:])),
		LastOffsetDelta:      int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:        int64(binary.BigEndian.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:         int64(binary.BigEndian.Uint64(b[offMaxTimestamp:])),
		ProducerID:           int64(binary.BigEndian.Uint64(b[offProducerID:])),
		ProducerEpoch:        int16(binary.BigEndian.Uint16(b[offProducerEpoch:])),
		BaseSequence:         int32(binary.BigEndian.Uint32(b[offBaseSequence:])),
		RecordCount:          int32(binary.BigEndian.Uint32(b[offRecordCount:])),
	}
	if h.BatchLength < minBatchLength {
		return Header{}, fmt.Errorf("%w: batchLength %d", ErrCorrupt, h.BatchLength)
	}
	return h, nil
}

// Validate parses and checks the batch at the start of b: complete, magic 2,
// CRC-32C, and counts that make sense (lastOffsetDelta >= 0, 0 <=
// recordCount <= lastOffsetDelta+1, at most one record per record byte, and
// the offset range does not overflow). b may hold more bytes after the
// batch; use Header.Size to find them.
func Validate(b []byte) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if h.Magic != Magic {
		return h, fmt.Errorf("%w: magic %d", ErrCorrupt, h.Magic)
	}
	size := h.Size()
	if len(b) < size {
		return h, fmt.Errorf("%w: %d of %d bytes", ErrTruncated, len(b), size)
	}
	if got := crc32.Checksum(b[offAttributes:size], castagnoli); got != h.CRC {
		return h, fmt.Errorf("%w: crc %08x, computed %08x", ErrCorrupt, h.CRC, got)
	}
	if h.LastOffsetDelta < 0 || h.RecordCount < 0 || int64(h.RecordCount) > int64(h.LastOffsetDelta)+1 {
		return h, fmt.Errorf("%w: recordCount %d, lastOffsetDelta %d", ErrCorrupt, h.RecordCount, h.LastOffsetDelta)
	}
	if h.Compression() == 0 && int(h.RecordCount) > size-HeaderBytes {
		return h, fmt.Errorf("%w: %d records in %d bytes", ErrCorrupt, h.RecordCount, size-HeaderBytes)
	}
	if h.BaseOffset < 0 || h.BaseOffset > maxOffset-int64(h.LastOffsetDelta) {
		return h, fmt.Errorf("%w: baseOffset %d", ErrCorrupt, h.BaseOffset)
	}
	return h, nil
}

const maxOffset = int64(^uint64(0) >> 1)

// SetBaseOffset rewrites the batch's base offset. The CRC does not cover it.
// b must hold at least the header.
func SetBaseOffset(b []byte, off int64) {
	binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(off))
}

// SetPartitionLeaderEpoch rewrites the leader epoch. The CRC does not cover it.
func SetPartitionLeaderEpoch(b []byte, e int32) {
	binary.BigEndian.PutUint32(b[offPartitionLeaderEpoch:], uint32(e))
}

// SetLogAppendTime marks the batch's timestamps as the broker's append time
// ts (ms): it sets the timestamp-type bit and maxTimestamp and recomputes the
// CRC. b must be a whole, valid batch.
func SetLogAppendTime(b []byte, ts int64) {
	attrs := binary.BigEndian.Uint16(b[offAttributes:]) | uint16(AttrLogAppendTime)
	binary.BigEndian.PutUint16(b[offAttributes:], attrs)
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ts))
	fixCRC(b)
}

// fixCRC recomputes the CRC of the whole batch b (b[:Size]).
func fixCRC(b []byte) {
	size := LengthFieldEnd + int(int32(binary.BigEndian.Uint32(b[offBatchLength:])))
	binary.BigEndian.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:size], castagnoli))
}
