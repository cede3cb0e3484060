package log

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire/batch"
)

// benchBatch is ~16 KiB: 16 records of 1 KiB.
func benchBatch() []byte {
	rs := make([]batch.Record, 16)
	for i := range rs {
		rs[i] = batch.Record{Value: make([]byte, 1024), TimestampDelta: int64(i)}
	}
	return batch.Build(nil, rs, batch.BuildOptions{BaseTimestamp: 1})
}

var benchCfg = Config{SegmentBytes: 256 << 20}

// BenchmarkAppend: Log.Append on real files, no fsync (flush policy never).
// Compare with BenchmarkRawWrite.
func BenchmarkAppend(b *testing.B) {
	d := newRealDriver(b, b.TempDir())
	l := mustOpen(b, d, "bench-0", benchCfg)
	buf := benchBatch()
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	d.do(func(h host.Host) {
		for i := 0; i < b.N; i++ {
			// Append patches only the base offset: reusing buf is the
			// no-copy path a broker takes with a request's bytes.
			if _, err := l.Append(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	closeLog(b, d, l)
}

// BenchmarkRawWrite writes the same bytes with os.File.Write: the ceiling.
func BenchmarkRawWrite(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "raw.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := benchBatch()
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
}

const benchReadBytes = 1 << 20
const benchLogBytes = 64 << 20

// BenchmarkRead reads a 64 MiB log by offset, 1 MiB per Read (CRC-verified,
// into a reused buffer). Compare with BenchmarkRawReadAt.
func BenchmarkRead(b *testing.B) {
	d := newRealDriver(b, b.TempDir())
	l := mustOpen(b, d, "bench-0", benchCfg)
	buf := benchBatch()
	d.do(func(h host.Host) {
		for i := 0; i < benchLogBytes/len(buf); i++ {
			if _, err := l.Append(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.SetBytes(benchReadBytes)
	b.ReportAllocs()
	b.ResetTimer()
	d.do(func(h host.Host) {
		dst := make([]byte, 0, 2*benchReadBytes)
		off := int64(0)
		for i := 0; i < b.N; i++ {
			got, err := l.ReadInto(dst[:0], off, benchReadBytes)
			if err != nil {
				b.Fatal(err)
			}
			off += int64(len(got) / len(buf) * 16)
			if off >= l.LogEndOffset() {
				off = 0
			}
		}
	})
	b.StopTimer()
	closeLog(b, d, l)
}

// BenchmarkRawReadAt reads the same file with os.File.ReadAt, 1 MiB at a time.
func BenchmarkRawReadAt(b *testing.B) {
	p := filepath.Join(b.TempDir(), "raw.log")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := benchBatch()
	for i := 0; i < benchLogBytes/len(buf); i++ {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	size := int64(benchLogBytes / len(buf) * len(buf))
	dst := make([]byte, benchReadBytes)
	b.SetBytes(benchReadBytes)
	b.ReportAllocs()
	b.ResetTimer()
	pos := int64(0)
	for i := 0; i < b.N; i++ {
		if _, err := f.ReadAt(dst, pos); err != nil {
			pos = 0
			continue
		}
		pos += benchReadBytes
		if pos+benchReadBytes > size {
			pos = 0
		}
	}
}
