package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzDecodeRecord: __consumer_offsets records from a log are untrusted
// bytes. Invariants: decodeRecord never panics; an accepted record names
// a group, and an offset record re-encodes to a record that decodes to
// the same entry.
func FuzzDecodeRecord(f *testing.F) {
	r := offsetRecord("g", TopicPartition{"t", 3}, OffsetEntry{Offset: 42, LeaderEpoch: 5, Metadata: "m", CommitTimestamp: 9})
	f.Add(r.Key, r.Value)
	v := kmsg.NewGroupMetadataValue()
	v.Version, v.ProtocolType, v.Generation = 3, "consumer", 7
	gr := groupRecord("g", &v)
	f.Add(gr.Key, gr.Value)
	f.Add(gr.Key, []byte(nil))
	f.Add([]byte{0, 9}, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		d, err := decodeRecord(key, value)
		if err != nil {
			return
		}
		if d.offset != nil && !d.deleted {
			again := offsetRecord(d.group, d.offset.tp, d.offset.entry)
			d2, err := decodeRecord(again.Key, again.Value)
			if err != nil || d2.offset == nil || d2.offset.entry != d.offset.entry || d2.offset.tp != d.offset.tp || d2.group != d.group {
				t.Fatalf("offset record does not round-trip: %+v vs %+v (%v)", d, d2, err)
			}
		}
	})
}
