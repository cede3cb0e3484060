package broker

// CreateTopics (key 19).
//
// Each topic is validated (name: INVALID_TOPIC_EXCEPTION; exists or is
// being created/deleted: TOPIC_ALREADY_EXISTS; partitions: -1 means
// num.partitions, otherwise 1..MaxPartitionsPerTopic, else
// INVALID_PARTITIONS; replication factor: -1 or 1, else
// INVALID_REPLICATION_FACTOR, as there is one broker; a manual replica
// assignment must place every partition 0..n-1 on this broker alone, else
// INVALID_REPLICA_ASSIGNMENT; configs: INVALID_CONFIG). A name given
// twice in one request fails both entries with INVALID_REQUEST, as in
// Kafka. ValidateOnly checks and answers without creating.
//
// The answer waits until every accepted topic is durable in the
// catalogue and live (TimeoutMillis is not enforced: creation is local
// and bounded by one fsync round). v5+ answers carry the partition
// count, replication factor and full config; v7 the topic id.
//
// Cluster mode: the replication factor may be up to the number of live
// (unfenced) brokers (-1: default.replication.factor; more:
// INVALID_REPLICATION_FACTOR); a manual assignment names registered
// brokers. The topic is created by submitting CreateTopic to the active
// controller, which assigns replicas; the answer comes when the record is
// committed (before this broker's image may show it). An unknown outcome
// (controller unreachable) answers REQUEST_TIMED_OUT; a broker not yet
// registered and unfenced answers NOT_CONTROLLER (both retriable).

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/broker/topics"
)

// Served versions 0-7.
func init() { register(keyCreateTopics, 0, 7, (*Broker).handleCreateTopics) }

func (b *Broker) handleCreateTopics(r *request) {
	req := r.kreq.(*kmsg.CreateTopicsRequest)
	resp := kmsg.NewPtrCreateTopicsResponse()
	count := map[string]int{}
	for _, rt := range req.Topics {
		count[rt.Topic]++
	}
	waiting := 1
	answer := func() {
		waiting--
		if waiting == 0 {
			r.respond(resp)
		}
	}
	resp.Topics = make([]kmsg.CreateTopicsResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		out := &resp.Topics[i]
		*out = kmsg.NewCreateTopicsResponseTopic()
		out.Topic = rt.Topic
		if count[rt.Topic] > 1 {
			setCreateError(out, kerr.InvalidRequest, "topic named more than once in the request")
			continue
		}
		waiting++
		b.meta.createTopic(r, rt, req.ValidateOnly, out, answer)
	}
	answer()
}

// createTopic creates one topic in the catalogue (RF 1: this broker).
func (s catalogueSource) createTopic(r *request, rt kmsg.CreateTopicsRequestTopic, validateOnly bool, out *kmsg.CreateTopicsResponseTopic, answer func()) {
	b := s.b
	partitions, overrides, kerrv, msg := b.validateCreate(rt)
	if kerrv != nil {
		r.warn("CreateTopics rejected a topic", "topic", rt.Topic, "error", kerrv.Message, "why", msg)
		setCreateError(out, kerrv, msg)
		answer()
		return
	}
	fillCreated := func(out *kmsg.CreateTopicsResponseTopic, id topics.ID) {
		out.TopicID = id
		out.NumPartitions = partitions
		out.ReplicationFactor = 1
		out.Configs = b.appendCreatedConfigs(out.Configs, overrides)
	}
	if validateOnly {
		fillCreated(out, topics.ID{})
		answer()
		return
	}
	b.createTopic(rt.Topic, partitions, overrides, func(t *topic, err error) {
		if err != nil {
			setCreateError(out, kerr.KafkaStorageError, err.Error())
		} else {
			fillCreated(out, t.id)
		}
		answer()
	})
}

// createTopic submits the topic to the controller.
func (s imageSource) createTopic(_ *request, rt kmsg.CreateTopicsRequestTopic, validateOnly bool, out *kmsg.CreateTopicsResponseTopic, answer func()) {
	s.b.createClusterTopic(rt, validateOnly, out, answer)
}

func setCreateError(out *kmsg.CreateTopicsResponseTopic, e *kerr.Error, msg string) {
	out.ErrorCode = e.Code
	out.ErrorMessage = &msg
	out.NumPartitions, out.ReplicationFactor = -1, -1
}

// validateCreate checks one requested topic; on success it returns the
// partition count and the config overrides.
func (b *Broker) validateCreate(rt kmsg.CreateTopicsRequestTopic) (int32, map[string]string, *kerr.Error, string) {
	if err := topics.ValidName(rt.Topic); err != nil {
		return 0, nil, kerr.InvalidTopicException, err.Error()
	}
	if b.topics[rt.Topic] != nil || b.reserved[rt.Topic] {
		return 0, nil, kerr.TopicAlreadyExists, fmt.Sprintf("topic %q already exists or is being created or deleted", rt.Topic)
	}
	if b.stopping {
		return 0, nil, kerr.NotController, "broker is stopping"
	}
	partitions := rt.NumPartitions
	if len(rt.ReplicaAssignment) > 0 {
		if rt.NumPartitions != -1 || rt.ReplicationFactor != -1 {
			return 0, nil, kerr.InvalidRequest, "a replica assignment requires partitions and replication factor -1"
		}
		ps := make([]int, 0, len(rt.ReplicaAssignment))
		for _, a := range rt.ReplicaAssignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.NodeID {
				return 0, nil, kerr.InvalidReplicaAssignment, fmt.Sprintf("partition %d: replicas must be [%d]", a.Partition, b.cfg.NodeID)
			}
			ps = append(ps, int(a.Partition))
		}
		sort.Ints(ps)
		for i, p := range ps {
			if p != i {
				return 0, nil, kerr.InvalidReplicaAssignment, "partitions must be numbered 0..n-1 without gaps"
			}
		}
		partitions = int32(len(ps))
	} else {
		if partitions == -1 {
			partitions = b.cfg.NumPartitions
		}
		if partitions < 1 || partitions > b.cfg.MaxPartitionsPerTopic {
			return 0, nil, kerr.InvalidPartitions, fmt.Sprintf("%d partitions, want 1..%d", rt.NumPartitions, b.cfg.MaxPartitionsPerTopic)
		}
		if rt.ReplicationFactor != -1 && rt.ReplicationFactor != 1 {
			return 0, nil, kerr.InvalidReplicationFactor, fmt.Sprintf("replication factor %d, this cluster has 1 broker", rt.ReplicationFactor)
		}
	}
	if partitions > b.cfg.MaxPartitionsPerTopic {
		return 0, nil, kerr.InvalidPartitions, fmt.Sprintf("%d partitions, want 1..%d", partitions, b.cfg.MaxPartitionsPerTopic)
	}
	var overrides map[string]string
	for _, c := range rt.Configs {
		if c.Value == nil {
			continue // null: use the default
		}
		if overrides == nil {
			overrides = map[string]string{}
		}
		if _, dup := overrides[c.Name]; dup {
			return 0, nil, kerr.InvalidConfig, fmt.Sprintf("config %q given twice", c.Name)
		}
		overrides[c.Name] = *c.Value
	}
	if _, err := topics.ParseConfig(b.cfg.TopicDefaults, overrides); err != nil {
		return 0, nil, kerr.InvalidConfig, err.Error()
	}
	return partitions, overrides, nil, ""
}

// createClusterTopic validates rt against the image and submits it to the
// controller; it calls answer once out is filled.
func (b *Broker) createClusterTopic(rt kmsg.CreateTopicsRequestTopic, validateOnly bool, out *kmsg.CreateTopicsResponseTopic, answer func()) {
	img := b.follower.Image()
	fail := func(e *kerr.Error, msg string) {
		setCreateError(out, e, msg)
		answer()
	}
	if err := topics.ValidName(rt.Topic); err != nil {
		fail(kerr.InvalidTopicException, err.Error())
		return
	}
	if !b.ready() || b.stopping {
		fail(kerr.NotController, "broker is not registered and unfenced yet")
		return
	}
	if img.Topic(rt.Topic) != nil {
		fail(kerr.TopicAlreadyExists, fmt.Sprintf("topic %q already exists", rt.Topic))
		return
	}
	ct := &metadata.CreateTopic{Name: rt.Topic, NumPartitions: rt.NumPartitions, ReplicationFactor: rt.ReplicationFactor}
	live := len(img.UnfencedBrokers())
	if len(rt.ReplicaAssignment) > 0 {
		if rt.NumPartitions != -1 || rt.ReplicationFactor != -1 {
			fail(kerr.InvalidRequest, "a replica assignment requires partitions and replication factor -1")
			return
		}
		as := make([][]int32, len(rt.ReplicaAssignment))
		for _, a := range rt.ReplicaAssignment {
			if a.Partition < 0 || int(a.Partition) >= len(as) || as[a.Partition] != nil || len(a.Replicas) == 0 {
				fail(kerr.InvalidReplicaAssignment, "partitions must be numbered 0..n-1 without gaps, each with replicas")
				return
			}
			for _, r := range a.Replicas {
				if img.Broker(r) == nil {
					fail(kerr.InvalidReplicaAssignment, fmt.Sprintf("broker %d is not registered", r))
					return
				}
			}
			as[a.Partition] = slices.Clone(a.Replicas)
		}
		ct.Assignments, ct.NumPartitions, ct.ReplicationFactor = as, int32(len(as)), int16(len(as[0]))
	} else {
		if ct.NumPartitions == -1 {
			ct.NumPartitions = b.cfg.NumPartitions
		}
		if ct.ReplicationFactor == -1 {
			ct.ReplicationFactor = b.cfg.DefaultReplicationFactor
		}
		if ct.NumPartitions < 1 || ct.NumPartitions > b.cfg.MaxPartitionsPerTopic {
			fail(kerr.InvalidPartitions, fmt.Sprintf("%d partitions, want 1..%d", rt.NumPartitions, b.cfg.MaxPartitionsPerTopic))
			return
		}
		if ct.ReplicationFactor < 1 || int(ct.ReplicationFactor) > live {
			fail(kerr.InvalidReplicationFactor, fmt.Sprintf("replication factor %d, %d live brokers", ct.ReplicationFactor, live))
			return
		}
	}
	if ct.NumPartitions > b.cfg.MaxPartitionsPerTopic {
		fail(kerr.InvalidPartitions, fmt.Sprintf("%d partitions, want 1..%d", ct.NumPartitions, b.cfg.MaxPartitionsPerTopic))
		return
	}
	overrides := map[string]string{}
	for _, c := range rt.Configs {
		if c.Value == nil {
			continue
		}
		if _, dup := overrides[c.Name]; dup {
			fail(kerr.InvalidConfig, fmt.Sprintf("config %q given twice", c.Name))
			return
		}
		overrides[c.Name] = *c.Value
	}
	if _, err := topics.ParseConfig(b.cfg.TopicDefaults, overrides); err != nil {
		fail(kerr.InvalidConfig, err.Error())
		return
	}
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		ct.Configs = append(ct.Configs, metadata.Config{Key: k, Value: overrides[k]})
	}
	fill := func(id [16]byte) {
		out.TopicID = id
		out.NumPartitions, out.ReplicationFactor = ct.NumPartitions, ct.ReplicationFactor
		out.Configs = b.appendCreatedConfigs(out.Configs, overrides)
	}
	if validateOnly {
		fill([16]byte{})
		answer()
		return
	}
	b.follower.Submit(metadata.Record{Type: metadata.TypeCreateTopic, CreateTopic: ct}, func(res metadata.Result, err error) {
		var ke *kerr.Error
		switch {
		case err != nil:
			setCreateError(out, kerr.RequestTimedOut, err.Error())
		case errors.As(res.Err, &ke):
			setCreateError(out, ke, ke.Description)
		case res.Err != nil:
			setCreateError(out, kerr.UnknownServerError, res.Err.Error())
		default:
			b.log.Info("topic created", "topic", ct.Name, "partitions", ct.NumPartitions, "replication_factor", ct.ReplicationFactor)
			fill(res.TopicID)
		}
		answer()
	})
}

// appendCreatedConfigs appends a created topic's configs as CreateTopics v5+
// reports them: every config, its source the topic override or the
// broker default.
func (b *Broker) appendCreatedConfigs(dst []kmsg.CreateTopicsResponseTopicConfig, overrides map[string]string) []kmsg.CreateTopicsResponseTopicConfig {
	for _, e := range topics.Describe(b.cfg.TopicDefaults, overrides) {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name = e.Name
		v := e.Value
		c.Value = &v
		c.Source = int8(kmsg.ConfigSourceDefaultConfig)
		if e.Override {
			c.Source = int8(kmsg.ConfigSourceDynamicTopicConfig)
		}
		dst = append(dst, c)
	}
	return dst
}
