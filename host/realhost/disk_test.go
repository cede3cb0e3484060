package realhost

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/loglab/loglab/host"
)

func TestDiskOps(t *testing.T) {
	dir := t.TempDir()
	r, _ := start(t, "n", filepath.Join(dir, "data"), nil)
	do(t, r, func(h host.Host) {
		d := h.Disk()
		if names, err := d.List("t-0"); err != nil || len(names) != 0 {
			t.Fatalf("List of a missing dir: %v, %v", names, err)
		}
		if err := d.MkdirAll("t-0/sub"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.OpenFile("t-0/a.log", false); !errors.Is(err, host.ErrNotExist) || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("open missing: %v", err)
		}
		f, err := d.OpenFile("t-0/a.log", true)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name() != "t-0/a.log" {
			t.Errorf("Name %q", f.Name())
		}
		if _, err := f.WriteAt([]byte("hello"), 3); err != nil {
			t.Fatal(err)
		}
		if size, err := f.Size(); err != nil || size != 8 {
			t.Fatalf("Size %d, %v", size, err)
		}
		buf := make([]byte, 10)
		n, err := f.ReadAt(buf, 0)
		if n != 8 || err != io.EOF || string(buf[:8]) != "\x00\x00\x00hello" {
			t.Fatalf("ReadAt: %d %v %q", n, err, buf[:n])
		}
		if err := f.Truncate(4); err != nil {
			t.Fatal(err)
		}
		if size, _ := f.Size(); size != 4 {
			t.Fatalf("Size after Truncate %d", size)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ReadAt(buf, 0); !errors.Is(err, host.ErrClosed) {
			t.Fatalf("ReadAt after Close: %v", err)
		}
		if err := d.Rename("t-0/a.log", "t-0/b.log"); err != nil {
			t.Fatal(err)
		}
		if names, err := d.List("t-0"); err != nil || !slices.Equal(names, []string{"b.log", "sub"}) {
			t.Fatalf("List: %v, %v", names, err)
		}
		if names, _ := d.List(""); !slices.Equal(names, []string{"t-0"}) {
			t.Fatalf("List root: %v", names)
		}
		if err := d.Remove("t-0/b.log"); err != nil {
			t.Fatal(err)
		}
		if err := d.Remove("t-0/b.log"); !errors.Is(err, host.ErrNotExist) {
			t.Fatalf("Remove missing: %v", err)
		}
		for _, bad := range []string{"/etc/passwd", "../x", "a/../../x", "a/..", ""} {
			if _, err := d.OpenFile(bad, true); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("OpenFile(%q): %v", bad, err)
			}
		}
	})
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Fatal("a name escaped the data dir")
	}
}

// syncAndWait issues f.Sync on the loop and waits for its completion.
func syncAndWait(t *testing.T, r *Runtime, lc *loopChecker, issue func(h host.Host, done func(error))) error {
	t.Helper()
	ch := make(chan error, 1)
	do(t, r, func(h host.Host) {
		issue(h, func(err error) {
			lc.check("Sync done")
			ch <- err
		})
	})
	wait(t, chanDone(ch), "sync")
	return <-ch
}

// chanDone adapts a buffered error channel to wait: it closes once ch holds
// a value (without taking it).
func chanDone(ch chan error) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		err := <-ch
		ch <- err
		close(done)
	}()
	return done
}

func TestSyncAndSyncDir(t *testing.T) {
	dir := t.TempDir()
	r, lc := start(t, "n", dir, nil)
	var f host.File
	do(t, r, func(h host.Host) {
		var err error
		if f, err = h.Disk().OpenFile("seg", true); err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte("durable"), 0)
	})
	if err := syncAndWait(t, r, lc, func(h host.Host, done func(error)) { f.Sync(done) }); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "seg")); err != nil || string(b) != "durable" {
		t.Fatalf("on disk: %q, %v", b, err)
	}
	if err := syncAndWait(t, r, lc, func(h host.Host, done func(error)) { h.Disk().SyncDir("", done) }); err != nil {
		t.Fatalf("SyncDir: %v", err)
	}
	err := syncAndWait(t, r, lc, func(h host.Host, done func(error)) { h.Disk().SyncDir("missing", done) })
	if !errors.Is(err, host.ErrNotExist) {
		t.Fatalf("SyncDir of a missing dir: %v", err)
	}
	// A Sync issued just before Close still completes.
	if err := syncAndWait(t, r, lc, func(h host.Host, done func(error)) {
		f.WriteAt([]byte("!"), 7)
		f.Sync(done)
		if err := f.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}); err != nil {
		t.Fatalf("Sync before Close: %v", err)
	}
	if err := syncAndWait(t, r, lc, func(h host.Host, done func(error)) { f.Sync(done) }); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("Sync after Close: %v", err)
	}
	if st := r.Stats(); st.SyncsRequested != 3 || st.Fsyncs != 2 || st.DirFsyncs != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// 32 Syncs issued in one callback are served by at most two fsyncs: the
// sync goroutine may take the first before the rest are queued.
func TestGroupCommitOneCallback(t *testing.T) {
	r, lc := start(t, "n", t.TempDir(), nil)
	const n = 32
	errs := make(chan error, n)
	do(t, r, func(h host.Host) {
		f, err := h.Disk().OpenFile("seg", true)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			f.WriteAt([]byte{byte(i)}, int64(i))
			f.Sync(func(err error) { lc.check("Sync done"); errs <- err })
		}
	})
	for range n {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-chanTimeout():
			t.Fatal("Sync did not complete")
		}
	}
	if st := r.Stats(); st.SyncsRequested != n || st.Fsyncs > 2 {
		t.Fatalf("%d syncs took %d fsyncs", st.SyncsRequested, st.Fsyncs)
	}
}

// Syncs requested while an fsync is in flight all wait for, and share, the
// next fsync — never the one in flight, which may have missed their writes.
func TestGroupCommitWhileInFlight(t *testing.T) {
	r, lc := start(t, "n", t.TempDir(), nil)
	var (
		mu       sync.Mutex
		requests int // Syncs issued so far (loop)
		seen     []int
	)
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var f *file
	do(t, r, func(h host.Host) {
		hf, err := h.Disk().OpenFile("seg", true)
		if err != nil {
			t.Fatal(err)
		}
		f = hf.(*file)
		real := f.s.fsync
		f.s.fsync = func() error {
			mu.Lock()
			seen = append(seen, requests)
			first := len(seen) == 1
			mu.Unlock()
			if first {
				entered <- struct{}{}
				<-release
			}
			return real()
		}
	})
	const later = 31
	results := make(chan error, later+1)
	issue := func() {
		do(t, r, func(h host.Host) {
			mu.Lock()
			requests++
			mu.Unlock()
			f.Sync(func(err error) { lc.check("Sync done"); results <- err })
		})
	}
	issue()
	wait(t, entered, "first fsync")
	for range later {
		issue() // each in its own callback, all while fsync #1 is blocked
	}
	close(release)
	for range later + 1 {
		select {
		case err := <-results:
			if err != nil {
				t.Fatal(err)
			}
		case <-chanTimeout():
			t.Fatal("Sync did not complete")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != 1 || seen[1] != later+1 {
		t.Fatalf("fsyncs started after %v requests, want [1 %d]", seen, later+1)
	}
	if st := r.Stats(); st.SyncsRequested != later+1 || st.Fsyncs != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// After a failed fsync every later Sync fails too, without trusting a new
// fsync (which may report success for pages the kernel already dropped).
func TestFsyncFailureIsSticky(t *testing.T) {
	r, lc := start(t, "n", t.TempDir(), nil)
	var f *file
	calls := 0
	do(t, r, func(h host.Host) {
		hf, err := h.Disk().OpenFile("seg", true)
		if err != nil {
			t.Fatal(err)
		}
		f = hf.(*file)
		f.s.fsync = func() error { calls++; return &fs.PathError{Op: "sync", Path: "seg", Err: syscall.EIO} }
	})
	for i := range 2 {
		err := syncAndWait(t, r, lc, func(h host.Host, done func(error)) { f.Sync(done) })
		if !errors.Is(err, host.ErrIO) || !errors.Is(err, syscall.EIO) {
			t.Fatalf("Sync %d: %v", i, err)
		}
	}
	if calls != 1 {
		t.Fatalf("%d fsyncs, want 1", calls)
	}
}

func TestDiskErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		err, want error
	}{
		{&fs.PathError{Op: "write", Err: syscall.ENOSPC}, host.ErrNoSpace},
		{&fs.PathError{Op: "write", Err: syscall.EIO}, host.ErrIO},
		{&fs.PathError{Op: "open", Err: syscall.ENOENT}, host.ErrNotExist},
		{os.ErrClosed, host.ErrClosed},
	} {
		if got := mapDiskErr(tc.err); !errors.Is(got, tc.want) || !errors.Is(got, tc.err) {
			t.Errorf("mapDiskErr(%v) = %v", tc.err, got)
		}
	}
	if mapDiskErr(io.EOF) != io.EOF {
		t.Error("io.EOF must pass through unwrapped")
	}
}

func TestNoDataDir(t *testing.T) {
	r, _ := start(t, "client", "", nil)
	do(t, r, func(h host.Host) {
		if _, err := h.Disk().OpenFile("x", true); !errors.Is(err, errNoDisk) {
			t.Fatalf("OpenFile without DataDir: %v", err)
		}
	})
}
