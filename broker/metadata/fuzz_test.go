package metadata

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzDecodeRecord(f *testing.F) {
	seeds := []Record{
		{Type: TypeRegisterBroker, RegisterBroker: &RegisterBroker{BrokerID: 1, Addr: "broker-1:9092", Incarnation: 9}},
		{Type: TypeCreateTopic, Proposer: 2, Seq: 3, CreateTopic: &CreateTopic{Name: "t", NumPartitions: 3, ReplicationFactor: 2, Configs: []Config{{Key: "k", Value: "v"}}}},
		{Type: TypeAlterPartition, AlterPartition: &AlterPartition{Topic: "t", ISR: []int32{1, 2}}},
		{Type: TypeElectLeaders, ElectLeaders: &ElectLeaders{Partitions: []TopicPartitions{{Topic: "t", Partitions: []int32{0}}}}},
	}
	for _, r := range seeds {
		f.Add(r.Encode(nil))
	}
	f.Add([]byte{1, '{', '}'})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRecord(b)
		if err != nil {
			if !errors.Is(err, ErrCorruptRecord) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		enc := r.Encode(nil)
		r2, err := DecodeRecord(enc)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !bytes.Equal(r2.Encode(nil), enc) {
			t.Fatal("record does not round-trip")
		}
		// Applying any decodable record must not panic or break invariants.
		img := &Image{}
		img.Apply(1, &r)
		if err := img.Check(); err != nil {
			t.Fatal(err)
		}
	})
}
