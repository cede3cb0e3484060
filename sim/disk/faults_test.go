package disk

import (
	"bytes"
	"errors"
	"math/bits"
	"testing"

	"github.com/loglab/loglab/host"
)

func bitDiff(a, b []byte) int {
	n := 0
	for i := range min(len(a), len(b)) {
		n += bits.OnesCount8(a[i] ^ b[i])
	}
	return n + 8*max(len(a)-len(b), len(b)-len(a))
}

// Each fault fires at its configured rate, and never at rate 0.
func TestFaultRates(t *testing.T) {
	const ops = 5000
	const rate = 200_000 // 20%: expect 1000 of 5000, sd ~28
	type result struct{ fired, statCount int64 }
	kinds := []struct {
		name string
		set  func(*Faults, Rate)
		run  func(t *testing.T, e *fakeEnv, d *Disk) result
	}{
		{"ReadError", func(f *Faults, r Rate) { f.ReadErrorRate = r }, func(t *testing.T, e *fakeEnv, d *Disk) result {
			f := create(t, d, "f")
			write(t, f, 0, fill(100, 7))
			var fired int64
			for range ops {
				p := make([]byte, 100)
				n, err := f.ReadAt(p, 0)
				if errors.Is(err, host.ErrIO) {
					fired++
				} else if err != nil || n != 100 || !bytes.Equal(p, fill(100, 7)) {
					t.Fatalf("read: %d %v", n, err)
				}
			}
			return result{fired, d.Stats().Faults.ReadErrors}
		}},
		{"BitFlipOnRead", func(f *Faults, r Rate) { f.BitFlipOnReadRate = r }, func(t *testing.T, e *fakeEnv, d *Disk) result {
			f := create(t, d, "f")
			want := fill(100, 7)
			write(t, f, 0, want)
			var fired int64
			for range ops {
				p := make([]byte, 100)
				if _, err := f.ReadAt(p, 0); err != nil {
					t.Fatal(err)
				}
				switch bitDiff(p, want) {
				case 0:
				case 1:
					fired++
				default:
					t.Fatalf("a read flipped %d bits", bitDiff(p, want))
				}
			}
			if got := content(t, d, "f"); !bytes.Equal(got, want) {
				t.Fatal("a read flip reached the cache")
			}
			return result{fired, d.Stats().Faults.BitFlipsOnRead}
		}},
		{"WriteError", func(f *Faults, r Rate) { f.WriteErrorRate = r }, func(t *testing.T, e *fakeEnv, d *Disk) result {
			f := create(t, d, "f")
			var fired int64
			var want []byte
			for i := range ops {
				p := []byte{byte(i), byte(i >> 8)}
				n, err := f.WriteAt(p, int64(len(want)))
				if errors.Is(err, host.ErrIO) {
					if n != 0 {
						t.Fatalf("failed write reported %d bytes", n)
					}
					fired++
					continue
				}
				want = append(want, p...)
			}
			if got := content(t, d, "f"); !bytes.Equal(got, want) {
				t.Fatal("content is not exactly the successful writes")
			}
			return result{fired, d.Stats().Faults.WriteErrors}
		}},
		{"SyncError", func(f *Faults, r Rate) { f.SyncErrorRate = r }, func(t *testing.T, e *fakeEnv, d *Disk) result {
			f := create(t, d, "f")
			var fired int64
			for range ops {
				if err := syncNow(t, e, f); errors.Is(err, host.ErrIO) {
					fired++
				} else if err != nil {
					t.Fatal(err)
				}
			}
			return result{fired, d.Stats().Faults.SyncErrors}
		}},
		{"SlowSync", func(f *Faults, r Rate) { f.SlowSyncRate, f.SlowSyncFactor = r, 10 }, func(t *testing.T, e *fakeEnv, d *Disk) result {
			f := create(t, d, "f")
			var fired int64
			for range ops {
				start := e.Now()
				syncNow(t, e, f)
				if e.Now()-start >= 10*DefaultSyncLatency {
					fired++
				}
			}
			return result{fired, d.Stats().Faults.SlowSyncs}
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			for _, r := range []Rate{0, rate, Million} {
				var faults Faults
				k.set(&faults, r)
				e, d := newTestDisk(t, 42, Config{SyncJitter: -1})
				d.SetFaults(faults)
				got := k.run(t, e, d)
				if got.fired != got.statCount {
					t.Fatalf("rate %d: observed %d faults, stats say %d", r, got.fired, got.statCount)
				}
				if total := d.Stats().Faults.Total(); total != got.fired {
					t.Fatalf("rate %d: other faults fired too (%d total, %d of this kind)", r, total, got.fired)
				}
				switch r {
				case 0:
					if got.fired != 0 {
						t.Fatalf("rate 0 fired %d times", got.fired)
					}
				case Million:
					if got.fired != ops {
						t.Fatalf("rate 1e6 fired %d of %d", got.fired, ops)
					}
				default:
					if got.fired < 850 || got.fired > 1150 {
						t.Fatalf("rate 20%% fired %d of %d (want ~1000)", got.fired, ops)
					}
				}
			}
		})
	}
}

func TestNoSpaceLeavesContentUntouched(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{Faults: Faults{Capacity: 10_000}})
	f := create(t, d, "f")
	write(t, f, 0, fill(8_000, 1))
	if n, err := f.WriteAt(fill(3_000, 2), 7_500); !errors.Is(err, host.ErrNoSpace) || n != 0 {
		t.Fatalf("write past capacity: %d, %v", n, err)
	}
	if got := content(t, d, "f"); !bytes.Equal(got, fill(8_000, 1)) {
		t.Fatal("a refused write changed the content")
	}
	if err := f.Truncate(20_000); !errors.Is(err, host.ErrNoSpace) {
		t.Fatalf("truncate past capacity: %v", err)
	}
	if size, _ := f.Size(); size != 8_000 {
		t.Fatalf("size %d after refused truncate", size)
	}
	write(t, f, 0, fill(8_000, 3)) // overwriting needs no space
	g := create(t, d, "g")
	write(t, g, 0, fill(2_000, 4))
	if _, err := g.WriteAt([]byte{1}, 2_000); !errors.Is(err, host.ErrNoSpace) {
		t.Fatalf("write to a second file past the total capacity: %v", err)
	}
	// A removed file frees its space once nothing references it: its name
	// is gone from the cache and the media (never dir-synced) and its handle is closed.
	syncNow(t, e, f)
	if err := d.Remove("f"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.WriteAt([]byte{1}, 2_000); !errors.Is(err, host.ErrNoSpace) {
		t.Fatalf("space freed while a handle still holds the file: %v", err)
	}
	f.Close()
	write(t, g, 2_000, fill(7_000, 5))
	if d.Stats().Faults.NoSpace != 4 {
		t.Fatalf("NoSpace count %d, want 4", d.Stats().Faults.NoSpace)
	}
}

func TestWriteErrorLeavesContentUntouched(t *testing.T) {
	_, d := newTestDisk(t, 1, Config{})
	f := create(t, d, "f")
	write(t, f, 0, []byte("before"))
	d.SetFaults(Faults{WriteErrorRate: Million})
	if _, err := f.WriteAt([]byte("AFTER!!!"), 0); !errors.Is(err, host.ErrIO) {
		t.Fatalf("write: %v", err)
	}
	if got := content(t, d, "f"); string(got) != "before" {
		t.Fatalf("content %q", got)
	}
	if d.DirtyPages("f") != 1 {
		t.Fatalf("dirty pages %d", d.DirtyPages("f"))
	}
}

// After a failed fsync the pages are clean but not durable: a later
// successful sync does not write them, a crash loses them.
func TestFailedSyncIsNotRetried(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	f := create(t, d, "f")
	syncDirNow(t, e, d, ".")
	write(t, f, 0, fill(PageSize, 9))
	d.SetFaults(Faults{SyncErrorRate: Million})
	if err := syncNow(t, e, f); !errors.Is(err, host.ErrIO) {
		t.Fatalf("sync: %v", err)
	}
	d.SetFaults(Faults{})
	if d.DirtyPages("f") != 0 {
		t.Fatal("failed sync left the page dirty: it would be retried")
	}
	if got := content(t, d, "f"); !bytes.Equal(got, fill(PageSize, 9)) {
		t.Fatal("reads no longer see the written bytes")
	}
	write(t, f, PageSize, []byte("x")) // a second page, which does become durable
	if err := syncNow(t, e, f); err != nil {
		t.Fatal(err)
	}
	durable, _ := d.DurableContent("f")
	want := append(make([]byte, PageSize), 'x')
	if !bytes.Equal(durable, want) {
		t.Fatalf("media after the later sync: %d bytes, first page retried=%v", len(durable), durable[0] == 9)
	}
	e.crashNode(node)
	d.Crash(LoseUnsynced)
	if got := content(t, d, "f"); !bytes.Equal(got, want) {
		t.Fatal("the page of the failed sync survived the crash")
	}
}

func TestFailedSyncDirKeepsOldEntries(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{Faults: Faults{SyncErrorRate: Million}})
	create(t, d, "f")
	if err := syncDirNow(t, e, d, "."); !errors.Is(err, host.ErrIO) {
		t.Fatalf("syncdir: %v", err)
	}
	if len(d.DurableFiles()) != 0 {
		t.Fatal("a failed SyncDir made entries durable")
	}
}

func TestSlowSyncLatency(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{SyncLatency: 1_000_000, SyncJitter: -1,
		Faults: Faults{SlowSyncRate: Million, SlowSyncFactor: 3, SlowSyncExtra: 500_000}})
	f := create(t, d, "f")
	syncNow(t, e, f)
	if e.Now() != 3_500_000 {
		t.Fatalf("slow sync completed at %d, want 3.5ms", e.Now())
	}
}

func TestBitRotIsPersistent(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	f := create(t, d, "f")
	orig := fill(2*PageSize, 0x55)
	write(t, f, 0, orig)
	syncNow(t, e, f)
	syncDirNow(t, e, d, ".")
	if err := d.BitRot("f", 5000); err != nil {
		t.Fatal(err)
	}
	cached := content(t, d, "f")
	durable, _ := d.DurableContent("f")
	if bitDiff(cached, orig) != 1 || bitDiff(durable, orig) != 1 || cached[5000] == orig[5000] {
		t.Fatalf("bit rot: cache differs by %d bits, media by %d", bitDiff(cached, orig), bitDiff(durable, orig))
	}
	e.crashNode(node)
	d.Crash(LoseUnsynced)
	if got := content(t, d, "f"); !bytes.Equal(got, durable) {
		t.Fatal("bit rot did not survive the crash")
	}
	if err := d.BitRot("f", 2*PageSize); !errors.Is(err, ErrInvalid) {
		t.Fatalf("rot past the media: %v", err)
	}
	if err := d.BitRot("nope", 0); !errors.Is(err, host.ErrNotExist) {
		t.Fatalf("rot of a missing file: %v", err)
	}

	// A dirty page hides the rot from reads until a crash reveals it... or
	// the next sync overwrites it.
	g, _ := d.OpenFile("f", false)
	write(t, g, 0, fill(10, 0x77))
	before := content(t, d, "f")
	if err := d.BitRot("f", 3); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(content(t, d, "f"), before) {
		t.Fatal("rot of the media changed a dirty cached page")
	}
}

func TestRandomBitRot(t *testing.T) {
	e, d := newTestDisk(t, 3, Config{})
	if _, _, ok := d.RandomBitRot(nil); ok {
		t.Fatal("rotted a disk with no durable bytes")
	}
	f := create(t, d, "a")
	write(t, f, 0, fill(100, 0))
	create(t, d, "b") // empty: never chosen
	syncNow(t, e, f)
	for range 20 {
		name, off, ok := d.RandomBitRot(nil)
		if !ok || name != "a" || off < 0 || off >= 100 {
			t.Fatalf("RandomBitRot chose %s@%d ok=%v", name, off, ok)
		}
	}
	durable, _ := d.lookupFile("a", false)
	if n := bitDiff(durable.durable, fill(100, 0)); n == 0 || n > 20 {
		t.Fatalf("%d bits rotted by 20 rots", n)
	}
	if d.Stats().Faults.BitRots != 20 {
		t.Fatalf("BitRots %d", d.Stats().Faults.BitRots)
	}
}

func TestFaultsStringRoundTrip(t *testing.T) {
	for _, f := range []Faults{
		{},
		{ReadErrorRate: 1, BitFlipOnReadRate: 2, WriteErrorRate: 3, SyncErrorRate: Million, SlowSyncRate: 5, SlowSyncFactor: 6, SlowSyncExtra: 7, Capacity: 1 << 40},
		{Capacity: 4096},
	} {
		got, err := ParseFaults(f.String())
		if err != nil || got != f {
			t.Errorf("ParseFaults(%q) = %+v, %v; want %+v", f.String(), got, err, f)
		}
	}
	for _, bad := range []string{"read-error=5", "read-error=1000001ppm", "bogus=1", "capacity=-1", "capacity", "capacity=1 capacity=2", "read-error=xppm"} {
		if _, err := ParseFaults(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseFaults(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

// FuzzParseFaults: never panics; whatever parses prints back to a form that
// parses to the same Faults.
func FuzzParseFaults(f *testing.F) {
	f.Add("none")
	f.Add("read-error=100ppm capacity=1048576")
	f.Add("slow-sync=1000000ppm slow-sync-factor=10 slow-sync-extra=5000000ns")
	f.Add("sync-error=7ppm  write-error=0ppm")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFaults(s)
		if err != nil {
			return
		}
		again, err := ParseFaults(got.String())
		if err != nil || again != got {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, got, got.String(), again, err)
		}
	})
}
