package client

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Request header v1 (v2 adds an empty tagged-field section when the request
// is flexible) and response header v0 (v1 adds tagged fields when flexible,
// except for ApiVersions, whose response header is always v0 so that a
// broker can answer a version it does not understand). kmsg encodes bodies
// only; headers are ours.

const apiVersionsKey = 18

// appendRequest appends a request frame payload (no length prefix).
func appendRequest(dst []byte, req kmsg.Request, corr int32, clientID string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(req.Key()))
	dst = binary.BigEndian.AppendUint16(dst, uint16(req.GetVersion()))
	dst = binary.BigEndian.AppendUint32(dst, uint32(corr))
	// The client id stays a classic (non-compact) nullable string even in
	// header v2, so that brokers can parse it before negotiating versions.
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(clientID)))
	dst = append(dst, clientID...)
	if req.IsFlexible() {
		dst = append(dst, 0) // no tagged fields
	}
	return req.AppendTo(dst)
}

// parseResponseHeader splits a response frame into its correlation id and
// body, skipping the tagged fields of a flexible response header.
func parseResponseHeader(frame []byte, flexibleHeader bool) (corr int32, body []byte, err error) {
	if len(frame) < 4 {
		return 0, nil, fmt.Errorf("%w: response of %d bytes", ErrProtocol, len(frame))
	}
	corr = int32(binary.BigEndian.Uint32(frame))
	body = frame[4:]
	if flexibleHeader {
		body, err = skipTags(body)
	}
	return corr, body, err
}

// skipTags skips a KIP-482 tagged-field section: a uvarint count, then per
// field a uvarint tag, a uvarint size and that many bytes.
func skipTags(b []byte) ([]byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("%w: bad tag count", ErrProtocol)
	}
	b = b[k:]
	for i := uint64(0); i < n; i++ {
		if _, k = binary.Uvarint(b); k <= 0 {
			return nil, fmt.Errorf("%w: bad tag", ErrProtocol)
		}
		b = b[k:]
		size, k := binary.Uvarint(b)
		if k <= 0 || size > uint64(len(b)-k) {
			return nil, fmt.Errorf("%w: bad tag size", ErrProtocol)
		}
		b = b[k+int(size):]
	}
	return b, nil
}

// supported is the version range this client implements per API key. The
// maxima stop before versions that change semantics we do not implement
// (Produce v13 and Fetch v13 address topics by id).
var supported = map[int16][2]int16{
	0:  {3, 12}, // Produce: v3+ carries v2 record batches
	1:  {4, 12}, // Fetch: v4+ returns v2 record batches
	2:  {1, 8},  // ListOffsets
	3:  {1, 12}, // Metadata
	8:  {2, 8},  // OffsetCommit
	9:  {1, 8},  // OffsetFetch (v8+: batched groups)
	10: {0, 4},  // FindCoordinator (v4+: batched keys)
	11: {0, 7},  // JoinGroup (v4+: MEMBER_ID_REQUIRED, v5+: group.instance.id)
	12: {0, 4},  // Heartbeat
	13: {0, 4},  // LeaveGroup (v3+: members)
	14: {0, 5},  // SyncGroup
	15: {0, 5},  // DescribeGroups
	16: {0, 4},  // ListGroups
	18: {0, 3},  // ApiVersions
	22: {0, 4},  // InitProducerId
}
