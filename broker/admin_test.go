package broker_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/wire/batch"
)

func listOffsets(c *client, version int16, topic string, partition int32, ts int64) kmsg.ListOffsetsResponseTopicPartition {
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = version
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp, rp.MaxNumOffsets = partition, ts, 1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return c.do(req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
}

func TestListOffsetsByTimestamp(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	mustCreate(t, c, "lo", 1, nil)
	// Three batches of 3 records: timestamps 1000-1002, 2000-2002, 3000-3002.
	for i, ts := range []int64{1000, 2000, 3000} {
		if got := c.produce("lo", 0, records(3, "x", ts)); got.BaseOffset != int64(3*i) {
			t.Fatalf("base %d", got.BaseOffset)
		}
	}
	for _, tc := range []struct {
		ts           int64
		off, foundTs int64
	}{
		{-2, 0, -1},
		{-1, 9, -1},
		{0, 0, 1000},
		{1000, 0, 1000},
		{1001, 1, 1001},
		{1500, 3, 2000},
		{2002, 5, 2002},
		{3002, 8, 3002},
		{3003, -1, -1},
		{-3, 8, 3002}, // max timestamp (v7+)
	} {
		got := listOffsets(c, 10, "lo", 0, tc.ts)
		if got.ErrorCode != 0 || got.Offset != tc.off || got.Timestamp != tc.foundTs {
			t.Errorf("ts %d: offset %d ts %d (%s), want %d %d", tc.ts, got.Offset, got.Timestamp, errName(got.ErrorCode), tc.off, tc.foundTs)
		}
	}
	if got := listOffsets(c, 0, "lo", 0, -1); len(got.OldStyleOffsets) != 1 || got.OldStyleOffsets[0] != 9 {
		t.Errorf("v0 latest: %v", got.OldStyleOffsets)
	}
	if got := listOffsets(c, 1, "nope", 0, -1); got.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("unknown topic: %s", errName(got.ErrorCode))
	}
	if got := listOffsets(c, 6, "lo", 0, -3); got.ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("-3 at v6: %s", errName(got.ErrorCode))
	}
}

// Restart keeps topics (ids, partition counts, configs) and data.
func TestRestartKeepsTopicsAndData(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	created := c.createTopic("keep", 2, map[string]string{"retention.ms": "123456"})
	c.produce("keep", 1, records(4, "v", 500))
	c.produce("keep", 1, records(2, "w", 600))
	e.restart()
	c = e.connect()
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	resp := c.do(md).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 1 || *resp.Topics[0].Topic != "keep" || resp.Topics[0].TopicID != created.TopicID || len(resp.Topics[0].Partitions) != 2 {
		t.Fatalf("after restart: %+v", resp.Topics)
	}
	got := c.fetch("keep", 1, 0)
	if got.HighWatermark != 6 || len(values(t, got.RecordBatches)) != 6 {
		t.Fatalf("after restart: hw %d, %d records", got.HighWatermark, len(values(t, got.RecordBatches)))
	}
	if got := c.produce("keep", 1, records(1, "z", 700)); got.BaseOffset != 6 {
		t.Fatalf("append after restart at %d, want 6", got.BaseOffset)
	}
	if v := describeTopic(t, c, "keep")["retention.ms"]; v != "123456" {
		t.Fatalf("retention.ms after restart: %q", v)
	}
}

func describeTopic(t *testing.T, c *client, name string) map[string]string {
	t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.Version = 4
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, name
	req.Resources = append(req.Resources, res)
	resp := c.do(req).(*kmsg.DescribeConfigsResponse)
	if resp.Resources[0].ErrorCode != 0 {
		t.Fatalf("describe %s: %s", name, errName(resp.Resources[0].ErrorCode))
	}
	out := map[string]string{}
	for _, cfg := range resp.Resources[0].Configs {
		out[cfg.Name] = *cfg.Value
	}
	return out
}

func TestCreateTopicsValidation(t *testing.T) {
	e := newEnv(t, broker.Config{MaxPartitionsPerTopic: 100})
	c := e.connect()
	mustCreate(t, c, "exists", 1, nil)
	for _, tc := range []struct {
		name       string
		partitions int32
		configs    map[string]string
		want       *kerr.Error
	}{
		{"bad/name", 1, nil, kerr.InvalidTopicException},
		{"..", 1, nil, kerr.InvalidTopicException},
		{"", 1, nil, kerr.InvalidTopicException},
		{"exists", 1, nil, kerr.TopicAlreadyExists},
		{"zero", 0, nil, kerr.InvalidPartitions},
		{"many", 101, nil, kerr.InvalidPartitions},
		{"cfg", 1, map[string]string{"no.such.config": "1"}, kerr.InvalidConfig},
		{"cfg2", 1, map[string]string{"retention.ms": "soon"}, kerr.InvalidConfig},
		{"cfg3", 1, map[string]string{"cleanup.policy": "compact"}, kerr.InvalidConfig},
	} {
		if got := c.createTopic(tc.name, tc.partitions, tc.configs); got.ErrorCode != tc.want.Code {
			t.Errorf("%q: %s, want %s", tc.name, errName(got.ErrorCode), tc.want.Message)
		}
	}
	// Replication factor 3 on one broker; duplicate names; validate-only.
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 4
	for _, n := range []string{"rf", "dup", "dup"} {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = n, 1, -1
		if n == "rf" {
			rt.ReplicationFactor = 3
		}
		req.Topics = append(req.Topics, rt)
	}
	resp := c.do(req).(*kmsg.CreateTopicsResponse)
	want := []*kerr.Error{kerr.InvalidReplicationFactor, kerr.InvalidRequest, kerr.InvalidRequest}
	for i, w := range want {
		if resp.Topics[i].ErrorCode != w.Code {
			t.Errorf("%s: %s, want %s", resp.Topics[i].Topic, errName(resp.Topics[i].ErrorCode), w.Message)
		}
	}
	req = kmsg.NewPtrCreateTopicsRequest()
	req.Version, req.ValidateOnly = 7, true
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "dry", -1, -1
	req.Topics = append(req.Topics, rt)
	if r := c.do(req).(*kmsg.CreateTopicsResponse); r.Topics[0].ErrorCode != 0 || r.Topics[0].NumPartitions != 1 {
		t.Fatalf("validate only: %s %d", errName(r.Topics[0].ErrorCode), r.Topics[0].NumPartitions)
	}
	if got := c.fetch("dry", 0, 0); got.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatal("validate-only created the topic")
	}
}

func TestDeleteTopicRemovesFilesAndAllowsRecreate(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	mustCreate(t, c, "gone", 2, nil)
	c.produce("gone", 0, records(3, "x", 1))
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.Version = 5
	req.TopicNames = []string{"gone", "never"}
	resp := c.do(req).(*kmsg.DeleteTopicsResponse)
	if resp.Topics[0].ErrorCode != 0 || resp.Topics[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("delete: %s, %s", errName(resp.Topics[0].ErrorCode), errName(resp.Topics[1].ErrorCode))
	}
	e.h.Run()
	for _, f := range e.disk.Files() {
		if len(f) >= 5 && f[:5] == "gone-" {
			t.Fatalf("file left after delete: %s", f)
		}
	}
	if got := c.fetch("gone", 0, 0); got.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("fetch after delete: %s", errName(got.ErrorCode))
	}
	mustCreate(t, c, "gone", 1, nil)
	if got := c.fetch("gone", 0, 0); got.ErrorCode != 0 || got.HighWatermark != 0 {
		t.Fatalf("recreated topic: %s hw %d", errName(got.ErrorCode), got.HighWatermark)
	}
	// By id (v6).
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	id := c.do(md).(*kmsg.MetadataResponse).Topics[0].TopicID
	req = kmsg.NewPtrDeleteTopicsRequest()
	req.Version = 6
	dt := kmsg.NewDeleteTopicsRequestTopic()
	dt.TopicID = id
	req.Topics = append(req.Topics, dt)
	if r := c.do(req).(*kmsg.DeleteTopicsResponse); r.Topics[0].ErrorCode != 0 || *r.Topics[0].Topic != "gone" {
		t.Fatalf("delete by id: %s", errName(r.Topics[0].ErrorCode))
	}
	e.restart()
	c = e.connect()
	if got := c.fetch("gone", 0, 0); got.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("deleted topic back after restart: %s", errName(got.ErrorCode))
	}
}

func TestMetadataAutoCreate(t *testing.T) {
	for _, disable := range []bool{false, true} {
		e := newEnv(t, broker.Config{AutoCreateTopicsDisable: disable, NumPartitions: 3})
		c := e.connect()
		req := kmsg.NewPtrMetadataRequest()
		req.Version, req.AllowAutoTopicCreation = 12, true
		for _, n := range []string{"auto", "bad name"} {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(n)
			req.Topics = append(req.Topics, rt)
		}
		resp := c.do(req).(*kmsg.MetadataResponse)
		auto, bad := resp.Topics[0], resp.Topics[1]
		if bad.ErrorCode != kerr.InvalidTopicException.Code {
			t.Errorf("bad name: %s", errName(bad.ErrorCode))
		}
		if disable {
			if auto.ErrorCode != kerr.UnknownTopicOrPartition.Code {
				t.Errorf("auto-create disabled: %s", errName(auto.ErrorCode))
			}
			continue
		}
		if auto.ErrorCode != 0 || len(auto.Partitions) != 3 || auto.Partitions[0].Leader != 0 || auto.TopicID == [16]byte{} {
			t.Errorf("auto-created: %s, %d partitions", errName(auto.ErrorCode), len(auto.Partitions))
		}
		if len(resp.Brokers) != 1 || resp.Brokers[0].Host != "broker-1" || resp.Brokers[0].Port != 9092 {
			t.Errorf("brokers: %+v", resp.Brokers)
		}
	}
}

func TestDescribeConfigs(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	mustCreate(t, c, "dc", 1, map[string]string{"segment.bytes": "4096", "flush.messages": "1"})
	got := describeTopic(t, c, "dc")
	want := map[string]string{
		"segment.bytes": "4096", "flush.messages": "1", "retention.ms": "604800000",
		"retention.bytes": "-1", "max.message.bytes": "1048588", "message.timestamp.type": "CreateTime",
		"flush.ms": "9223372036854775807", "cleanup.policy": "delete", "segment.ms": "604800000",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.Version = 1
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, "missing"
	req.Resources = append(req.Resources, res)
	if r := c.do(req).(*kmsg.DescribeConfigsResponse); r.Resources[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("missing topic: %s", errName(r.Resources[0].ErrorCode))
	}
	_ = batch.HeaderBytes
}
