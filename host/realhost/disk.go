package realhost

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/loglab/loglab/host"
)

// errNoDisk: the runtime was configured without a DataDir.
var errNoDisk = errors.New("realhost: no DataDir configured")

// disk is a host.Disk rooted at Config.DataDir. Everything but the fsyncs
// runs synchronously on the loop, as the contract says.
type disk struct {
	r    *Runtime
	root string
	dirs map[string]*syncer // loop-owned, by cleaned dir name
	// writeBehind is Config.WriteBehindBytes resolved (<0: off).
	writeBehind int64
	trash       *trash // nil without a DataDir
}

var _ host.Disk = (*disk)(nil)

// resolve maps a slash-separated name relative to the root to an OS path.
// Absolute names and names escaping the root are rejected; "" and "." name
// the root itself, which only directory operations accept.
func (d *disk) resolve(name string, dirOK bool) (clean, osPath string, err error) {
	if d.root == "" {
		return "", "", errNoDisk
	}
	bad := strings.HasPrefix(name, "/") || strings.Contains(name, "\\")
	for _, seg := range strings.Split(name, "/") {
		bad = bad || seg == ".."
	}
	clean = path.Clean(name) // "" becomes "."
	if first, _, _ := strings.Cut(clean, "/"); first == TrashDir {
		bad = true
	}
	if bad || (!dirOK && clean == ".") {
		return "", "", fmt.Errorf("realhost: disk name %q: %w", name, fs.ErrInvalid)
	}
	return clean, filepath.Join(d.root, filepath.FromSlash(clean)), nil
}

func (d *disk) OpenFile(name string, create bool) (host.File, error) {
	clean, p, err := d.resolve(name, false)
	if err != nil {
		return nil, err
	}
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	osf, err := os.OpenFile(p, flag, 0o644)
	if err != nil {
		return nil, mapDiskErr(err)
	}
	f := &file{d: d, name: clean, f: osf}
	f.s = &syncer{r: d.r, fsync: osf.Sync, performed: &d.r.stats.fsyncs,
		writeBack: func(off, n int64) error { return startWriteBack(osf, off, n) }}
	d.r.files[f] = struct{}{}
	return f, nil
}

// Remove moves a regular file to the trash, to be unlinked off the loop
// (see trash); directories and anything else are removed at once.
func (d *disk) Remove(name string) error {
	_, p, err := d.resolve(name, false)
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && d.trash != nil && d.trash.move(p) {
		return nil
	}
	return mapDiskErr(os.Remove(p))
}

func (d *disk) Rename(oldName, newName string) error {
	_, oldPath, err := d.resolve(oldName, false)
	if err != nil {
		return err
	}
	_, newPath, err := d.resolve(newName, false)
	if err != nil {
		return err
	}
	return mapDiskErr(os.Rename(oldPath, newPath))
}

func (d *disk) List(dir string) ([]string, error) {
	clean, p, err := d.resolve(dir, true)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(p) // sorted by name
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, mapDiskErr(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Name() == TrashDir && clean == "." {
			continue
		}
		names = append(names, e.Name())
	}
	return names, nil
}

func (d *disk) MkdirAll(dir string) error {
	_, p, err := d.resolve(dir, true)
	if err != nil {
		return err
	}
	return mapDiskErr(os.MkdirAll(p, 0o755))
}

func (d *disk) SyncDir(dir string, done func(err error)) {
	d.r.stats.dirSyncs.Add(1)
	clean, p, err := d.resolve(dir, true)
	if err != nil {
		d.r.post(func() { done(err) })
		return
	}
	s := d.dirs[clean]
	if s == nil {
		s = &syncer{r: d.r, fsync: func() error { return syncDir(p) }, performed: &d.r.stats.dirFsyncs}
		d.dirs[clean] = s
	}
	s.request(done)
}

func syncDir(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// file is an open os.File. Reads and writes run on the loop (page cache
// speed); only Sync leaves it.
type file struct {
	d      *disk
	name   string
	f      *os.File
	s      *syncer
	closed bool // loop-owned
	// [wbStart, wbEnd) is the run of contiguous writes whose writeback
	// has not been started yet (loop-owned; see Config.WriteBehindBytes).
	wbStart, wbEnd int64
}

var _ host.File = (*file)(nil)

func (f *file) Name() string { return f.name }

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, host.ErrClosed
	}
	n, err := f.f.ReadAt(p, off)
	return n, mapDiskErr(err)
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, host.ErrClosed
	}
	n, err := f.f.WriteAt(p, off)
	if n > 0 && f.d.writeBehind >= 0 {
		f.noteWritten(off, int64(n))
	}
	return n, mapDiskErr(err)
}

// noteWritten extends the run of written bytes awaiting write-behind and
// hands it to the file's I/O goroutine once it reaches the threshold. A
// write that does not continue the run (the log appends; an index or a
// rewrite jumps) starts a new one: the bytes of the old run are left to
// the kernel's own writeback.
func (f *file) noteWritten(off, n int64) {
	if off != f.wbEnd {
		f.wbStart = off
	}
	f.wbEnd = off + n
	if f.wbEnd-f.wbStart >= f.d.writeBehind {
		f.s.requestWriteBack(f.wbStart, f.wbEnd)
		f.wbStart = f.wbEnd
	}
}

func (f *file) Size() (int64, error) {
	if f.closed {
		return 0, host.ErrClosed
	}
	fi, err := f.f.Stat()
	if err != nil {
		return 0, mapDiskErr(err)
	}
	return fi.Size(), nil
}

func (f *file) Truncate(size int64) error {
	if f.closed {
		return host.ErrClosed
	}
	f.wbStart, f.wbEnd = size, size
	return mapDiskErr(f.f.Truncate(size))
}

func (f *file) Sync(done func(err error)) {
	f.d.r.stats.syncs.Add(1)
	if f.closed {
		f.d.r.post(func() { done(host.ErrClosed) })
		return
	}
	f.s.request(done)
}

// Close releases the file; pending Syncs still complete and the descriptor
// is closed after them.
func (f *file) Close() error {
	if f.closed {
		return host.ErrClosed
	}
	delete(f.d.r.files, f)
	return f.close()
}

func (f *file) close() error {
	f.closed = true
	if f.s.deferUntilIdle(func() { f.f.Close() }) {
		return nil
	}
	return mapDiskErr(f.f.Close())
}
