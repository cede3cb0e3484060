package batch

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record is one record of a batch. Key and Value are nil for Kafka's null.
// Records returns them aliasing the batch's bytes.
type Record struct {
	Key, Value     []byte
	Headers        []RecordHeader
	TimestampDelta int64 // ms after the batch's BaseTimestamp
	OffsetDelta    int32 // offset - the batch's BaseOffset
}

// RecordHeader is a record's key/value header.
type RecordHeader struct {
	Key   string
	Value []byte
}

// BuildOptions are the batch-level fields Build writes.
type BuildOptions struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	// BaseTimestamp is the first timestamp (ms); record timestamps are
	// BaseTimestamp + TimestampDelta.
	BaseTimestamp int64
	// Attributes: only the transactional and control bits are honoured;
	// Build never compresses and sets CreateTime.
	Attributes int16
	// Idempotent writes ProducerID, ProducerEpoch and BaseSequence; when
	// false all three are written as -1, as a plain producer does.
	Idempotent    bool
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32
}

// Build appends an uncompressed v2 batch of records to dst and returns it.
// Records are numbered 0..len-1 (Record.OffsetDelta is ignored), as a
// producer does; maxTimestamp is the largest record timestamp. With no
// records it writes an empty batch (recordCount 0, lastOffsetDelta 0).
func Build(dst []byte, records []Record, opts BuildOptions) []byte {
	start := len(dst)
	maxDelta := int64(0)
	for i := range records {
		if records[i].TimestampDelta > maxDelta {
			maxDelta = records[i].TimestampDelta
		}
	}
	lastDelta := int32(len(records) - 1)
	if lastDelta < 0 {
		lastDelta = 0
	}
	rb := kmsg.RecordBatch{
		FirstOffset:          opts.BaseOffset,
		PartitionLeaderEpoch: opts.PartitionLeaderEpoch,
		Magic:                Magic,
		Attributes:           opts.Attributes & (AttrTransactional | AttrControl),
		LastOffsetDelta:      lastDelta,
		FirstTimestamp:       opts.BaseTimestamp,
		MaxTimestamp:         opts.BaseTimestamp + maxDelta,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(len(records)),
	}
	if opts.Idempotent {
		rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence = opts.ProducerID, opts.ProducerEpoch, opts.BaseSequence
	}
	dst = rb.AppendTo(dst) // Length and CRC are patched below.
	var kr kmsg.Record
	for i := range records {
		r := &records[i]
		kr = kmsg.Record{
			TimestampDelta64: r.TimestampDelta,
			OffsetDelta:      int32(i),
			Key:              r.Key,
			Value:            r.Value,
		}
		if len(r.Headers) > 0 {
			kr.Headers = make([]kmsg.Header, len(r.Headers))
			for j, h := range r.Headers {
				kr.Headers[j] = kmsg.Header{Key: h.Key, Value: h.Value}
			}
		}
		kr.Length = int32(recordBodySize(&kr))
		dst = kr.AppendTo(dst)
	}
	b := dst[start:]
	binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-LengthFieldEnd))
	fixCRC(b)
	return dst
}

// recordBodySize is the encoded size of r after its length varint — what
// kmsg leaves the caller to fill in.
func recordBodySize(r *kmsg.Record) int {
	n := 1 + varlongSize(r.TimestampDelta64) + varlongSize(int64(r.OffsetDelta))
	n += bytesSize(r.Key) + bytesSize(r.Value)
	n += varlongSize(int64(len(r.Headers)))
	for i := range r.Headers {
		n += varlongSize(int64(len(r.Headers[i].Key))) + len(r.Headers[i].Key)
		n += bytesSize(r.Headers[i].Value)
	}
	return n
}

func bytesSize(b []byte) int {
	if b == nil {
		return 1 // varint(-1)
	}
	return varlongSize(int64(len(b))) + len(b)
}

func varlongSize(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63) // zigzag
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

// Records decodes the records of the uncompressed batch at the start of b
// (validated first). Keys, values and header values alias b. A compressed
// batch returns an error wrapping ErrUnsupportedCompression.
func Records(b []byte) ([]Record, error) {
	h, err := Validate(b)
	if err != nil {
		return nil, err
	}
	if c := h.Compression(); c != 0 {
		return nil, fmt.Errorf("%w: codec %d", ErrUnsupportedCompression, c)
	}
	d := decoder{b: b[HeaderBytes:h.Size()]}
	out := make([]Record, 0, h.RecordCount)
	prev := int32(-1)
	for i := int32(0); i < h.RecordCount; i++ {
		r, err := d.record()
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if r.OffsetDelta <= prev || r.OffsetDelta > h.LastOffsetDelta {
			return nil, fmt.Errorf("%w: record %d offsetDelta %d", ErrCorrupt, i, r.OffsetDelta)
		}
		prev = r.OffsetDelta
		out = append(out, r)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after %d records", ErrCorrupt, len(d.b), h.RecordCount)
	}
	return out, nil
}

// decoder reads Kafka varint-encoded record fields; every method checks
// bounds so that no input can make it panic.
type decoder struct{ b []byte }

func (d *decoder) varlong() (int64, error) {
	u, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint", ErrCorrupt)
	}
	d.b = d.b[n:]
	return int64(u>>1) ^ -int64(u&1), nil
}

func (d *decoder) varint() (int32, error) {
	v, err := d.varlong()
	if err != nil {
		return 0, err
	}
	if v != int64(int32(v)) {
		return 0, fmt.Errorf("%w: varint %d overflows int32", ErrCorrupt, v)
	}
	return int32(v), nil
}

// bytes reads a varint-length byte string; length -1 is null.
func (d *decoder) bytes() ([]byte, error) {
	l, err := d.varint()
	if err != nil {
		return nil, err
	}
	if l < 0 {
		if l != -1 {
			return nil, fmt.Errorf("%w: length %d", ErrCorrupt, l)
		}
		return nil, nil
	}
	if int(l) > len(d.b) {
		return nil, fmt.Errorf("%w: length %d, %d bytes left", ErrCorrupt, l, len(d.b))
	}
	v := d.b[:l:l]
	d.b = d.b[l:]
	return v, nil
}

func (d *decoder) record() (Record, error) {
	var r Record
	l, err := d.varint()
	if err != nil {
		return r, err
	}
	if l < 1 || int(l) > len(d.b) {
		return r, fmt.Errorf("%w: record length %d, %d bytes left", ErrCorrupt, l, len(d.b))
	}
	body := decoder{b: d.b[:l]}
	d.b = d.b[l:]
	body.b = body.b[1:] // record attributes: unused by Kafka
	if r.TimestampDelta, err = body.varlong(); err != nil {
		return r, err
	}
	if r.OffsetDelta, err = body.varint(); err != nil {
		return r, err
	}
	if r.Key, err = body.bytes(); err != nil {
		return r, err
	}
	if r.Value, err = body.bytes(); err != nil {
		return r, err
	}
	nh, err := body.varint()
	if err != nil {
		return r, err
	}
	// Every header takes at least two bytes, which bounds the allocation.
	if nh < 0 || int(nh) > len(body.b)/2 {
		return r, fmt.Errorf("%w: %d headers in %d bytes", ErrCorrupt, nh, len(body.b))
	}
	if nh > 0 {
		r.Headers = make([]RecordHeader, nh)
		for i := range r.Headers {
			k, err := body.bytes()
			if err != nil {
				return r, err
			}
			if k == nil {
				return r, fmt.Errorf("%w: null header key", ErrCorrupt)
			}
			r.Headers[i].Key = string(k)
			if r.Headers[i].Value, err = body.bytes(); err != nil {
				return r, err
			}
		}
	}
	if len(body.b) != 0 {
		return r, fmt.Errorf("%w: %d trailing bytes in record", ErrCorrupt, len(body.b))
	}
	return r, nil
}
