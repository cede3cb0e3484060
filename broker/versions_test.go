package broker_test

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
)

// Every advertised version of every API answers a valid request without
// error, in a frame the client can decode at that version.
func TestEveryAdvertisedVersionAnswers(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	for v := int16(0); v <= 7; v++ {
		name := fmt.Sprintf("ct%d", v)
		req := kmsg.NewPtrCreateTopicsRequest()
		req.Version = v
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 2, 1
		req.Topics = append(req.Topics, rt)
		if r := c.do(req).(*kmsg.CreateTopicsResponse); r.Topics[0].ErrorCode != 0 {
			t.Fatalf("CreateTopics v%d: %s", v, errName(r.Topics[0].ErrorCode))
		}
	}
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	ids := map[string][16]byte{}
	for _, mt := range c.do(md).(*kmsg.MetadataResponse).Topics {
		ids[*mt.Topic] = mt.TopicID
	}
	for v := int16(0); v <= 13; v++ {
		req := kmsg.NewPtrMetadataRequest()
		req.Version = v
		if v == 0 {
			req.Topics = []kmsg.MetadataRequestTopic{} // v0: empty = all
		}
		if r := c.do(req).(*kmsg.MetadataResponse); len(r.Topics) != 8 || len(r.Brokers) != 1 {
			t.Fatalf("Metadata v%d: %d topics", v, len(r.Topics))
		}
	}
	for v := int16(0); v <= 13; v++ {
		req := produceReq(v, 1, "ct0", 0, records(2, "x", 1))
		if v >= 13 {
			req.Topics[0].Topic, req.Topics[0].TopicID = "", ids["ct0"]
		}
		r := c.do(req).(*kmsg.ProduceResponse)
		if p := r.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != int64(2*v) {
			t.Fatalf("Produce v%d: %s at %d", v, errName(p.ErrorCode), p.BaseOffset)
		}
	}
	for v := int16(4); v <= 18; v++ {
		req := fetchReq("ct0", 0, 0, 0, 0)
		req.Version = v
		if v >= 13 {
			req.Topics[0].Topic, req.Topics[0].TopicID = "", ids["ct0"]
		}
		r := c.do(req).(*kmsg.FetchResponse)
		if p := r.Topics[0].Partitions[0]; p.ErrorCode != 0 || len(values(t, p.RecordBatches)) != 28 || p.HighWatermark != 28 {
			t.Fatalf("Fetch v%d: %s hw %d", v, errName(p.ErrorCode), p.HighWatermark)
		}
	}
	for v := int16(0); v <= 10; v++ {
		if p := listOffsets(c, v, "ct0", 0, -1); p.ErrorCode != 0 || (v > 0 && p.Offset != 28) {
			t.Fatalf("ListOffsets v%d: %s %d", v, errName(p.ErrorCode), p.Offset)
		}
	}
	for v := int16(0); v <= 4; v++ {
		req := kmsg.NewPtrDescribeConfigsRequest()
		req.Version, req.IncludeSynonyms = v, true
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, "ct0"
		req.Resources = append(req.Resources, res)
		broker := kmsg.NewDescribeConfigsRequestResource()
		broker.ResourceType, broker.ResourceName = kmsg.ConfigResourceTypeBroker, "0"
		req.Resources = append(req.Resources, broker)
		r := c.do(req).(*kmsg.DescribeConfigsResponse)
		if r.Resources[0].ErrorCode != 0 || len(r.Resources[0].Configs) == 0 || r.Resources[1].ErrorCode != 0 || len(r.Resources[1].Configs) == 0 {
			t.Fatalf("DescribeConfigs v%d: %s %s", v, errName(r.Resources[0].ErrorCode), errName(r.Resources[1].ErrorCode))
		}
	}
	for v := int16(0); v <= 6; v++ {
		name := fmt.Sprintf("ct%d", v+1)
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.Version = v
		if v >= 6 {
			req.Topics = []kmsg.DeleteTopicsRequestTopic{{Topic: &name}}
		} else {
			req.TopicNames = []string{name}
		}
		if r := c.do(req).(*kmsg.DeleteTopicsResponse); r.Topics[0].ErrorCode != 0 {
			t.Fatalf("DeleteTopics v%d: %s", v, errName(r.Topics[0].ErrorCode))
		}
	}
}
