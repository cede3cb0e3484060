package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
	"pgregory.net/rapid"
)

func sample() []Record {
	return []Record{
		{Key: []byte("k0"), Value: []byte("v0"), TimestampDelta: 0},
		{Key: nil, Value: bytes.Repeat([]byte{'x'}, 300), TimestampDelta: 7,
			Headers: []RecordHeader{{Key: "h", Value: []byte("hv")}, {Key: "n", Value: nil}}},
		{Key: []byte{}, Value: nil, TimestampDelta: -3},
	}
}

func TestBuildValidateRecords(t *testing.T) {
	b := Build([]byte("prefix"), sample(), BuildOptions{BaseOffset: 42, PartitionLeaderEpoch: 3, BaseTimestamp: 1000,
		Idempotent: true, ProducerID: 9, ProducerEpoch: 2, BaseSequence: 5})
	if string(b[:6]) != "prefix" {
		t.Fatal("dst prefix clobbered")
	}
	b = b[6:]
	h, err := Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{BaseOffset: 42, BatchLength: int32(len(b) - 12), PartitionLeaderEpoch: 3, Magic: 2, CRC: h.CRC,
		LastOffsetDelta: 2, BaseTimestamp: 1000, MaxTimestamp: 1007, ProducerID: 9, ProducerEpoch: 2, BaseSequence: 5, RecordCount: 3}
	if h != want {
		t.Fatalf("header\n got %+v\nwant %+v", h, want)
	}
	if h.Size() != len(b) || h.NextOffset() != 45 {
		t.Fatalf("size %d next %d", h.Size(), h.NextOffset())
	}
	rs, err := Records(b)
	if err != nil {
		t.Fatal(err)
	}
	in := sample()
	for i := range in {
		in[i].OffsetDelta = int32(i)
	}
	assertRecords(t, rs, in)

	// kmsg agrees on the batch header and on each record.
	var kb kmsg.RecordBatch
	if err := kb.ReadFrom(b); err != nil {
		t.Fatal(err)
	}
	if kb.Length != h.BatchLength || uint32(kb.CRC) != h.CRC || kb.NumRecords != 3 {
		t.Fatalf("kmsg batch %+v", kb)
	}
}

type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func assertRecords(t fataler, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !bytes.Equal(g.Key, w.Key) || (g.Key == nil) != (w.Key == nil) ||
			!bytes.Equal(g.Value, w.Value) || (g.Value == nil) != (w.Value == nil) ||
			g.TimestampDelta != w.TimestampDelta || g.OffsetDelta != w.OffsetDelta || len(g.Headers) != len(w.Headers) {
			t.Fatalf("record %d: got %+v want %+v", i, g, w)
		}
		for j := range w.Headers {
			if g.Headers[j].Key != w.Headers[j].Key || !bytes.Equal(g.Headers[j].Value, w.Headers[j].Value) ||
				(g.Headers[j].Value == nil) != (w.Headers[j].Value == nil) {
				t.Fatalf("record %d header %d: got %+v want %+v", i, j, g.Headers[j], w.Headers[j])
			}
		}
	}
}

func TestNonIdempotentAndEmpty(t *testing.T) {
	b := Build(nil, nil, BuildOptions{BaseTimestamp: 5})
	h, err := Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.ProducerID != -1 || h.ProducerEpoch != -1 || h.BaseSequence != -1 || h.RecordCount != 0 || len(b) != HeaderBytes {
		t.Fatalf("%+v len %d", h, len(b))
	}
	if rs, err := Records(b); err != nil || len(rs) != 0 {
		t.Fatalf("%v %v", rs, err)
	}
}

func TestPatchesKeepCRC(t *testing.T) {
	b := Build(nil, sample(), BuildOptions{BaseTimestamp: 100})
	SetBaseOffset(b, 1<<40)
	SetPartitionLeaderEpoch(b, 77)
	h, err := Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.BaseOffset != 1<<40 || h.PartitionLeaderEpoch != 77 {
		t.Fatalf("%+v", h)
	}
	SetLogAppendTime(b, 123456)
	h, err = Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	if !h.LogAppendTime() || h.MaxTimestamp != 123456 {
		t.Fatalf("%+v", h)
	}
}

func TestValidateRejects(t *testing.T) {
	good := Build(nil, sample(), BuildOptions{})
	mut := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"short header", good[:30], ErrTruncated},
		{"short body", good[:len(good)-1], ErrTruncated},
		{"tiny length", mut(func(b []byte) { binary.BigEndian.PutUint32(b[8:], 10) }), ErrCorrupt},
		{"tiny length short", mut(func(b []byte) { binary.BigEndian.PutUint32(b[8:], 0xffffffff) })[:20], ErrCorrupt},
		{"magic", mut(func(b []byte) { b[16] = 1 }), ErrCorrupt},
		{"crc", mut(func(b []byte) { b[len(b)-1] ^= 1 }), ErrCorrupt},
		{"count", mut(func(b []byte) {
			binary.BigEndian.PutUint32(b[57:], 9)
			fixCRC(b)
		}), ErrCorrupt},
		{"negative delta", mut(func(b []byte) {
			binary.BigEndian.PutUint32(b[23:], 0xffffffff)
			fixCRC(b)
		}), ErrCorrupt},
	}
	for _, c := range cases {
		if _, err := Validate(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	comp := mut(func(b []byte) {
		b[22] |= 4
		fixCRC(b)
	})
	if _, err := Validate(comp); err != nil {
		t.Fatalf("compressed header must validate: %v", err)
	}
	if _, err := Records(comp); !errors.Is(err, ErrUnsupportedCompression) {
		t.Fatalf("compressed: %v", err)
	}
}

func TestIterate(t *testing.T) {
	var buf []byte
	for i := 0; i < 3; i++ {
		buf = Build(buf, sample()[:i+1], BuildOptions{BaseOffset: int64(i * 10)})
	}
	full := len(buf)
	for _, tail := range []int{0, 5, 61, 70} {
		b := append(bytes.Clone(buf), Build(nil, sample(), BuildOptions{})[:tail]...)
		it := Iterate(b)
		n := 0
		for it.Next() {
			if it.Header().BaseOffset != int64(n*10) || len(it.Batch()) != it.Header().Size() {
				t.Fatalf("batch %d: %+v", n, it.Header())
			}
			n++
		}
		if n != 3 || it.Err() != nil || it.Offset() != full || it.Partial() != (tail > 0) {
			t.Fatalf("tail %d: n=%d err=%v off=%d partial=%v", tail, n, it.Err(), it.Offset(), it.Partial())
		}
	}
	// A corrupt second batch stops the walk there with ErrCorrupt.
	b := bytes.Clone(buf)
	first, _ := ParseHeader(b)
	b[first.Size()+HeaderBytes] ^= 0xff
	it := Iterate(b)
	n := 0
	for it.Next() {
		n++
	}
	if n != 1 || !errors.Is(it.Err(), ErrCorrupt) || it.Offset() != first.Size() {
		t.Fatalf("n=%d err=%v off=%d", n, it.Err(), it.Offset())
	}
}

func genRecord(t *rapid.T, i int) Record {
	nullable := func(label string) []byte {
		if rapid.Bool().Draw(t, label+"Null") {
			return nil
		}
		return rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(t, label)
	}
	r := Record{Key: nullable("key"), Value: nullable("value"),
		TimestampDelta: rapid.Int64Range(-1<<40, 1<<40).Draw(t, "ts"), OffsetDelta: int32(i)}
	nh := rapid.IntRange(0, 3).Draw(t, "nh")
	for j := 0; j < nh; j++ {
		r.Headers = append(r.Headers, RecordHeader{Key: rapid.String().Draw(t, "hk"), Value: nullable("hv")})
	}
	return r
}

func TestRoundTripRapid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 20).Draw(t, "n")
		rs := make([]Record, n)
		for i := range rs {
			rs[i] = genRecord(t, i)
		}
		opts := BuildOptions{
			BaseOffset:    rapid.Int64Range(0, 1<<50).Draw(t, "base"),
			BaseTimestamp: rapid.Int64Range(0, 1<<45).Draw(t, "bts"),
			Idempotent:    rapid.Bool().Draw(t, "idem"),
			ProducerID:    rapid.Int64Range(0, 1<<40).Draw(t, "pid"),
		}
		b := Build(nil, rs, opts)
		h, err := Validate(b)
		if err != nil {
			t.Fatal(err)
		}
		if h.Size() != len(b) || h.RecordCount != int32(n) || h.BaseOffset != opts.BaseOffset {
			t.Fatalf("%+v", h)
		}
		got, err := Records(b)
		if err != nil {
			t.Fatal(err)
		}
		assertRecords(t, got, rs)
	})
}

// putHeaderCounts sets batchLength to fit b, recordCount to count and
// lastOffsetDelta to count-1 (0 for none).
func putHeaderCounts(b []byte, count int32) {
	binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-LengthFieldEnd))
	binary.BigEndian.PutUint32(b[offRecordCount:], uint32(count))
	binary.BigEndian.PutUint32(b[offLastOffsetDelta:], uint32(max(count-1, 0)))
}
