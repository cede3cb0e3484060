package group

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestConfigDefaults(t *testing.T) {
	for _, c := range []struct {
		name string
		in   Config
		want Config
	}{
		{"zero is Kafka's defaults", Config{}, Config{NumPartitions: 1, MinSessionTimeout: 6 * time.Second,
			MaxSessionTimeout: 30 * time.Minute, InitialRebalanceDelay: 3 * time.Second, OffsetMetadataMaxBytes: 4096}},
		{"negative delay is none", Config{InitialRebalanceDelay: -1}, Config{NumPartitions: 1, MinSessionTimeout: 6 * time.Second,
			MaxSessionTimeout: 30 * time.Minute, OffsetMetadataMaxBytes: 4096}},
		{"set values stay", Config{NumPartitions: 50, MinSessionTimeout: time.Second, MaxSessionTimeout: time.Minute,
			InitialRebalanceDelay: time.Millisecond, MaxSize: 3, OffsetMetadataMaxBytes: 10},
			Config{NumPartitions: 50, MinSessionTimeout: time.Second, MaxSessionTimeout: time.Minute,
				InitialRebalanceDelay: time.Millisecond, MaxSize: 3, OffsetMetadataMaxBytes: 10}},
	} {
		if got := c.in.withDefaults(); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// A failed write to __consumer_offsets is answered as a group client
// understands it (Kafka's GroupMetadataManager mapping).
func TestCoordinatorErrorMapping(t *testing.T) {
	for in, want := range map[*kerr.Error]*kerr.Error{
		nil:                               nil,
		kerr.UnknownTopicOrPartition:      kerr.CoordinatorNotAvailable,
		kerr.NotEnoughReplicas:            kerr.CoordinatorNotAvailable,
		kerr.NotEnoughReplicasAfterAppend: kerr.CoordinatorNotAvailable,
		kerr.RequestTimedOut:              kerr.CoordinatorNotAvailable,
		kerr.NotLeaderForPartition:        kerr.NotCoordinator,
		kerr.KafkaStorageError:            kerr.NotCoordinator,
		kerr.FencedLeaderEpoch:            kerr.NotCoordinator,
		kerr.MessageTooLarge:              kerr.InvalidCommitOffsetSize,
		kerr.RecordListTooLarge:           kerr.InvalidCommitOffsetSize,
		kerr.InvalidFetchSize:             kerr.InvalidCommitOffsetSize,
		kerr.CorruptMessage:               kerr.UnknownServerError,
		kerr.PolicyViolation:              kerr.UnknownServerError,
		kerr.InvalidRecord:                kerr.UnknownServerError,
	} {
		if got := coordinatorError(in); got != want {
			t.Errorf("coordinatorError(%v) = %v, want %v", in, got, want)
		}
	}
}

// loadingCoordinator is a coordinator on a sim node whose shards are all
// loading, for Replay.
func loadingCoordinator(t *testing.T, partitions int32) *Coordinator {
	t.Helper()
	_, h := oneNode()
	c := New(h, Config{NumPartitions: partitions}, nil)
	for i := range partitions {
		c.BeginLoad(i)
	}
	return c
}

type rawRecord struct{ key, value []byte }

func offsetRec(group, topic string, p int32, offset int64) rawRecord {
	r := offsetRecord(group, TopicPartition{topic, p}, OffsetEntry{Offset: offset, LeaderEpoch: 2, Metadata: "m", CommitTimestamp: 7})
	return rawRecord{r.Key, r.Value}
}

func offsetTombstone(group, topic string, p int32) rawRecord {
	return rawRecord{offsetRec(group, topic, p, 0).key, nil}
}

func groupRec(group string, gen int32, members ...string) rawRecord {
	v := kmsg.NewGroupMetadataValue()
	v.Version, v.ProtocolType, v.Generation = 3, "consumer", gen
	p := "range"
	v.Protocol = &p
	for i, id := range members {
		m := kmsg.NewGroupMetadataValueMember()
		m.MemberID, m.SessionTimeoutMillis = id, 10000
		if i == 0 {
			v.Leader = &m.MemberID
		}
		if strings.HasPrefix(id, "static-") {
			inst := "i-" + id
			m.InstanceID = &inst
		}
		v.Members = append(v.Members, m)
	}
	r := groupRecord(group, &v)
	return rawRecord{r.Key, r.Value}
}

func groupTombstone(group string) rawRecord { return rawRecord{groupRec(group, 0).key, nil} }

// Replay rebuilds groups and offsets from __consumer_offsets records in
// offset order: the last record of a key wins, a null value deletes, and
// undecodable records are refused with ErrCorruptRecord (the broker logs
// and skips them).
func TestReplay(t *testing.T) {
	v1 := kmsg.NewOffsetCommitValue()
	v1.Version, v1.Offset, v1.LeaderEpoch = 1, 9, 5 // v1 has no leader epoch
	for _, c := range []struct {
		name    string
		records []rawRecord
		corrupt int // how many records must be refused as corrupt
		want    string
	}{
		{"offsets, last wins", []rawRecord{offsetRec("g", "t", 0, 1), offsetRec("g", "t", 0, 5), offsetRec("g", "t", 1, 3)}, 0,
			"g: Empty gen=0 members=[] offsets=[t/0=5@2 t/1=3@2]"},
		{"an offset tombstone deletes", []rawRecord{offsetRec("g", "t", 0, 1), offsetRec("g", "t", 1, 1), offsetTombstone("g", "t", 0)}, 0,
			"g: Empty gen=0 members=[] offsets=[t/1=1@2]"},
		{"a tombstone of an unknown group creates nothing", []rawRecord{offsetTombstone("g", "t", 0), groupTombstone("h")}, 0,
			""},
		{"group metadata: Stable with members", []rawRecord{groupRec("g", 3, "m1", "static-m2")}, 0,
			"g: Stable gen=3 leader=m1 members=[m1 static-m2]"},
		{"group metadata without members: Empty", []rawRecord{groupRec("g", 3, "m1"), groupRec("g", 4)}, 0,
			"g: Empty gen=4 members=[]"},
		{"a group tombstone deletes the group and its offsets", []rawRecord{offsetRec("g", "t", 0, 1), groupRec("g", 1, "m1"), groupTombstone("g")}, 0,
			""},
		{"offset value v1: leader epoch unknown", []rawRecord{{offsetRec("g", "t", 0, 0).key, v1.AppendTo(nil)}}, 0,
			"g: Empty gen=0 members=[] offsets=[t/0=9@-1]"},
		{"corrupt records are refused, the rest applies", []rawRecord{
			{[]byte{0}, nil},                                 // key too short
			{[]byte{0, 9, 1, 2}, []byte{1}},                  // unknown key version
			{[]byte{0, 1, 0, 5, 'g'}, []byte{}},              // offset key cut short
			{offsetRec("g", "t", 0, 0).key, []byte{0, 3, 1}}, // offset value cut short
			{[]byte{0, 2, 0, 9}, []byte{}},                   // group key cut short
			{groupRec("g", 1).key, []byte{0, 3}},             // group value cut short
			offsetRec("g", "t", 0, 8),
		}, 6, "g: Empty gen=0 members=[] offsets=[t/0=8@2]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			co := loadingCoordinator(t, 1)
			corrupt := 0
			for _, r := range c.records {
				if err := co.Replay(0, r.key, r.value); err != nil {
					if !errors.Is(err, ErrCorruptRecord) {
						t.Fatalf("replay: %v", err)
					}
					corrupt++
				}
			}
			if corrupt != c.corrupt {
				t.Errorf("%d records refused as corrupt, want %d", corrupt, c.corrupt)
			}
			if g := co.Groups(); len(g) != 0 {
				t.Fatalf("groups served while loading: %v", g)
			}
			co.FinishLoad(0)
			var got []string
			for _, id := range co.Groups() {
				got = append(got, describeSnapshot(co, id))
			}
			if s := strings.Join(got, "; "); s != c.want {
				t.Errorf("after replay:\n got %s\nwant %s", s, c.want)
			}
		})
	}
}

func describeSnapshot(c *Coordinator, id string) string {
	s, _ := c.Group(id)
	var b strings.Builder
	b.WriteString(id + ": " + string(s.State))
	b.WriteString(" gen=" + itoa(int64(s.Generation)))
	if s.Leader != "" {
		b.WriteString(" leader=" + s.Leader)
	}
	b.WriteString(" members=[" + strings.Join(s.Members, " ") + "]")
	if len(s.Offsets) > 0 {
		var os []string
		for _, tp := range sortedTPs(s.Offsets) {
			e := s.Offsets[tp]
			os = append(os, tp.Topic+"/"+itoa(int64(tp.Partition))+"="+itoa(e.Offset)+"@"+itoa(int64(e.LeaderEpoch)))
		}
		b.WriteString(" offsets=[" + strings.Join(os, " ") + "]")
	}
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A group lives in one shard: a record of it in another shard's partition
// is refused (it cannot be there unless the partition count changed).
func TestReplayIntoTheWrongShard(t *testing.T) {
	c := loadingCoordinator(t, 2)
	g := "g" // PartitionFor("g", 2) == 1
	if PartitionFor(g, 2) != 1 {
		t.Fatal("placement changed")
	}
	r := groupRec(g, 1, "m1")
	if err := c.Replay(1, r.key, r.value); err != nil {
		t.Fatal(err)
	}
	err := c.Replay(0, r.key, r.value)
	if err == nil || !strings.Contains(err.Error(), "lives in 1") {
		t.Fatalf("replay into shard 0: %v", err)
	}
	if errors.Is(err, ErrCorruptRecord) {
		t.Fatalf("a misplaced record is not a corrupt one: %v", err)
	}
}

// A restored member keeps its instance id (so its old member id stays
// fenced) and, from an old record without a rebalance timeout, takes its
// session timeout as the rebalance timeout.
func TestRestoreMembers(t *testing.T) {
	c := loadingCoordinator(t, 1)
	r := groupRec("g", 2, "m1", "static-m2")
	if err := c.Replay(0, r.key, r.value); err != nil {
		t.Fatal(err)
	}
	c.FinishLoad(0)
	g := c.groups["g"]
	m := g.member("static-m2")
	if m == nil || m.instanceID != "i-static-m2" || g.static["i-static-m2"] != "static-m2" {
		t.Fatalf("static member not restored: %+v, %v", m, g.static)
	}
	if m.rebalanceTimeout != m.sessionTimeout || m.sessionTimeout != 10*time.Second {
		t.Fatalf("timeouts: session %v rebalance %v", m.sessionTimeout, m.rebalanceTimeout)
	}
	if e := g.checkInstance("other", "i-static-m2"); e != kerr.FencedInstanceID {
		t.Fatalf("another member id with the instance: %v", e)
	}
}
