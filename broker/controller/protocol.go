package controller

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/twmb/franz-go/pkg/kerr"
)

// The controller protocol: every frame (host.Network strips the Kafka-style
// 4-byte length prefix) starts with a kind byte.
//
//	raft     := 0x01 | raftpb.Message (protobuf)          voter → voter, one way
//	request  := 0x02 | correlation:uint32 | JSON(Request)  follower → voter
//	response := 0x03 | correlation:uint32 | JSON(Response) voter → follower
//
// A voter answers requests on the connection they came on, in any order
// (correlation ids match them). JSON keeps the frames deterministic and
// readable in traces; the volume is small (metadata, heartbeats).
const (
	kindRaft     = 1
	kindRequest  = 2
	kindResponse = 3
)

// ErrBadFrame classifies a frame that is not a valid controller frame.
var ErrBadFrame = errors.New("controller: bad frame")

// Operations of a Request.
const (
	OpRegister  = "register"
	OpHeartbeat = "heartbeat"
	OpFetch     = "fetch"
	OpWrite     = "write"
)

// Request is a broker's (or observer's) request to a voter.
type Request struct {
	Op string `json:"op"`
	// Register and heartbeat.
	BrokerID    int32  `json:"brokerId,omitempty"`
	BrokerEpoch int64  `json:"brokerEpoch,omitempty"`
	Addr        string `json:"addr,omitempty"`
	Rack        string `json:"rack,omitempty"`
	Incarnation uint64 `json:"incarnation,omitempty"`
	// MetadataOffset is the heartbeating broker's applied offset: a fenced
	// broker is unfenced only once it has caught up to its registration.
	MetadataOffset int64 `json:"metadataOffset,omitempty"`
	// Fetch: the first offset wanted and how long the voter may hold the
	// request when there is nothing new.
	FetchOffset int64 `json:"fetchOffset,omitempty"`
	MaxWaitMs   int64 `json:"maxWaitMs,omitempty"`
	// Write: an encoded metadata.Record.
	Record []byte `json:"record,omitempty"`
}

// FetchedRecord is one committed record of the metadata log.
type FetchedRecord struct {
	Offset int64  `json:"offset"`
	Data   []byte `json:"data"`
}

// Response answers a Request.
type Response struct {
	ErrorCode int16 `json:"errorCode,omitempty"`
	// LeaderAddr is the active controller's address when known (with
	// NOT_CONTROLLER).
	LeaderAddr  string `json:"leaderAddr,omitempty"`
	BrokerEpoch int64  `json:"brokerEpoch,omitempty"`
	Fenced      bool   `json:"fenced,omitempty"`
	// Fetch: either a snapshot (an encoded metadata.Image; the follower
	// replaces its image) or records, then HighOffset, the last offset the
	// response covers (entries without a record advance it too).
	Snapshot   []byte          `json:"snapshot,omitempty"`
	Records    []FetchedRecord `json:"records,omitempty"`
	HighOffset int64           `json:"highOffset,omitempty"`
	// Write: the record's verdict.
	Result *WireResult `json:"result,omitempty"`
}

// WireResult is metadata.Result on the wire.
type WireResult struct {
	ErrorCode   int16                    `json:"errorCode,omitempty"`
	BrokerEpoch int64                    `json:"brokerEpoch,omitempty"`
	TopicID     [16]byte                 `json:"topicId"`
	Partition   *metadata.Partition      `json:"partition,omitempty"`
	Elections   []WireElection           `json:"elections,omitempty"`
	ProducerIDs metadata.ProducerIDBlock `json:"producerIds,omitempty"`
}

// WireElection is metadata.ElectionResult on the wire.
type WireElection struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	ErrorCode int16  `json:"errorCode,omitempty"`
}

func errorCode(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

func toWire(r metadata.Result) *WireResult {
	w := &WireResult{ErrorCode: errorCode(r.Err), BrokerEpoch: r.BrokerEpoch, TopicID: r.TopicID, Partition: r.Partition, ProducerIDs: r.ProducerIDs}
	for _, e := range r.Elections {
		w.Elections = append(w.Elections, WireElection{Topic: e.Topic, Partition: e.Partition, ErrorCode: errorCode(e.Err)})
	}
	return w
}

// FromWire converts a WireResult back to a metadata.Result.
func FromWire(w *WireResult) metadata.Result {
	r := metadata.Result{Err: kerr.ErrorForCode(w.ErrorCode), BrokerEpoch: w.BrokerEpoch, TopicID: w.TopicID, Partition: w.Partition, ProducerIDs: w.ProducerIDs}
	for _, e := range w.Elections {
		r.Elections = append(r.Elections, metadata.ElectionResult{Topic: e.Topic, Partition: e.Partition, Err: kerr.ErrorForCode(e.ErrorCode)})
	}
	return r
}

func encodeCall(kind byte, corr uint32, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("controller: encode: " + err.Error())
	}
	out := make([]byte, 5, 5+len(b))
	out[0] = kind
	binary.BigEndian.PutUint32(out[1:5], corr)
	return append(out, b...)
}

// decodeCall splits a request or response frame.
//
// Invariants (fuzzed): never panics; errors wrap ErrBadFrame.
func decodeCall(frame []byte, v any) (uint32, error) {
	if len(frame) < 5 {
		return 0, fmt.Errorf("%w: %d bytes", ErrBadFrame, len(frame))
	}
	if err := json.Unmarshal(frame[5:], v); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrBadFrame, err)
	}
	return binary.BigEndian.Uint32(frame[1:5]), nil
}
