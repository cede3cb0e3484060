package broker_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/sim/disk"
)

func TestClusterCreateTopicMetadataShowsReplicas(t *testing.T) {
	tc := newTestCluster(t, 1, 3, 0, nil)
	tc.createTopic(1, "orders", 3, 3, map[string]string{"min.insync.replicas": "2"})

	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("orders")
	req.Topics = append(req.Topics, rt)
	resp := tc.mustCall(2, req).(*kmsg.MetadataResponse)
	if len(resp.Brokers) != 3 {
		t.Fatalf("metadata lists %d brokers, want 3", len(resp.Brokers))
	}
	for _, b := range resp.Brokers {
		if b.Port != 9092 || b.Host != bname(int(b.NodeID)) {
			t.Fatalf("broker %d at %s:%d", b.NodeID, b.Host, b.Port)
		}
	}
	if resp.ControllerID < 1 || resp.ControllerID > 3 {
		t.Fatalf("controller id %d", resp.ControllerID)
	}
	mt := resp.Topics[0]
	if mt.ErrorCode != 0 || len(mt.Partitions) != 3 {
		t.Fatalf("topic: %s, %d partitions", errName(mt.ErrorCode), len(mt.Partitions))
	}
	leaders := map[int32]bool{}
	for _, p := range mt.Partitions {
		if p.ErrorCode != 0 || len(p.Replicas) != 3 || len(p.ISR) != 3 || p.Leader != p.Replicas[0] {
			t.Fatalf("partition %d: %s leader %d replicas %v isr %v", p.Partition, errName(p.ErrorCode), p.Leader, p.Replicas, p.ISR)
		}
		leaders[p.Leader] = true
	}
	if len(leaders) != 3 {
		t.Fatalf("leaders not spread: %v", leaders)
	}
	// DescribeConfigs shows the image's topic config.
	dc := kmsg.NewPtrDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, "orders"
	dc.Resources = append(dc.Resources, r)
	dresp := tc.mustCall(3, dc).(*kmsg.DescribeConfigsResponse)
	found := false
	for _, c := range dresp.Resources[0].Configs {
		if c.Name == "min.insync.replicas" {
			found = *c.Value == "2" && !c.IsDefault
		}
	}
	if !found {
		t.Fatalf("min.insync.replicas=2 not described: %+v", dresp.Resources[0])
	}
}

func TestClusterRejectsBadRequests(t *testing.T) {
	tc := newTestCluster(t, 2, 3, 0, nil)
	// RF larger than the cluster.
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 7
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "big", 1, 4
	req.Topics = append(req.Topics, rt)
	if c := tc.mustCall(1, req).(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode; c != kerr.InvalidReplicationFactor.Code {
		t.Fatalf("RF 4 on 3 brokers: %s", errName(c))
	}
	tc.createTopic(1, "t", 1, 3, nil)
	l := tc.leader("t", 0)
	other := l%3 + 1
	// Produce and fetch to a follower: NOT_LEADER_OR_FOLLOWER, nothing written.
	pr, ok := tc.produce(other, -1, "t", 0, records(1, "x", 1), 1000)
	if !ok || pr.ErrorCode != kerr.NotLeaderForPartition.Code {
		t.Fatalf("produce to follower: %s", errName(pr.ErrorCode))
	}
	fr := tc.mustCall(other, fetchReq("t", 0, 0, 0, 0)).(*kmsg.FetchResponse)
	if c := fr.Topics[0].Partitions[0].ErrorCode; c != kerr.NotLeaderForPartition.Code {
		t.Fatalf("fetch from follower: %s", errName(c))
	}
	if st, _ := tc.broker(other).Partition("t", 0); st.LogEndOffset != 0 {
		t.Fatalf("follower log grew to %d", st.LogEndOffset)
	}
	// Stale and future CurrentLeaderEpoch, after a leader change.
	tc.w.Crash(bname(l), disk.LoseUnsynced)
	tc.eventually(20*time.Second, "a new leader", func() bool {
		nl := tc.leader("t", 0)
		if nl <= 0 || nl == l {
			return false
		}
		st, ok := tc.broker(nl).Partition("t", 0)
		return ok && st.IsLeader
	})
	l = tc.leader("t", 0)
	st, _ := tc.broker(l).Partition("t", 0)
	for _, c := range []struct {
		epoch int32
		want  *kerr.Error
	}{{st.LeaderEpoch - 1, kerr.FencedLeaderEpoch}, {st.LeaderEpoch + 1, kerr.UnknownLeaderEpoch}} {
		f := fetchReq("t", 0, 0, 0, 0)
		f.Topics[0].Partitions[0].CurrentLeaderEpoch = c.epoch
		if got := tc.mustCall(l, f).(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode; got != c.want.Code {
			t.Fatalf("fetch with epoch %d (current %d): %s, want %s", c.epoch, st.LeaderEpoch, errName(got), c.want.Message)
		}
		o := kmsg.NewPtrOffsetForLeaderEpochRequest()
		o.Version = 4
		ot := kmsg.NewOffsetForLeaderEpochRequestTopic()
		ot.Topic = "t"
		op := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		op.CurrentLeaderEpoch, op.LeaderEpoch = c.epoch, st.LeaderEpoch
		ot.Partitions = append(ot.Partitions, op)
		o.Topics = append(o.Topics, ot)
		if got := tc.mustCall(l, o).(*kmsg.OffsetForLeaderEpochResponse).Topics[0].Partitions[0].ErrorCode; got != c.want.Code {
			t.Fatalf("OffsetForLeaderEpoch with epoch %d: %s", c.epoch, errName(got))
		}
	}
	// A fetch claiming to be a replica that is not one.
	f := fetchReq("t", 0, 0, 0, 0)
	f.ReplicaID = 7
	if got := tc.mustCall(l, f).(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode; got != kerr.NotLeaderForPartition.Code {
		t.Fatalf("fetch from a non-replica: %s", errName(got))
	}
}

func TestClusterAcksAllWaitsForFollowers(t *testing.T) {
	// Five brokers, voters 1-3, the topic on 3, 4 and 5: pausing both
	// followers keeps the controller quorum.
	tc := newTestCluster(t, 3, 5, 0, nil)
	tc.createAssigned(1, "t", map[string]string{"min.insync.replicas": "2"}, 3, 4, 5)
	l := tc.leader("t", 0)
	pr, ok := tc.produce(l, -1, "t", 0, records(3, "a", 1), 5000)
	if !ok || pr.ErrorCode != 0 || pr.BaseOffset != 0 {
		t.Fatalf("acks=all produce: %s at %d", errName(pr.ErrorCode), pr.BaseOffset)
	}
	// Acknowledged means every ISR member has it.
	for i := 3; i <= 5; i++ {
		if st, _ := tc.broker(i).Partition("t", 0); st.LogEndOffset < 3 {
			t.Fatalf("acked, but broker %d has log end offset %d", i, st.LogEndOffset)
		}
	}
	// With both followers paused the leader cannot get the batch
	// replicated: no ack (timeout), then the ISR shrinks to the leader and
	// acks=all is refused with NOT_ENOUGH_REPLICAS.
	var followers []int
	for i := 3; i <= 5; i++ {
		if i != l {
			followers = append(followers, i)
			tc.w.Pause(bname(i))
		}
	}
	pr, ok = tc.produce(l, -1, "t", 0, records(1, "b", 2), 2000)
	if !ok || pr.ErrorCode != kerr.RequestTimedOut.Code {
		t.Fatalf("acks=all with followers paused: %s (answered %v), want REQUEST_TIMED_OUT", errName(pr.ErrorCode), ok)
	}
	if st, _ := tc.broker(l).Partition("t", 0); st.HighWatermark != 3 {
		t.Fatalf("high watermark %d moved past the replicated data", st.HighWatermark)
	}
	// The controller fences the silent followers: ISR = {leader}.
	tc.eventually(30*time.Second, "ISR shrunk to the leader", func() bool {
		st, _ := tc.broker(l).Partition("t", 0)
		return len(st.ISR) == 1
	})
	pr, ok = tc.produce(l, -1, "t", 0, records(1, "c", 3), 2000)
	if !ok || pr.ErrorCode != kerr.NotEnoughReplicas.Code {
		t.Fatalf("acks=all with ISR 1 < min.insync 2: %s", errName(pr.ErrorCode))
	}
	// acks=1 still works.
	pr, ok = tc.produce(l, 1, "t", 0, records(1, "d", 4), 2000)
	if !ok || pr.ErrorCode != 0 {
		t.Fatalf("acks=1: %s", errName(pr.ErrorCode))
	}
	for _, f := range followers {
		tc.w.Resume(bname(f))
	}
	tc.waitReplicated("t", 1)
	pr, ok = tc.produce(l, -1, "t", 0, records(1, "e", 5), 5000)
	if !ok || pr.ErrorCode != 0 {
		t.Fatalf("acks=all after followers rejoined: %s", errName(pr.ErrorCode))
	}
}

func TestClusterLeaderCrashFailoverKeepsAckedRecords(t *testing.T) {
	tc := newTestCluster(t, 4, 3, 0, nil)
	tc.createTopic(1, "t", 1, 3, map[string]string{"min.insync.replicas": "2"})
	old := tc.leader("t", 0)
	oldEpoch := tc.broker(old).Image().Partition("t", 0).LeaderEpoch
	acked := map[int64]string{}
	for i := 0; i < 5; i++ {
		pr, ok := tc.produce(old, -1, "t", 0, records(2, string(rune('a'+i)), int64(i)), 5000)
		if !ok || pr.ErrorCode != 0 {
			t.Fatalf("produce %d: %s", i, errName(pr.ErrorCode))
		}
		acked[pr.BaseOffset] = string(rune('a'+i)) + "a"
		acked[pr.BaseOffset+1] = string(rune('a'+i)) + "b"
	}
	// An acks=1 write nobody else got: may be lost, must not diverge.
	tc.w.Crash(bname(old), disk.LoseUnsynced)
	var nl int
	tc.eventually(30*time.Second, "a new leader", func() bool {
		nl = tc.leader("t", 0)
		return nl > 0 && nl != old
	})
	newEpoch := tc.broker(nl).Image().Partition("t", 0).LeaderEpoch
	if newEpoch <= oldEpoch {
		t.Fatalf("new leader epoch %d <= %d", newEpoch, oldEpoch)
	}
	tc.eventually(10*time.Second, "new leader serving", func() bool {
		st, _ := tc.broker(nl).Partition("t", 0)
		return st.IsLeader && st.HighWatermark >= 10
	})
	got, _, code := tc.fetchAll(nl, "t", 0)
	if code != 0 {
		t.Fatalf("fetch from new leader: %s", errName(code))
	}
	for o, v := range acked {
		if got[o] != v {
			t.Fatalf("acked record %d=%q is %q on the new leader", o, v, got[o])
		}
	}
	// More writes at the new epoch, then the old leader comes back,
	// truncates by epoch, catches up and rejoins the ISR.
	pr, ok := tc.produce(nl, -1, "t", 0, records(2, "z", 9), 5000)
	if !ok || pr.ErrorCode != 0 {
		t.Fatalf("produce to new leader: %s", errName(pr.ErrorCode))
	}
	tc.w.Restart(bname(old))
	tc.waitReplicated("t", 1)
	st, _ := tc.broker(old).Partition("t", 0)
	lst, _ := tc.broker(tc.leader("t", 0)).Partition("t", 0)
	if st.LogEndOffset != lst.LogEndOffset || !slices.Contains(lst.ISR, int32(old)) {
		t.Fatalf("old leader: leo %d vs %d, ISR %v", st.LogEndOffset, lst.LogEndOffset, lst.ISR)
	}
}

func TestClusterSlowFollowerLeavesAndRejoinsISR(t *testing.T) {
	tc := newTestCluster(t, 5, 3, 0, func(c *broker.Config) { c.ReplicaLagTimeMaxMs = 2000 })
	tc.createTopic(1, "t", 1, 3, nil)
	l := tc.leader("t", 0)
	slow := l%3 + 1
	// Cut only the link between the leader and the slow follower: it
	// keeps heartbeating the controller (not fenced) but cannot fetch.
	tc.w.Net().Split([]string{bname(l)}, []string{bname(slow)})
	for i := 0; i < 3; i++ {
		if pr, ok := tc.produce(l, 1, "t", 0, records(1, "x", int64(i)), 2000); !ok || pr.ErrorCode != 0 {
			t.Fatalf("produce: %s", errName(pr.ErrorCode))
		}
	}
	tc.eventually(20*time.Second, "slow follower out of the ISR", func() bool {
		ip := tc.broker(l).Image().Partition("t", 0)
		return !slices.Contains(ip.ISR, int32(slow)) && len(ip.ISR) == 2
	})
	if !tc.broker(l).Image().Usable(int32(slow)) {
		t.Fatal("the slow follower was fenced: the test should exercise lag, not fencing")
	}
	tc.w.Net().Heal()
	tc.eventually(20*time.Second, "slow follower back in the ISR", func() bool {
		ip := tc.broker(l).Image().Partition("t", 0)
		return slices.Contains(ip.ISR, int32(slow))
	})
	tc.waitReplicated("t", 1)
}

// kip101LoseM2 runs kip101 up to B leading again without m2 (and A
// down); unclean sets the topic's unclean.leader.election.enable.
func kip101LoseM2(t *testing.T, bugs bugzoo.Set, unclean bool) (tc *testCluster, a, b int) {
	tc = newTestCluster(t, 11, 4, bugs, func(c *broker.Config) { c.ReplicaLagTimeMaxMs = 60_000 })
	a, b = 4, 3
	tc.createAssigned(1, "t", map[string]string{"flush.ms": "20000", "unclean.leader.election.enable": fmt.Sprint(unclean)}, int32(a), int32(b))
	if tc.leader("t", 0) != a {
		t.Fatalf("leader %d, want %d", tc.leader("t", 0), a)
	}
	if pr, ok := tc.produce(a, -1, "t", 0, records(1, "m1-", 1), 5000); !ok || pr.ErrorCode != 0 {
		t.Fatalf("m1: %s", errName(pr.ErrorCode))
	}
	tc.run(21 * time.Second) // flush.ms: m1 is durable on both
	if pr, ok := tc.produce(a, -1, "t", 0, records(1, "m2-", 2), 5000); !ok || pr.ErrorCode != 0 || pr.BaseOffset != 1 {
		t.Fatalf("m2: %s at %d", errName(pr.ErrorCode), pr.BaseOffset)
	}
	tc.waitReplicated("t", 1)
	tc.run(2 * time.Second) // high watermark checkpoints (1s) written; m2 not yet flushed
	tc.w.Crash(bname(a), disk.KeepPageCache)
	tc.eventually(20*time.Second, "B leads", func() bool {
		st, ok := tc.broker(b).Partition("t", 0)
		return ok && st.IsLeader
	})
	tc.w.Crash(bname(b), disk.LoseUnsynced)
	tc.eventually(20*time.Second, "partition offline", func() bool { return tc.leader("t", 0) == -1 })
	tc.w.Restart(bname(b))
	tc.eventually(20*time.Second, "B leads again", func() bool {
		st, ok := tc.broker(b).Partition("t", 0)
		return ok && st.IsLeader
	})
	if st, _ := tc.broker(b).Partition("t", 0); st.LogEndOffset != 1 {
		t.Fatalf("B's log end offset %d after losing m2, want 1", st.LogEndOffset)
	}
	return tc, a, b
}

// kip101 runs the KIP-101 divergence sequence on replicas A (broker 4,
// the leader) and B (broker 3) of a 4-broker cluster (voters 1-3): m1 is
// durable on both; m2 is acked (A's high watermark covers it and is
// checkpointed) but only in B's page cache. A crashes (keeping its page
// cache: m2 survives), B takes over, then B loses power and m2 with it.
// B comes back, leads again and writes m3, m4 at m2's offset and after.
// A comes back and follows. The topic allows unclean leader election:
// otherwise B, knowing it lost m2, would wait for A to answer (and hand
// leadership to it) instead of leading with its short log as Kafka's B
// does in KIP-101's story. It returns the records of B (the leader then)
// and of A once A has caught up and then taken over.
func kip101(t *testing.T, bugs bugzoo.Set) (onB, onA map[int64]string) {
	tc, a, b := kip101LoseM2(t, bugs, true)
	// B reopened below its checkpointed high watermark: before serving it
	// asks the other replica (A, down: no answer) for recoveryWait (3s),
	// as the topic allows unclean leader election.
	tc.run(4 * time.Second)
	for i, m := range []string{"m3-", "m4-"} {
		if pr, ok := tc.produce(b, 1, "t", 0, records(1, m, int64(3+i)), 5000); !ok || pr.ErrorCode != 0 || pr.BaseOffset != int64(1+i) {
			t.Fatalf("%s: %s at %d", m, errName(pr.ErrorCode), pr.BaseOffset)
		}
	}
	tc.eventually(10*time.Second, "B's high watermark at 3", func() bool {
		st, _ := tc.broker(b).Partition("t", 0)
		return st.HighWatermark == 3
	})
	onB, _, code := tc.fetchAll(b, "t", 0)
	if code != 0 || len(onB) != 3 {
		t.Fatalf("read B: %s, %v", errName(code), onB)
	}
	tc.w.Restart(bname(a))
	tc.eventually(30*time.Second, "A back in the ISR", func() bool {
		ip := tc.broker(b).Image().Partition("t", 0)
		return len(ip.ISR) == 2
	})
	tc.w.Crash(bname(b), disk.LoseUnsynced)
	tc.eventually(20*time.Second, "A leads", func() bool {
		st, ok := tc.broker(a).Partition("t", 0)
		return ok && st.IsLeader && st.HighWatermark >= 3
	})
	onA, _, code = tc.fetchAll(a, "t", 0)
	if code != 0 {
		t.Fatalf("read A: %s", errName(code))
	}
	return onB, onA
}

// TestClusterSuspectLeaderWaitsForTheReplicaHoldingMore is KIP-101's
// story on a topic that does not allow unclean leader election: B,
// elected without m2 while A (which holds m2) is down, does not lead with
// its short log however long A stays away; once A is back and answers,
// B hands leadership to it and m2, acknowledged, is still there.
func TestClusterSuspectLeaderWaitsForTheReplicaHoldingMore(t *testing.T) {
	tc, a, b := kip101LoseM2(t, 0, false)
	tc.run(15 * time.Second) // far past the 3 s an unclean topic waits
	if pr, ok := tc.produce(b, 1, "t", 0, records(1, "m3-", 3), 2000); ok && pr.ErrorCode == 0 {
		t.Fatalf("B accepted m3 at %d while A, holding m2, was down", pr.BaseOffset)
	}
	tc.w.Restart(bname(a))
	tc.eventually(30*time.Second, "A leads with m2", func() bool {
		st, ok := tc.broker(a).Partition("t", 0)
		return ok && st.IsLeader && st.HighWatermark >= 2
	})
	onA, _, code := tc.fetchAll(a, "t", 0)
	if code != 0 || !strings.HasPrefix(onA[1], "m2-") {
		t.Fatalf("read A: %s, %v: m2 lost", errName(code), onA)
	}
}

func TestClusterKIP101EpochTruncationPreventsDivergence(t *testing.T) {
	onB, onA := kip101(t, 0)
	for o, v := range onB {
		if onA[o] != v {
			t.Fatalf("replicas diverged at offset %d: B %q, A %q (B %v, A %v)", o, v, onA[o], onB, onA)
		}
	}
}

func TestClusterKIP101TruncateToHWBugDiverges(t *testing.T) {
	bugs, _ := bugzoo.Parse([]string{"follower-truncates-to-hw"})
	onB, onA := kip101(t, bugs)
	if onA[1] == onB[1] {
		t.Fatalf("no divergence with follower-truncates-to-hw: B %v, A %v", onB, onA)
	}
	t.Logf("divergence shown: B %v, A %v", onB, onA)
}

func TestClusterFollowerWithLostLogDirRecoversFromPeers(t *testing.T) {
	tc := newTestCluster(t, 6, 3, 0, nil)
	tc.createTopic(1, "t", 1, 3, map[string]string{"min.insync.replicas": "2"})
	l := tc.leader("t", 0)
	tc.produceBatches(l, "t", 4)
	f := l%3 + 1
	tc.w.Crash(bname(f), disk.LoseUnsynced)
	// The follower's disk loses the partition directory altogether.
	d := tc.w.Disk(bname(f)).Host()
	names, _ := d.List("t-0")
	for _, n := range names {
		if err := d.Remove("t-0/" + n); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Remove("t-0"); err != nil {
		t.Fatal(err)
	}
	tc.run(time.Second)
	tc.w.Restart(bname(f))
	tc.waitReplicated("t", 1)
	st, _ := tc.broker(f).Partition("t", 0)
	if st.LogEndOffset != 8 {
		t.Fatalf("follower log end offset %d after recovery, want 8", st.LogEndOffset)
	}
}

func clusterTraceHash(t *testing.T, seed uint64) uint64 {
	tc := newTestCluster(t, seed, 3, 0, nil)
	tc.createTopic(1, "t", 2, 3, nil)
	l := tc.leader("t", 0)
	for i := 0; i < 3; i++ {
		tc.produce(l, -1, "t", 0, records(1, "v", int64(i)), 5000)
	}
	tc.w.Crash(bname(l), disk.LoseUnsynced)
	tc.run(5 * time.Second)
	tc.w.Restart(bname(l))
	tc.waitReplicated("t", 2)
	return tc.w.TraceHash()
}

func TestClusterDeterministic(t *testing.T) {
	var a, b uint64
	t.Run("first", func(t *testing.T) { a = clusterTraceHash(t, 9) })
	t.Run("second", func(t *testing.T) { b = clusterTraceHash(t, 9) })
	if a != b {
		t.Fatalf("same seed, different trace hashes: %x %x", a, b)
	}
}

// A leader whose log rots steps down to an in-sync replica with an intact
// copy, which then serves everything; the rotten batch is never served,
// and the old leader keeps the intact data around it and keeps following.
func TestClusterCorruptLeaderStepsDown(t *testing.T) {
	tc := newTestCluster(t, 7, 5, 0, nil)
	tc.createAssigned(1, "t", map[string]string{"flush.messages": "1"}, 3, 4, 5)
	want := map[int64]string{}
	for i := 0; i < 4; i++ {
		pr, ok := tc.produce(3, -1, "t", 0, records(2, string(rune('a'+i)), int64(i)), 5000)
		if !ok || pr.ErrorCode != 0 {
			t.Fatalf("produce: %s", errName(pr.ErrorCode))
		}
		want[pr.BaseOffset], want[pr.BaseOffset+1] = string(rune('a'+i))+"a", string(rune('a'+i))+"b"
	}
	if err := tc.w.Disk(bname(3)).BitRot("t-0/00000000000000000000.log", 70); err != nil {
		t.Fatal(err)
	}
	resp := tc.mustCall(3, fetchReq("t", 0, 0, 0, 0)).(*kmsg.FetchResponse)
	if c := resp.Topics[0].Partitions[0].ErrorCode; c != kerr.KafkaStorageError.Code {
		t.Fatalf("read of a rotten batch: %s", errName(c))
	}
	tc.eventually(20*time.Second, "leadership moved off the rotten replica", func() bool {
		l := tc.leader("t", 0)
		return l == 4 || l == 5
	})
	l := tc.leader("t", 0)
	if pr, ok := tc.produce(l, -1, "t", 0, records(1, "z", 9), 5000); !ok || pr.ErrorCode != 0 {
		t.Fatalf("produce to the new leader: %s", errName(pr.ErrorCode))
	} else {
		want[pr.BaseOffset] = "za"
	}
	tc.waitReplicated("t", 1)
	got, _, code := tc.fetchAll(l, "t", 0)
	if code != 0 || len(got) != len(want) {
		t.Fatalf("read %d: %s, %v", l, errName(code), got)
	}
	for o, v := range want {
		if got[o] != v {
			t.Fatalf("offset %d: %q, want %q", o, got[o], v)
		}
	}
	// Alone, broker 3 never serves the rotten batch. Its first read of it
	// makes it reopen its log cut at the rot; having lost records that
	// the others may hold, it then serves nothing until they answer
	// (NOT_LEADER_OR_FOLLOWER), and hands leadership to one of them.
	tc.w.Crash(bname(4), disk.LoseUnsynced)
	tc.w.Crash(bname(5), disk.LoseUnsynced)
	tc.eventually(20*time.Second, "3 leads", func() bool {
		st, ok := tc.broker(3).Partition("t", 0)
		return ok && st.IsLeader
	})
	for off := int64(0); off < int64(len(want)); off++ {
		fp := tc.mustCall(3, fetchReq("t", 0, off, 0, 0)).(*kmsg.FetchResponse).Topics[0].Partitions[0]
		if fp.ErrorCode != 0 {
			if fp.ErrorCode != kerr.KafkaStorageError.Code && fp.ErrorCode != kerr.NotLeaderForPartition.Code {
				t.Fatalf("offset %d: %s", off, errName(fp.ErrorCode))
			}
			continue
		}
		for o, v := range values(t, fp.RecordBatches) {
			if want[o] != v {
				t.Fatalf("broker 3 served %q at %d, want %q", v, o, want[o])
			}
		}
	}
	tc.run(10 * time.Second)
	if pr, ok := tc.produce(3, -1, "t", 0, records(1, "y", 10), 2000); ok && pr.ErrorCode == 0 {
		t.Fatalf("broker 3 took a write at %d with its log cut at the rot and its peers down", pr.BaseOffset)
	}
	tc.w.Restart(bname(4))
	tc.w.Restart(bname(5))
	tc.eventually(30*time.Second, "leadership handed to a replica holding every record", func() bool {
		l := tc.leader("t", 0)
		return l == 4 || l == 5
	})
	got, _, code = tc.fetchAll(tc.leader("t", 0), "t", 0)
	if code != 0 || len(got) != len(want) {
		t.Fatalf("read after the hand-over: %s, %v", errName(code), got)
	}
	for o, v := range want {
		if got[o] != v {
			t.Fatalf("after the hand-over, offset %d: %q, want %q", o, got[o], v)
		}
	}
}

// The last ISR member loses its unsynced log in a power loss while the
// other replicas, out of the ISR, still hold every acknowledged record.
// Re-elected, it must not make them truncate to its empty log: it asks
// them first and hands leadership to one that holds the data.
func TestClusterLastISRMemberWithLostDataHandsOver(t *testing.T) {
	tc := newTestCluster(t, 8, 5, 0, func(c *broker.Config) { c.ReplicaLagTimeMaxMs = 2000 })
	tc.createAssigned(1, "t", map[string]string{"min.insync.replicas": "2"}, 3, 4, 5)
	want := map[int64]string{}
	for i := 0; i < 5; i++ {
		pr, ok := tc.produce(3, -1, "t", 0, records(2, string(rune('a'+i)), int64(i)), 5000)
		if !ok || pr.ErrorCode != 0 {
			t.Fatalf("produce: %s", errName(pr.ErrorCode))
		}
		want[pr.BaseOffset], want[pr.BaseOffset+1] = string(rune('a'+i))+"a", string(rune('a'+i))+"b"
	}
	tc.run(2 * time.Second) // high watermark checkpoints
	// Cut the leader off from its followers: the ISR shrinks to it.
	tc.w.Net().Split([]string{bname(3)}, []string{bname(4), bname(5)})
	if pr, ok := tc.produce(3, 1, "t", 0, records(1, "x", 9), 2000); !ok || pr.ErrorCode != 0 {
		t.Fatalf("acks=1 produce: %s", errName(pr.ErrorCode))
	}
	tc.eventually(20*time.Second, "ISR = {3}", func() bool {
		return slices.Equal(tc.broker(1).Image().Partition("t", 0).ISR, []int32{3})
	})
	tc.w.Crash(bname(3), disk.LoseUnsynced) // flush never: its log is gone
	tc.w.Net().Heal()
	tc.eventually(20*time.Second, "partition offline", func() bool { return tc.leader("t", 0) == -1 })
	tc.w.Restart(bname(3))
	tc.eventually(30*time.Second, "a leader serving the data", func() bool {
		l := tc.leader("t", 0)
		if l < 0 || !tc.w.Up(bname(l)) {
			return false
		}
		st, ok := tc.broker(l).Partition("t", 0)
		return ok && st.IsLeader && st.HighWatermark >= 10
	})
	l := tc.leader("t", 0)
	got, _, code := tc.fetchAll(l, "t", 0)
	if code != 0 {
		t.Fatalf("read from %d: %s", l, errName(code))
	}
	for o, v := range want {
		if got[o] != v {
			t.Fatalf("acked record %d=%q is %q on leader %d (%v)", o, v, got[o], l, got)
		}
	}
	tc.waitReplicated("t", 1)
}

// Deleting a topic removes every replica's log; a topic re-created under
// the same name starts empty, never serving the old directory.
func TestClusterDeleteAndRecreateTopic(t *testing.T) {
	tc := newTestCluster(t, 10, 3, 0, nil)
	tc.createTopic(1, "d", 1, 3, nil)
	l := tc.leader("d", 0)
	for i := 0; i < 3; i++ {
		if pr, ok := tc.produce(l, -1, "d", 0, records(1, "old", int64(i)), 5000); !ok || pr.ErrorCode != 0 {
			t.Fatalf("produce: %s", errName(pr.ErrorCode))
		}
	}
	del := kmsg.NewPtrDeleteTopicsRequest()
	del.Version = 6
	dt := kmsg.NewDeleteTopicsRequestTopic()
	dt.Topic = kmsg.StringPtr("d")
	del.Topics = append(del.Topics, dt)
	if c := tc.mustCall(2, del).(*kmsg.DeleteTopicsResponse).Topics[0].ErrorCode; c != 0 {
		t.Fatalf("delete: %s", errName(c))
	}
	tc.eventually(10*time.Second, "topic gone everywhere", func() bool {
		for i := 1; i <= 3; i++ {
			if _, ok := tc.broker(i).Partition("d", 0); ok || tc.broker(i).Image().Topic("d") != nil {
				return false
			}
		}
		return true
	})
	tc.createTopic(3, "d", 1, 3, nil)
	l = tc.leader("d", 0)
	pr, ok := tc.produce(l, -1, "d", 0, records(1, "new", 9), 5000)
	if !ok || pr.ErrorCode != 0 || pr.BaseOffset != 0 {
		t.Fatalf("produce to the re-created topic: %s at %d", errName(pr.ErrorCode), pr.BaseOffset)
	}
	got, _, code := tc.fetchAll(l, "d", 0)
	if code != 0 || len(got) != 1 || got[0] != "newa" {
		t.Fatalf("re-created topic holds %v (%s)", got, errName(code))
	}
}

// TestConsumerFetchBetweenHighWatermarkAndLogEnd: a consumer whose offset
// lies above the leader's high watermark but inside its log (the leader
// took acks=1 writes its followers have not fetched yet; likewise a new
// leader whose high watermark still lags the old one's) gets no records
// and no error — Kafka's behaviour — not OFFSET_OUT_OF_RANGE, which makes
// clients reset to auto.offset.reset and re-read from the start. Only an
// offset past the log end is out of range. (Found by loglab bench --check:
// a group consumer re-read a partition after a leader kill.)
func TestConsumerFetchBetweenHighWatermarkAndLogEnd(t *testing.T) {
	tc := newTestCluster(t, 5, 3, 0, nil)
	tc.createTopic(1, "t", 1, 3, nil)
	l := tc.leader("t", 0)
	if pr, ok := tc.produce(l, -1, "t", 0, records(3, "a", 1), 5000); !ok || pr.ErrorCode != 0 {
		t.Fatalf("acks=all produce: %s", errName(pr.ErrorCode))
	}
	var followers []string
	for i := 1; i <= 3; i++ {
		if i != l {
			followers = append(followers, bname(i))
		}
	}
	tc.w.Net().Split([]string{bname(l)}, followers)
	if pr, ok := tc.produce(l, 1, "t", 0, records(4, "b", 2), 5000); !ok || pr.ErrorCode != 0 {
		t.Fatalf("acks=1 produce: %s", errName(pr.ErrorCode))
	}
	st, _ := tc.broker(l).Partition("t", 0)
	if st.HighWatermark != 3 || st.LogEndOffset != 7 {
		t.Fatalf("leader: high watermark %d, log end %d; want 3 and 7", st.HighWatermark, st.LogEndOffset)
	}
	for _, c := range []struct {
		offset int64
		want   int16
	}{{3, 0}, {5, 0}, {7, 0}, {8, kerr.OffsetOutOfRange.Code}} {
		fp := tc.mustCall(l, fetchReq("t", 0, c.offset, 0, 0)).(*kmsg.FetchResponse).Topics[0].Partitions[0]
		if fp.ErrorCode != c.want || len(fp.RecordBatches) != 0 || fp.HighWatermark != 3 {
			t.Errorf("consumer fetch at %d: %s, %d bytes, high watermark %d; want %s, none, 3",
				c.offset, errName(fp.ErrorCode), len(fp.RecordBatches), fp.HighWatermark, errName(c.want))
		}
	}
	tc.w.Net().Heal()
}

// TestClusterFollowerAnswersItsRecoveringLeader checks the answer a
// follower gives its leader's recovery inquiry (replica_recovery.go): for
// an epoch newer than any it holds, its newest epoch and its log end
// offset (Kafka's leader would say UNDEFINED), so a leader that lost the
// batches of a later epoch still learns how far the follower's log goes;
// for an epoch it holds, Kafka's answer. Anyone else asking a follower
// gets NOT_LEADER_OR_FOLLOWER.
func TestClusterFollowerAnswersItsRecoveringLeader(t *testing.T) {
	tc := newTestCluster(t, 4, 3, 0, nil)
	tc.createTopic(1, "t", 1, 3, map[string]string{"min.insync.replicas": "2"})
	l := tc.leader("t", 0)
	tc.produceBatches(l, "t", 3)
	tc.waitReplicated("t", 1)
	f := l%3 + 1
	st, _ := tc.broker(f).Partition("t", 0)
	ask := func(replicaID int32, epoch int32) kmsg.OffsetForLeaderEpochResponseTopicPartition {
		o := kmsg.NewPtrOffsetForLeaderEpochRequest()
		o.Version, o.ReplicaID = 4, replicaID
		ot := kmsg.NewOffsetForLeaderEpochRequestTopic()
		ot.Topic = "t"
		op := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		op.CurrentLeaderEpoch, op.LeaderEpoch = st.LeaderEpoch, epoch
		ot.Partitions = append(ot.Partitions, op)
		o.Topics = append(o.Topics, ot)
		return tc.mustCall(f, o).(*kmsg.OffsetForLeaderEpochResponse).Topics[0].Partitions[0]
	}
	for _, epoch := range []int32{st.LeaderEpoch, st.LeaderEpoch + 5, 1<<31 - 1} {
		a := ask(int32(l), epoch)
		if a.ErrorCode != 0 || a.LeaderEpoch != st.LeaderEpoch || a.EndOffset != 6 {
			t.Fatalf("asked for epoch %d: %s, epoch %d, end %d; want epoch %d, end 6", epoch, errName(a.ErrorCode), a.LeaderEpoch, a.EndOffset, st.LeaderEpoch)
		}
	}
	if a := ask(int32(f%3+1), st.LeaderEpoch); a.ErrorCode != kerr.NotLeaderForPartition.Code {
		t.Fatalf("a non-leader asking a follower: %s", errName(a.ErrorCode))
	}
}

// TestClusterHighWatermarkHoldsBelowMinISR is KIP-966's strict min-ISR
// rule: with its followers cut off, records the leader appends (acks=1)
// stay above the high watermark, invisible to consumers, after the leader
// has shrunk the ISR to itself, below min.insync.replicas=2, and until a
// follower is back in the ISR. With the bug zoo's hw-below-min-isr (Kafka before
// KIP-966) the high watermark runs on to the leader's log end.
func TestClusterHighWatermarkHoldsBelowMinISR(t *testing.T) {
	for _, c := range []struct {
		name   string
		bugs   bugzoo.Set
		heldHW int64 // the leader's high watermark while the ISR is only itself
	}{{"strict", 0, 3}, {"hw-below-min-isr", bugzoo.Set(0).With(bugzoo.HWBelowMinISR), 7}} {
		t.Run(c.name, func(t *testing.T) {
			tc := newTestCluster(t, 7, 6, c.bugs, func(cfg *broker.Config) { cfg.ReplicaLagTimeMaxMs = 2000 })
			tc.createAssigned(1, "t", map[string]string{"min.insync.replicas": "2"}, 4, 5, 6)
			if pr, ok := tc.produce(4, -1, "t", 0, records(3, "a", 1), 5000); !ok || pr.ErrorCode != 0 {
				t.Fatalf("acks=all produce: %s", errName(pr.ErrorCode))
			}
			// Brokers 1-3 are the controller quorum: every broker keeps
			// its session; only the followers' fetches fail.
			tc.w.Net().Split([]string{bname(4)}, []string{bname(5), bname(6)})
			if pr, ok := tc.produce(4, 1, "t", 0, records(4, "b", 2), 5000); !ok || pr.ErrorCode != 0 {
				t.Fatalf("acks=1 produce: %s", errName(pr.ErrorCode))
			}
			tc.eventually(20*time.Second, "the ISR shrunk to the leader", func() bool {
				return slices.Equal(tc.broker(4).Image().Partition("t", 0).ISR, []int32{4})
			})
			if pr, ok := tc.produce(4, -1, "t", 0, records(1, "c", 3), 5000); !ok || pr.ErrorCode != kerr.NotEnoughReplicas.Code {
				t.Fatalf("acks=all produce below min ISR: %s, want NOT_ENOUGH_REPLICAS", errName(pr.ErrorCode))
			}
			tc.run(time.Second)
			if st, _ := tc.broker(4).Partition("t", 0); st.HighWatermark != c.heldHW || st.LogEndOffset != 7 {
				t.Fatalf("leader alone in the ISR: high watermark %d, log end %d; want %d and 7", st.HighWatermark, st.LogEndOffset, c.heldHW)
			}
			if got, hw, code := tc.fetchAll(4, "t", 0); code != 0 || int64(len(got)) != c.heldHW || hw != c.heldHW {
				t.Fatalf("consumer read %d records (high watermark %d, %s); want %d", len(got), hw, errName(code), c.heldHW)
			}
			tc.w.Net().Heal()
			tc.eventually(20*time.Second, "the high watermark covers the acks=1 records", func() bool {
				st, _ := tc.broker(4).Partition("t", 0)
				return st.HighWatermark == 7
			})
			if ip := tc.broker(4).Image().Partition("t", 0); c.bugs.Empty() && len(ip.ISR) < 2 {
				t.Fatalf("high watermark moved with ISR %v", ip.ISR)
			}
		})
	}
}

// TestClusterFollowerRejoinsWhileSyncingEveryAppend: under
// flush.messages=1 a follower fetches a partition on only once what it
// appended is durable. Its fetcher has one request in flight at a time,
// so while a partition waits for its sync the fetch for the others must
// not long-poll for replica.fetch.wait.max.ms (500 ms): a follower back
// from a pause then fetched once per long poll, always half a second of
// production behind the high watermark, and never rejoined the ISR while
// producers ran (found by liveness.converge in the generic swarm: 30 s).
func TestClusterFollowerRejoinsWhileSyncingEveryAppend(t *testing.T) {
	tc := newTestCluster(t, 21, 3, 0, func(c *broker.Config) { c.ReplicaLagTimeMaxMs = 1000 })
	sync := map[string]string{"flush.messages": "1"}
	tc.createAssigned(1, "a", sync, 1, 2, 3)
	tc.createAssigned(1, "b", sync, 1, 2, 3) // idle: its fetch long-polls
	k := 0
	produce := func(d time.Duration) {
		for end := tc.w.Elapsed() + d; tc.w.Elapsed() < end; k++ {
			if pr, ok := tc.produce(1, 1, "a", 0, records(2, "v", int64(k)), 5000); !ok || pr.ErrorCode != 0 {
				t.Fatalf("produce %d: %s", k, errName(pr.ErrorCode))
			}
			tc.run(20 * time.Millisecond)
		}
	}
	inISR := func() bool {
		st, ok := tc.broker(1).Partition("a", 0)
		return ok && slices.Contains(st.ISR, 3)
	}
	tc.w.Pause(bname(3))
	produce(5 * time.Second)
	if inISR() {
		t.Fatal("broker 3 still in the ISR after a 5 s pause (replica.lag.time.max.ms 1000)")
	}
	tc.w.Resume(bname(3))
	start := tc.w.Elapsed()
	for !inISR() {
		if tc.w.Elapsed()-start > 5*time.Second {
			t.Fatalf("broker 3 not back in the ISR 5 s after its pause, with records arriving every 20 ms")
		}
		produce(100 * time.Millisecond)
	}
	// One fetch of the backlog, a sync, then fetches every few ms: back
	// at once (100 ms, the loop's step). With 500 ms long polls it took
	// 1.1 s here, and in the swarm, with more partitions and producers,
	// until the producers stopped.
	if took := tc.w.Elapsed() - start; took > 500*time.Millisecond {
		t.Fatalf("broker 3 back in the ISR only %v after its pause", took)
	}
}
