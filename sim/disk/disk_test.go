package disk

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/loglab/loglab/host"
)

const node = "n"

func newTestDisk(t testing.TB, seed uint64, cfg Config) (*fakeEnv, *Disk) {
	t.Helper()
	e := newFakeEnv(t, seed)
	return e, New(e, node, cfg)
}

func create(t testing.TB, d *Disk, name string) host.File {
	t.Helper()
	f, err := d.OpenFile(name, true)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return f
}

func write(t testing.TB, f host.File, off int64, p []byte) {
	t.Helper()
	if n, err := f.WriteAt(p, off); err != nil || n != len(p) {
		t.Fatalf("write %s at %d: %d, %v", f.Name(), off, n, err)
	}
}

// syncNow issues a Sync, runs the world until it completes and returns its error.
func syncNow(t testing.TB, e *fakeEnv, f host.File) error {
	t.Helper()
	called := false
	var got error
	f.Sync(func(err error) { called, got = true, err })
	e.run()
	if !called {
		t.Fatalf("sync of %s never completed", f.Name())
	}
	return got
}

func syncDirNow(t testing.TB, e *fakeEnv, d *Disk, dir string) error {
	t.Helper()
	called := false
	var got error
	d.SyncDir(dir, func(err error) { called, got = true, err })
	e.run()
	if !called {
		t.Fatalf("syncdir %s never completed", dir)
	}
	return got
}

func content(t testing.TB, d *Disk, name string) []byte {
	t.Helper()
	b, ok := d.CachedContent(name)
	if !ok {
		t.Fatalf("%s: missing", name)
	}
	return b
}

func fill(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func TestGrowAfterShrinkZeroesStaleMediaBytes(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	f := create(t, d, "f")
	write(t, f, 0, fill(PageSize, 0xAA))
	if err := syncNow(t, e, f); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(PageSize); err != nil {
		t.Fatal(err)
	}
	if err := syncNow(t, e, f); err != nil {
		t.Fatal(err)
	}
	want := append(fill(100, 0xAA), make([]byte, PageSize-100)...)
	ino, _ := d.lookupFile("f", false)
	if !bytes.Equal(ino.durable, want) {
		t.Fatalf("media keeps stale bytes past a shrink-then-grow")
	}
}

func TestReadWriteAndEOF(t *testing.T) {
	_, d := newTestDisk(t, 1, Config{})
	f := create(t, d, "f")
	write(t, f, 10, []byte("hello"))
	if size, _ := f.Size(); size != 15 {
		t.Fatalf("size %d, want 15", size)
	}
	p := make([]byte, 15)
	if n, err := f.ReadAt(p, 0); n != 15 || err != nil || !bytes.Equal(p, append(make([]byte, 10), "hello"...)) {
		t.Fatalf("read %d %v %q", n, err, p)
	}
	if n, err := f.ReadAt(p, 12); n != 3 || !errors.Is(err, io.EOF) {
		t.Fatalf("short read: %d, %v; want 3, EOF", n, err)
	}
	if n, err := f.ReadAt(p, 100); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("read past end: %d, %v", n, err)
	}
}

func TestSyncCompletesAfterModelledLatency(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{SyncLatency: 2_000_000, SyncJitter: -1})
	f := create(t, d, "f")
	write(t, f, 0, []byte("abc"))
	e.runUntil(1_000)
	done := false
	f.Sync(func(err error) {
		if err != nil {
			t.Errorf("sync: %v", err)
		}
		done = true
		if e.Now() != 1_000+2_000_000 {
			t.Errorf("completed at %d, want %d", e.Now(), 1_000+2_000_000)
		}
	})
	if done {
		t.Fatal("done ran inside Sync")
	}
	e.runUntil(1_000 + 2_000_000 - 1)
	if done {
		t.Fatal("sync completed before its latency")
	}
	if ino, _ := d.lookupFile("f", false); len(ino.durable) != 0 {
		t.Fatal("data durable before the sync completed")
	}
	e.runUntil(1_000 + 2_000_000)
	if !done {
		t.Fatal("sync not completed at its latency")
	}
	if ino, _ := d.lookupFile("f", false); string(ino.durable) != "abc" {
		t.Fatalf("media %q after sync", ino.durable)
	}
}

func TestSyncJitterBoundedAndSeeded(t *testing.T) {
	e, d := newTestDisk(t, 7, Config{SyncLatency: 1_000_000, SyncJitter: 500_000})
	f := create(t, d, "f")
	var latencies []int64
	for range 50 {
		start := e.Now()
		f.Sync(func(error) { latencies = append(latencies, e.Now()-start) })
		e.run()
	}
	distinct := map[int64]bool{}
	for _, l := range latencies {
		if l < 1_000_000 || l > 1_500_000 {
			t.Fatalf("latency %d outside [1ms, 1.5ms]", l)
		}
		distinct[l] = true
	}
	if len(distinct) < 10 {
		t.Fatalf("only %d distinct latencies in 50 flushes: no jitter", len(distinct))
	}
}

func TestGroupCommit(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	var files []host.File
	for i := range 32 {
		f := create(t, d, string(rune('a'+i%26))+string(rune('a'+i/26)))
		write(t, f, 0, []byte{byte(i)})
		files = append(files, f)
	}
	completed := 0
	for _, f := range files {
		f.Sync(func(err error) {
			if err != nil {
				t.Errorf("sync: %v", err)
			}
			completed++
		})
	}
	e.run()
	st := d.Stats()
	if completed != 32 || st.SyncsRequested != 32 {
		t.Fatalf("completed %d of %d requested", completed, st.SyncsRequested)
	}
	// The first call finds the device idle and flushes alone; the other
	// 31 share the next flush.
	if st.Flushes != 2 {
		t.Fatalf("32 concurrent syncs took %d flushes, want 2", st.Flushes)
	}
	for _, f := range files {
		if b, _ := d.lookupFile(f.Name(), false); len(b.durable) != 1 {
			t.Fatalf("%s not durable", f.Name())
		}
	}

	// Syncs issued one after the other's completion cannot share.
	for _, f := range files {
		syncNow(t, e, f)
	}
	if got := d.Stats().Flushes - st.Flushes; got != 32 {
		t.Fatalf("32 sequential syncs took %d flushes, want 32", got)
	}
}

func TestSyncWaitsForAFlushStartedAfterIt(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{SyncLatency: 1_000_000, SyncJitter: -1})
	f := create(t, d, "f")
	write(t, f, 0, []byte("one"))
	f.Sync(func(error) {})
	e.runUntil(500_000)
	write(t, f, 0, []byte("two"))
	var doneAt int64
	f.Sync(func(error) { doneAt = e.Now() })
	e.runUntil(1_000_000) // the first flush completes: it carried "one"
	if ino, _ := d.lookupFile("f", false); string(ino.durable) != "one" || doneAt != 0 {
		t.Fatalf("after first flush: media %q, second done at %d", ino.durable, doneAt)
	}
	e.run()
	if ino, _ := d.lookupFile("f", false); string(ino.durable) != "two" || doneAt != 2_000_000 {
		t.Fatalf("after second flush: media %q, done at %d (want 2ms)", ino.durable, doneAt)
	}
}

func TestCrashClosesHandlesAndAbandonsSyncs(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	f := create(t, d, "f")
	write(t, f, 0, []byte("x"))
	syncDirNow(t, e, d, ".")
	called := false
	f.Sync(func(error) { called = true })
	d.SyncDir(".", func(error) { called = true })
	e.crashNode(node)
	d.Crash(LoseUnsynced)
	e.run()
	if called {
		t.Fatal("a sync issued before the crash completed after it")
	}
	if _, err := f.ReadAt(make([]byte, 1), 0); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("ReadAt after crash: %v", err)
	}
	if _, err := f.WriteAt([]byte("y"), 0); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("WriteAt after crash: %v", err)
	}
	if _, err := f.Size(); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("Size after crash: %v", err)
	}
	if err := f.Truncate(0); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("Truncate after crash: %v", err)
	}
	if err := f.Close(); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("Close after crash: %v", err)
	}
	var syncErr error
	f.Sync(func(err error) { syncErr = err })
	e.run()
	if !errors.Is(syncErr, host.ErrClosed) {
		t.Fatalf("Sync after crash: %v", syncErr)
	}
	if got := content(t, d, "f"); len(got) != 0 {
		t.Fatalf("unsynced write survived: %q", got)
	}
	g, err := d.OpenFile("f", false)
	if err != nil {
		t.Fatal(err)
	}
	write(t, g, 0, []byte("z"))
}

func TestCloseThenPendingSyncCompletes(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	f := create(t, d, "f")
	write(t, f, 0, []byte("x"))
	var got error = io.ErrNoProgress
	f.Sync(func(err error) { got = err })
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	e.run()
	if got != nil {
		t.Fatalf("pending sync after Close: %v", got)
	}
}

func TestNamespaceDurability(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	if err := d.MkdirAll("t-0"); err != nil {
		t.Fatal(err)
	}
	syncDirNow(t, e, d, ".")

	// Durable file, then renamed without a dir sync: the rename reverts.
	g := create(t, d, "t-0/old.log")
	write(t, g, 0, []byte("old"))
	syncNow(t, e, g)
	h := create(t, d, "t-0/gone.log")
	write(t, h, 0, []byte("gone"))
	syncNow(t, e, h)
	syncDirNow(t, e, d, "t-0")
	// Created and fsynced, directory never synced: gone after a crash.
	f := create(t, d, "t-0/new.log")
	write(t, f, 0, []byte("data"))
	syncNow(t, e, f)
	if err := d.Rename("t-0/old.log", "t-0/renamed.log"); err != nil {
		t.Fatal(err)
	}
	// Removed without a dir sync: comes back with its durable content.
	if err := d.Remove("t-0/gone.log"); err != nil {
		t.Fatal(err)
	}
	if got := d.Files(); !slices.Equal(got, []string{"t-0/new.log", "t-0/renamed.log"}) {
		t.Fatalf("cached namespace %v", got)
	}
	e.crashNode(node)
	d.Crash(LoseUnsynced)
	if got := d.Files(); !slices.Equal(got, []string{"t-0/gone.log", "t-0/old.log"}) {
		t.Fatalf("namespace after crash %v", got)
	}
	if got := content(t, d, "t-0/gone.log"); string(got) != "gone" {
		t.Fatalf("removed file came back with %q", got)
	}

	// With the dir synced, the rename and the remove stick.
	if err := d.Rename("t-0/old.log", "t-0/renamed.log"); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove("t-0/gone.log"); err != nil {
		t.Fatal(err)
	}
	syncDirNow(t, e, d, "t-0")
	e.crashNode(node)
	d.Crash(LoseUnsynced)
	if got := d.Files(); !slices.Equal(got, []string{"t-0/renamed.log"}) {
		t.Fatalf("namespace after synced rename and crash %v", got)
	}
}

func TestDirectoryRenameMovesSubtree(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	if err := d.MkdirAll("a/b"); err != nil {
		t.Fatal(err)
	}
	f := create(t, d, "a/b/f")
	write(t, f, 0, []byte("v"))
	syncNow(t, e, f)
	syncDirNow(t, e, d, "a/b")
	syncDirNow(t, e, d, "a")
	syncDirNow(t, e, d, ".")
	if err := d.Rename("a", "a.deleted"); err != nil {
		t.Fatal(err)
	}
	if err := d.Rename("a.deleted", "a.deleted/x"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("rename into itself: %v", err)
	}
	if got := d.Files(); !slices.Equal(got, []string{"a.deleted/b/f"}) {
		t.Fatalf("after dir rename: %v", got)
	}
	syncDirNow(t, e, d, ".")
	e.crashNode(node)
	d.Crash(LoseUnsynced)
	if got := d.Files(); !slices.Equal(got, []string{"a.deleted/b/f"}) {
		t.Fatalf("after synced dir rename and crash: %v", got)
	}
	if got := content(t, d, "a.deleted/b/f"); string(got) != "v" {
		t.Fatalf("content %q", got)
	}
}

func TestMkdirNotDurableWithoutParentSync(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	if err := d.MkdirAll("x/y"); err != nil {
		t.Fatal(err)
	}
	f := create(t, d, "x/y/f")
	syncNow(t, e, f)
	syncDirNow(t, e, d, "x/y")
	syncDirNow(t, e, d, "x") // "x" itself is an entry of the root, never synced
	e.crashNode(node)
	d.Crash(LoseUnsynced)
	if got, _ := d.List("."); len(got) != 0 {
		t.Fatalf("root after crash: %v", got)
	}
}

func TestPathsAndErrors(t *testing.T) {
	e, d := newTestDisk(t, 1, Config{})
	for _, bad := range []string{"/abs", "..", "../x", "a/../../x"} {
		if _, err := d.OpenFile(bad, true); !errors.Is(err, ErrInvalid) {
			t.Errorf("OpenFile(%q): %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := d.OpenFile("missing", false); !errors.Is(err, host.ErrNotExist) {
		t.Errorf("open missing: %v", err)
	}
	if _, err := d.OpenFile("nodir/f", true); !errors.Is(err, host.ErrNotExist) {
		t.Errorf("create in missing dir: %v", err)
	}
	if err := d.Remove("missing"); !errors.Is(err, host.ErrNotExist) {
		t.Errorf("remove missing: %v", err)
	}
	if err := d.Rename("missing", "x"); !errors.Is(err, host.ErrNotExist) {
		t.Errorf("rename missing: %v", err)
	}
	if err := d.MkdirAll("d/e"); err != nil {
		t.Fatal(err)
	}
	f := create(t, d, "./d//e/../f") // cleans to d/f
	if f.Name() != "d/f" {
		t.Errorf("name %q, want d/f", f.Name())
	}
	if _, err := d.OpenFile("d", true); !errors.Is(err, ErrIsDir) {
		t.Errorf("open a dir: %v", err)
	}
	if err := d.MkdirAll("d/f/g"); !errors.Is(err, ErrNotDir) {
		t.Errorf("mkdir under a file: %v", err)
	}
	if err := d.Remove("d"); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("remove non-empty dir: %v", err)
	}
	if got, err := d.List("d"); err != nil || !slices.Equal(got, []string{"e", "f"}) {
		t.Errorf("List(d) = %v, %v", got, err)
	}
	if got, err := d.List("nowhere"); err != nil || len(got) != 0 {
		t.Errorf("List(missing) = %v, %v", got, err)
	}
	var syncErr error
	d.SyncDir("nowhere", func(err error) { syncErr = err })
	if syncErr != nil {
		t.Fatal("SyncDir called done inside the call")
	}
	e.run()
	if !errors.Is(syncErr, host.ErrNotExist) {
		t.Errorf("SyncDir(missing): %v", syncErr)
	}
	if _, err := f.WriteAt([]byte("x"), -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative offset: %v", err)
	}
}

func TestRemovedFileStaysUsableThroughItsHandle(t *testing.T) {
	_, d := newTestDisk(t, 1, Config{})
	f := create(t, d, "f")
	if err := d.Remove("f"); err != nil {
		t.Fatal(err)
	}
	write(t, f, 0, []byte("still here"))
	p := make([]byte, 10)
	if _, err := f.ReadAt(p, 0); err != nil || string(p) != "still here" {
		t.Fatalf("read through handle of removed file: %q, %v", p, err)
	}
	if len(d.Files()) != 0 {
		t.Fatalf("removed file listed: %v", d.Files())
	}
}
