package metadata

import (
	"errors"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// cluster applies records one offset after another.
type cluster struct {
	t   *testing.T
	img Image
}

func (c *cluster) apply(r Record) Result {
	c.t.Helper()
	res := c.img.Apply(c.img.Offset+1, &r)
	if err := c.img.Check(); err != nil {
		c.t.Fatalf("after %v: %v", r.Type, err)
	}
	return res
}

func (c *cluster) mustOK(r Record) Result {
	c.t.Helper()
	res := c.apply(r)
	if res.Err != nil {
		c.t.Fatalf("%v: %v", r.Type, res.Err)
	}
	return res
}

func (c *cluster) register(id int32, inc uint64) int64 {
	c.t.Helper()
	res := c.mustOK(Record{Type: TypeRegisterBroker, RegisterBroker: &RegisterBroker{BrokerID: id, Addr: "b", Incarnation: inc}})
	c.mustOK(Record{Type: TypeUnfenceBroker, UnfenceBroker: &BrokerEpochRef{BrokerID: id, BrokerEpoch: res.BrokerEpoch}})
	return res.BrokerEpoch
}

func newCluster(t *testing.T, brokers int) (*cluster, []int64) {
	c := &cluster{t: t}
	var epochs []int64
	for i := 1; i <= brokers; i++ {
		epochs = append(epochs, c.register(int32(i), uint64(i)))
	}
	return c, epochs
}

func createTopic(name string, parts int32, rf int16, configs ...Config) Record {
	return Record{Type: TypeCreateTopic, CreateTopic: &CreateTopic{Name: name, NumPartitions: parts, ReplicationFactor: rf, Configs: configs}}
}

func TestCreateTopicAssignsRoundRobin(t *testing.T) {
	c, _ := newCluster(t, 3)
	c.mustOK(createTopic("orders", 6, 3))
	tp := c.img.Topic("orders")
	leaders := map[int32]int{}
	for _, p := range tp.Partitions {
		if len(p.Replicas) != 3 || !slices.Equal(p.ISR, p.Replicas) || p.Leader != p.Replicas[0] {
			t.Fatalf("partition %+v", p)
		}
		leaders[p.Leader]++
	}
	for id := int32(1); id <= 3; id++ {
		if leaders[id] != 2 {
			t.Fatalf("leaders not spread: %v", leaders)
		}
	}
	if res := c.apply(createTopic("orders", 1, 1)); !errors.Is(res.Err, kerr.TopicAlreadyExists) {
		t.Fatalf("duplicate create: %v", res.Err)
	}
}

func TestReplicationFactorAboveBrokers(t *testing.T) {
	c, _ := newCluster(t, 2)
	res := c.apply(createTopic("t", 1, 3))
	if !errors.Is(res.Err, kerr.InvalidReplicationFactor) {
		t.Fatalf("got %v, want INVALID_REPLICATION_FACTOR", res.Err)
	}
	if c.img.Topic("t") != nil {
		t.Fatal("rejected topic was created")
	}
}

func TestFenceMovesLeaderWithinISR(t *testing.T) {
	c, epochs := newCluster(t, 3)
	c.mustOK(createTopic("t", 3, 3))
	before := *c.img.Partition("t", 0)
	old := before.Leader
	c.mustOK(Record{Type: TypeFenceBroker, FenceBroker: &BrokerEpochRef{BrokerID: old, BrokerEpoch: epochs[old-1]}})
	p := c.img.Partition("t", 0)
	if p.Leader == old || p.Leader == NoLeader || slices.Contains(p.ISR, old) {
		t.Fatalf("after fencing %d: %+v", old, p)
	}
	if p.LeaderEpoch != before.LeaderEpoch+1 || p.PartitionEpoch != before.PartitionEpoch+1 {
		t.Fatalf("epochs %+v -> %+v", before, p)
	}
}

func TestLastISRMemberFencedGoesOffline(t *testing.T) {
	for _, unclean := range []bool{false, true} {
		c, epochs := newCluster(t, 2)
		cfg := Config{Key: UncleanLeaderElectionConfig, Value: "false"}
		if unclean {
			cfg.Value = "true"
		}
		c.mustOK(Record{Type: TypeCreateTopic, CreateTopic: &CreateTopic{Name: "t", Assignments: [][]int32{{1, 2}}, Configs: []Config{cfg}}})
		p := c.img.Partition("t", 0)
		// The leader shrinks the ISR to itself (broker 2 fell behind).
		c.mustOK(Record{Type: TypeAlterPartition, AlterPartition: &AlterPartition{Topic: "t", BrokerID: 1, BrokerEpoch: epochs[0], LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch, ISR: []int32{1}}})
		c.mustOK(Record{Type: TypeFenceBroker, FenceBroker: &BrokerEpochRef{BrokerID: 1, BrokerEpoch: epochs[0]}})
		p = c.img.Partition("t", 0)
		if !unclean {
			if p.Leader != NoLeader || !slices.Equal(p.ISR, []int32{1}) {
				t.Fatalf("clean: want offline with ISR [1], got %+v", p)
			}
			// Broker 1 comes back: it is the last ISR member, it leads again.
			c.mustOK(Record{Type: TypeUnfenceBroker, UnfenceBroker: &BrokerEpochRef{BrokerID: 1, BrokerEpoch: epochs[0]}})
			if p := c.img.Partition("t", 0); p.Leader != 1 {
				t.Fatalf("after unfence: %+v", p)
			}
		} else if p.Leader != 2 || !slices.Equal(p.ISR, []int32{2}) {
			t.Fatalf("unclean: want out-of-sync replica 2 elected, got %+v", p)
		}
	}
}

func TestAlterPartitionChecksEpochs(t *testing.T) {
	c, epochs := newCluster(t, 3)
	c.mustOK(Record{Type: TypeCreateTopic, CreateTopic: &CreateTopic{Name: "t", Assignments: [][]int32{{1, 2, 3}}}})
	p := *c.img.Partition("t", 0)
	base := AlterPartition{Topic: "t", BrokerID: 1, BrokerEpoch: epochs[0], LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch, ISR: []int32{1, 2}}
	cases := []struct {
		name string
		mut  func(a *AlterPartition)
		want *kerr.Error
	}{
		{"stale leader epoch", func(a *AlterPartition) { a.LeaderEpoch-- }, kerr.FencedLeaderEpoch},
		{"stale partition epoch", func(a *AlterPartition) { a.PartitionEpoch++ }, kerr.InvalidUpdateVersion},
		{"not leader", func(a *AlterPartition) { a.BrokerID, a.BrokerEpoch = 2, epochs[1] }, kerr.NotLeaderForPartition},
		{"stale broker epoch", func(a *AlterPartition) { a.BrokerEpoch++ }, kerr.StaleBrokerEpoch},
		{"leader not in ISR", func(a *AlterPartition) { a.ISR = []int32{2, 3} }, kerr.InvalidRequest},
		{"unknown partition", func(a *AlterPartition) { a.Partition = 7 }, kerr.UnknownTopicOrPartition},
	}
	for _, tc := range cases {
		a := base
		tc.mut(&a)
		if res := c.apply(Record{Type: TypeAlterPartition, AlterPartition: &a}); !errors.Is(res.Err, tc.want) {
			t.Errorf("%s: got %v want %v", tc.name, res.Err, tc.want)
		}
	}
	res := c.mustOK(Record{Type: TypeAlterPartition, AlterPartition: &base})
	if !slices.Equal(res.Partition.ISR, []int32{1, 2}) || res.Partition.PartitionEpoch != p.PartitionEpoch+1 {
		t.Fatalf("shrink: %+v", res.Partition)
	}
	// Replaying the same request is now stale.
	if res := c.apply(Record{Type: TypeAlterPartition, AlterPartition: &base}); !errors.Is(res.Err, kerr.InvalidUpdateVersion) {
		t.Fatalf("replay: %v", res.Err)
	}
	// A fenced broker may not join the ISR.
	c.mustOK(Record{Type: TypeFenceBroker, FenceBroker: &BrokerEpochRef{BrokerID: 3, BrokerEpoch: epochs[2]}})
	pp := c.img.Partition("t", 0)
	grow := AlterPartition{Topic: "t", BrokerID: 1, BrokerEpoch: epochs[0], LeaderEpoch: pp.LeaderEpoch, PartitionEpoch: pp.PartitionEpoch, ISR: []int32{1, 2, 3}}
	if res := c.apply(Record{Type: TypeAlterPartition, AlterPartition: &grow}); !errors.Is(res.Err, kerr.IneligibleReplica) {
		t.Fatalf("fenced joins ISR: %v", res.Err)
	}
}

func TestAlterPartitionStepDown(t *testing.T) {
	c, epochs := newCluster(t, 3)
	c.mustOK(Record{Type: TypeCreateTopic, CreateTopic: &CreateTopic{Name: "t", Assignments: [][]int32{{1, 2, 3}}}})
	p := *c.img.Partition("t", 0)
	base := AlterPartition{Topic: "t", BrokerID: 1, BrokerEpoch: epochs[0], LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch, StepDown: true}
	for _, bad := range [][]int32{{2}, {1, 2, 3}, {2, 3, 3}, nil} {
		a := base
		a.ISR = bad
		if res := c.apply(Record{Type: TypeAlterPartition, AlterPartition: &a}); !errors.Is(res.Err, kerr.InvalidRequest) {
			t.Errorf("step down to %v: %v", bad, res.Err)
		}
	}
	c.mustOK(Record{Type: TypeFenceBroker, FenceBroker: &BrokerEpochRef{BrokerID: 2, BrokerEpoch: epochs[1]}})
	pp := *c.img.Partition("t", 0)
	a := base
	a.PartitionEpoch, a.ISR = pp.PartitionEpoch, []int32{3}
	res := c.mustOK(Record{Type: TypeAlterPartition, AlterPartition: &a})
	if res.Partition.Leader != 3 || !slices.Equal(res.Partition.ISR, []int32{3}) || res.Partition.LeaderEpoch != pp.LeaderEpoch+1 {
		t.Fatalf("step down: %+v", res.Partition)
	}
	if err := c.img.Check(); err != nil {
		t.Fatal(err)
	}
}

// StepDownTo names the member to elect (a recovering leader hands over
// to the replica whose log ranks best, not to the first in replica order).
func TestAlterPartitionStepDownTo(t *testing.T) {
	c, epochs := newCluster(t, 3)
	c.mustOK(Record{Type: TypeCreateTopic, CreateTopic: &CreateTopic{Name: "t", Assignments: [][]int32{{1, 2, 3}}}})
	p := *c.img.Partition("t", 0)
	to := func(r int32) *int32 { return &r }
	a := AlterPartition{Topic: "t", BrokerID: 1, BrokerEpoch: epochs[0], LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch,
		StepDown: true, ISR: []int32{2, 3}}
	for _, bad := range []int32{1, 7} {
		a.StepDownTo = to(bad)
		if res := c.apply(Record{Type: TypeAlterPartition, AlterPartition: &a}); !errors.Is(res.Err, kerr.IneligibleReplica) {
			t.Errorf("step down to %d: %v", bad, res.Err)
		}
	}
	a.StepDownTo = to(3)
	res := c.mustOK(Record{Type: TypeAlterPartition, AlterPartition: &a})
	if res.Partition.Leader != 3 || !slices.Equal(res.Partition.ISR, []int32{2, 3}) {
		t.Fatalf("step down to 3: %+v", res.Partition)
	}
	if err := c.img.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestPreferredElectionAfterRecovery(t *testing.T) {
	c, epochs := newCluster(t, 2)
	c.mustOK(Record{Type: TypeCreateTopic, CreateTopic: &CreateTopic{Name: "t", Assignments: [][]int32{{1, 2}}}})
	c.mustOK(Record{Type: TypeFenceBroker, FenceBroker: &BrokerEpochRef{BrokerID: 1, BrokerEpoch: epochs[0]}})
	if p := c.img.Partition("t", 0); p.Leader != 2 {
		t.Fatalf("failover: %+v", p)
	}
	// Broker 1 restarts: new incarnation, new epoch; fenced until unfenced.
	e := c.register(1, 99)
	p := *c.img.Partition("t", 0)
	res := c.apply(Record{Type: TypeElectLeaders, ElectLeaders: &ElectLeaders{Type: ElectPreferred}})
	if !errors.Is(res.Elections[0].Err, kerr.PreferredLeaderNotAvailable) {
		t.Fatalf("preferred not in ISR yet: %+v", res.Elections)
	}
	c.mustOK(Record{Type: TypeAlterPartition, AlterPartition: &AlterPartition{Topic: "t", BrokerID: 2, BrokerEpoch: epochs[1], LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch, ISR: []int32{1, 2}}})
	res = c.apply(Record{Type: TypeElectLeaders, ElectLeaders: &ElectLeaders{Type: ElectPreferred}})
	if res.Elections[0].Err != nil || c.img.Partition("t", 0).Leader != 1 {
		t.Fatalf("preferred election: %+v %+v", res.Elections, c.img.Partition("t", 0))
	}
	_ = e
}

func TestRegisterIsIdempotentPerIncarnation(t *testing.T) {
	c := &cluster{t: t}
	r := Record{Type: TypeRegisterBroker, RegisterBroker: &RegisterBroker{BrokerID: 5, Addr: "x", Incarnation: 7}}
	e1 := c.mustOK(r).BrokerEpoch
	e2 := c.mustOK(r).BrokerEpoch
	if e1 != e2 {
		t.Fatalf("retry changed epoch %d -> %d", e1, e2)
	}
	r.RegisterBroker.Incarnation = 8
	if e3 := c.mustOK(r).BrokerEpoch; e3 <= e1 {
		t.Fatalf("new incarnation kept epoch %d", e3)
	}
	if res := c.apply(Record{Type: TypeUnfenceBroker, UnfenceBroker: &BrokerEpochRef{BrokerID: 5, BrokerEpoch: e1}}); !errors.Is(res.Err, kerr.StaleBrokerEpoch) {
		t.Fatalf("stale unfence: %v", res.Err)
	}
}

func TestImageEncodeRoundTrip(t *testing.T) {
	c, _ := newCluster(t, 3)
	c.mustOK(createTopic("a", 4, 2, Config{Key: UncleanLeaderElectionConfig, Value: "true"}))
	b := c.img.Encode()
	got, err := DecodeImage(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Encode()) != string(b) {
		t.Fatal("image does not round-trip")
	}
	if _, err := DecodeImage(b[:len(b)-1]); !errors.Is(err, ErrCorruptRecord) {
		t.Fatalf("truncated image: %v", err)
	}
}

// A replica reporting its copy offline (AlterPartition.Offline) leaves the
// ISR; a reporting leader is replaced by a usable ISR member; the last ISR
// member stays; a stale broker epoch or a non-replica is refused.
func TestReplicaOfflineLeavesISR(t *testing.T) {
	c, epochs := newCluster(t, 4)
	c.mustOK(Record{Type: TypeCreateTopic, CreateTopic: &CreateTopic{Name: "t", NumPartitions: 1, ReplicationFactor: 3, Assignments: [][]int32{{1, 2, 3}}}})
	offline := func(id int32, epoch int64) Result {
		return c.apply(Record{Type: TypeAlterPartition, AlterPartition: &AlterPartition{Topic: "t", Partition: 0, BrokerID: id, BrokerEpoch: epoch, Offline: true}})
	}
	p := func() *Partition { return c.img.Partition("t", 0) }
	pe := p().PartitionEpoch
	if res := offline(2, epochs[1]); res.Err != nil || !slices.Equal(p().ISR, []int32{1, 3}) || p().Leader != 1 || p().PartitionEpoch != pe+1 {
		t.Fatalf("follower offline: %v, ISR %v leader %d epoch %d", res.Err, p().ISR, p().Leader, p().PartitionEpoch)
	}
	if res := offline(2, epochs[1]); res.Err != nil || p().PartitionEpoch != pe+1 {
		t.Fatalf("a repeated report must change nothing: %v, epoch %d", res.Err, p().PartitionEpoch)
	}
	le := p().LeaderEpoch
	if res := offline(1, epochs[0]); res.Err != nil || !slices.Equal(p().ISR, []int32{3}) || p().Leader != 3 || p().LeaderEpoch != le+1 {
		t.Fatalf("leader offline: %v, ISR %v leader %d", res.Err, p().ISR, p().Leader)
	}
	if res := offline(3, epochs[2]); res.Err != nil || !slices.Equal(p().ISR, []int32{3}) || p().Leader != 3 {
		t.Fatalf("the last ISR member must stay: %v, ISR %v leader %d", res.Err, p().ISR, p().Leader)
	}
	if res := offline(3, epochs[2]+100); !errors.Is(res.Err, kerr.StaleBrokerEpoch) {
		t.Fatalf("stale broker epoch: %v", res.Err)
	}
	if res := offline(4, epochs[3]); !errors.Is(res.Err, kerr.InvalidRequest) {
		t.Fatalf("not a replica: %v", res.Err)
	}
}
