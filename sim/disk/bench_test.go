package disk

import (
	"fmt"
	"testing"

	"github.com/loglab/loglab/host"
)

// BenchmarkAppendSync: one 4 KiB append and one Sync run to completion per
// iteration: the cost of the model per durable append.
func BenchmarkAppendSync(b *testing.B) {
	e, d := newTestDisk(b, 1, Config{})
	e.log = false
	f := create(b, d, "f")
	p := make([]byte, PageSize)
	b.SetBytes(PageSize)
	for i := 0; b.Loop(); i++ {
		if _, err := f.WriteAt(p, int64(i%1024)*PageSize); err != nil {
			b.Fatal(err)
		}
		f.Sync(func(error) {})
		e.run()
	}
}

// BenchmarkGroupCommit: 32 files append and sync together per iteration.
func BenchmarkGroupCommit(b *testing.B) {
	e, d := newTestDisk(b, 1, Config{})
	e.log = false
	var files []host.File
	for i := range 32 {
		files = append(files, create(b, d, fmt.Sprintf("f%02d", i)))
	}
	p := make([]byte, 1024)
	b.SetBytes(32 * 1024)
	for i := 0; b.Loop(); i++ {
		for _, f := range files {
			f.WriteAt(p, int64(i%4096)*1024)
			f.Sync(func(error) {})
		}
		e.run()
	}
	b.ReportMetric(float64(d.Stats().Flushes)/float64(b.N), "flushes/op")
}
