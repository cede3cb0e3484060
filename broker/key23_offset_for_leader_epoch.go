package broker

// OffsetForLeaderEpoch (key 23).
//
// For each partition: the largest leader epoch <= the requested one that
// this leader's epoch cache knows, and the end offset of that epoch (the
// start offset of the next epoch, or the log end offset for the latest),
// Kafka's semantics (KIP-101, KIP-279); UNDEFINED (-1, -1) when the
// requested epoch is newer than any the leader knows. Followers use it to
// truncate a divergent tail before fetching. Only the partition's leader
// answers (NOT_LEADER_OR_FOLLOWER otherwise; standalone, this broker
// always leads). CurrentLeaderEpoch (v2+) is checked as Fetch does: older
// is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH. v0 answers carry no
// leader epoch; ReplicaID (v3+) is not checked (Kafka serves consumers
// too).
//
// Loglab addition (replica_recovery.go): a follower answers, from its own
// log, a v3+ request whose ReplicaID is the partition's leader at the
// follower's current leader epoch: the leader recovering from lost data
// asks its replicas for their newest epoch and log end offset (an epoch
// newer than the follower's latest is answered for its latest). (A
// follower never sends OffsetForLeaderEpoch to another follower, so the
// two cannot mix.)

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Served versions 0-4.
func init() { register(keyOffsetForLeaderEpoch, 0, 4, (*Broker).handleOffsetForLeaderEpoch) }

func (b *Broker) handleOffsetForLeaderEpoch(r *request) {
	req := r.kreq.(*kmsg.OffsetForLeaderEpochRequest)
	resp := kmsg.NewPtrOffsetForLeaderEpochResponse()
	for _, rt := range req.Topics {
		ot := kmsg.NewOffsetForLeaderEpochResponseTopic()
		ot.Topic = rt.Topic
		t, terr := b.lookupTopic(false, rt.Topic, [16]byte{})
		for _, rp := range rt.Partitions {
			op := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			op.Partition = rp.Partition
			e := terr
			var p *partition
			if e == nil {
				if p = t.partition(rp.Partition); p == nil {
					e = kerr.UnknownTopicOrPartition
				}
			}
			if e == nil {
				e = b.endOffsetForEpoch(p, req, rp, &op)
			}
			if e != nil {
				op.ErrorCode = e.Code
				op.LeaderEpoch, op.EndOffset = -1, -1
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	r.respond(resp)
}

func (b *Broker) endOffsetForEpoch(p *partition, req *kmsg.OffsetForLeaderEpochRequest, rp kmsg.OffsetForLeaderEpochRequestTopicPartition, op *kmsg.OffsetForLeaderEpochResponseTopicPartition) *kerr.Error {
	version := req.Version
	if p.offline != nil {
		return kerr.KafkaStorageError
	}
	if p.replicated && version >= 3 && p.log != nil && !p.isLeader && req.ReplicaID >= 0 && req.ReplicaID != b.cfg.NodeID &&
		req.ReplicaID == p.leader && rp.CurrentLeaderEpoch == p.leaderEpoch {
		// Our leader, recovering its leadership, asks how far our log
		// goes (replica_recovery.go): answer from our own log. An epoch
		// newer than our latest is answered with our latest and our log
		// end offset (Kafka's leader would say UNDEFINED: it never is
		// asked for an epoch newer than its own).
		e := rp.LeaderEpoch
		if latest, ok := p.log.LatestEpoch(); ok && e > latest {
			e = latest
		}
		op.LeaderEpoch, op.EndOffset = p.log.EndOffsetForEpoch(e)
		return nil
	}
	if p.replicated {
		if e := checkLeader(p); e != nil {
			return e
		}
	}
	if version >= 2 {
		if e := checkLeaderEpoch(p, rp.CurrentLeaderEpoch); e != nil {
			return e
		}
	}
	op.LeaderEpoch, op.EndOffset = p.log.EndOffsetForEpoch(rp.LeaderEpoch)
	return nil
}
