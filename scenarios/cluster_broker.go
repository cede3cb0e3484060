package scenarios

import (
	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/controller"
	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/host"
)

// This file is the scenarios' use of the broker's cluster API (the
// contract: broker.Config.Controllers/Voter/..., Broker.Image, Voter,
// Partition).

// clusterBroker is broker-(i+1)'s node in cluster mode.
func clusterBroker(p *plan, i int) host.Node {
	cfg := p.broker
	id := int32(i + 1)
	cfg.NodeID = id
	cfg.Listen = p.brokers[i] + ":9092"
	cfg.Controllers = p.voterAddrs()
	cfg.DefaultReplicationFactor = p.defaultRF
	cfg.ReplicaLagTimeMaxMs = p.replicaLagMs
	cfg.ReplicaFetchWaitMaxMs = p.replicaFetchWaitMs
	cfg.HeartbeatIntervalMs = p.beatMs
	if i < p.voters {
		vc := &controller.VoterConfig{ID: uint64(id)}
		for k, addr := range p.voterAddrs() {
			vc.Voters = append(vc.Voters, controller.Peer{ID: uint64(k + 1), Addr: addr})
		}
		cfg.Voter = vc
	}
	return broker.New(cfg)
}

func asBroker(n host.Node) *broker.Broker {
	b, _ := n.(*broker.Broker)
	return b
}

// nodeImage is a broker node's metadata image (nil: down or standalone).
func nodeImage(n host.Node) *metadata.Image {
	if b := asBroker(n); b != nil {
		return b.Image()
	}
	return nil
}

// nodeVoterLeads reports whether the node's voter leads the quorum, and
// its term.
func nodeVoterLeads(n host.Node) (bool, uint64) {
	b := asBroker(n)
	if b == nil {
		return false, 0
	}
	v := b.Voter()
	if v == nil {
		return false, 0
	}
	return v.IsLeader(), v.Term()
}

// nodePartition is what a broker node knows of one partition.
func nodePartition(n host.Node, topic string, p int32) (partitionState, bool) {
	b := asBroker(n)
	if b == nil {
		return partitionState{}, false
	}
	st, ok := b.Partition(topic, p)
	if !ok {
		return partitionState{}, false
	}
	return partitionState{Leader: st.Leader, LeaderEpoch: st.LeaderEpoch, IsLeader: st.IsLeader, ISR: st.ISR,
		HighWatermark: st.HighWatermark, LogEndOffset: st.LogEndOffset}, true
}
