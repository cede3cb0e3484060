package log

import (
	"bytes"
	"errors"
	"testing"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire/batch"
)

// FuzzIndexDecode: decodeIndex and decodeTimeIndex never panic, and what
// they accept is consistent and re-encodes to the same bytes.
func FuzzIndexDecode(f *testing.F) {
	f.Add(encodeIndex(nil, []indexEntry{{1, 100}, {5, 900}}), int64(10), int64(1000))
	f.Add([]byte{0, 0, 0, 1}, int64(10), int64(1000))
	f.Add(encodeTimeIndex(nil, []timeEntry{{5, 0}, {9, 3}}), int64(3), int64(0))
	f.Add(make([]byte, 24), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, b []byte, maxRel, segSize int64) {
		if es, err := decodeIndex(b, maxRel, segSize); err == nil {
			for i, e := range es {
				if e.pos == 0 || int64(e.pos) >= segSize || int64(e.rel) > maxRel || (i > 0 && (e.rel <= es[i-1].rel || e.pos <= es[i-1].pos)) {
					t.Fatalf("accepted inconsistent entry %d %+v", i, e)
				}
			}
			if !bytes.Equal(encodeIndex(nil, es), b) {
				t.Fatal("no round trip")
			}
		} else if !errors.Is(err, errBadIndex) {
			t.Fatalf("unclassified %v", err)
		}
		if es, err := decodeTimeIndex(b, maxRel); err == nil {
			for i, e := range es {
				if int64(e.rel) > maxRel || (i > 0 && (e.ts <= es[i-1].ts || e.rel < es[i-1].rel)) {
					t.Fatalf("accepted inconsistent time entry %d %+v", i, e)
				}
			}
			if !bytes.Equal(encodeTimeIndex(nil, es), b) {
				t.Fatal("no round trip")
			}
		}
		decodeCheckpoint(b)
	})
}

// FuzzRecovery: Open never panics on any segment, index or checkpoint
// content. When it succeeds, the log reads back as whole valid contiguous
// batches, and appending and reopening still work.
func FuzzRecovery(f *testing.F) {
	var good []byte
	for i := 0; i < 6; i++ {
		b := mkBatch(i, 2, 300, int64(i))
		batch.SetBaseOffset(b, int64(2*i))
		good = append(good, b...)
	}
	f.Add(good, []byte{}, []byte{}, uint8(0))
	f.Add(good[:len(good)-10], encodeIndex(nil, []indexEntry{{2, uint32(len(good) / 6)}}), []byte{}, uint8(1))
	f.Add(append(bytes.Clone(good), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), []byte{1, 2, 3}, encodeCheckpoint(4, 0), uint8(2))
	f.Add(good, []byte{}, encodeCheckpoint(12, 0), uint8(3))
	f.Fuzz(func(t *testing.T, seg, index, ckpt []byte, split uint8) {
		w := newTestWorld(t, 1)
		// Optionally split the bytes into two segments at a batch boundary
		// named by the fuzzer.
		if err := w.disk.Host().MkdirAll(dir); err != nil {
			t.Fatal(err)
		}
		writeFile(t, w, segmentName(dir, 0, logSuffix), 0, seg)
		writeFile(t, w, segmentName(dir, 0, indexSuffix), 0, index)
		if split%4 == 3 && len(seg) > 0 {
			writeFile(t, w, segmentName(dir, int64(split), logSuffix), 0, seg[len(seg)/2:])
		}
		if len(ckpt) > 0 {
			writeFile(t, w, dir+"/"+checkpointName, 0, ckpt)
		}
		var l *Log
		var err error
		simDriver{w}.do(func(h host.Host) { l, err = Open(h, dir, Config{IndexIntervalBytes: 64}) })
		if err != nil {
			if !errors.Is(err, ErrCorruption) {
				t.Fatalf("Open: unclassified %v", err)
			}
			return
		}
		got := readAllBatches(t, l)
		next := l.LogStartOffset()
		for _, b := range got {
			h, err := batch.Validate(b)
			if err != nil || h.BaseOffset != next {
				t.Fatalf("served batch at %d (want %d): %v", h.BaseOffset, next, err)
			}
			next = h.NextOffset()
		}
		if next != l.LogEndOffset() {
			t.Fatalf("batches end at %d, log end %d", next, l.LogEndOffset())
		}
		// The leader-epoch cache agrees with the batches when they can
		// be agreed with: monotonic epochs, none hidden below the start.
		monotonic := true
		for i := 1; i < len(got); i++ {
			a, _ := batch.ParseHeader(got[i-1])
			b, _ := batch.ParseHeader(got[i])
			monotonic = monotonic && (b.PartitionLeaderEpoch < 0 || a.PartitionLeaderEpoch <= b.PartitionLeaderEpoch)
		}
		if err := checkEpochsAgree(l); err != nil && monotonic && l.LogStartOffset() == l.segs[0].base {
			t.Fatal(err)
		}
		for i, e := range l.EpochEntries() {
			if e.StartOffset < l.LogStartOffset() || e.StartOffset > l.LogEndOffset() || (i > 0 && e.StartOffset <= l.EpochEntries()[i-1].StartOffset) {
				t.Fatalf("entries %v in log [%d, %d]", l.EpochEntries(), l.LogStartOffset(), l.LogEndOffset())
			}
		}
		b1 := mkBatch(1, 1, 1, 1)
		batch.SetPartitionLeaderEpoch(b1, -1)
		if _, err := l.Append(b1); err != nil {
			t.Fatal(err)
		}
		closeLog(t, simDriver{w}, l)
		l = mustOpen(t, simDriver{w}, dir, Config{IndexIntervalBytes: 64})
		if l.LogEndOffset() != next+1 {
			t.Fatalf("after reopen end %d, want %d", l.LogEndOffset(), next+1)
		}
	})
}
