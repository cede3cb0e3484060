package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/loglab/loglab/broker/topics"
)

// Helpers that every partition-addressed handler (Produce, Fetch,
// ListOffsets, OffsetForLeaderEpoch) shares: find the topic and partition
// a request names and check that this broker may serve it.

// lookupTopic resolves a topic by id (Produce v13+, Fetch v13+) or name,
// returning the Kafka error for one that does not exist.
func (b *Broker) lookupTopic(byID bool, name string, id [16]byte) (*topic, *kerr.Error) {
	if byID {
		if t := b.byID[topics.ID(id)]; t != nil {
			return t, nil
		}
		return nil, kerr.UnknownTopicID
	}
	if topics.ValidName(name) != nil {
		return nil, kerr.InvalidTopicException
	}
	if t := b.topics[name]; t != nil {
		return t, nil
	}
	return nil, kerr.UnknownTopicOrPartition
}

func (t *topic) partition(i int32) *partition {
	if i < 0 || int(i) >= len(t.partitions) {
		return nil
	}
	return t.partitions[i]
}

// checkLeader answers NOT_LEADER_OR_FOLLOWER unless this broker leads
// the (cluster-mode) partition and is not recovering its leadership.
func checkLeader(p *partition) *kerr.Error {
	if p.log == nil || !p.isLeader || p.lead != nil && p.lead.recovery != nil {
		return kerr.NotLeaderForPartition
	}
	return nil
}

// checkLeaderEpoch compares a client's idea of the leader epoch (-1: no
// idea) with the partition's.
func checkLeaderEpoch(p *partition, current int32) *kerr.Error {
	switch {
	case current < 0 || current == p.leaderEpoch:
		return nil
	case current < p.leaderEpoch:
		return kerr.FencedLeaderEpoch
	default:
		return kerr.UnknownLeaderEpoch
	}
}
