package broker_test

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/sim/disk"
)

// Each replication bug of the zoo, switched on, changes one observable
// outcome that the correct broker gets right. (The follower-truncates-to-hw
// pair is TestClusterKIP101*.)

func mustBug(t *testing.T, name string) bugzoo.Set {
	t.Helper()
	s, err := bugzoo.Parse([]string{name})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hwBeforeISR produces acks=all to a leader whose followers are paused and
// returns the answer's error code.
func hwBeforeISR(t *testing.T, bugs bugzoo.Set) int16 {
	tc := newTestCluster(t, 21, 5, bugs, nil)
	tc.createAssigned(1, "t", nil, 3, 4, 5)
	tc.w.Pause(bname(4))
	tc.w.Pause(bname(5))
	pr, ok := tc.produce(3, -1, "t", 0, records(1, "x", 1), 1000)
	if !ok {
		t.Fatal("no answer")
	}
	return pr.ErrorCode
}

func TestBugHWBeforeISR(t *testing.T) {
	t.Run("correct", func(t *testing.T) {
		if c := hwBeforeISR(t, 0); c != kerr.RequestTimedOut.Code {
			t.Fatalf("acks=all with followers paused answered %s, want REQUEST_TIMED_OUT", errName(c))
		}
	})
	t.Run("hw-before-isr", func(t *testing.T) {
		if c := hwBeforeISR(t, mustBug(t, "hw-before-isr")); c != 0 {
			t.Fatalf("acks=all answered %s, want an ack nobody else has", errName(c))
		}
	})
}

// isrShrink cuts the leader off from its followers (which keep talking to
// the controller), produces acks=all and returns whether the committed
// ISR, once the produce is acknowledged, holds only replicas that have the
// record.
func isrShrink(t *testing.T, bugs bugzoo.Set) bool {
	tc := newTestCluster(t, 22, 5, bugs, func(c *broker.Config) { c.ReplicaLagTimeMaxMs = 2000 })
	tc.createAssigned(1, "t", nil, 3, 4, 5)
	tc.w.Net().Split([]string{bname(3)}, []string{bname(4), bname(5)})
	pr, ok := tc.produce(3, -1, "t", 0, records(1, "x", 1), 30_000)
	if !ok || pr.ErrorCode != 0 {
		t.Fatalf("acks=all: %s (answered %v)", errName(pr.ErrorCode), ok)
	}
	ip := tc.broker(3).Image().Partition("t", 0)
	for _, r := range ip.ISR {
		if st, _ := tc.broker(int(r)).Partition("t", 0); st.LogEndOffset <= pr.BaseOffset {
			return false
		}
	}
	return true
}

func TestBugISRShrinkWithoutController(t *testing.T) {
	t.Run("correct", func(t *testing.T) {
		if !isrShrink(t, 0) {
			t.Fatal("acknowledged a record the committed ISR does not hold")
		}
	})
	t.Run("isr-shrink-without-controller", func(t *testing.T) {
		if isrShrink(t, mustBug(t, "isr-shrink-without-controller")) {
			t.Fatal("the committed ISR held every acked record")
		}
	})
}

// fencedLeader moves leadership from broker 4 back to the preferred
// leader 5 and then produces to 4; it returns the error code.
func fencedLeader(t *testing.T, bugs bugzoo.Set) int16 {
	tc := newTestCluster(t, 23, 5, bugs, func(c *broker.Config) {
		if c.Voter != nil {
			c.Voter.LeaderImbalanceCheckInterval = time.Second
		}
	})
	tc.createAssigned(1, "t", nil, 5, 4)
	tc.w.Crash(bname(5), disk.LoseUnsynced)
	tc.eventually(20*time.Second, "4 leads", func() bool {
		st, ok := tc.broker(4).Partition("t", 0)
		return ok && st.IsLeader
	})
	tc.w.Restart(bname(5))
	tc.eventually(30*time.Second, "5 leads again", func() bool {
		st, ok := tc.broker(5).Partition("t", 0)
		return ok && st.IsLeader && tc.broker(4).Image().Partition("t", 0).Leader == 5
	})
	pr, ok := tc.produce(4, -1, "t", 0, records(1, "x", 1), 2000)
	if !ok {
		t.Fatal("no answer")
	}
	return pr.ErrorCode
}

func TestBugFencedLeaderAcceptsWrites(t *testing.T) {
	t.Run("correct", func(t *testing.T) {
		if c := fencedLeader(t, 0); c != kerr.NotLeaderForPartition.Code {
			t.Fatalf("former leader answered %s, want NOT_LEADER_OR_FOLLOWER", errName(c))
		}
	})
	t.Run("fenced-leader-accepts-writes", func(t *testing.T) {
		if c := fencedLeader(t, mustBug(t, "fenced-leader-accepts-writes")); c != 0 {
			t.Fatalf("former leader answered %s, want an ack", errName(c))
		}
	})
}

// uncleanElection loses the last ISR member while the other replica is
// down, brings the other replica back and returns the leader then.
func uncleanElection(t *testing.T, bugs bugzoo.Set) int {
	tc := newTestCluster(t, 24, 5, bugs, nil)
	tc.createAssigned(1, "t", nil, 4, 5)
	tc.w.Crash(bname(5), disk.LoseUnsynced)
	tc.eventually(20*time.Second, "ISR = {4}", func() bool {
		ip := tc.broker(4).Image().Partition("t", 0)
		return slices.Equal(ip.ISR, []int32{4})
	})
	if pr, ok := tc.produce(4, -1, "t", 0, records(1, "x", 1), 2000); !ok || pr.ErrorCode != 0 {
		t.Fatalf("produce: %s", errName(pr.ErrorCode))
	}
	tc.w.Crash(bname(4), disk.LoseUnsynced)
	tc.eventually(20*time.Second, "partition offline", func() bool { return tc.leader("t", 0) == -1 })
	tc.w.Restart(bname(5))
	tc.eventually(20*time.Second, "5 unfenced", func() bool { return tc.broker(1).Image().Usable(5) })
	tc.run(5 * time.Second)
	return tc.leader("t", 0)
}

func TestBugUncleanElection(t *testing.T) {
	t.Run("correct", func(t *testing.T) {
		if l := uncleanElection(t, 0); l != -1 {
			t.Fatalf("elected %d from outside the ISR", l)
		}
	})
	t.Run("unclean-election", func(t *testing.T) {
		if l := uncleanElection(t, mustBug(t, "unclean-election")); l != 5 {
			t.Fatalf("leader %d, want 5 (outside the ISR)", l)
		}
	})
}
