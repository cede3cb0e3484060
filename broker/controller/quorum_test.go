package controller_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/sim/disk"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestLeaderElected(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			h := newHarness(t, 1, opts{voters: n})
			l := h.waitLeader()
			// Let heartbeats settle, then every voter agrees on one leader.
			h.w.RunFor(2 * time.Second)
			leaders := 0
			for _, name := range h.voters {
				v := h.voter(name)
				if v.IsLeader() {
					leaders++
				}
				if v.Leader() != h.voter(l).ID() {
					t.Errorf("%s follows %d, leader is %s", name, v.Leader(), l)
				}
			}
			if leaders != 1 {
				t.Fatalf("%d leaders", leaders)
			}
		})
	}
}

func TestCommandsReplicateToVotersAndFollowers(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			h := newHarness(t, 2, opts{voters: n, brokers: 3})
			h.waitLeader()
			h.waitBrokersUnfenced(h.brokers...)
			res := h.submit("broker-1", createTopic("orders", 6, 3))
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			res = h.submit("broker-2", createTopic("orders", 1, 1))
			if !errors.Is(res.Err, kerr.TopicAlreadyExists) {
				t.Fatalf("duplicate: %v", res.Err)
			}
			img := h.converged()
			tp := img.Topic("orders")
			if tp == nil || len(tp.Partitions) != 6 {
				t.Fatalf("topic: %+v", tp)
			}
			for _, p := range tp.Partitions {
				if len(p.Replicas) != 3 || p.Leader != p.Replicas[0] {
					t.Fatalf("partition %+v", p)
				}
			}
		})
	}
}

func TestReplicationFactorAboveBrokerCount(t *testing.T) {
	h := newHarness(t, 3, opts{voters: 3, brokers: 2})
	h.waitLeader()
	h.waitBrokersUnfenced(h.brokers...)
	res := h.submit("broker-1", createTopic("t", 1, 3))
	if !errors.Is(res.Err, kerr.InvalidReplicationFactor) {
		t.Fatalf("got %v, want INVALID_REPLICATION_FACTOR", res.Err)
	}
}

// TestLeaderCrashKeepsCommitted power-fails the active controller in each
// crash mode: unsynced raft log data is lost or torn, yet no committed record
// may be lost, since every voter syncs before it acknowledges.
func TestLeaderCrashKeepsCommitted(t *testing.T) {
	for _, mode := range []disk.CrashMode{disk.LoseUnsynced, disk.KeepRandomPages, disk.TornLastSector} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			h := newHarness(t, 4, opts{voters: 3, brokers: 3})
			old := h.waitLeader()
			h.waitBrokersUnfenced(h.brokers...)
			for i := 0; i < 5; i++ {
				if res := h.submit("broker-1", createTopic(fmt.Sprintf("t%d", i), 2, 2)); res.Err != nil {
					t.Fatal(res.Err)
				}
			}
			committed := h.voter(old).Applied()
			h.w.Crash(old, mode)
			h.eventually(10*time.Second, "a new leader", func() bool { l := h.leader(); return l != "" && l != old })
			if res := h.submit("broker-2", createTopic("after", 1, 3)); res.Err != nil {
				t.Fatal(res.Err)
			}
			h.w.Start(old)
			h.converged()
			// Correlated power loss of the whole quorum: only what raft
			// synced survives, and that includes every committed record.
			for _, n := range h.voters {
				h.w.Crash(n, mode)
			}
			for _, n := range h.voters {
				h.w.Start(n)
			}
			h.waitLeader()
			img := h.converged()
			for i := 0; i < 5; i++ {
				if img.Topic(fmt.Sprintf("t%d", i)) == nil {
					t.Fatalf("committed topic t%d lost", i)
				}
			}
			if img.Topic("after") == nil || uint64(img.Offset) <= committed {
				t.Fatalf("image at %d after crash at %d", img.Offset, committed)
			}
		})
	}
}

func TestIsolatedLeaderStepsDown(t *testing.T) {
	h := newHarness(t, 5, opts{voters: 3, brokers: 2})
	old := h.waitLeader()
	h.waitBrokersUnfenced(h.brokers...)
	oldTerm := h.voter(old).Term()
	h.w.Net().Isolate(old)
	h.eventually(10*time.Second, "a leader among the others", func() bool {
		for _, n := range h.voters {
			if n != old && h.voter(n).IsLeader() {
				return true
			}
		}
		return false
	})
	// CheckQuorum: the isolated leader steps down on its own.
	h.eventually(5*time.Second, "the isolated leader stepping down", func() bool { return !h.voter(old).IsLeader() })
	if res := h.submit("broker-1", createTopic("during", 1, 2)); res.Err != nil {
		t.Fatal(res.Err)
	}
	h.w.Net().Heal()
	img := h.converged()
	if h.leader() == old && h.voter(old).Term() == oldTerm {
		t.Fatal("old leader kept its term")
	}
	if img.Topic("during") == nil {
		t.Fatal("record written during the partition missing")
	}
}

func TestSilentBrokerIsFencedAndLosesLeadership(t *testing.T) {
	h := newHarness(t, 6, opts{voters: 3, brokers: 3})
	h.waitLeader()
	h.waitBrokersUnfenced(h.brokers...)
	if res := h.submit("broker-1", createTopic("t", 6, 3)); res.Err != nil {
		t.Fatal(res.Err)
	}
	before := h.converged()
	h.w.Crash("broker-2", disk.LoseUnsynced)
	crashed := h.w.Elapsed()
	h.eventually(10*time.Second, "broker 2 fenced", func() bool {
		l := h.leader()
		return l != "" && h.voter(l).Image().Broker(2).Fenced
	})
	// Session timeout 3s, checked every tick, plus commit latency.
	if took := h.w.Elapsed() - crashed; took > 4*time.Second {
		t.Fatalf("fenced after %v", took)
	}
	img := h.converged()
	for i, p := range img.Topic("t").Partitions {
		if p.Leader == 2 || slices.Contains(p.ISR, 2) || p.Leader == metadata.NoLeader {
			t.Fatalf("partition %d: %+v", i, p)
		}
		old := before.Topic("t").Partitions[i]
		if old.Leader == 2 && (p.LeaderEpoch != old.LeaderEpoch+1 || !slices.Contains(old.ISR, p.Leader)) {
			t.Fatalf("partition %d: leader not from the ISR: %+v -> %+v", i, old, p)
		}
	}
	// Broker 2 restarts: a new registration, unfenced once it heartbeats.
	h.w.Start("broker-2")
	h.waitBrokersUnfenced("broker-2")
	img = h.converged()
	if b := img.Broker(2); b.Epoch <= before.Broker(2).Epoch {
		t.Fatalf("restart kept epoch %d", b.Epoch)
	}
	// The partition leaders add it back to their ISRs; the controller then
	// moves leadership back to it where it is the preferred leader.
	for _, p := range img.Topic("t").Partitions {
		isr := append(slices.Clone(p.ISR), 2)
		b := fmt.Sprintf("broker-%d", p.Leader)
		res := h.submit(b, metadata.Record{Type: metadata.TypeAlterPartition, AlterPartition: &metadata.AlterPartition{
			Topic: "t", Partition: p.Index, BrokerID: p.Leader, BrokerEpoch: img.Broker(p.Leader).Epoch,
			LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch, ISR: isr}})
		if res.Err != nil {
			t.Fatalf("AlterPartition %d: %v", p.Index, res.Err)
		}
	}
	h.eventually(10*time.Second, "preferred leaders back", func() bool {
		l := h.leader()
		if l == "" {
			return false
		}
		for _, p := range h.voter(l).Image().Topic("t").Partitions {
			if p.Leader != p.Replicas[0] {
				return false
			}
		}
		return true
	})
}

func TestUncleanLeaderElection(t *testing.T) {
	for _, unclean := range []string{"false", "true"} {
		t.Run(unclean, func(t *testing.T) {
			h := newHarness(t, 7, opts{voters: 3, brokers: 2})
			h.waitLeader()
			h.waitBrokersUnfenced(h.brokers...)
			res := h.submit("broker-1", metadata.Record{Type: metadata.TypeCreateTopic, CreateTopic: &metadata.CreateTopic{
				Name: "t", Assignments: [][]int32{{1, 2}},
				Configs: []metadata.Config{{Key: metadata.UncleanLeaderElectionConfig, Value: unclean}}}})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			img := h.converged()
			p := img.Partition("t", 0)
			// Broker 2 falls behind: the leader shrinks the ISR to itself.
			res = h.submit("broker-1", metadata.Record{Type: metadata.TypeAlterPartition, AlterPartition: &metadata.AlterPartition{
				Topic: "t", BrokerID: 1, BrokerEpoch: img.Broker(1).Epoch, LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch, ISR: []int32{1}}})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			h.w.Crash("broker-1", disk.LoseUnsynced)
			h.eventually(10*time.Second, "broker 1 fenced", func() bool {
				l := h.leader()
				return l != "" && h.voter(l).Image().Broker(1).Fenced
			})
			p = h.converged().Partition("t", 0)
			if unclean == "false" && (p.Leader != metadata.NoLeader || !slices.Equal(p.ISR, []int32{1})) {
				t.Fatalf("clean: want offline, got %+v", p)
			}
			if unclean == "true" && (p.Leader != 2 || !slices.Equal(p.ISR, []int32{2})) {
				t.Fatalf("unclean: want out-of-sync broker 2 elected, got %+v", p)
			}
		})
	}
}

func TestCombinedMode(t *testing.T) {
	h := newHarness(t, 8, opts{voters: 3, brokers: 4, combined: true})
	l := h.waitLeader()
	h.waitBrokersUnfenced(h.brokers...)
	if res := h.submit("broker-4", createTopic("t", 4, 3)); res.Err != nil {
		t.Fatal(res.Err)
	}
	h.converged()
	// Crash the broker hosting the active controller: both roles fail over.
	h.w.Crash(l, disk.LoseUnsynced)
	h.eventually(10*time.Second, "a new leader", func() bool { n := h.leader(); return n != "" && n != l })
	h.eventually(10*time.Second, "the crashed broker fenced", func() bool {
		return h.voter(h.leader()).Image().Broker(h.broker(h.brokers[3]).id) != nil &&
			h.voter(h.leader()).Image().Broker(int32(l[len(l)-1]-'0')).Fenced
	})
	h.w.Start(l)
	img := h.converged()
	if img.Topic("t") == nil {
		t.Fatal("topic lost")
	}
}

// TestSnapshotAndCatchUp compacts the raft log often; a voter that was down
// catches up (by raft snapshot when needed) and recovers from its own
// snapshot after a crash, and a new follower starts from a snapshot.
func TestSnapshotAndCatchUp(t *testing.T) {
	h := newHarness(t, 9, opts{voters: 3, brokers: 2, snapshotBytes: 4 << 10})
	h.waitLeader()
	h.waitBrokersUnfenced(h.brokers...)
	down := h.voters[0]
	if down == h.leader() {
		down = h.voters[1]
	}
	h.w.Crash(down, disk.LoseUnsynced)
	for i := 0; i < 40; i++ {
		if res := h.submit("broker-1", createTopic(fmt.Sprintf("topic-%02d", i), 3, 2)); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	h.w.Start(down)
	h.w.Crash("broker-2", disk.LoseUnsynced)
	h.w.Start("broker-2")
	img := h.converged()
	if len(img.Topics) != 40 {
		t.Fatalf("%d topics", len(img.Topics))
	}
	// Every voter restarts from its own compacted log.
	for _, n := range h.voters {
		h.w.Crash(n, disk.LoseUnsynced)
		h.w.Start(n)
	}
	h.waitLeader()
	if img2 := h.converged(); len(img2.Topics) != 40 {
		t.Fatalf("after restart: %d topics", len(img2.Topics))
	}
}
