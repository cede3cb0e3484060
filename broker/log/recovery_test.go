package log

import (
	"bytes"
	"errors"
	"testing"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim/disk"
	"github.com/loglab/loglab/wire/batch"
)

const dir = "p-0"

var smallCfg = Config{SegmentBytes: 8 << 10, IndexIntervalBytes: 512}

// fill appends n batches and returns copies of them as stored.
func fill(t testing.TB, l *Log, from, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := from; i < from+n; i++ {
		b := mkBatch(i, 1+i%4, 200+i%300, int64(1000+i))
		if _, err := l.Append(b); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		out = append(out, bytes.Clone(b))
	}
	return out
}

// assertPrefix checks that the log holds exactly a prefix of written, at
// least minBatches long, and returns its length.
func assertPrefix(t testing.TB, l *Log, written [][]byte, minOffset int64) int {
	t.Helper()
	got := readAllBatches(t, l)
	if len(got) > len(written) {
		t.Fatalf("log has %d batches, only %d written", len(got), len(written))
	}
	for i := range got {
		if !bytes.Equal(got[i], written[i]) {
			t.Fatalf("batch %d differs from what was written", i)
		}
	}
	if l.LogEndOffset() < minOffset {
		t.Fatalf("log end %d below durable offset %d", l.LogEndOffset(), minOffset)
	}
	return len(got)
}

func segFiles(w *testWorld, suffix string) []string {
	names, _ := w.disk.Host().List(dir)
	var out []string
	for _, n := range names {
		if _, ok := parseSegmentName(n, suffix); ok {
			out = append(out, dir+"/"+n)
		}
	}
	return out
}

func writeFile(t testing.TB, w *testWorld, name string, off int64, p []byte) {
	t.Helper()
	f, err := w.disk.Host().OpenFile(name, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(p, off); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func fileSize(t testing.TB, w *testWorld, name string) int64 {
	f, err := w.disk.Host().OpenFile(name, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, _ := f.Size()
	return n
}

func TestGroupCommit(t *testing.T) {
	w := newTestWorld(t, 1)
	d := simDriver{w}
	l := mustOpen(t, d, dir, Config{FlushMessages: 1})
	w.runUntil(func() bool { return !l.flush.inFlight }) // the open round
	before := w.disk.Stats()
	startedBefore := l.flush.started
	released := 0
	var releasedAt []int64
	for i := 0; i < 50; i++ {
		b := mkBatch(i, 2, 100, 5)
		batch.SetPartitionLeaderEpoch(b, -1) // no leader-epoch file write: count data syncs only
		info, err := l.Append(b)
		if err != nil {
			t.Fatal(err)
		}
		l.WhenDurable(info.LastOffset+1, func(err error) {
			if err != nil {
				t.Errorf("waiter: %v", err)
			}
			released++
			releasedAt = append(releasedAt, l.RecoveryPoint())
		})
	}
	w.runUntil(func() bool { return released == 50 })
	if got := l.flush.started - startedBefore; got != 2 {
		t.Fatalf("%d rounds for 50 appends during one in-flight round, want 2 (the first and one group commit)", got)
	}
	if got := w.disk.Stats().SyncsRequested - before.SyncsRequested; got != 2 {
		t.Fatalf("%d file syncs, want 2", got)
	}
	// The first append's waiter is released by the first round, which did
	// not cover the others.
	if releasedAt[0] != 2 || releasedAt[49] != 100 {
		t.Fatalf("released at %v", releasedAt)
	}
}

func TestFailedSyncFailsLog(t *testing.T) {
	w := newTestWorld(t, 1)
	d := simDriver{w}
	l := mustOpen(t, d, dir, Config{FlushMessages: 1})
	syncLog(t, d, l)
	rp := l.RecoveryPoint()
	w.disk.SetFaults(disk.Faults{SyncErrorRate: disk.Million})
	info, err := l.Append(mkBatch(1, 1, 10, 0))
	if err != nil {
		t.Fatal(err)
	}
	err = d.wait(func(h host.Host, done func(error)) { l.WhenDurable(info.LastOffset+1, done) })
	if !errors.Is(err, ErrLogFailed) || !errors.Is(err, host.ErrIO) {
		t.Fatalf("waiter got %v", err)
	}
	if l.RecoveryPoint() != rp {
		t.Fatalf("failed sync advanced the recovery point to %d", l.RecoveryPoint())
	}
	if _, err := l.Append(mkBatch(2, 1, 10, 0)); !errors.Is(err, ErrLogFailed) {
		t.Fatalf("append after failure: %v", err)
	}
	if err := d.wait(func(h host.Host, done func(error)) { l.Sync(done) }); !errors.Is(err, ErrLogFailed) {
		t.Fatalf("sync after failure: %v", err)
	}
}

// Crashes in every mode: the recovered log is a prefix of what was written
// and never ends below the recovery point reached before the crash.
func TestCrashRecovery(t *testing.T) {
	for _, mode := range []disk.CrashMode{disk.LoseUnsynced, disk.KeepRandomPages, disk.TornLastSector, disk.KeepPageCache} {
		for seed := uint64(1); seed <= 20; seed++ {
			w := newTestWorld(t, seed)
			d := simDriver{w}
			cfg := smallCfg
			cfg.FlushMs = 3
			l := mustOpen(t, d, dir, cfg)
			var written [][]byte
			for round := 0; round < 5; round++ {
				written = append(written, fill(t, l, len(written), 7)...)
				w.runFor(2_000_000) // 2ms: some flushes complete, some not
			}
			durable := l.RecoveryPoint()
			w.crash(mode)
			l = mustOpen(t, simDriver{w}, dir, cfg)
			n := assertPrefix(t, l, written, durable)
			// The log goes on: appends continue from the recovered end.
			written = append(written[:n], fill(t, l, n, 5)...)
			closeLog(t, simDriver{w}, l)
			w.crash(mode)
			l = mustOpen(t, simDriver{w}, dir, cfg)
			if got := assertPrefix(t, l, written, 0); got != len(written) {
				t.Fatalf("%v seed %d: after a clean close, %d of %d batches", mode, seed, got, len(written))
			}
		}
	}
}

// closedLog writes batches, closes cleanly, and returns the world and data.
func closedLog(t *testing.T, n int) (*testWorld, [][]byte) {
	w := newTestWorld(t, 7)
	d := simDriver{w}
	l := mustOpen(t, d, dir, smallCfg)
	written := fill(t, l, 0, n)
	closeLog(t, d, l)
	return w, written
}

func setCheckpoint(t testing.TB, w *testWorld, rp, lso int64) {
	writeFile(t, w, dir+"/"+checkpointName, 0, encodeCheckpoint(rp, lso))
}

func TestGarbageAndTornTails(t *testing.T) {
	cases := map[string]func(t *testing.T, w *testWorld, name string, size int64){
		"garbage": func(t *testing.T, w *testWorld, name string, size int64) {
			writeFile(t, w, name, size, bytes.Repeat([]byte{0xab}, 300))
		},
		"zeros": func(t *testing.T, w *testWorld, name string, size int64) {
			writeFile(t, w, name, size, make([]byte, 5000))
		},
		"torn batch": func(t *testing.T, w *testWorld, name string, size int64) {
			writeFile(t, w, name, size, mkBatch(99, 3, 500, 0)[:700])
		},
		"huge length": func(t *testing.T, w *testWorld, name string, size int64) {
			b := mkBatch(99, 1, 10, 0)
			b[8], b[9] = 0x7f, 0xff
			writeFile(t, w, name, size, b)
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			w, written := closedLog(t, 40)
			logs := segFiles(w, logSuffix)
			last := logs[len(logs)-1]
			damage(t, w, last, fileSize(t, w, last))
			l := mustOpen(t, simDriver{w}, dir, smallCfg)
			if got := assertPrefix(t, l, written, 0); got != len(written) {
				t.Fatalf("kept %d of %d batches", got, len(written))
			}
			if l.Size() != sumSizes(written) {
				t.Fatalf("size %d want %d", l.Size(), sumSizes(written))
			}
			// The broker must learn that recovery dropped bytes: in a
			// replicated partition they may have held committed records.
			if cut, ok := l.RecoveryCut(); !ok || cut != l.LogEndOffset() {
				t.Fatalf("RecoveryCut() = %d, %v; want %d, true", cut, ok, l.LogEndOffset())
			}
		})
	}
	t.Run("intact", func(t *testing.T) {
		w, _ := closedLog(t, 40)
		l := mustOpen(t, simDriver{w}, dir, smallCfg)
		if cut, ok := l.RecoveryCut(); ok {
			t.Fatalf("RecoveryCut() = %d on an intact log", cut)
		}
	})
}

func sumSizes(bs [][]byte) int64 {
	var n int64
	for _, b := range bs {
		n += int64(len(b))
	}
	return n
}

// A hole of zeros above the recovery point truncates the log at the batch
// it hits; later segments go.
func TestZeroHoleAboveRecoveryPoint(t *testing.T) {
	w, written := closedLog(t, 60)
	logs := segFiles(w, logSuffix)
	if len(logs) < 3 {
		t.Fatalf("want >= 3 segments, got %d", len(logs))
	}
	setCheckpoint(t, w, 0, 0) // nothing claimed durable: recovery scans all
	writeFile(t, w, logs[1], 1000, make([]byte, 100))
	l := mustOpen(t, simDriver{w}, dir, smallCfg)
	n := assertPrefix(t, l, written, 0)
	if n >= len(written) || l.NumSegments() != 2 {
		t.Fatalf("kept %d of %d batches in %d segments", n, len(written), l.NumSegments())
	}
	if len(segFiles(w, logSuffix)) != 2 || len(segFiles(w, indexSuffix)) != 2 {
		t.Fatal("later segment files not removed")
	}
	// The cut is at the damaged batch: the one covering position 1000.
	base, _ := parseSegmentName(logs[1][len(dir)+1:], logSuffix)
	var pos int64
	for _, b := range written {
		h, _ := batch.ParseHeader(b)
		if h.BaseOffset >= base {
			if pos+int64(len(b)) > 1000 {
				if l.LogEndOffset() != h.BaseOffset {
					t.Fatalf("log end %d, want %d", l.LogEndOffset(), h.BaseOffset)
				}
				break
			}
			pos += int64(len(b))
		}
	}
	if cut, ok := l.RecoveryCut(); !ok || cut != l.LogEndOffset() {
		t.Fatalf("RecoveryCut() = %d, %v; want %d, true", cut, ok, l.LogEndOffset())
	}
}

func TestBitRotBelowRecoveryPoint(t *testing.T) {
	t.Run("trusted segment: read fails", func(t *testing.T) {
		w, written := closedLog(t, 60)
		logs := segFiles(w, logSuffix)
		if err := w.disk.BitRot(logs[0], 700); err != nil {
			t.Fatal(err)
		}
		l := mustOpen(t, simDriver{w}, dir, smallCfg)
		var sawCorruption bool
		for off := int64(0); off < l.LogEndOffset(); off++ {
			b, err := l.Read(off, 1<<20)
			if errors.Is(err, ErrCorruption) {
				sawCorruption = true
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			it := batch.Iterate(b)
			for it.Next() {
				h := it.Header()
				if idx := indexOf(written, h.BaseOffset); idx < 0 || !bytes.Equal(written[idx], it.Batch()) {
					t.Fatalf("served damaged batch at %d", h.BaseOffset)
				}
			}
		}
		if !sawCorruption {
			t.Fatal("bit rot not detected")
		}
	})
	t.Run("recovery-point segment: open fails", func(t *testing.T) {
		w, _ := closedLog(t, 60)
		logs := segFiles(w, logSuffix)
		if err := w.disk.BitRot(logs[len(logs)-1], 100); err != nil {
			t.Fatal(err)
		}
		var err error
		simDriver{w}.do(func(h host.Host) { _, err = Open(h, dir, smallCfg) })
		if !errors.Is(err, ErrCorruption) {
			t.Fatalf("Open: %v", err)
		}
	})
	t.Run("ScanAll: the log is cut at the rot, the prefix kept", func(t *testing.T) {
		for _, seg := range []string{"first", "last"} {
			w, written := closedLog(t, 60)
			logs := segFiles(w, logSuffix)
			name := logs[0]
			if seg == "last" {
				name = logs[len(logs)-1]
			}
			if err := w.disk.BitRot(name, 700); err != nil {
				t.Fatal(err)
			}
			cfg := smallCfg
			cfg.ScanAll = true
			l := mustOpen(t, simDriver{w}, dir, cfg)
			n := assertPrefix(t, l, written, 0)
			if n == 0 || n >= len(written) {
				t.Fatalf("%s segment: kept %d of %d batches", seg, n, len(written))
			}
			if cut, ok := l.RecoveryCut(); !ok || cut != l.LogEndOffset() {
				t.Fatalf("%s segment: RecoveryCut() = %d, %v; log end %d", seg, cut, ok, l.LogEndOffset())
			}
		}
	})
	t.Run("missing tail below recovery point: open fails", func(t *testing.T) {
		w, _ := closedLog(t, 60)
		logs := segFiles(w, logSuffix)
		f, _ := w.disk.Host().OpenFile(logs[len(logs)-1], false)
		f.Truncate(10)
		f.Close()
		var err error
		simDriver{w}.do(func(h host.Host) { _, err = Open(h, dir, smallCfg) })
		if !errors.Is(err, ErrCorruption) {
			t.Fatalf("Open: %v", err)
		}
	})
}

func indexOf(written [][]byte, base int64) int {
	for i, b := range written {
		if h, _ := batch.ParseHeader(b); h.BaseOffset == base {
			return i
		}
	}
	return -1
}

func TestDamagedIndexesAreRebuilt(t *testing.T) {
	cases := map[string]func(t *testing.T, w *testWorld){
		"truncated index": func(t *testing.T, w *testWorld) {
			f, _ := w.disk.Host().OpenFile(segFiles(w, indexSuffix)[0], false)
			f.Truncate(5)
			f.Close()
		},
		"missing time index": func(t *testing.T, w *testWorld) {
			w.disk.Host().Remove(segFiles(w, timeIndexSuffix)[0])
		},
		"non-increasing index": func(t *testing.T, w *testWorld) {
			writeFile(t, w, segFiles(w, indexSuffix)[1], 0, make([]byte, 16))
		},
		"position past the end": func(t *testing.T, w *testWorld) {
			writeFile(t, w, segFiles(w, indexSuffix)[0], 0, []byte{0, 0, 0, 1, 0x70, 0, 0, 0})
		},
		"garbage time index": func(t *testing.T, w *testWorld) {
			writeFile(t, w, segFiles(w, timeIndexSuffix)[0], 0, bytes.Repeat([]byte{0xff}, 24))
		},
		"corrupt checkpoint": func(t *testing.T, w *testWorld) {
			writeFile(t, w, dir+"/"+checkpointName, 3, []byte{9})
		},
		"missing checkpoint and orphan index": func(t *testing.T, w *testWorld) {
			w.disk.Host().Remove(dir + "/" + checkpointName)
			writeFile(t, w, segmentName(dir, 999999, indexSuffix), 0, make([]byte, 8))
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			w, written := closedLog(t, 60)
			damage(t, w)
			l := mustOpen(t, simDriver{w}, dir, smallCfg)
			if got := assertPrefix(t, l, written, 0); got != len(written) {
				t.Fatalf("kept %d of %d", got, len(written))
			}
			for _, s := range l.segs {
				if s.maxTs == noTimestamp {
					t.Fatalf("segment %d lost its max timestamp", s.base)
				}
			}
			off, ok, err := l.OffsetForTimestamp(1000 + 30)
			if want := firstAtOrAfter(written, 1030); err != nil || !ok || off != want {
				t.Fatalf("OffsetForTimestamp: %d %v %v", off, ok, err)
			}
			closeLog(t, simDriver{w}, l)
			for _, n := range segFiles(w, indexSuffix) {
				if fileSize(t, w, n)%IndexEntryBytes != 0 {
					t.Fatalf("%s not rewritten", n)
				}
			}
			if len(segFiles(w, indexSuffix)) != len(segFiles(w, logSuffix)) {
				t.Fatal("orphan index left")
			}
		})
	}
}

func TestTruncateAndRetention(t *testing.T) {
	w := newTestWorld(t, 3)
	d := simDriver{w}
	cfg := smallCfg
	cfg.RetentionBytes = 20 << 10
	l := mustOpen(t, d, dir, cfg)
	written := fill(t, l, 0, 80)
	closeLog(t, d, l)
	l = mustOpen(t, d, dir, cfg)
	// Truncate below the checkpointed recovery point: appends wait.
	h30, _ := batch.ParseHeader(written[30])
	if err := l.TruncateTo(h30.BaseOffset + 1); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != h30.BaseOffset || l.RecoveryPoint() > h30.BaseOffset {
		t.Fatalf("leo %d rp %d", l.LogEndOffset(), l.RecoveryPoint())
	}
	if _, err := l.Append(mkBatch(1, 1, 1, 1)); !errors.Is(err, ErrTruncationPending) {
		t.Fatalf("append during pending truncation: %v", err)
	}
	syncLog(t, d, l)
	written = append(written[:30], fill(t, l, 1000, 30)...)
	assertPrefix(t, l, written, 0)
	n, err := l.ApplyRetention()
	if err != nil || n == 0 {
		t.Fatalf("retention: %d %v", n, err)
	}
	if l.Size() < cfg.RetentionBytes || l.Size()-l.segs[0].size >= cfg.RetentionBytes {
		t.Fatalf("size %d after retention", l.Size())
	}
	first := indexOf(written, l.LogStartOffset())
	if _, err := l.Read(l.LogStartOffset()-1, 10); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	closeLog(t, d, l)
	w.crash(disk.LoseUnsynced)
	l = mustOpen(t, simDriver{w}, dir, cfg)
	if idx := indexOf(written, l.LogStartOffset()); idx != first {
		t.Fatalf("log start offset %d after reopen", l.LogStartOffset())
	}
	got := readAllBatches(t, l)
	if len(got) != len(written)-first || !bytes.Equal(got[0], written[first]) {
		t.Fatalf("after reopen %d batches", len(got))
	}
}

// firstAtOrAfter is the model of OffsetForTimestamp: the first record
// offset with timestamp >= ts, by brute force.
func firstAtOrAfter(written [][]byte, ts int64) int64 {
	for _, b := range written {
		h, _ := batch.ParseHeader(b)
		rs, _ := batch.Records(b)
		for _, r := range rs {
			if h.BaseTimestamp+r.TimestampDelta >= ts {
				return h.BaseOffset + int64(r.OffsetDelta)
			}
		}
	}
	return -1
}

// Regression (rapid): a truncation applied after its checkpoint must itself
// be synced by Close, or the truncated batches come back after a crash.
func TestTruncationDurableAfterClose(t *testing.T) {
	w := newTestWorld(t, 0)
	d := simDriver{w}
	cfg := Config{SegmentBytes: 2048, IndexIntervalBytes: 100}
	l := mustOpen(t, d, dir, cfg)
	fill(t, l, 0, 1)
	closeLog(t, d, l)
	l = mustOpen(t, d, dir, cfg)
	if err := l.TruncateTo(0); err != nil {
		t.Fatal(err)
	}
	closeLog(t, d, l)
	w.crash(disk.LoseUnsynced)
	l = mustOpen(t, simDriver{w}, dir, cfg)
	if l.LogEndOffset() != 0 {
		t.Fatalf("truncated batch came back: end %d", l.LogEndOffset())
	}
}

// Regression (rapid): segments deleted by retention stay covered by the
// recovery point until the new log start offset is durable; otherwise a
// crash brings back the old start with its data lost, and recovery cuts
// the log there, dropping synced data after it.
func TestRetentionThenCrashKeepsDurableData(t *testing.T) {
	w := newTestWorld(t, 0)
	d := simDriver{w}
	cfg := Config{SegmentBytes: 2048, IndexIntervalBytes: 100, RetentionBytes: 1}
	l := mustOpen(t, d, dir, cfg)
	l.Append(mkBatch(1, 1, 0, 1))
	l.Append(mkBatch(2, 1, 0, 2))
	l.Append(mkBatch(3, 5, 372, 3))
	l.ApplyRetention()
	l.Append(mkBatch(4, 2, 4, 4))
	l.ApplyRetention()
	syncLog(t, d, l)
	durable := l.RecoveryPoint()
	w.crash(disk.LoseUnsynced)
	l = mustOpen(t, simDriver{w}, dir, cfg)
	if l.LogEndOffset() < durable {
		t.Fatalf("after crash end %d, durable %d", l.LogEndOffset(), durable)
	}
}
