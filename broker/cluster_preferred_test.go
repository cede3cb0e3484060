package broker_test

import (
	"testing"
	"time"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/sim/disk"
)

// After its preferred leader (the first replica) crashes, a partition is
// led by another ISR member; once the preferred replica is back, caught up
// and in the ISR, the active controller's imbalance check moves leadership
// back to it, at a higher leader epoch, and it serves produces again.
func TestClusterPreferredLeaderReturnsAfterRecovery(t *testing.T) {
	tc := newTestCluster(t, 11, 3, 0, func(c *broker.Config) {
		if c.Voter != nil {
			c.Voter.LeaderImbalanceCheckInterval = 2 * time.Second // the test clusters switch it off
		}
	})
	tc.createAssigned(1, "p", map[string]string{"min.insync.replicas": "2"}, 1, 2, 3)
	if l := tc.leader("p", 0); l != 1 {
		t.Fatalf("leader %d at creation, want the preferred replica 1", l)
	}
	for i := 0; i < 3; i++ {
		if pr, ok := tc.produce(1, -1, "p", 0, records(1, "a", int64(i)), 5000); !ok || pr.ErrorCode != 0 {
			t.Fatalf("produce %d: %s", i, errName(pr.ErrorCode))
		}
	}
	tc.w.Crash(bname(1), disk.LoseUnsynced)
	var other int
	tc.eventually(30*time.Second, "a leader other than broker 1", func() bool {
		other = tc.leader("p", 0)
		return other > 1
	})
	epoch := tc.broker(other).Image().Partition("p", 0).LeaderEpoch
	if pr, ok := tc.produce(other, -1, "p", 0, records(1, "b", 3), 5000); !ok || pr.ErrorCode != 0 {
		t.Fatalf("produce to broker %d: %s", other, errName(pr.ErrorCode))
	}
	tc.w.Restart(bname(1))
	tc.eventually(60*time.Second, "broker 1 leading again", func() bool {
		st, ok := tc.broker(1).Partition("p", 0)
		return ok && st.IsLeader && st.Leader == 1
	})
	st, _ := tc.broker(1).Partition("p", 0)
	if st.LeaderEpoch <= epoch {
		t.Fatalf("leader epoch %d after the preferred election, want > %d", st.LeaderEpoch, epoch)
	}
	if pr, ok := tc.produce(1, -1, "p", 0, records(1, "c", 4), 5000); !ok || pr.ErrorCode != 0 || pr.BaseOffset != 4 {
		t.Fatalf("produce to the preferred leader: %s at %d, want offset 4", errName(pr.ErrorCode), pr.BaseOffset)
	}
	got, _, code := tc.fetchAll(1, "p", 0)
	if code != 0 || len(got) != 5 {
		t.Fatalf("fetch from the preferred leader: %s, %d records %v", errName(code), len(got), got)
	}
}
