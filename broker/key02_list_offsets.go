package broker

// ListOffsets (key 2).
//
// Timestamp -2 (earliest) answers LogStartOffset, -1 (latest) the high
// watermark, -3 (v7+, max timestamp) the batch holding the largest
// timestamp, -4 (v8+, local log start) LogStartOffset as there is no
// tiered storage, and a timestamp >= 0 the first offset whose timestamp is
// at or after it, found through the time index (offset and timestamp -1
// when there is none). -5 (v9+, latest tiered) answers -1: nothing is
// tiered. Special timestamps below their version, and other negative
// values, are INVALID_REQUEST. v0 answers in OldStyleOffsets (one offset).
// CurrentLeaderEpoch (v4+) is checked as Fetch does; the leader epoch
// returned is the partition's current one (every batch carries it until
// leaders change). read_committed reads the same as read_uncommitted.
// In cluster mode only the partition's leader answers (else
// NOT_LEADER_OR_FOLLOWER); latest is its high watermark.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Served versions 0-10.
func init() { register(keyListOffsets, 0, 10, (*Broker).handleListOffsets) }

func (b *Broker) handleListOffsets(r *request) {
	req := r.kreq.(*kmsg.ListOffsetsRequest)
	resp := kmsg.NewPtrListOffsetsResponse()
	for _, rt := range req.Topics {
		ot := kmsg.NewListOffsetsResponseTopic()
		ot.Topic = rt.Topic
		t, terr := b.lookupTopic(false, rt.Topic, [16]byte{})
		for _, rp := range rt.Partitions {
			op := kmsg.NewListOffsetsResponseTopicPartition()
			op.Partition = rp.Partition
			op.Timestamp, op.Offset, op.LeaderEpoch = -1, -1, -1
			e := terr
			if e == nil {
				if p := t.partition(rp.Partition); p == nil {
					e = kerr.UnknownTopicOrPartition
				} else {
					e = b.listOffset(p, req.Version, rp, &op)
				}
			}
			if e != nil {
				op.ErrorCode = e.Code
				op.Timestamp, op.Offset, op.LeaderEpoch = -1, -1, -1
				r.warn("ListOffsets failed", "topic", rt.Topic, "partition", rp.Partition, "error", e.Message)
			} else if req.Version == 0 && op.Offset >= 0 && rp.MaxNumOffsets > 0 {
				op.OldStyleOffsets = []int64{op.Offset}
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	r.respond(resp)
}

func (b *Broker) listOffset(p *partition, version int16, rp kmsg.ListOffsetsRequestTopicPartition, op *kmsg.ListOffsetsResponseTopicPartition) *kerr.Error {
	if p.offline != nil {
		return kerr.KafkaStorageError
	}
	if p.replicated {
		if e := checkLeader(p); e != nil {
			return e
		}
	}
	if version >= 4 {
		if e := checkLeaderEpoch(p, rp.CurrentLeaderEpoch); e != nil {
			return e
		}
	}
	found := func(offset, ts int64) *kerr.Error {
		op.Offset, op.Timestamp, op.LeaderEpoch = offset, ts, p.leaderEpoch
		return nil
	}
	switch ts := rp.Timestamp; {
	case ts == -2, ts == -4 && version >= 8:
		return found(p.log.LogStartOffset(), -1)
	case ts == -1:
		return found(p.highWatermark(), -1)
	case ts == -3 && version >= 7:
		off, mts, err := p.log.MaxTimestamp()
		if err != nil {
			return b.readFailed(p, err)
		}
		if off < 0 {
			return nil
		}
		return found(off, mts)
	case ts == -5 && version >= 9:
		return nil
	case ts < 0:
		return kerr.InvalidRequest
	default:
		off, fts, ok, err := p.log.OffsetForTimestamp(ts)
		if err != nil {
			return b.readFailed(p, err)
		}
		if !ok || off >= p.highWatermark() {
			return nil
		}
		return found(off, fts)
	}
}

// readFailed classifies a read error, taking the partition offline when
// its storage failed.
func (b *Broker) readFailed(p *partition, err error) *kerr.Error {
	e := classifyReadError(err)
	if takesOffline(err) {
		b.takeOffline(p, err)
	}
	return e
}
