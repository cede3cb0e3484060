package batch

import (
	"encoding/binary"
	"errors"
)

// Iterator walks consecutive whole batches in a buffer, validating each
// (magic, CRC, counts). It stops cleanly at a partial trailing batch, the
// way fetch responses and torn log tails end, and stops with an error at
// the first complete batch that is invalid.
//
//	it := batch.Iterate(buf)
//	for it.Next() {
//		use(it.Header(), it.Batch())
//	}
//	if it.Err() != nil { ... }   // it.Offset() is where the bad batch starts
type Iterator struct {
	buf     []byte
	off     int // start of the next batch
	cur     []byte
	hdr     Header
	err     error
	partial bool
}

// Iterate returns an Iterator over buf. It does not allocate.
func Iterate(buf []byte) Iterator { return Iterator{buf: buf} }

// Next advances to the next whole valid batch and reports whether there is
// one. It returns false at the end of the buffer, at a partial trailing
// batch (Partial reports it, Err is nil) or at an invalid batch (Err).
func (it *Iterator) Next() bool {
	if it.err != nil || it.partial || it.off >= len(it.buf) {
		it.cur = nil
		return false
	}
	rest := it.buf[it.off:]
	// A partial trailing batch is the normal end of a read: detect it
	// without building an error.
	if partialBatch(rest) {
		it.cur = nil
		it.partial = true
		return false
	}
	h, err := Validate(rest)
	if err != nil {
		it.cur = nil
		if errors.Is(err, ErrTruncated) {
			it.partial = true
			return false
		}
		it.err = err
		return false
	}
	it.hdr = h
	it.cur = rest[:h.Size():h.Size()]
	it.off += h.Size()
	return true
}

// Header is the current batch's header.
func (it *Iterator) Header() Header { return it.hdr }

// Batch is the current batch's bytes (aliasing the buffer).
func (it *Iterator) Batch() []byte { return it.cur }

// Offset is where the current batch starts in the buffer; after the loop it
// is where the partial or invalid tail begins (the bytes of whole valid
// batches consumed).
func (it *Iterator) Offset() int {
	if it.cur != nil {
		return it.off - len(it.cur)
	}
	return it.off
}

// End is the byte position just after the current batch (or Offset after
// the loop).
func (it *Iterator) End() int { return it.off }

// Partial reports that the walk stopped at an incomplete trailing batch.
func (it *Iterator) Partial() bool { return it.partial }

// Err is the validation error of the batch the walk stopped at, if any.
func (it *Iterator) Err() error { return it.err }

// partialBatch reports, as Validate would with ErrTruncated, that b holds
// only the start of a plausible batch.
func partialBatch(b []byte) bool {
	if len(b) < LengthFieldEnd {
		return true
	}
	l := int32(binary.BigEndian.Uint32(b[offBatchLength:]))
	if l < minBatchLength || (len(b) > offMagic && b[offMagic] != Magic) {
		return false // corrupt: Validate says so
	}
	return len(b) < HeaderBytes || int64(len(b)) < LengthFieldEnd+int64(l)
}
