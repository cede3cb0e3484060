package host

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Kafka frames every request and response with a 4-byte big-endian length
// (of what follows) — the only framing on a Kafka connection.

// FrameHeaderBytes is the size of the length prefix.
const FrameHeaderBytes = 4

// ErrNeedMore reports that buf holds an incomplete frame.
var ErrNeedMore = errors.New("host: incomplete frame")

// AppendFrame appends payload to dst with its length prefix.
func AppendFrame(dst, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// DecodeFrame parses the first frame in buf. It returns the payload (aliasing
// buf) and the number of bytes consumed. If buf holds only part of a frame it
// returns ErrNeedMore and n == 0. A negative length or one above maxBytes
// returns an error wrapping ErrFrameTooLarge; the stream cannot continue.
//
// Invariants (fuzzed): never panics; n <= len(buf); on success
// AppendFrame(nil, payload) equals buf[:n].
func DecodeFrame(buf []byte, maxBytes int) (payload []byte, n int, err error) {
	if len(buf) < FrameHeaderBytes {
		return nil, 0, ErrNeedMore
	}
	size := int64(int32(binary.BigEndian.Uint32(buf)))
	if size < 0 || size > int64(maxBytes) {
		return nil, 0, fmt.Errorf("%w: length %d, limit %d", ErrFrameTooLarge, size, maxBytes)
	}
	end := FrameHeaderBytes + int(size)
	if len(buf) < end {
		return nil, 0, ErrNeedMore
	}
	return buf[FrameHeaderBytes:end:end], end, nil
}

// ReadFrame reads one frame from r into a new slice. It is the blocking form
// used by the real Host's reader goroutines; io.EOF means a clean end between
// frames, io.ErrUnexpectedEOF a truncated frame.
func ReadFrame(r io.Reader, maxBytes int) ([]byte, error) {
	var hdr [FrameHeaderBytes]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	size := int64(int32(binary.BigEndian.Uint32(hdr[:])))
	if size < 0 || size > int64(maxBytes) {
		return nil, fmt.Errorf("%w: length %d, limit %d", ErrFrameTooLarge, size, maxBytes)
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return payload, nil
}
