package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Config is one configuration entry: a name, its value (nil when unset or
// sensitive) and where the value comes from.
type Config struct {
	Name   string
	Value  *string
	Source kmsg.ConfigSource
}

// TopicSpec is a topic to create. Partitions and ReplicationFactor -1
// take the broker's defaults (num.partitions, default.replication.factor).
type TopicSpec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	Configs           []Config // sent in order; Source is ignored
}

// ErrBadSpec classifies a TopicSpec that CreateTopic refuses before
// asking the broker.
var ErrBadSpec = errors.New("admin: bad topic spec")

// Validate checks what the broker would refuse anyway, with a clearer
// error: a name, and at least one partition (or -1).
func (s TopicSpec) Validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("%w: a topic name is required", ErrBadSpec)
	case s.Partitions < 1 && s.Partitions != -1:
		return fmt.Errorf("%w: partitions must be at least 1 (or -1 for the broker's default), got %d", ErrBadSpec, s.Partitions)
	}
	return nil
}

// CreateTopic creates one topic; the error wraps the topic's error code
// (TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, ...) and message.
func (c *Client) CreateTopic(ctx context.Context, spec TopicSpec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = int32(c.opts.Timeout.Milliseconds())
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = spec.Name, spec.Partitions, spec.ReplicationFactor
	for _, cfg := range spec.Configs {
		rc := kmsg.NewCreateTopicsRequestTopicConfig()
		rc.Name, rc.Value = cfg.Name, cfg.Value
		t.Configs = append(t.Configs, rc)
	}
	req.Topics = append(req.Topics, t)
	resp, err := c.do(ctx, req, maxCreateTopicsV)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", spec.Name, err)
	}
	for _, rt := range resp.(*kmsg.CreateTopicsResponse).Topics {
		if err := withMessage(codeErr(rt.ErrorCode), rt.ErrorMessage); err != nil {
			return fmt.Errorf("create topic %s: %w", spec.Name, err)
		}
	}
	return nil
}

// TopicResult is one topic's outcome in a request about several.
type TopicResult struct {
	Topic string
	Err   error // nil on success
}

// DeleteTopics deletes topics and returns each one's outcome, in the
// broker's order; the error is for the request as a whole.
func (c *Client) DeleteTopics(ctx context.Context, names ...string) ([]TopicResult, error) {
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = int32(c.opts.Timeout.Milliseconds())
	req.TopicNames = names
	for _, n := range names {
		dt := kmsg.NewDeleteTopicsRequestTopic()
		dt.Topic = kmsg.StringPtr(n)
		req.Topics = append(req.Topics, dt)
	}
	resp, err := c.do(ctx, req, maxDeleteTopicsV)
	if err != nil {
		return nil, fmt.Errorf("delete topics: %w", err)
	}
	var out []TopicResult
	for _, rt := range resp.(*kmsg.DeleteTopicsResponse).Topics {
		r := TopicResult{Err: withMessage(codeErr(rt.ErrorCode), rt.ErrorMessage)}
		if rt.Topic != nil {
			r.Topic = *rt.Topic
		}
		out = append(out, r)
	}
	return out, nil
}

// Partitions returns a topic's partition ids, sorted, or the topic's error.
func (c *Client) Partitions(ctx context.Context, topic string) ([]int32, error) {
	m, err := c.Metadata(ctx, []string{topic})
	if err != nil {
		return nil, err
	}
	t, err := m.Topic(topic)
	if err != nil {
		return nil, err
	}
	ps := make([]int32, 0, len(t.Partitions))
	for _, p := range t.Partitions {
		ps = append(ps, p.Partition)
	}
	return ps, nil
}

// TopicConfigs describes a topic's configuration, sorted by name.
func (c *Client) TopicConfigs(ctx context.Context, topic string) ([]Config, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	req.Resources = append(req.Resources, r)
	resp, err := c.do(ctx, req, maxDescribeConfigsV)
	if err != nil {
		return nil, fmt.Errorf("describe configs of %s: %w", topic, err)
	}
	var out []Config
	for _, res := range resp.(*kmsg.DescribeConfigsResponse).Resources {
		if err := withMessage(codeErr(res.ErrorCode), res.ErrorMessage); err != nil {
			return nil, fmt.Errorf("describe configs of %s: %w", topic, err)
		}
		for _, cfg := range res.Configs {
			out = append(out, Config{Name: cfg.Name, Value: cfg.Value, Source: cfg.Source})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Offset timestamps for ListOffsets.
const (
	Earliest int64 = -2 // the log start offset
	Latest   int64 = -1 // the high watermark
)

// ListOffsets asks each partition's leader for its offset at ts (Earliest,
// Latest, or a timestamp in ms). A partition whose leader is unknown or
// answers with an error maps to -1.
func (c *Client) ListOffsets(ctx context.Context, topic string, ts int64) (map[int32]int64, error) {
	m, err := c.Metadata(ctx, []string{topic})
	if err != nil {
		return nil, err
	}
	t, err := m.Topic(topic)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	byLeader := map[string][]int32{}
	for _, p := range t.Partitions {
		out[p.Partition] = -1
		if b, ok := m.Broker(p.Leader); ok {
			byLeader[b.Addr()] = append(byLeader[b.Addr()], p.Partition)
		}
	}
	for _, addr := range slices.Sorted(maps.Keys(byLeader)) {
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		for _, p := range byLeader[addr] {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = p, ts, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		resp, err := c.doAt(ctx, addr, req, maxListOffsetsV)
		if err != nil {
			return nil, fmt.Errorf("list offsets of %s at %s: %w", topic, addr, err)
		}
		for _, rt := range resp.(*kmsg.ListOffsetsResponse).Topics {
			for _, p := range rt.Partitions {
				if p.ErrorCode == 0 {
					out[p.Partition] = p.Offset
				}
			}
		}
	}
	return out, nil
}

// TopicDescription is one topic as `loglab topic describe` shows it: its
// partitions, the configs set on it, and each partition's log start
// offset and high watermark (-1 where its leader did not answer).
type TopicDescription struct {
	Topic
	Overrides      []Config // DYNAMIC_TOPIC_CONFIG entries, sorted
	LogStartOffset map[int32]int64
	HighWatermark  map[int32]int64
}

// DescribeTopics describes the named topics (nil: every topic), sorted by
// name. A topic's own error code fails the call.
func (c *Client) DescribeTopics(ctx context.Context, names []string) ([]TopicDescription, error) {
	m, err := c.Metadata(ctx, names)
	if err != nil {
		return nil, err
	}
	var out []TopicDescription
	for _, t := range m.Topics {
		if t.Err != nil {
			return nil, fmt.Errorf("topic %s: %w", t.Name, t.Err)
		}
		d := TopicDescription{Topic: t}
		configs, err := c.TopicConfigs(ctx, t.Name)
		if err != nil {
			return nil, err
		}
		for _, cfg := range configs {
			if cfg.Source == kmsg.ConfigSourceDynamicTopicConfig {
				d.Overrides = append(d.Overrides, cfg)
			}
		}
		if d.LogStartOffset, err = c.ListOffsets(ctx, t.Name, Earliest); err != nil {
			return nil, err
		}
		if d.HighWatermark, err = c.ListOffsets(ctx, t.Name, Latest); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// String is the config's value, "" when it has none.
func (c Config) String() string {
	if c.Value == nil {
		return ""
	}
	return *c.Value
}
