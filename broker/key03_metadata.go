package broker

// Metadata (key 3).
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
	"errors"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/broker/topics"
)

// Served versions 0-13.
func init() { register(keyMetadata, 0, 13, (*Broker).handleMetadata) }

func (b *Broker) handleMetadata(r *request) {
	req := r.kreq.(*kmsg.MetadataRequest)
	all := req.Topics == nil || req.Version == 0 && len(req.Topics) == 0
	b.meta.metadata(r, req, all)
}

// metadata answers from the catalogue, after creating the unknown topics
// the request may auto-create.
func (s catalogueSource) metadata(r *request, req *kmsg.MetadataRequest, all bool) {
	b := s.b
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

// metadata answers from the controller's metadata image.
func (s imageSource) metadata(r *request, req *kmsg.MetadataRequest, all bool) {
	r.respond(s.b.clusterMetadata(req, all))
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
	mt.IsInternal = t.name == offsetsTopic
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

// clusterMetadata answers from the metadata image: the unfenced brokers,
// the active controller, and each partition's leader, leader epoch,
// replicas, ISR and offline (fenced or unregistered) replicas.
func (b *Broker) clusterMetadata(req *kmsg.MetadataRequest, all bool) *kmsg.MetadataResponse {
	img := b.follower.Image()
	resp := kmsg.NewPtrMetadataResponse()
	cluster := b.cfg.ClusterID
	resp.ClusterID = &cluster
	resp.ControllerID = -1
	if b.voter != nil && b.voter.Leader() != 0 {
		resp.ControllerID = int32(b.voter.Leader())
	}
	selfListed := false
	for _, br := range img.Brokers {
		if br.Fenced {
			continue
		}
		h, port, err := splitHostPort(br.Addr)
		if err != nil {
			continue
		}
		mb := kmsg.NewMetadataResponseBroker()
		mb.NodeID, mb.Host, mb.Port = br.ID, h, port
		if br.Rack != "" {
			rack := br.Rack
			mb.Rack = &rack
		}
		resp.Brokers = append(resp.Brokers, mb)
		selfListed = selfListed || br.ID == b.cfg.NodeID
		if resp.ControllerID < 0 {
			resp.ControllerID = br.ID
		}
	}
	if !selfListed && len(resp.Brokers) == 0 {
		// Not registered yet: name ourselves so that clients keep a broker
		// to ask again.
		mb := kmsg.NewMetadataResponseBroker()
		mb.NodeID, mb.Host, mb.Port = b.cfg.NodeID, b.advHost, b.advPort
		resp.Brokers = append(resp.Brokers, mb)
	}
	if resp.ControllerID < 0 {
		resp.ControllerID = b.cfg.NodeID
	}
	if all {
		for i := range img.Topics {
			resp.Topics = append(resp.Topics, imageTopicMetadata(img, &img.Topics[i]))
		}
		return resp
	}
	autoCreate := !b.cfg.AutoCreateTopicsDisable && (req.Version < 4 || req.AllowAutoTopicCreation)
	seen := map[string]bool{}
	for _, rt := range req.Topics {
		mt := kmsg.NewMetadataResponseTopic()
		var it *metadata.Topic
		if rt.Topic == nil {
			for i := range img.Topics {
				if img.Topics[i].ID == rt.TopicID {
					it = &img.Topics[i]
				}
			}
			if it == nil {
				mt.TopicID = rt.TopicID
				mt.ErrorCode = kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
		} else {
			it = img.Topic(*rt.Topic)
		}
		var name string
		if it != nil {
			name = it.Name
		} else {
			name = *rt.Topic
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		if it != nil {
			resp.Topics = append(resp.Topics, imageTopicMetadata(img, it))
			continue
		}
		n := name
		mt.Topic = &n
		switch {
		case topics.ValidName(name) != nil:
			mt.ErrorCode = kerr.InvalidTopicException.Code
		case autoCreate && b.ready():
			b.autoCreate(name)
			mt.ErrorCode = kerr.LeaderNotAvailable.Code
		case autoCreate:
			mt.ErrorCode = kerr.LeaderNotAvailable.Code
		default:
			mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp
}

func imageTopicMetadata(img *metadata.Image, it *metadata.Topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := it.Name
	mt.Topic = &name
	mt.TopicID = it.ID
	mt.IsInternal = it.Name == offsetsTopic
	for _, ip := range it.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = ip.Index
		mp.Leader, mp.LeaderEpoch = ip.Leader, ip.LeaderEpoch
		mp.Replicas = slices.Clone(ip.Replicas)
		mp.ISR = slices.Clone(ip.ISR)
		for _, r := range ip.Replicas {
			if !img.Usable(r) {
				mp.OfflineReplicas = append(mp.OfflineReplicas, r)
			}
		}
		if ip.Leader == metadata.NoLeader {
			mp.ErrorCode = kerr.LeaderNotAvailable.Code
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}

// ready reports whether this broker is registered and unfenced: admin
// requests it forwards to the controller are answered with retriable
// errors until then.
func (b *Broker) ready() bool {
	return b.follower != nil && b.mayLead(b.follower.Image())
}

// autoCreate submits the creation of name with num.partitions partitions
// and default.replication.factor replicas; the client sees the topic once
// the image has it (LEADER_NOT_AVAILABLE until then, as in Kafka).
func (b *Broker) autoCreate(name string) {
	if b.autoCreating[name] {
		return
	}
	if b.autoCreating == nil {
		b.autoCreating = map[string]bool{}
	}
	b.autoCreating[name] = true
	b.log.Info("auto-creating topic", "topic", name, "partitions", b.cfg.NumPartitions, "replication_factor", b.cfg.DefaultReplicationFactor)
	rec := metadata.Record{Type: metadata.TypeCreateTopic, CreateTopic: &metadata.CreateTopic{
		Name: name, NumPartitions: b.cfg.NumPartitions, ReplicationFactor: b.cfg.DefaultReplicationFactor}}
	b.follower.Submit(rec, func(res metadata.Result, err error) {
		delete(b.autoCreating, name)
		if err == nil && res.Err != nil && !errors.Is(res.Err, kerr.TopicAlreadyExists) {
			err = res.Err
		}
		if err != nil {
			b.log.Warn("auto-creation failed", "topic", name, "err", err)
		}
	})
}
