package group

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/loglab/loglab/wire/batch"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrCorruptRecord classifies a __consumer_offsets record that cannot be
// decoded.
var ErrCorruptRecord = errors.New("group: corrupt __consumer_offsets record")

// TopicPartition names a committed offset's partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// OffsetEntry is one committed offset.
type OffsetEntry struct {
	Offset          int64
	LeaderEpoch     int32 // -1: unknown
	Metadata        string
	CommitTimestamp int64 // ms
}

// replayed is one decoded record: an offset (offset set) or group
// metadata (meta set), or a tombstone of either (deleted).
type replayed struct {
	group   string
	deleted bool
	offset  *struct {
		tp    TopicPartition
		entry OffsetEntry
	}
	meta *kmsg.GroupMetadataValue
}

func offsetRecord(group string, tp TopicPartition, e OffsetEntry) batch.Record {
	k := kmsg.NewOffsetCommitKey()
	k.Version, k.Group, k.Topic, k.Partition = 1, group, tp.Topic, tp.Partition
	v := kmsg.NewOffsetCommitValue()
	v.Version, v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp = 3, e.Offset, e.LeaderEpoch, e.Metadata, e.CommitTimestamp
	return batch.Record{Key: k.AppendTo(nil), Value: v.AppendTo(nil)}
}

func groupRecord(group string, v *kmsg.GroupMetadataValue) batch.Record {
	k := kmsg.NewGroupMetadataKey()
	k.Version, k.Group = 2, group
	return batch.Record{Key: k.AppendTo(nil), Value: v.AppendTo(nil)}
}

func decodeRecord(key, value []byte) (replayed, error) {
	if len(key) < 2 {
		return replayed{}, fmt.Errorf("%w: key of %d bytes", ErrCorruptRecord, len(key))
	}
	var r replayed
	switch ver := int16(binary.BigEndian.Uint16(key)); ver {
	case 0, 1:
		k := kmsg.NewOffsetCommitKey()
		if err := k.ReadFrom(key); err != nil {
			return r, fmt.Errorf("%w: offset key: %w", ErrCorruptRecord, err)
		}
		r.group = k.Group
		r.offset = &struct {
			tp    TopicPartition
			entry OffsetEntry
		}{tp: TopicPartition{k.Topic, k.Partition}}
		if value == nil {
			r.deleted = true
			return r, nil
		}
		v := kmsg.NewOffsetCommitValue()
		if err := v.ReadFrom(value); err != nil {
			return r, fmt.Errorf("%w: offset value: %w", ErrCorruptRecord, err)
		}
		le := v.LeaderEpoch
		if v.Version < 3 {
			le = -1
		}
		r.offset.entry = OffsetEntry{Offset: v.Offset, LeaderEpoch: le, Metadata: v.Metadata, CommitTimestamp: v.CommitTimestamp}
	case 2:
		k := kmsg.NewGroupMetadataKey()
		if err := k.ReadFrom(key); err != nil {
			return r, fmt.Errorf("%w: group key: %w", ErrCorruptRecord, err)
		}
		r.group = k.Group
		if value == nil {
			r.deleted = true
			return r, nil
		}
		v := kmsg.NewGroupMetadataValue()
		if err := v.ReadFrom(value); err != nil {
			return r, fmt.Errorf("%w: group value: %w", ErrCorruptRecord, err)
		}
		r.meta = &v
	default:
		return r, fmt.Errorf("%w: key version %d", ErrCorruptRecord, ver)
	}
	return r, nil
}
