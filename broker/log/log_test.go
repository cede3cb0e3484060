package log

import (
	"bytes"
	"errors"
	"testing"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire/batch"
)

func basicScenario(t *testing.T, d driver) {
	cfg := Config{SegmentBytes: 8 << 10, IndexIntervalBytes: 1024, FlushMessages: 1}
	l := mustOpen(t, d, "p-0", cfg)
	var written [][]byte
	d.do(func(h host.Host) {
		for i := 0; i < 60; i++ {
			b := mkBatch(i, 1+i%5, 100+i*7, int64(1000+i*10))
			info, err := l.Append(b)
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
			if info.FirstOffset != int64(len(written)*0)+info.FirstOffset || info.LastOffset-info.FirstOffset != int64(i%5) {
				t.Fatalf("info %+v", info)
			}
			written = append(written, bytes.Clone(b))
		}
	})
	if err := d.wait(func(h host.Host, done func(error)) { l.WhenDurable(l.LogEndOffset(), done) }); err != nil {
		t.Fatal(err)
	}
	if l.RecoveryPoint() != l.LogEndOffset() || l.NumSegments() < 3 {
		t.Fatalf("rp %d leo %d segs %d", l.RecoveryPoint(), l.LogEndOffset(), l.NumSegments())
	}
	check := func(l *Log) {
		t.Helper()
		d.do(func(h host.Host) {
			got := readAllBatches(t, l)
			if len(got) != len(written) {
				t.Fatalf("read %d batches, wrote %d", len(got), len(written))
			}
			for i := range got {
				if !bytes.Equal(got[i], written[i]) {
					t.Fatalf("batch %d differs", i)
				}
			}
			// Reads from the middle of a batch start at that batch.
			for off := int64(0); off < l.LogEndOffset(); off++ {
				b, err := l.Read(off, 1)
				if err != nil {
					t.Fatalf("Read(%d): %v", off, err)
				}
				h, _ := batch.Validate(b)
				if h.BaseOffset > off || h.LastOffset() < off || h.Size() != len(b) {
					t.Fatalf("Read(%d) gave %d..%d", off, h.BaseOffset, h.LastOffset())
				}
			}
			if _, err := l.Read(l.LogEndOffset()+1, 100); !errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("past end: %v", err)
			}
			if b, err := l.Read(l.LogEndOffset(), 100); err != nil || len(b) != 0 {
				t.Fatalf("at end: %v %d", err, len(b))
			}
			off, ok, err := l.OffsetForTimestamp(1000 + 32*10 + 2)
			if err != nil || !ok {
				t.Fatalf("OffsetForTimestamp: %v %v", ok, err)
			}
			// batch 32 has 3 records at ts 1320, 1321, 1322.
			var base int64
			for i := 0; i < 32; i++ {
				base += int64(1 + i%5)
			}
			if off != base+2 {
				t.Fatalf("OffsetForTimestamp = %d, want %d", off, base+2)
			}
			if _, ok, _ := l.OffsetForTimestamp(1 << 50); ok {
				t.Fatal("future timestamp found")
			}
		})
	}
	check(l)
	closeLog(t, d, l)
	l = mustOpen(t, d, "p-0", cfg)
	if l.RecoveryPoint() != l.LogEndOffset() {
		t.Fatalf("after clean close rp %d leo %d", l.RecoveryPoint(), l.LogEndOffset())
	}
	check(l)
	closeLog(t, d, l)
}

func TestBasicSim(t *testing.T) {
	basicScenario(t, simDriver{newTestWorld(t, 1)})
}

func TestBasicReal(t *testing.T) {
	basicScenario(t, newRealDriver(t, t.TempDir()))
}
