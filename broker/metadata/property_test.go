package metadata

import (
	"bytes"
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// genRecord draws a valid or invalid command over a small universe of
// brokers (1..4), topics (a, b, c) and epochs near the current ones, so that
// most commands hit real state and many are rejected.
func genRecord(t *rapid.T, img *Image) Record {
	id := rapid.Int32Range(0, 4).Draw(t, "broker")
	epoch := int64(rapid.IntRange(-1, 1).Draw(t, "epochDelta"))
	if b := img.Broker(id); b != nil {
		epoch += b.Epoch
	}
	ref := &BrokerEpochRef{BrokerID: id, BrokerEpoch: epoch}
	topic := rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "topic")
	switch rapid.IntRange(1, 7).Draw(t, "type") {
	case 1:
		return Record{Type: TypeRegisterBroker, RegisterBroker: &RegisterBroker{BrokerID: id, Addr: "h", Incarnation: rapid.Uint64Range(0, 3).Draw(t, "inc")}}
	case 2:
		return Record{Type: TypeFenceBroker, FenceBroker: ref}
	case 3:
		return Record{Type: TypeUnfenceBroker, UnfenceBroker: ref}
	case 4:
		unclean := rapid.SampledFrom([]string{"true", "false", "maybe"}).Draw(t, "unclean")
		return Record{Type: TypeCreateTopic, CreateTopic: &CreateTopic{
			Name: topic, NumPartitions: rapid.Int32Range(0, 3).Draw(t, "parts"),
			ReplicationFactor: int16(rapid.IntRange(0, 4).Draw(t, "rf")),
			Configs:           []Config{{Key: UncleanLeaderElectionConfig, Value: unclean}},
		}}
	case 5:
		return Record{Type: TypeDeleteTopic, DeleteTopic: &DeleteTopic{Name: topic}}
	case 6:
		idx := rapid.Int32Range(0, 3).Draw(t, "partition")
		ap := &AlterPartition{Topic: topic, Partition: idx, BrokerID: id, BrokerEpoch: epoch}
		if p := img.Partition(topic, idx); p != nil {
			ap.LeaderEpoch = p.LeaderEpoch + int32(rapid.IntRange(-1, 1).Draw(t, "le"))
			ap.PartitionEpoch = p.PartitionEpoch + int32(rapid.IntRange(-1, 1).Draw(t, "pe"))
			for _, r := range p.Replicas {
				if rapid.Bool().Draw(t, "inISR") {
					ap.ISR = append(ap.ISR, r)
				}
			}
		}
		if rapid.Bool().Draw(t, "leaderIsBroker") {
			if p := img.Partition(topic, idx); p != nil && p.Leader >= 0 {
				ap.BrokerID = p.Leader
				ap.BrokerEpoch = img.Broker(p.Leader).Epoch
			}
		}
		return Record{Type: TypeAlterPartition, AlterPartition: ap}
	default:
		el := &ElectLeaders{Type: ElectionType(rapid.IntRange(0, 1).Draw(t, "etype"))}
		if rapid.Bool().Draw(t, "some") {
			el.Partitions = []TopicPartitions{{Topic: topic, Partitions: []int32{rapid.Int32Range(0, 2).Draw(t, "ep")}}}
		}
		return Record{Type: TypeElectLeaders, ElectLeaders: el}
	}
}

type epochs struct{ leader, partition int32 }

// TestApplyInvariants applies random commands and checks after each one:
// the Image invariants (leader ∈ ISR ⊆ replicas, leader unfenced, sorted),
// epochs never decrease and grow exactly on leader/ISR changes, a rejected
// command changes nothing, records round-trip through the encoding, and a
// second image fed the encoded records stays byte-identical.
func TestApplyInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		img, replica := &Image{}, &Image{}
		for i := 0; i < 60; i++ {
			rec := genRecord(t, img)
			enc := rec.Encode(nil)
			dec, err := DecodeRecord(enc)
			if err != nil {
				t.Fatalf("decode own record: %v", err)
			}
			prev := img.Clone()
			res := img.Apply(prev.Offset+1, &rec)
			replica.Apply(prev.Offset+1, &dec)
			if err := img.Check(); err != nil {
				t.Fatalf("after %v (%v): %v", rec.Type, res.Err, err)
			}
			if !bytes.Equal(img.Encode(), replica.Encode()) {
				t.Fatalf("replica diverged after %v", rec.Type)
			}
			if res.Err != nil {
				prev.Offset = img.Offset
				if !bytes.Equal(prev.Encode(), img.Encode()) {
					t.Fatalf("rejected %v (%v) changed the image", rec.Type, res.Err)
				}
				continue
			}
			checkEpochs(t, prev, img)
		}
	})
}

func checkEpochs(t *rapid.T, prev, img *Image) {
	for _, pt := range prev.Topics {
		nt := img.Topic(pt.Name)
		if nt == nil || nt.ID != pt.ID {
			continue // deleted (and maybe re-created)
		}
		for i, pp := range pt.Partitions {
			np := nt.Partitions[i]
			where := fmt.Sprintf("%s-%d", pt.Name, i)
			if np.LeaderEpoch < pp.LeaderEpoch || np.PartitionEpoch < pp.PartitionEpoch {
				t.Fatalf("%s: epochs went back %+v -> %+v", where, pp, np)
			}
			if np.Leader != pp.Leader && np.LeaderEpoch != pp.LeaderEpoch+1 {
				t.Fatalf("%s: leader changed without epoch bump %+v -> %+v", where, pp, np)
			}
			changed := np.Leader != pp.Leader || fmt.Sprint(np.ISR) != fmt.Sprint(pp.ISR)
			if changed != (np.PartitionEpoch == pp.PartitionEpoch+1) {
				t.Fatalf("%s: partition epoch %d -> %d, changed=%v", where, pp.PartitionEpoch, np.PartitionEpoch, changed)
			}
		}
	}
}
