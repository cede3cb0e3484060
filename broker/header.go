package broker

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrMalformedRequest classifies a request frame that cannot be parsed: a
// truncated header, bad tagged fields or a body kmsg rejects. Kafka closes
// the connection on such input, and so does the broker.
var ErrMalformedRequest = errors.New("broker: malformed request")

// requestHeader is Kafka's request header. v1 (every non-flexible request
// the broker serves) is api key, api version, correlation id and a
// nullable client id; v2 (flexible versions, KIP-482) adds tagged fields.
// The client id stays a classic int16-length string even in v2.
type requestHeader struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      *string
}

// peekHeader reads the fixed prefix every header version shares: key,
// version and correlation id. It is all the broker needs to answer a
// request it cannot otherwise parse (a too-new ApiVersions, KIP-511).
func peekHeader(frame []byte) (key, version int16, correlationID int32, err error) {
	if len(frame) < 8 {
		return 0, 0, 0, fmt.Errorf("%w: header needs 8 bytes, frame has %d", ErrMalformedRequest, len(frame))
	}
	key = int16(binary.BigEndian.Uint16(frame))
	version = int16(binary.BigEndian.Uint16(frame[2:]))
	correlationID = int32(binary.BigEndian.Uint32(frame[4:]))
	return key, version, correlationID, nil
}

// parseHeader parses a v1 header, plus the tagged fields of v2 when
// flexible, and returns the body that follows.
//
// Invariants (fuzzed with the whole request path): never panics, body
// aliases frame and lies within it.
func parseHeader(frame []byte, flexible bool) (requestHeader, []byte, error) {
	var h requestHeader
	var err error
	h.Key, h.Version, h.CorrelationID, err = peekHeader(frame)
	if err != nil {
		return h, nil, err
	}
	rest := frame[8:]
	if len(rest) < 2 {
		return h, nil, fmt.Errorf("%w: no client id length", ErrMalformedRequest)
	}
	n := int(int16(binary.BigEndian.Uint16(rest)))
	rest = rest[2:]
	switch {
	case n == -1: // null client id
	case n < 0 || n > len(rest):
		return h, nil, fmt.Errorf("%w: client id length %d with %d bytes left", ErrMalformedRequest, n, len(rest))
	default:
		s := string(rest[:n])
		h.ClientID = &s
		rest = rest[n:]
	}
	if flexible {
		rest, err = skipTaggedFields(rest)
		if err != nil {
			return h, nil, err
		}
	}
	return h, rest, nil
}

// skipTaggedFields skips a KIP-482 tagged field section: a uvarint count,
// then per field a uvarint tag, a uvarint size and size bytes. The broker
// knows no header tags, so all are skipped.
func skipTaggedFields(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, fmt.Errorf("%w: bad tagged field count", ErrMalformedRequest)
	}
	b = b[n:]
	if count > uint64(len(b)) { // every field takes at least one byte
		return nil, fmt.Errorf("%w: %d tagged fields in %d bytes", ErrMalformedRequest, count, len(b))
	}
	for i := uint64(0); i < count; i++ {
		_, n = binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("%w: bad tag", ErrMalformedRequest)
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: bad tagged field size", ErrMalformedRequest)
		}
		b = b[n+int(size):]
	}
	return b, nil
}

// appendResponseHeader starts a response frame: header v0 is the
// correlation id; header v1 (flexible responses) adds an empty tagged
// field section. ApiVersions responses always use v0, so that a client
// that does not yet know the broker's versions can read them.
func appendResponseHeader(dst []byte, key int16, correlationID int32, flexible bool) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if flexible && key != keyApiVersions {
		dst = append(dst, 0)
	}
	return dst
}

// appendRequest frames req as a client would: request header v1 (v2, with
// an empty tag section, when the version is flexible), then the body. The
// broker sends requests of its own to other brokers (replica fetches,
// leadership-recovery probes).
func appendRequest(dst []byte, req kmsg.Request, corr int32, clientID string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(req.Key()))
	dst = binary.BigEndian.AppendUint16(dst, uint16(req.GetVersion()))
	dst = binary.BigEndian.AppendUint32(dst, uint32(corr))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(clientID)))
	dst = append(dst, clientID...)
	if req.IsFlexible() {
		dst = append(dst, 0)
	}
	return req.AppendTo(dst)
}
