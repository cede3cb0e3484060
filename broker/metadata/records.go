package metadata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// RecordVersion is the first byte of every encoded record.
const RecordVersion = 1

// ErrCorruptRecord classifies bytes that are not a valid encoded record.
var ErrCorruptRecord = errors.New("metadata: corrupt record")

// RecordType names a command of the metadata log.
type RecordType uint8

const (
	TypeRegisterBroker RecordType = 1
	TypeFenceBroker    RecordType = 2
	TypeUnfenceBroker  RecordType = 3
	TypeCreateTopic    RecordType = 4
	TypeDeleteTopic    RecordType = 5
	TypeAlterPartition RecordType = 6
	TypeElectLeaders   RecordType = 7
	// TypeAllocateProducerIDs hands a broker the next block of producer
	// ids (Kafka's AllocateProducerIds, KIP-730).
	TypeAllocateProducerIDs RecordType = 8
)

func (t RecordType) String() string {
	switch t {
	case TypeRegisterBroker:
		return "RegisterBroker"
	case TypeFenceBroker:
		return "FenceBroker"
	case TypeUnfenceBroker:
		return "UnfenceBroker"
	case TypeCreateTopic:
		return "CreateTopic"
	case TypeDeleteTopic:
		return "DeleteTopic"
	case TypeAlterPartition:
		return "AlterPartition"
	case TypeElectLeaders:
		return "ElectLeaders"
	case TypeAllocateProducerIDs:
		return "AllocateProducerIDs"
	}
	return fmt.Sprintf("RecordType(%d)", uint8(t))
}

// Record is one command of the metadata log. Exactly the body matching Type
// is set. Proposer and Seq identify the proposal so that the controller that
// proposed it can answer its requester once it is applied; they do not
// affect the Image.
type Record struct {
	Type     RecordType `json:"type"`
	Proposer uint64     `json:"proposer,omitempty"`
	Seq      uint64     `json:"seq,omitempty"`

	RegisterBroker *RegisterBroker `json:"registerBroker,omitempty"`
	FenceBroker    *BrokerEpochRef `json:"fenceBroker,omitempty"`
	UnfenceBroker  *BrokerEpochRef `json:"unfenceBroker,omitempty"`
	CreateTopic    *CreateTopic    `json:"createTopic,omitempty"`
	DeleteTopic    *DeleteTopic    `json:"deleteTopic,omitempty"`
	AlterPartition *AlterPartition `json:"alterPartition,omitempty"`
	ElectLeaders   *ElectLeaders   `json:"electLeaders,omitempty"`
	// AllocateProducerIDs names the requesting broker registration.
	AllocateProducerIDs *BrokerEpochRef `json:"allocateProducerIds,omitempty"`
}

// RegisterBroker announces a broker process. A new Incarnation (a restart)
// gets a new broker epoch (the record's offset) and starts fenced; the same
// Incarnation again is an idempotent retry.
type RegisterBroker struct {
	BrokerID    int32  `json:"brokerId"`
	Addr        string `json:"addr"`
	Rack        string `json:"rack,omitempty"`
	Incarnation uint64 `json:"incarnation"`
}

// BrokerEpochRef names one registration of a broker (FenceBroker,
// UnfenceBroker): a stale epoch is rejected with STALE_BROKER_EPOCH.
type BrokerEpochRef struct {
	BrokerID    int32 `json:"brokerId"`
	BrokerEpoch int64 `json:"brokerEpoch"`
}

// Config is one topic config entry.
type Config struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// CreateTopic creates a topic. With Assignments nil the controller assigns
// NumPartitions × ReplicationFactor replicas over the unfenced brokers;
// otherwise Assignments[p] is partition p's replica list.
type CreateTopic struct {
	Name              string    `json:"name"`
	NumPartitions     int32     `json:"numPartitions"`
	ReplicationFactor int16     `json:"replicationFactor"`
	Configs           []Config  `json:"configs,omitempty"`
	Assignments       [][]int32 `json:"assignments,omitempty"`
}

// DeleteTopic deletes a topic and its partitions.
type DeleteTopic struct {
	Name string `json:"name"`
}

// AlterPartition is a partition leader's ISR change (Kafka's
// AlterPartition): accepted only from the current leader at its current
// broker epoch, leader epoch and partition epoch.
//
// StepDown (a loglab addition) is a leader giving up the partition because
// its own replica is unusable (a corrupt batch in its log) or holds less
// than another (broker/replica_recovery.go): ISR is then the current ISR
// without the leader, and StepDownTo is elected if given, else a usable
// member in replica order (StepDownTo not a usable member, or no member
// usable: INELIGIBLE_REPLICA, nothing changes).
//
// Offline (a loglab addition, like Kafka's report of offline log
// directories, KIP-112) is any replica, at its current broker epoch,
// reporting that its copy of the partition is offline (its log failed):
// it leaves the ISR unless it is the last member, and if it led, a usable
// remaining member is elected. Leader and partition epochs are not
// checked: a follower may not know them, and the report is idempotent.
type AlterPartition struct {
	Topic          string  `json:"topic"`
	Partition      int32   `json:"partition"`
	BrokerID       int32   `json:"brokerId"`
	BrokerEpoch    int64   `json:"brokerEpoch"`
	LeaderEpoch    int32   `json:"leaderEpoch"`
	PartitionEpoch int32   `json:"partitionEpoch"`
	ISR            []int32 `json:"isr"`
	StepDown       bool    `json:"stepDown,omitempty"`
	StepDownTo     *int32  `json:"stepDownTo,omitempty"`
	Offline        bool    `json:"offline,omitempty"`
}

// ElectionType is Kafka's ElectLeaders election type.
type ElectionType int8

const (
	ElectPreferred ElectionType = 0
	ElectUnclean   ElectionType = 1
)

// TopicPartitions names partitions of one topic.
type TopicPartitions struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

// ElectLeaders runs a preferred or unclean election on the named
// partitions (nil: every partition).
type ElectLeaders struct {
	Type       ElectionType      `json:"type"`
	Partitions []TopicPartitions `json:"partitions,omitempty"`
}

// Encode appends the record's encoding to dst.
func (r *Record) Encode(dst []byte) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		// Only unsupported types make Marshal fail; Record has none.
		panic("metadata: encode: " + err.Error())
	}
	dst = append(dst, RecordVersion)
	return append(dst, b...)
}

// DecodeRecord parses an encoded record.
//
// Invariants (fuzzed): never panics; a record it accepts re-encodes to bytes
// that decode to an equal record; errors wrap ErrCorruptRecord.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	if len(b) == 0 {
		return r, fmt.Errorf("%w: empty", ErrCorruptRecord)
	}
	if b[0] != RecordVersion {
		return r, fmt.Errorf("%w: version %d", ErrCorruptRecord, b[0])
	}
	dec := json.NewDecoder(bytes.NewReader(b[1:]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrCorruptRecord, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Record{}, fmt.Errorf("%w: trailing data", ErrCorruptRecord)
	}
	if err := r.validShape(); err != nil {
		return Record{}, err
	}
	return r, nil
}

// validShape checks that exactly the body named by Type is present.
func (r *Record) validShape() error {
	bodies := []bool{
		r.RegisterBroker != nil, r.FenceBroker != nil, r.UnfenceBroker != nil,
		r.CreateTopic != nil, r.DeleteTopic != nil, r.AlterPartition != nil,
		r.ElectLeaders != nil, r.AllocateProducerIDs != nil,
	}
	n := 0
	for _, set := range bodies {
		if set {
			n++
		}
	}
	if r.Type < TypeRegisterBroker || r.Type > TypeAllocateProducerIDs {
		return fmt.Errorf("%w: unknown type %d", ErrCorruptRecord, r.Type)
	}
	if n != 1 || !bodies[r.Type-1] {
		return fmt.Errorf("%w: type %v with %d bodies", ErrCorruptRecord, r.Type, n)
	}
	return nil
}
