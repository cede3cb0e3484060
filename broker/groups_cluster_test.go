package broker_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/sim/disk"
)

// coordinator asks broker via until FindCoordinator names a node other
// than not (0: any) and returns it.
func (tc *testCluster) coordinator(via int, group string, not int32) int32 {
	tc.t.Helper()
	var node int32
	tc.eventually(60*time.Second, "a coordinator for "+group, func() bool {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.Version = 2
		req.CoordinatorKey = group
		resp, ok := tc.call(via, req, 5*time.Second)
		if !ok {
			return false
		}
		fc := resp.(*kmsg.FindCoordinatorResponse)
		if fc.ErrorCode != 0 || fc.NodeID == not {
			tc.run(100 * time.Millisecond)
			return false
		}
		node = fc.NodeID
		return true
	})
	return node
}

// retryGroup calls broker i until the answer's error is not a
// coordinator-moving one (LOAD_IN_PROGRESS, NOT_COORDINATOR,
// COORDINATOR_NOT_AVAILABLE).
func (tc *testCluster) retryGroup(i int, req kmsg.Request, errOf func(kmsg.Response) int16) kmsg.Response {
	tc.t.Helper()
	var out kmsg.Response
	tc.eventually(30*time.Second, "a group answer", func() bool {
		resp, ok := tc.call(i, req, 5*time.Second)
		if !ok {
			return false
		}
		switch errOf(resp) {
		case kerr.CoordinatorLoadInProgress.Code, kerr.NotCoordinator.Code, kerr.CoordinatorNotAvailable.Code:
			tc.run(100 * time.Millisecond)
			return false
		}
		out = resp
		return true
	})
	return out
}

// The group coordinator moves with the leadership of the group's
// __consumer_offsets partition: after the coordinator crashes, the new
// leader reloads the group and every acknowledged commit, and the
// members keep their generation.
func TestClusterGroupCoordinatorFailover(t *testing.T) {
	tc := newTestCluster(t, 7, 3, 0, func(c *broker.Config) { c.GroupInitialRebalanceDelayMs = -1 })
	tc.createTopic(1, "t", 2, 3, nil)
	c1 := tc.coordinator(1, "g", 0)
	tc.waitReplicated("__consumer_offsets", 10)
	if md := tc.broker(1).Image().Topic("__consumer_offsets"); md == nil || len(md.Partitions[0].Replicas) != 3 {
		t.Fatalf("__consumer_offsets not replicated 3 ways: %+v", md)
	}

	jerr := func(r kmsg.Response) int16 { return r.(*kmsg.JoinGroupResponse).ErrorCode }
	first := tc.retryGroup(int(c1), joinReq("g", "", nil), jerr).(*kmsg.JoinGroupResponse)
	if first.ErrorCode != kerr.MemberIDRequired.Code {
		t.Fatalf("first join: %s", errName(first.ErrorCode))
	}
	id := first.MemberID
	ja := tc.mustCall(int(c1), joinReq("g", id, nil)).(*kmsg.JoinGroupResponse)
	if ja.ErrorCode != 0 || ja.Generation != 1 {
		t.Fatalf("join: %s gen %d", errName(ja.ErrorCode), ja.Generation)
	}
	if s := tc.mustCall(int(c1), syncReq("g", id, 1, map[string]string{id: "t0t1"})).(*kmsg.SyncGroupResponse); s.ErrorCode != 0 {
		t.Fatalf("sync: %s", errName(s.ErrorCode))
	}
	for p := int32(0); p < 2; p++ {
		resp := tc.mustCall(int(c1), commitReq("g", id, 1, "t", p, 100+int64(p), "")).(*kmsg.OffsetCommitResponse)
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
			t.Fatalf("commit t-%d: %s", p, errName(code))
		}
	}

	tc.w.Crash(bname(int(c1)), disk.LoseUnsynced)
	other := 1
	if c1 == 1 {
		other = 2
	}
	c2 := tc.coordinator(other, "g", c1)
	t.Logf("coordinator moved from broker %d to %d", c1, c2)

	ferr := func(r kmsg.Response) int16 {
		o := r.(*kmsg.OffsetFetchResponse)
		if o.ErrorCode != 0 {
			return o.ErrorCode
		}
		return o.Topics[0].Partitions[0].ErrorCode
	}
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 3
	req.Group = "g"
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = "t", []int32{0, 1}
	req.Topics = append(req.Topics, rt)
	of := tc.retryGroup(int(c2), req, ferr).(*kmsg.OffsetFetchResponse)
	for i, p := range of.Topics[0].Partitions {
		if p.ErrorCode != 0 || p.Offset != 100+int64(i) {
			t.Fatalf("after failover t-%d: offset %d %s, want %d", i, p.Offset, errName(p.ErrorCode), 100+i)
		}
	}
	hb := tc.mustCall(int(c2), heartbeatReq("g", id, 1)).(*kmsg.HeartbeatResponse)
	if hb.ErrorCode != 0 {
		t.Fatalf("member's heartbeat at the new coordinator: %s", errName(hb.ErrorCode))
	}
	// A stale generation is still refused by the new coordinator.
	resp := tc.mustCall(int(c2), commitReq("g", id, 0, "t", 0, 1, "")).(*kmsg.OffsetCommitResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.IllegalGeneration.Code {
		t.Fatalf("stale commit after failover: %s", errName(code))
	}
}
