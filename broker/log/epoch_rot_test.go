package log

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/host"
)

// The CRC of a v2 batch does not cover its PartitionLeaderEpoch. These
// tests rewrite that field on disk, as bit rot would, and check that the
// log never serves the batch and that recovery cuts it where it can tell.

// Segments of about four batches: the first ones are trusted by recovery
// after a clean close, the last one is scanned.
var rotCfg = Config{SegmentBytes: 700, IndexIntervalBytes: 64}

// batchAt is where a batch lies: its segment file and position.
type batchAt struct {
	file string
	pos  int64
}

// epochLog writes 12 batches, four in each of epochs 1, 2 and 3, closes
// the log and returns the world and where each batch lies.
func epochLog(t *testing.T) (*testWorld, []batchAt) {
	t.Helper()
	w := newTestWorld(t, 11)
	d := simDriver{w}
	l := mustOpen(t, d, dir, rotCfg)
	var at []batchAt
	for i := range 12 {
		e := int32(1 + i/4)
		if i%4 == 0 {
			if err := l.AssignEpoch(e, l.LogEndOffset()); err != nil {
				t.Fatal(err)
			}
		}
		b := mkBatch(i, 1, 100, int64(i))
		if _, err := l.AppendAsLeader(b, e); err != nil {
			t.Fatal(err)
		}
		s := l.active()
		at = append(at, batchAt{segmentName(dir, s.base, logSuffix), s.size - int64(len(b))})
	}
	closeLog(t, d, l)
	if at[1].file != at[0].file || at[8].file != at[11].file || at[4].file == at[11].file {
		t.Fatalf("segments: %v; the tests want batches 0-1 in the first, 4 before the last, 8-11 in the last", at)
	}
	return w, at
}

// rotEpoch rewrites the leader epoch of the batch at b.
func rotEpoch(t *testing.T, w *testWorld, b batchAt, e int32) {
	t.Helper()
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], uint32(e))
	writeFile(t, w, b.file, b.pos+12, p[:])
}

func openErr(w *testWorld, cfg Config) (*Log, error) {
	var l *Log
	var err error
	simDriver{w}.do(func(h host.Host) { l, err = Open(h, dir, cfg) })
	return l, err
}

func TestRottenEpochBelowRecoveryPointIsNeverServed(t *testing.T) {
	for _, rotten := range []int32{1 + 1<<28, 0, 2} { // batch 1 is in epoch 1
		w, at := epochLog(t)
		rotEpoch(t, w, at[1], rotten)
		l := mustOpen(t, simDriver{w}, dir, rotCfg) // closed cleanly: the first segment is trusted
		for off := int64(0); off < l.LogEndOffset(); off++ {
			_, err := l.Read(off, 1)
			if off == 1 {
				if !errors.Is(err, ErrCorruption) || !strings.Contains(err.Error(), "leader epoch") {
					t.Fatalf("epoch %d: read of the rotten batch: %v", rotten, err)
				}
			} else if err != nil {
				t.Fatalf("epoch %d: read %d: %v", rotten, off, err)
			}
		}
		// A read that starts before the rot and would run over it fails
		// too (Read returns whole batches or nothing).
		if _, err := l.Read(0, 1<<20); !errors.Is(err, ErrCorruption) {
			t.Fatalf("epoch %d: read over the rot: %v", rotten, err)
		}
	}
}

func TestRecoveryCutsARottenEpoch(t *testing.T) {
	t.Run("ScanAll: the leader-epoch checkpoint disagrees below the recovery point", func(t *testing.T) {
		// The first batch of an epoch rotted to the epoch before: only the
		// checkpoint can tell (the epochs along the log still rise).
		for _, b := range []int{4, 8} {
			w, at := epochLog(t)
			rotEpoch(t, w, at[b], int32(b/4))
			if b == 8 {
				// In the last segment, scanned by every recovery, and below
				// the recovery point.
				if _, err := openErr(w, rotCfg); !errors.Is(err, ErrCorruption) {
					t.Fatalf("Open: %v, want ErrCorruption", err)
				}
			}
			cfg := rotCfg
			cfg.ScanAll = true
			l := mustOpen(t, simDriver{w}, dir, cfg)
			if cut, ok := l.RecoveryCut(); !ok || cut != int64(b) || l.LogEndOffset() != int64(b) {
				t.Fatalf("batch %d: RecoveryCut() = %d, %v; log end %d; want a cut there", b, cut, ok, l.LogEndOffset())
			}
			if err := checkEpochsAgree(l); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name   string
		batch  int
		rotten int32
		cutAt  int64
	}{
		{"a single batch above both neighbours is the rot", 5, 2 + 1<<28, 5},
		{"an epoch below the one before it", 6, 1, 6},
		{"a rise onto the next epoch early, then back: the rise is cut", 6, 3, 6},
	} {
		t.Run("above the recovery point: "+c.name, func(t *testing.T) {
			w, at := epochLog(t)
			rotEpoch(t, w, at[c.batch], c.rotten)
			setCheckpoint(t, w, 0, 0) // nothing trusted: recovery scans from the start
			l := mustOpen(t, simDriver{w}, dir, rotCfg)
			if cut, ok := l.RecoveryCut(); !ok || cut != c.cutAt || l.LogEndOffset() != c.cutAt {
				t.Fatalf("RecoveryCut() = %d, %v; log end %d; want a cut at %d", cut, ok, l.LogEndOffset(), c.cutAt)
			}
			if err := checkEpochsAgree(l); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("the last batch rotted upwards: left for the broker, which knows the controller's epoch", func(t *testing.T) {
		w, at := epochLog(t)
		rotEpoch(t, w, at[11], 3+1<<28)
		setCheckpoint(t, w, 0, 0)
		l := mustOpen(t, simDriver{w}, dir, rotCfg)
		if _, ok := l.RecoveryCut(); ok || l.LogEndOffset() != 12 {
			t.Fatalf("log end %d: nothing tells this rot from a new epoch", l.LogEndOffset())
		}
		if e, _ := l.LatestEpoch(); e != 3+1<<28 {
			t.Fatalf("latest epoch %d", e)
		}
		if _, end := l.EndOffsetForEpoch(3); end != 11 {
			t.Fatalf("EndOffsetForEpoch(3) = %d: the broker cuts there", end)
		}
	})
}

func TestEpochFieldTrustedBugServesTheRot(t *testing.T) {
	w, at := epochLog(t)
	rotEpoch(t, w, at[1], 1+1<<28)
	cfg := rotCfg
	cfg.Bugs = cfg.Bugs.With(bugzoo.EpochFieldTrusted)
	l := mustOpen(t, simDriver{w}, dir, cfg)
	if _, err := l.Read(1, 1); err != nil {
		t.Fatalf("with the bug the rotten batch is served: %v", err)
	}
}
