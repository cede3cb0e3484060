package batch

import (
	"errors"
	"testing"
)

// classified reports whether err is one of the package's sentinels.
func classified(err error) bool {
	return errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTruncated) || errors.Is(err, ErrUnsupportedCompression)
}

func seeds(f *testing.F) {
	good := Build(nil, sample(), BuildOptions{BaseOffset: 3})
	f.Add(good)
	f.Add(good[:40])
	f.Add(append(Build(good, nil, BuildOptions{}), 0, 0, 0))
	f.Add([]byte{})
	f.Add(make([]byte, 61))
}

// FuzzDecode: ParseHeader, Validate, Records and Iterate never panic, stay
// within their input, and classify every error by sentinel.
func FuzzDecode(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseHeader(b); err != nil && !classified(err) {
			t.Fatalf("ParseHeader: unclassified %v", err)
		}
		h, err := Validate(b)
		if err != nil && !classified(err) {
			t.Fatalf("Validate: unclassified %v", err)
		}
		if err == nil && (h.Size() > len(b) || h.Size() < HeaderBytes) {
			t.Fatalf("size %d of %d", h.Size(), len(b))
		}
		rs, rerr := Records(b)
		if rerr != nil && !classified(rerr) {
			t.Fatalf("Records: unclassified %v", rerr)
		}
		if rerr == nil {
			if err != nil {
				t.Fatal("Records accepted what Validate rejected")
			}
			// Rebuilding the decoded records gives a valid batch with the
			// same records (encoding may differ only in varint form).
			again, err := Records(Build(nil, rs, BuildOptions{}))
			if err != nil {
				t.Fatal(err)
			}
			for i := range rs {
				rs[i].OffsetDelta = int32(i)
			}
			assertRecords(t, again, rs)
		}
		it := Iterate(b)
		last := 0
		for it.Next() {
			if it.Offset() != last || it.End() > len(b) || len(it.Batch()) != it.Header().Size() {
				t.Fatalf("iterator off %d end %d len %d", it.Offset(), it.End(), len(b))
			}
			last = it.End()
		}
		if it.Offset() != last || it.Offset() > len(b) || (it.Err() != nil && !classified(it.Err())) {
			t.Fatalf("iterator end: off %d last %d err %v", it.Offset(), last, it.Err())
		}
	})
}

// FuzzRecords feeds arbitrary record bytes behind a valid header (length
// and CRC fixed up), so the fuzzer reaches the record decoder past the CRC.
func FuzzRecords(f *testing.F) {
	good := Build(nil, sample(), BuildOptions{})
	f.Add(good[HeaderBytes:], int32(3))
	f.Add([]byte{2, 0, 0, 0, 1, 1, 0}, int32(1))
	f.Add([]byte{}, int32(0))
	f.Fuzz(func(t *testing.T, recs []byte, count int32) {
		b := Build(nil, nil, BuildOptions{})
		b = append(b, recs...)
		if count < 0 {
			count = -count
		}
		if count < 0 {
			count = 0
		}
		putHeaderCounts(b, count)
		fixCRC(b)
		rs, err := Records(b)
		if err != nil {
			if !classified(err) {
				t.Fatalf("unclassified %v", err)
			}
			return
		}
		if len(rs) != int(count) {
			t.Fatalf("%d records, header says %d", len(rs), count)
		}
		again, err := Records(Build(nil, rs, BuildOptions{}))
		if err != nil {
			t.Fatal(err)
		}
		for i := range rs {
			rs[i].OffsetDelta = int32(i)
		}
		assertRecords(t, again, rs)
	})
}
