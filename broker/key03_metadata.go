package broker

// Metadata (key 3), versions 0-13.
//
// One broker (this one) leads every partition; replicas and ISR are this
// broker alone; the leader epoch is the partition's (0 until replication).
// v0 reads an empty topic list as "all topics", v1+ a null one.
//
// Auto-creation (auto.create.topics.enable, on by default): an unknown,
// validly named topic is created with num.partitions partitions when the
// request allows it (always before v4). Deliberate difference from
// Kafka: the answer waits until the topic is durable and live, instead
// of answering LEADER_NOT_AVAILABLE and making the client retry. A topic
// being created or deleted by someone else answers LEADER_NOT_AVAILABLE.
//
// v10+ topics requested by id (null name) are looked up by id
// (UNKNOWN_TOPIC_ID if none). Authorized operations are not computed
// (Kafka's "not requested" value is returned).

import (
	"github.com/loglab/loglab/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleMetadata(r *request) {
	req := r.kreq.(*kmsg.MetadataRequest)
	all := req.Topics == nil || req.Version == 0 && len(req.Topics) == 0
	autoCreate := !b.cfg.AutoCreateTopicsDisable && (req.Version < 4 || req.AllowAutoTopicCreation)

	// Start the creations the request asks for, then answer when all
	// have finished (successfully or not).
	waiting := 1
	createErr := map[string]error{}
	answer := func() {
		waiting--
		if waiting == 0 {
			r.respond(b.metadataResponse(req, all, createErr))
		}
	}
	if !all && autoCreate {
		seen := map[string]bool{}
		for _, rt := range req.Topics {
			if rt.Topic == nil || seen[*rt.Topic] {
				continue
			}
			name := *rt.Topic
			seen[name] = true
			if b.topics[name] != nil || b.reserved[name] || topics.ValidName(name) != nil || b.stopping {
				continue
			}
			waiting++
			b.log.Info("auto-creating topic", "topic", name, "partitions", b.cfg.NumPartitions)
			b.createTopic(name, b.cfg.NumPartitions, nil, func(_ *topic, err error) {
				if err != nil {
					createErr[name] = err
				}
				answer()
			})
		}
	}
	answer()
}

func (b *Broker) metadataResponse(req *kmsg.MetadataRequest, all bool, createErr map[string]error) *kmsg.MetadataResponse {
	resp := kmsg.NewPtrMetadataResponse()
	broker := kmsg.NewMetadataResponseBroker()
	broker.NodeID, broker.Host, broker.Port = b.cfg.NodeID, b.advHost, b.advPort
	resp.Brokers = append(resp.Brokers, broker)
	cluster := b.cfg.ClusterID
	resp.ClusterID = &cluster
	resp.ControllerID = b.cfg.NodeID

	if all {
		for _, name := range b.sortedTopicNames() {
			resp.Topics = append(resp.Topics, b.topicMetadata(b.topics[name]))
		}
		return resp
	}
	seen := map[string]bool{}
	for _, rt := range req.Topics {
		mt := kmsg.NewMetadataResponseTopic()
		if rt.Topic == nil {
			t := b.byID[topics.ID(rt.TopicID)]
			if t == nil {
				mt.TopicID = rt.TopicID
				mt.ErrorCode = kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
			rt.Topic = &t.name
		}
		name := *rt.Topic
		if seen[name] {
			continue
		}
		seen[name] = true
		n := name
		mt.Topic = &n
		switch t := b.topics[name]; {
		case t != nil:
			mt = b.topicMetadata(t)
		case topics.ValidName(name) != nil:
			mt.ErrorCode = kerr.InvalidTopicException.Code
		case b.reserved[name]:
			mt.ErrorCode = kerr.LeaderNotAvailable.Code
		case createErr[name] != nil:
			mt.ErrorCode = kerr.KafkaStorageError.Code
		default:
			mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp
}

func (b *Broker) topicMetadata(t *topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.name
	mt.Topic = &name
	mt.TopicID = t.id
	for _, p := range t.partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = p.index
		mp.Leader = b.cfg.NodeID
		mp.LeaderEpoch = p.leaderEpoch
		mp.Replicas = []int32{b.cfg.NodeID}
		mp.ISR = []int32{b.cfg.NodeID}
		if p.offline != nil {
			mp.ErrorCode = kerr.KafkaStorageError.Code
			mp.OfflineReplicas = []int32{b.cfg.NodeID}
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}
