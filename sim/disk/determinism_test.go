package disk

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// workload runs a fixed script with faults on a disk seeded by seed, crashes
// it in mode and returns the trace and the surviving files' contents.
func workload(t *testing.T, seed uint64, mode CrashMode) (trace []string, hash uint64, outcome string) {
	e, d := newTestDisk(t, seed, Config{})
	d.SetFaults(Faults{ReadErrorRate: 50_000, BitFlipOnReadRate: 50_000, WriteErrorRate: 20_000, SyncErrorRate: 50_000, SlowSyncRate: 100_000, SlowSyncFactor: 4})
	if err := d.MkdirAll("t-0"); err != nil {
		t.Fatal(err)
	}
	d.SyncDir(".", nil)
	e.run()
	for i := range 3 {
		f := create(t, d, fmt.Sprintf("t-0/%020d.log", i))
		for j := range 40 {
			f.WriteAt(bytes.Repeat([]byte{byte(i*40 + j)}, 1500), int64(j*1500))
			if j%7 == 0 {
				f.Sync(func(error) {})
			}
			f.ReadAt(make([]byte, 64), int64(j*100))
			e.runUntil(e.Now() + 300_000)
		}
		d.SyncDir("t-0", nil)
	}
	e.runUntil(e.Now() + 1_000_000)
	e.crashNode(node)
	d.Crash(mode)
	var out strings.Builder
	for _, name := range d.Files() {
		b, _ := d.CachedContent(name)
		fmt.Fprintf(&out, "%s:%08x:%d ", name, hashBytes(b), len(b))
	}
	return e.trace, e.hash, out.String()
}

func TestSameSeedSameTrace(t *testing.T) {
	for _, mode := range allModes {
		tr1, h1, o1 := workload(t, 99, mode)
		tr2, h2, o2 := workload(t, 99, mode)
		if h1 != h2 || !slices.Equal(tr1, tr2) || o1 != o2 {
			for i := range min(len(tr1), len(tr2)) {
				if tr1[i] != tr2[i] {
					t.Fatalf("%s: traces diverge at %d:\n%s\n%s", mode, i, tr1[i], tr2[i])
				}
			}
			t.Fatalf("%s: same seed, different runs (hash %x vs %x)", mode, h1, h2)
		}
		if len(tr1) < 200 {
			t.Fatalf("trace has only %d events", len(tr1))
		}
	}
}

func TestDifferentSeedsDifferentCrashOutcomes(t *testing.T) {
	for _, mode := range []CrashMode{KeepRandomPages, TornLastSector} {
		outcomes := map[string]bool{}
		for seed := range uint64(8) {
			_, _, o := workload(t, seed, mode)
			outcomes[o] = true
		}
		if len(outcomes) < 4 {
			t.Fatalf("%s: 8 seeds gave %d distinct crash outcomes", mode, len(outcomes))
		}
	}
}

func TestTraceCoversOperations(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	d.MkdirAll("d")
	f := create(t, d, "d/a")
	write(t, f, 0, []byte("hi"))
	f.Truncate(1)
	f.ReadAt(make([]byte, 1), 0)
	syncNow(t, e, f)
	syncDirNow(t, e, d, "d")
	d.Rename("d/a", "d/b")
	d.Remove("d/b")
	d.SetFaults(Faults{WriteErrorRate: Million})
	f.WriteAt([]byte("x"), 0)
	d.Crash(LoseUnsynced)
	all := strings.Join(e.trace, "\n")
	for _, want := range []string{
		"disk.mkdir d", "disk.create d/a", "disk.write d/a off=0 len=2 crc=", "disk.truncate d/a size=1",
		"disk.read d/a", "disk.sync d/a", "disk.flush requests=1", "disk.sync-done d/a err=false",
		"disk.syncdir d", "disk.syncdir-done d", "disk.rename d/a -> d/b", "disk.remove d/b",
		"disk.faults write-error=1000000ppm", "disk.fault write-error d/a", "disk.crash mode=LoseUnsynced",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(all)
	}
}

func TestTornLastSectorTearsOnlyTheLastSector(t *testing.T) {
	landedSizes := map[int]bool{}
	for seed := range uint64(30) {
		e, d := newTestDisk(t, seed, Config{})
		f := create(t, d, "f")
		write(t, f, 0, fill(1000, 1))
		syncNow(t, e, f)
		syncDirNow(t, e, d, ".")
		write(t, f, 2000, fill(100, 2))  // unsynced, then lost
		write(t, f, 1000, fill(1100, 3)) // the last write: sectors [1000,1536) [1536,2048) [2048,2100)
		e.crashNode(node)
		d.Crash(TornLastSector)
		got := content(t, d, "f")
		if len(got) < 2048 || len(got) >= 2100 {
			t.Fatalf("seed %d: size %d, want in [2048, 2100)", seed, len(got))
		}
		want := append(fill(1000, 1), fill(len(got)-1000, 3)...)
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %d: content is not durable + a prefix of the last write", seed)
		}
		landedSizes[len(got)] = true
	}
	if len(landedSizes) < 5 {
		t.Fatalf("30 seeds tore at %d distinct points", len(landedSizes))
	}
}

func TestKeepRandomPagesGarbageTail(t *testing.T) {
	sawHole := false
	for seed := range uint64(40) {
		e, d := newTestDisk(t, seed, Config{})
		f := create(t, d, "f")
		syncDirNow(t, e, d, ".")
		for p := range 4 {
			write(t, f, int64(p*PageSize), fill(PageSize, byte(p+1)))
		}
		e.crashNode(node)
		d.Crash(KeepRandomPages)
		got := content(t, d, "f")
		if len(got)%PageSize != 0 {
			t.Fatalf("size %d", len(got))
		}
		for p := range len(got) / PageSize {
			page := got[p*PageSize : (p+1)*PageSize]
			if !bytes.Equal(page, fill(PageSize, byte(p+1))) {
				if !bytes.Equal(page, make([]byte, PageSize)) {
					t.Fatalf("page %d is neither kept nor zero", p)
				}
				sawHole = true
			}
		}
		if d.DirtyPages("f") != 0 {
			t.Fatal("pages dirty after a power loss")
		}
	}
	if !sawHole {
		t.Fatal("40 seeds never produced a zero-filled hole below a kept page")
	}
}

func TestKeepPageCacheKeepsEverything(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	f := create(t, d, "f")
	write(t, f, 0, []byte("dirty"))
	e.crashNode(node)
	d.Crash(KeepPageCache)
	if got := content(t, d, "f"); string(got) != "dirty" || d.DirtyPages("f") != 1 {
		t.Fatalf("after process crash: %q, %d dirty", got, d.DirtyPages("f"))
	}
	g, err := d.OpenFile("f", false)
	if err != nil {
		t.Fatal(err)
	}
	syncNow(t, e, g)
	if b, _ := d.lookupFile("f", false); string(b.durable) != "dirty" {
		t.Fatal("a sync after a process crash did not flush the surviving dirty page")
	}
}
