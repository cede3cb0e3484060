package controller

import (
	"errors"
	"testing"

	"github.com/loglab/loglab/broker/metadata"
	"go.etcd.io/raft/v3/raftpb"
)

func FuzzDecodeCall(f *testing.F) {
	f.Add(encodeCall(kindRequest, 7, Request{Op: OpFetch, FetchOffset: 3, MaxWaitMs: 500}))
	f.Add(encodeCall(kindResponse, 9, Response{HighOffset: 4, Records: []FetchedRecord{{Offset: 4, Data: []byte{1, '{', '}'}}}}))
	f.Add([]byte{2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var req Request
		if _, err := decodeCall(b, &req); err != nil && !errors.Is(err, ErrBadFrame) {
			t.Fatalf("unclassified: %v", err)
		}
		var resp Response
		if _, err := decodeCall(b, &resp); err != nil && !errors.Is(err, ErrBadFrame) {
			t.Fatalf("unclassified: %v", err)
		}
	})
}

// FuzzParseWAL: recovery never panics, never reports a valid prefix longer
// than its input, and re-parsing that prefix gives the same prefix.
func FuzzParseWAL(f *testing.F) {
	rec := metadata.Record{Type: metadata.TypeDeleteTopic, DeleteTopic: &metadata.DeleteTopic{Name: "t"}}
	good := encodeWAL(nil, &raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 1, Term: 1}},
		raftpb.HardState{Term: 2, Vote: 1, Commit: 2},
		[]raftpb.Entry{{Index: 2, Term: 2, Data: rec.Encode(nil)}})
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		var st walState
		n := parseWAL(b, &st)
		if n < 0 || n > int64(len(b)) {
			t.Fatalf("prefix %d of %d", n, len(b))
		}
		var st2 walState
		if m := parseWAL(b[:n], &st2); m != n {
			t.Fatalf("prefix not stable: %d then %d", n, m)
		}
	})
}

func TestParseWALStopsAtCorruption(t *testing.T) {
	ents := []raftpb.Entry{{Index: 2, Term: 1}, {Index: 3, Term: 1}}
	b := encodeWAL(nil, nil, raftpb.HardState{Term: 1, Commit: 3}, ents)
	var st walState
	if n := parseWAL(b, &st); n != int64(len(b)) || len(st.entries) != 2 || st.hard.Commit != 3 {
		t.Fatalf("clean parse: n=%d %+v", n, st)
	}
	b[len(b)-1] ^= 1 // garble the hardstate record
	st = walState{}
	n := parseWAL(b, &st)
	if len(st.entries) != 2 || st.hard.Commit != 0 || n >= int64(len(b)) {
		t.Fatalf("corrupt tail not cut: n=%d %+v", n, st)
	}
}
