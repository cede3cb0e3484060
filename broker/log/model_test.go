package log

import (
	"bytes"
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim/disk"
	"github.com/loglab/loglab/wire/batch"
)

// logModel is the specification: the log is the sequence of batches
// written, minus a prefix (retention) and a suffix (truncation).
type logModel struct {
	batches [][]byte // every batch ever kept, in offset order
	start   int64    // LogStartOffset
}

func (m *logModel) end() int64 {
	if len(m.batches) == 0 {
		return 0
	}
	h, _ := batch.ParseHeader(m.batches[len(m.batches)-1])
	return h.NextOffset()
}

// containing returns the index of the batch holding offset.
func (m *logModel) containing(offset int64) int {
	for i, b := range m.batches {
		if h, _ := batch.ParseHeader(b); h.BaseOffset <= offset && offset <= h.LastOffset() {
			return i
		}
	}
	return -1
}

// runModel drives a rapid state machine over l in world d. crash, when not
// nil, simulates a power loss and returns the new incarnation's driver.
func runModel(rt *rapid.T, d driver, crash func() driver) {
	cfg := Config{
		SegmentBytes:       rapid.Int64Range(2<<10, 32<<10).Draw(rt, "segmentBytes"),
		IndexIntervalBytes: rapid.Int64Range(100, 4096).Draw(rt, "indexInterval"),
		FlushMessages:      rapid.Int64Range(0, 3).Draw(rt, "flushMessages"),
		RetentionBytes:     rapid.Int64Range(0, 64<<10).Draw(rt, "retentionBytes"),
		MaxBatchBytes:      64 << 10,
	}
	var l *Log
	open := func() {
		var err error
		d.do(func(h host.Host) { l, err = Open(h, "t-0", cfg) })
		if err != nil {
			rt.Fatalf("Open: %v", err)
		}
	}
	open()
	m := &logModel{}
	tag := 0
	truncatedSinceSync := false

	check := func() {
		d.do(func(h host.Host) {
			if l.LogEndOffset() != m.end() || l.LogStartOffset() != m.start {
				rt.Fatalf("log [%d,%d), model [%d,%d)", l.LogStartOffset(), l.LogEndOffset(), m.start, m.end())
			}
		})
	}
	rt.Repeat(map[string]func(*rapid.T){
		"append": func(t *rapid.T) {
			n := rapid.IntRange(1, 5).Draw(t, "records")
			size := rapid.IntRange(0, 3000).Draw(t, "valueBytes")
			tag++
			b := mkBatch(tag, n, size, int64(tag))
			d.do(func(h host.Host) {
				info, err := l.Append(b)
				if l.truncPending {
					if !errors.Is(err, ErrTruncationPending) {
						t.Fatalf("append during truncation: %v", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("append: %v", err)
				}
				if info.FirstOffset != m.end() || info.LastOffset != m.end()+int64(n)-1 {
					t.Fatalf("append info %+v, model end %d", info, m.end())
				}
				m.batches = append(m.batches, bytes.Clone(b))
			})
		},
		"read": func(t *rapid.T) {
			off := rapid.Int64Range(m.start-1, m.end()+1).Draw(t, "offset")
			maxBytes := rapid.IntRange(0, 20000).Draw(t, "maxBytes")
			d.do(func(h host.Host) {
				got, err := l.Read(off, maxBytes)
				switch {
				case off < m.start || off > m.end():
					if !errors.Is(err, ErrOffsetOutOfRange) {
						t.Fatalf("Read(%d) outside [%d,%d]: %v", off, m.start, m.end(), err)
					}
					return
				case err != nil:
					t.Fatalf("Read(%d): %v", off, err)
				case off == m.end():
					if len(got) != 0 {
						t.Fatalf("Read(end) returned %d bytes", len(got))
					}
					return
				}
				i := m.containing(off)
				var want []byte
				for j := i; j < len(m.batches) && len(want) < len(got); j++ {
					want = append(want, m.batches[j]...)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("Read(%d, %d): %d bytes not the model's batches from %d", off, maxBytes, len(got), i)
				}
				if len(got) > max(maxBytes, len(m.batches[i])) {
					t.Fatalf("Read(%d, %d) returned %d bytes", off, maxBytes, len(got))
				}
			})
		},
		"truncate": func(t *rapid.T) {
			off := rapid.Int64Range(m.start, m.end()).Draw(t, "offset")
			d.do(func(h host.Host) {
				if l.truncPending {
					return
				}
				if err := l.TruncateTo(off); err != nil {
					t.Fatalf("TruncateTo(%d): %v", off, err)
				}
				if off < m.end() {
					m.batches = m.batches[:m.containing(off)]
					truncatedSinceSync = true
				}
			})
		},
		"retention": func(t *rapid.T) {
			d.do(func(h host.Host) {
				n, err := l.ApplyRetention()
				if err != nil {
					t.Fatalf("retention: %v", err)
				}
				if n > 0 {
					if l.Size() < cfg.RetentionBytes {
						t.Fatalf("retention left %d bytes, limit %d", l.Size(), cfg.RetentionBytes)
					}
					if m.containing(l.LogStartOffset()) < 0 && l.LogStartOffset() != m.end() {
						t.Fatalf("log start %d not a batch boundary", l.LogStartOffset())
					}
					m.start = l.LogStartOffset()
				}
			})
		},
		"sync": func(t *rapid.T) {
			if err := d.wait(func(h host.Host, done func(error)) { l.Sync(done) }); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			d.do(func(h host.Host) {
				if l.RecoveryPoint() != l.LogEndOffset() {
					t.Fatalf("after Sync rp %d, end %d", l.RecoveryPoint(), l.LogEndOffset())
				}
			})
			truncatedSinceSync = false
		},
		"reopen": func(t *rapid.T) {
			if err := d.wait(func(h host.Host, done func(error)) { l.Close(done) }); err != nil {
				t.Fatalf("Close: %v", err)
			}
			open()
			d.do(func(h host.Host) {
				if l.RecoveryPoint() != l.LogEndOffset() {
					t.Fatalf("after clean reopen rp %d, end %d", l.RecoveryPoint(), l.LogEndOffset())
				}
			})
			truncatedSinceSync = false
		},
		"crash": func(t *rapid.T) {
			if crash == nil || truncatedSinceSync {
				return // an undurable truncation may come back: not a prefix model
			}
			var durable int64
			d.do(func(h host.Host) { durable = l.RecoveryPoint() })
			d = crash()
			open()
			d.do(func(h host.Host) {
				end := l.LogEndOffset()
				if end < durable || end > m.end() {
					t.Fatalf("after crash end %d, durable %d, model end %d", end, durable, m.end())
				}
				if end < m.end() {
					m.batches = m.batches[:m.containing(end)]
				}
				// Retention is durable only once its checkpoint is.
				if l.LogStartOffset() > m.start {
					t.Fatalf("log start %d beyond model %d", l.LogStartOffset(), m.start)
				}
				m.start = l.LogStartOffset()
				got := readAllBatches(t, l)
				first := m.containing(m.start)
				if first < 0 {
					first = len(m.batches)
				}
				if len(got) != len(m.batches)-first {
					t.Fatalf("after crash %d batches, model %d", len(got), len(m.batches)-first)
				}
				for i := range got {
					if !bytes.Equal(got[i], m.batches[first+i]) {
						t.Fatalf("after crash batch %d differs", i)
					}
				}
			})
		},
		"": func(t *rapid.T) { check() },
	})
	_ = d.wait(func(h host.Host, done func(error)) { l.Close(done) })
}

func TestModelSim(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := newTestWorld(t, rapid.Uint64().Draw(rt, "seed"))
		mode := disk.CrashMode(rapid.IntRange(0, 3).Draw(rt, "crashMode"))
		runModel(rt, simDriver{w}, func() driver {
			w.crash(mode)
			return simDriver{w}
		})
	})
}

func TestModelReal(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		runModel(rt, newRealDriver(t, t.TempDir()), nil)
	})
}
