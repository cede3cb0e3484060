package broker_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/wire"
)

// FuzzRequestPath drives arbitrary frames through the whole path: header
// → dispatch → kmsg decode → handler. Invariants: the broker never
// panics; a frame either closes the connection or gets at most one
// answer carrying its correlation id; the broker then still serves a new
// connection.
func FuzzRequestPath(f *testing.F) {
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	f.Add(frame(md, 1))
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version, av.ClientSoftwareName, av.ClientSoftwareVersion = 3, "a", "1"
	f.Add(frame(av, 2))
	f.Add(frame(produceReq(9, 1, "f", 0, records(2, "x", 1)), 3))
	f.Add(frame(produceReq(3, 1, "f", 1, records(1, "y", 1)), 4))
	f.Add(frame(fetchReq("f", 0, 0, 100, 1), 5))
	ct := kmsg.NewPtrCreateTopicsRequest()
	ct.Version = 5
	ctt := kmsg.NewCreateTopicsRequestTopic()
	ctt.Topic, ctt.NumPartitions, ctt.ReplicationFactor = "new", 2, 1
	ct.Topics = append(ct.Topics, ctt)
	f.Add(frame(ct, 6))
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.Version = 7
	lot := kmsg.NewListOffsetsRequestTopic()
	lot.Topic = "f"
	lot.Partitions = append(lot.Partitions, kmsg.ListOffsetsRequestTopicPartition{Partition: 0, Timestamp: -3, CurrentLeaderEpoch: -1})
	lo.Topics = append(lo.Topics, lot)
	f.Add(frame(lo, 7))
	dc := kmsg.NewPtrDescribeConfigsRequest()
	dc.Version = 4
	dc.Resources = append(dc.Resources, kmsg.DescribeConfigsRequestResource{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "f"})
	f.Add(frame(dc, 8))
	dt := kmsg.NewPtrDeleteTopicsRequest()
	dt.Version = 4
	dt.TopicNames = []string{"f"}
	f.Add(frame(dt, 9))
	// Group requests (the coordinator state machine behind them).
	f.Add(frame(joinReq("g", "", nil), 10))
	f.Add(frame(syncReq("g", "m", 1, map[string]string{"m": "x"}), 11))
	f.Add(frame(heartbeatReq("g", "m", 1), 12))
	f.Add(frame(commitReq("g", "", -1, "f", 0, 5, "md"), 13))
	ofr := kmsg.NewPtrOffsetFetchRequest()
	ofr.Version = 8
	ofr.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "g"}}
	f.Add(frame(ofr, 14))
	f.Add(frame(kmsg.NewPtrListGroupsRequest(), 15))
	ipid := kmsg.NewPtrInitProducerIDRequest()
	ipid.Version = 4
	f.Add(frame(ipid, 16))
	f.Add([]byte{0, 18, 0, 99, 0, 0, 0, 1})
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, in []byte) {
		e := newEnv(t, broker.Config{})
		setup := e.connect()
		mustCreate(t, setup, "f", 2, nil)
		setup.produce("f", 0, records(3, "seed", 1))

		c := e.connect()
		c.c.Deliver(in)
		e.h.Run()
		e.h.Advance(time.Minute) // let any long poll expire
		if len(c.c.Sent) > 1 {
			t.Fatalf("%d answers to one frame", len(c.c.Sent))
		}
		if len(c.c.Sent) == 1 {
			_, _, want, err := wire.PeekRequestHeader(in)
			got, _, err2 := wire.ParseResponseHeader(c.c.Sent[0], false)
			if err != nil || err2 != nil || got != want {
				t.Fatal("answer does not carry the request's correlation id")
			}
		}
		if r := e.connect().do(md).(*kmsg.MetadataResponse); len(r.Brokers) != 1 {
			t.Fatal("broker stopped serving")
		}
	})
}
