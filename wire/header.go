package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrMalformed classifies bytes that are not a well-formed header or body:
// truncated, bad tagged fields, a correlation id nobody asked for, or a
// body kmsg rejects. Kafka closes the connection on such input.
var ErrMalformed = errors.New("wire: malformed frame")

// ApiVersionsKey is the API whose response header never carries tags.
const ApiVersionsKey int16 = 18

// RequestHeader is Kafka's request header, v1 or v2.
type RequestHeader struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      *string // nil when the client sent a null id
}

// PeekRequestHeader reads the 8 bytes every request header version
// shares: api key, api version and correlation id.
func PeekRequestHeader(frame []byte) (key, version int16, correlationID int32, err error) {
	if len(frame) < 8 {
		return 0, 0, 0, fmt.Errorf("%w: request header needs 8 bytes, frame has %d", ErrMalformed, len(frame))
	}
	key = int16(binary.BigEndian.Uint16(frame))
	version = int16(binary.BigEndian.Uint16(frame[2:]))
	correlationID = int32(binary.BigEndian.Uint32(frame[4:]))
	return key, version, correlationID, nil
}

// ParseRequestHeader parses a v1 header, plus the tagged fields of v2 when
// flexible, and returns the body that follows (aliasing frame).
func ParseRequestHeader(frame []byte, flexible bool) (RequestHeader, []byte, error) {
	var h RequestHeader
	var err error
	h.Key, h.Version, h.CorrelationID, err = PeekRequestHeader(frame)
	if err != nil {
		return h, nil, err
	}
	rest := frame[8:]
	if len(rest) < 2 {
		return h, nil, fmt.Errorf("%w: no client id length", ErrMalformed)
	}
	n := int(int16(binary.BigEndian.Uint16(rest)))
	rest = rest[2:]
	switch {
	case n == -1: // null client id
	case n < 0 || n > len(rest):
		return h, nil, fmt.Errorf("%w: client id length %d with %d bytes left", ErrMalformed, n, len(rest))
	default:
		s := string(rest[:n])
		h.ClientID = &s
		rest = rest[n:]
	}
	if flexible {
		if rest, err = SkipTags(rest); err != nil {
			return h, nil, err
		}
	}
	return h, rest, nil
}

// AppendRequest appends a request frame's payload: header v1 (v2, with an
// empty tag section, when req's version is flexible), then req's body.
func AppendRequest(dst []byte, req kmsg.Request, correlationID int32, clientID string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(req.Key()))
	dst = binary.BigEndian.AppendUint16(dst, uint16(req.GetVersion()))
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(clientID)))
	dst = append(dst, clientID...)
	if req.IsFlexible() {
		dst = append(dst, 0) // no tagged fields
	}
	return req.AppendTo(dst)
}

// ResponseHeaderFlexible reports whether the response to an API key at a
// version whose request is flexible carries header v1 (tagged fields):
// every flexible response does except ApiVersions.
func ResponseHeaderFlexible(key int16, flexible bool) bool {
	return flexible && key != ApiVersionsKey
}

// AppendResponseHeader starts a response frame's payload for a request of
// api key at a version that is flexible or not: the correlation id, then
// an empty tag section when the header is v1.
func AppendResponseHeader(dst []byte, key int16, correlationID int32, flexible bool) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if ResponseHeaderFlexible(key, flexible) {
		dst = append(dst, 0)
	}
	return dst
}

// ParseResponseHeader splits a response frame into its correlation id and
// body (aliasing frame), skipping the tagged fields of header v1.
func ParseResponseHeader(frame []byte, flexibleHeader bool) (correlationID int32, body []byte, err error) {
	if len(frame) < 4 {
		return 0, nil, fmt.Errorf("%w: response of %d bytes", ErrMalformed, len(frame))
	}
	correlationID = int32(binary.BigEndian.Uint32(frame))
	body = frame[4:]
	if flexibleHeader {
		body, err = SkipTags(body)
	}
	return correlationID, body, err
}

// ReadResponse decodes the response to req, sent with correlation id
// want: it checks the id, skips the header and decodes the body at req's
// version.
func ReadResponse(frame []byte, req kmsg.Request, want int32) (kmsg.Response, error) {
	corr, body, err := ParseResponseHeader(frame, ResponseHeaderFlexible(req.Key(), req.IsFlexible()))
	if err != nil {
		return nil, err
	}
	if corr != want {
		return nil, fmt.Errorf("%w: correlation id %d, want %d", ErrMalformed, corr, want)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("%w: %s v%d response: %w", ErrMalformed, kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp, nil
}

// SkipTags skips a tagged-field section and returns what follows it.
func SkipTags(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, fmt.Errorf("%w: bad tagged field count", ErrMalformed)
	}
	b = b[n:]
	if count > uint64(len(b)) { // every field takes at least one byte
		return nil, fmt.Errorf("%w: %d tagged fields in %d bytes", ErrMalformed, count, len(b))
	}
	for i := uint64(0); i < count; i++ {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, fmt.Errorf("%w: bad tag", ErrMalformed)
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: bad tagged field size", ErrMalformed)
		}
		b = b[n+int(size):]
	}
	return b, nil
}
