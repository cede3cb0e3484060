package realhost

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/loglab/loglab/host"
)

// writeChunks appends n chunks of size bytes to f (on the loop), each
// filled with its index.
func writeChunks(t *testing.T, r *Runtime, f host.File, n, size int) {
	t.Helper()
	do(t, r, func(host.Host) {
		for i := range n {
			if _, err := f.WriteAt(bytes.Repeat([]byte{byte(i)}, size), int64(i*size)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func openFile(t *testing.T, r *Runtime, name string) host.File {
	t.Helper()
	var f host.File
	do(t, r, func(h host.Host) {
		var err error
		if f, err = h.Disk().OpenFile(name, true); err != nil {
			t.Fatal(err)
		}
	})
	return f
}

// Appending starts writeback once per WriteBehindBytes, off the loop, and
// the data reads back intact; with write-behind off nothing is started.
func TestWriteBehind(t *testing.T) {
	if !writeBehindSupported {
		t.Skip("no sync_file_range on this OS")
	}
	r, lc := start(t, "n", t.TempDir(), nil)
	f := openFile(t, r, "seg")
	writeChunks(t, r, f, 48, 64<<10) // 3 MiB: three runs of 1 MiB
	// Runs requested while one is in flight merge, so the count is 1 to 3;
	// the bytes are exactly the three runs.
	pollUntil(t, "3 MiB written behind", func() bool { return r.Stats().WriteBehindBytes == 3<<20 })
	if n := r.Stats().WriteBehinds; n < 1 || n > 3 {
		t.Fatalf("%d write-behinds for three 1 MiB runs", n)
	}
	do(t, r, func(host.Host) {
		buf := make([]byte, 64<<10)
		for i := range 48 {
			if _, err := f.ReadAt(buf, int64(i*len(buf))); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf, bytes.Repeat([]byte{byte(i)}, len(buf))) {
				t.Fatalf("chunk %d differs", i)
			}
		}
	})
	if err := syncAndWait(t, r, lc, func(_ host.Host, done func(error)) { f.Sync(done) }); err != nil {
		t.Fatal(err)
	}

	off, offLC := startConfig(t, Config{Name: "off", DataDir: t.TempDir(), Seed: 1, WriteBehindBytes: -1}, nil)
	g := openFile(t, off, "seg")
	writeChunks(t, off, g, 48, 64<<10)
	if err := syncAndWait(t, off, offLC, func(_ host.Host, done func(error)) { g.Sync(done) }); err != nil {
		t.Fatal(err)
	}
	if n := off.Stats().WriteBehindBytes; n != 0 {
		t.Fatalf("%d write-behinds with WriteBehindBytes -1", n)
	}
}

// A write-behind that fails makes every later Sync of the file fail: the
// pages' fate is unknown, and fsync might not report it again.
func TestWriteBehindFailureIsSticky(t *testing.T) {
	r, lc := start(t, "n", t.TempDir(), nil)
	f := openFile(t, r, "seg")
	fsyncs := 0
	do(t, r, func(host.Host) {
		s := f.(*file).s
		s.writeBack = func(int64, int64) error { return &fs.PathError{Op: "sync_file_range", Path: "seg", Err: syscall.EIO} }
		s.fsync = func() error { fsyncs++; return nil }
		f.(*file).d.writeBehind = 1 << 20 // also where the OS has no sync_file_range
	})
	writeChunks(t, r, f, 32, 64<<10)
	pollUntil(t, "the write-behind", func() bool { return r.Stats().WriteBehinds > 0 })
	for i := range 2 {
		err := syncAndWait(t, r, lc, func(_ host.Host, done func(error)) { f.Sync(done) })
		if !errors.Is(err, host.ErrIO) || !errors.Is(err, syscall.EIO) {
			t.Fatalf("Sync %d after a failed write-behind: %v", i, err)
		}
	}
	if fsyncs != 0 {
		t.Fatalf("%d fsyncs after a failed write-behind, want none (the failure is sticky)", fsyncs)
	}
}

// Remove takes a file out of the node's view at once and unlinks it off the
// loop; the trash is invisible and unnameable, and a new runtime empties
// what an old one left in it.
func TestRemoveUnlinksOffTheLoop(t *testing.T) {
	dir := t.TempDir()
	r, _ := start(t, "n", dir, nil)
	do(t, r, func(h host.Host) {
		d := h.Disk()
		if err := d.MkdirAll("t-0"); err != nil {
			t.Fatal(err)
		}
		f, err := d.OpenFile("t-0/00.log", true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(make([]byte, 1<<20), 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := d.Remove("t-0/00.log"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.OpenFile("t-0/00.log", false); !errors.Is(err, host.ErrNotExist) {
			t.Fatalf("open after Remove: %v", err)
		}
		if err := d.Remove("t-0"); err != nil { // now empty
			t.Fatalf("remove the emptied directory: %v", err)
		}
		if names, err := d.List(""); err != nil || len(names) != 0 {
			t.Fatalf("List of the root shows %v, %v", names, err)
		}
		if _, err := d.OpenFile(TrashDir+"/x", true); !errors.Is(err, fs.ErrInvalid) {
			t.Fatalf("a name in the trash: %v", err)
		}
		if err := d.Remove("t-0/missing.log"); !errors.Is(err, host.ErrNotExist) {
			t.Fatalf("Remove of a missing file: %v", err)
		}
	})
	pollUntil(t, "the trash emptied", func() bool {
		entries, err := os.ReadDir(filepath.Join(dir, TrashDir))
		return err == nil && len(entries) == 0
	})
	stopRuntime(t, r)

	// A leftover from a run that stopped before unlinking.
	left := filepath.Join(dir, TrashDir, "7-00.log")
	if err := os.WriteFile(left, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, "n2", dir, nil)
	pollUntil(t, "the leftover unlinked", func() bool {
		_, err := os.Stat(left)
		return errors.Is(err, fs.ErrNotExist)
	})
}
