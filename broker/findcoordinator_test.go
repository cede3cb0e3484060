package broker_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
)

// The first FindCoordinator creates __consumer_offsets and answers
// COORDINATOR_NOT_AVAILABLE; then every version names this broker for a
// group, refuses transactions and empty group ids, and batches keys from
// v4 (KIP-699).
func TestFindCoordinator(t *testing.T) {
	e := newEnv(t, broker.Config{NodeID: 7})
	c := e.connect()
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 4
	self := c.do(md).(*kmsg.MetadataResponse).Brokers[0]
	first := kmsg.NewPtrFindCoordinatorRequest()
	first.CoordinatorKey = "g1"
	if resp := c.do(first).(*kmsg.FindCoordinatorResponse); resp.ErrorCode != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("first FindCoordinator: %s, want COORDINATOR_NOT_AVAILABLE while __consumer_offsets is created", errName(resp.ErrorCode))
	}
	e.h.Run()
	md.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("__consumer_offsets")}}
	if mt := c.do(md).(*kmsg.MetadataResponse).Topics; len(mt) != 1 || mt[0].ErrorCode != 0 || len(mt[0].Partitions) != 10 {
		t.Fatalf("__consumer_offsets after FindCoordinator: %+v", mt)
	}
	for v := int16(0); v <= 4; v++ {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.Version = v
		if v >= 4 {
			req.CoordinatorKeys = []string{"g1", ""}
		} else {
			req.CoordinatorKey = "g1"
		}
		resp := c.do(req).(*kmsg.FindCoordinatorResponse)
		if v >= 4 {
			if len(resp.Coordinators) != 2 {
				t.Fatalf("v%d: %d coordinators", v, len(resp.Coordinators))
			}
			g, empty := resp.Coordinators[0], resp.Coordinators[1]
			if g.ErrorCode != 0 || g.NodeID != 7 || g.Host != self.Host || g.Port != self.Port || g.Key != "g1" {
				t.Fatalf("v%d: %+v, want node 7 at %s:%d", v, g, self.Host, self.Port)
			}
			if empty.ErrorCode != kerr.InvalidGroupID.Code || empty.NodeID != -1 {
				t.Fatalf("v%d: empty group id answered %+v", v, empty)
			}
			continue
		}
		if resp.ErrorCode != 0 || resp.NodeID != 7 || resp.Host != self.Host || resp.Port != self.Port {
			t.Fatalf("v%d: %+v, want node 7 at %s:%d", v, resp, self.Host, self.Port)
		}
	}
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.Version = 1
	req.CoordinatorKey, req.CoordinatorType = "txn", 1
	if resp := c.do(req).(*kmsg.FindCoordinatorResponse); resp.ErrorCode != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("transaction key: %s", errName(resp.ErrorCode))
	}
}
