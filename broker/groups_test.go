package broker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
)

func joinReq(group, member string, instance *string) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = 5
	req.Group, req.MemberID, req.InstanceID = group, member, instance
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10_000, 20_000
	req.ProtocolType = "consumer"
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = "range", []byte("sub-"+member)
	req.Protocols = append(req.Protocols, p)
	return req
}

func syncReq(group, member string, gen int32, assign map[string]string) *kmsg.SyncGroupRequest {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 3
	req.Group, req.MemberID, req.Generation = group, member, gen
	for _, m := range sortedKeys(assign) {
		a := kmsg.NewSyncGroupRequestGroupAssignment()
		a.MemberID, a.MemberAssignment = m, []byte(assign[m])
		req.GroupAssignment = append(req.GroupAssignment, a)
	}
	return req
}

func heartbeatReq(group, member string, gen int32) *kmsg.HeartbeatRequest {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 3
	req.Group, req.MemberID, req.Generation = group, member, gen
	return req
}

func commitReq(group, member string, gen int32, topic string, partition int32, offset int64, md string) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 7
	req.Group, req.MemberID, req.Generation = group, member, gen
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset, rp.Metadata = partition, offset, &md
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func (c *client) commit(group, member string, gen int32, topic string, partition int32, offset int64) int16 {
	c.e.t.Helper()
	return c.do(commitReq(group, member, gen, topic, partition, offset, "")).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
}

func (c *client) fetchOffset(group, topic string, partition int32) (int64, int16) {
	c.e.t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 1
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{partition}
	req.Topics = append(req.Topics, rt)
	resp := c.do(req).(*kmsg.OffsetFetchResponse)
	p := resp.Topics[0].Partitions[0]
	return p.Offset, p.ErrorCode
}

func (c *client) describe(group string) kmsg.DescribeGroupsResponseGroup {
	c.e.t.Helper()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Version = 4
	req.Groups = []string{group}
	return c.do(req).(*kmsg.DescribeGroupsResponse).Groups[0]
}

// findCoordinator asks until the coordinator is available.
func (c *client) findCoordinator(group string) {
	c.e.t.Helper()
	for range 3 {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorKey = group
		if resp := c.do(req).(*kmsg.FindCoordinatorResponse); resp.ErrorCode == 0 {
			return
		}
		c.e.h.Run()
	}
	c.e.t.Fatal("no coordinator")
}

// join runs the two-step JoinGroup of a new member (KIP-394) and returns
// its member id and the (parked or immediate) second call's correlation.
func (c *client) join(group string) (string, *kmsg.JoinGroupRequest, int32) {
	c.e.t.Helper()
	resp := c.do(joinReq(group, "", nil)).(*kmsg.JoinGroupResponse)
	if resp.ErrorCode != kerr.MemberIDRequired.Code || resp.MemberID == "" {
		c.e.t.Fatalf("first join: %s member %q, want MEMBER_ID_REQUIRED", errName(resp.ErrorCode), resp.MemberID)
	}
	req := joinReq(group, resp.MemberID, nil)
	return resp.MemberID, req, c.send(req)
}

// A group's whole life on one broker: two members rebalance, only the
// current generation commits, offsets and the group survive a restart,
// members that stop heartbeating are removed, and an administrator can
// then reset the offsets of the Empty group.
func TestGroupLifecycle(t *testing.T) {
	e := newEnv(t, broker.Config{GroupInitialRebalanceDelayMs: -1})
	a, b := e.connect(), e.connect()
	mustCreate(t, a, "t", 4, nil)
	a.findCoordinator("g")

	idA, reqA, corrA := a.join("g")
	ja := a.recv(reqA, corrA).(*kmsg.JoinGroupResponse)
	if ja.ErrorCode != 0 || ja.Generation != 1 || ja.LeaderID != idA || len(ja.Members) != 1 {
		t.Fatalf("first member's join: %+v", ja)
	}
	sa := a.do(syncReq("g", idA, 1, map[string]string{idA: "all"})).(*kmsg.SyncGroupResponse)
	if sa.ErrorCode != 0 || string(sa.MemberAssignment) != "all" {
		t.Fatalf("sync: %s %q", errName(sa.ErrorCode), sa.MemberAssignment)
	}

	// B joins: its join waits for A's rejoin.
	idB, reqB, corrB := b.join("g")
	if hb := a.do(heartbeatReq("g", idA, 1)).(*kmsg.HeartbeatResponse); hb.ErrorCode != kerr.RebalanceInProgress.Code {
		t.Fatalf("heartbeat during rebalance: %s", errName(hb.ErrorCode))
	}
	// A commit of the current generation is still accepted while the
	// group prepares a rebalance.
	if code := a.commit("g", idA, 1, "t", 0, 5); code != 0 {
		t.Fatalf("commit during PreparingRebalance: %s", errName(code))
	}
	ja = a.do(joinReq("g", idA, nil)).(*kmsg.JoinGroupResponse)
	jb := b.recv(reqB, corrB).(*kmsg.JoinGroupResponse)
	if ja.Generation != 2 || jb.Generation != 2 || ja.LeaderID != idA || len(ja.Members) != 2 || len(jb.Members) != 0 {
		t.Fatalf("rebalance: a=%+v b=%+v", ja, jb)
	}
	// B's sync waits for the leader's.
	sbReq := syncReq("g", idB, 2, nil)
	sbCorr := b.send(sbReq)
	sa = a.do(syncReq("g", idA, 2, map[string]string{idA: "p0p1", idB: "p2p3"})).(*kmsg.SyncGroupResponse)
	sb := b.recv(sbReq, sbCorr).(*kmsg.SyncGroupResponse)
	if string(sa.MemberAssignment) != "p0p1" || string(sb.MemberAssignment) != "p2p3" {
		t.Fatalf("assignments: %q %q", sa.MemberAssignment, sb.MemberAssignment)
	}

	for _, c := range []struct {
		name   string
		member string
		gen    int32
		topic  string
		md     string
		want   *kerr.Error
	}{
		{"current generation", idB, 2, "t", "", nil},
		{"stale generation", idA, 1, "t", "", kerr.IllegalGeneration},
		{"unknown member", "nobody", 2, "t", "", kerr.UnknownMemberID},
		{"admin commit on a live group", "", -1, "t", "", kerr.UnknownMemberID},
		{"unknown topic", idA, 2, "nope", "", kerr.UnknownTopicOrPartition},
		{"oversized metadata", idA, 2, "t", strings.Repeat("x", 4097), kerr.OffsetMetadataTooLarge},
	} {
		resp := a.do(commitReq("g", c.member, c.gen, c.topic, 2, 7, c.md)).(*kmsg.OffsetCommitResponse)
		if got := resp.Topics[0].Partitions[0].ErrorCode; got != code(c.want) {
			t.Fatalf("%s: %s, want %v", c.name, errName(got), c.want)
		}
	}
	if off, code := a.fetchOffset("g", "t", 2); off != 7 || code != 0 {
		t.Fatalf("offset of t-2: %d %s, want 7", off, errName(code))
	}
	if off, _ := a.fetchOffset("g", "t", 3); off != -1 {
		t.Fatalf("uncommitted t-3: %d, want -1", off)
	}
	if d := a.describe("g"); d.State != "Stable" || len(d.Members) != 2 || d.Protocol != "range" {
		t.Fatalf("describe: %+v", d)
	}

	// A restart reloads the group and its offsets from __consumer_offsets.
	e.restart()
	a = e.connect()
	if off, code := a.fetchOffset("g", "t", 0); off != 5 || code != 0 {
		t.Fatalf("after restart t-0: %d %s, want 5", off, errName(code))
	}
	if off, _ := a.fetchOffset("g", "t", 2); off != 7 {
		t.Fatalf("after restart t-2: %d, want 7", off)
	}
	if d := a.describe("g"); d.State != "Stable" || len(d.Members) != 2 || string(d.Members[1].MemberAssignment) != "p2p3" {
		t.Fatalf("after restart: %+v", d)
	}
	if hb := a.do(heartbeatReq("g", idA, 2)).(*kmsg.HeartbeatResponse); hb.ErrorCode != 0 {
		t.Fatalf("heartbeat after restart: %s", errName(hb.ErrorCode))
	}

	// Nobody heartbeats: sessions expire, the group empties.
	e.h.Advance(11 * time.Second)
	e.h.Advance(21 * time.Second)
	if d := a.describe("g"); d.State != "Empty" || len(d.Members) != 0 {
		t.Fatalf("after session expiry: %+v", d)
	}
	if code := a.commit("g", "", -1, "t", 0, 0); code != 0 {
		t.Fatalf("admin reset of an Empty group: %s", errName(code))
	}
	if off, _ := a.fetchOffset("g", "t", 0); off != 0 {
		t.Fatalf("after reset: %d, want 0", off)
	}
	lg := kmsg.NewPtrListGroupsRequest()
	lg.Version = 4
	if resp := a.do(lg).(*kmsg.ListGroupsResponse); len(resp.Groups) != 1 || resp.Groups[0].Group != "g" || resp.Groups[0].GroupState != "Empty" {
		t.Fatalf("list groups: %+v", resp.Groups)
	}
	// Nothing but the coordinator writes __consumer_offsets.
	if p := a.produce("__consumer_offsets", 0, records(1, "x", 0)); p.ErrorCode != kerr.InvalidTopicException.Code {
		t.Fatalf("produce to __consumer_offsets: %s", errName(p.ErrorCode))
	}
}

func code(e *kerr.Error) int16 {
	if e == nil {
		return 0
	}
	return e.Code
}

// Static membership (KIP-345): a member that restarts with the same
// group.instance.id gets a new member id and its old assignment without
// a rebalance; the old id is fenced.
func TestGroupStaticMemberRejoinsWithoutRebalance(t *testing.T) {
	e := newEnv(t, broker.Config{GroupInitialRebalanceDelayMs: -1})
	a, b := e.connect(), e.connect()
	mustCreate(t, a, "t", 2, nil)
	a.findCoordinator("g")
	instA, instB := kmsg.StringPtr("a"), kmsg.StringPtr("b")
	// Static members skip MEMBER_ID_REQUIRED. "a" forms generation 1
	// alone; "b" joining makes "a" rejoin for generation 2.
	ja := a.do(joinReq("g", "", instA)).(*kmsg.JoinGroupResponse)
	if ja.ErrorCode != 0 || ja.Generation != 1 {
		t.Fatalf("static join: %s gen %d", errName(ja.ErrorCode), ja.Generation)
	}
	a.do(syncReq("g", ja.MemberID, 1, map[string]string{ja.MemberID: "all"}))
	reqB := joinReq("g", "", instB)
	corrB := b.send(reqB)
	ja = a.do(joinReq("g", ja.MemberID, instA)).(*kmsg.JoinGroupResponse)
	jb := b.recv(reqB, corrB).(*kmsg.JoinGroupResponse)
	if ja.ErrorCode != 0 || jb.ErrorCode != 0 || ja.Generation != 2 || jb.Generation != 2 {
		t.Fatalf("static joins: %s %s gen %d %d", errName(ja.ErrorCode), errName(jb.ErrorCode), ja.Generation, jb.Generation)
	}
	leader, other := a, b
	lid, oid := ja.MemberID, jb.MemberID
	if ja.LeaderID != ja.MemberID {
		leader, other, lid, oid = b, a, jb.MemberID, ja.MemberID
	}
	sReq := syncReq("g", oid, 2, nil)
	sCorr := other.send(sReq)
	leader.do(syncReq("g", lid, 2, map[string]string{ja.MemberID: "A", jb.MemberID: "B"}))
	other.recv(sReq, sCorr)

	// "b" restarts: new member id, same generation, its assignment back.
	b2 := e.connect()
	j2 := b2.do(joinReq("g", "", instB)).(*kmsg.JoinGroupResponse)
	if j2.ErrorCode != 0 || j2.Generation != 2 || j2.MemberID == jb.MemberID {
		t.Fatalf("static rejoin: %s gen %d member %q (old %q)", errName(j2.ErrorCode), j2.Generation, j2.MemberID, jb.MemberID)
	}
	s2 := b2.do(syncReq("g", j2.MemberID, 2, nil)).(*kmsg.SyncGroupResponse)
	if s2.ErrorCode != 0 || string(s2.MemberAssignment) != "B" {
		t.Fatalf("static member's assignment after restart: %s %q", errName(s2.ErrorCode), s2.MemberAssignment)
	}
	hb := heartbeatReq("g", jb.MemberID, 2)
	hb.InstanceID = instB
	if r := b2.do(hb).(*kmsg.HeartbeatResponse); r.ErrorCode != kerr.FencedInstanceID.Code {
		t.Fatalf("the old member id: %s, want FENCED_INSTANCE_ID", errName(r.ErrorCode))
	}
	if d := a.describe("g"); d.State != "Stable" || len(d.Members) != 2 {
		t.Fatalf("group after the static restart: %+v", d)
	}
}

// group.initial.rebalance.delay.ms: a group formed from nothing waits
// for more members, extending the wait while they keep coming, so the
// first generation includes everyone who arrived within the delays.
func TestGroupInitialRebalanceDelay(t *testing.T) {
	e := newEnv(t, broker.Config{GroupInitialRebalanceDelayMs: 3000})
	cs := []*client{e.connect(), e.connect(), e.connect()}
	mustCreate(t, cs[0], "t", 3, nil)
	cs[0].findCoordinator("g")
	var reqs []*kmsg.JoinGroupRequest
	var corrs []int32
	for i, c := range cs {
		_, req, corr := c.join("g")
		reqs, corrs = append(reqs, req), append(corrs, corr)
		if i < 2 {
			e.h.Advance(2 * time.Second) // each arrives within the current delay
		}
	}
	if len(cs[0].c.Sent) != 0 {
		t.Fatal("the join completed before the delay ran out")
	}
	e.h.Advance(5 * time.Second)
	for i, c := range cs {
		r := c.recv(reqs[i], corrs[i]).(*kmsg.JoinGroupResponse)
		if r.ErrorCode != 0 || r.Generation != 1 {
			t.Fatalf("member %d: %s generation %d, want everyone in generation 1", i, errName(r.ErrorCode), r.Generation)
		}
	}
}
