package fakehost

import (
	"io"
	"path"
	"sort"
	"strings"

	"github.com/loglab/loglab/host"
)

// Disk is an in-memory host.Disk. Every write is "durable" (no crash
// model); Sync and SyncDir complete on the next Run. Syncs counts them.
type Disk struct {
	h     *Host
	files map[string]*fileData
	dirs  map[string]bool
	Syncs int
}

type fileData struct{ b []byte }

// NewDisk returns an empty disk. Pass it to New again to "restart" a node.
func NewDisk() *Disk {
	return &Disk{files: map[string]*fileData{}, dirs: map[string]bool{".": true}}
}

func clean(name string) string { return path.Clean(name) }

func (d *Disk) OpenFile(name string, create bool) (host.File, error) {
	name = clean(name)
	fd, ok := d.files[name]
	if !ok {
		if !create {
			return nil, host.ErrNotExist
		}
		if !d.dirs[path.Dir(name)] {
			return nil, host.ErrNotExist
		}
		fd = &fileData{}
		d.files[name] = fd
	}
	return &File{d: d, name: name, fd: fd}, nil
}

func (d *Disk) Remove(name string) error {
	name = clean(name)
	if _, ok := d.files[name]; ok {
		delete(d.files, name)
		return nil
	}
	if d.dirs[name] {
		prefix := name + "/"
		//detcheck:ordered an "any" test: order cannot matter
		for f := range d.files {
			if strings.HasPrefix(f, prefix) {
				return host.ErrIO // directory not empty
			}
		}
		delete(d.dirs, name)
		return nil
	}
	return host.ErrNotExist
}

func (d *Disk) Rename(oldName, newName string) error {
	oldName, newName = clean(oldName), clean(newName)
	fd, ok := d.files[oldName]
	if !ok {
		return host.ErrNotExist
	}
	delete(d.files, oldName)
	d.files[newName] = fd
	return nil
}

func (d *Disk) List(dir string) ([]string, error) {
	dir = clean(dir)
	seen := map[string]bool{}
	add := func(p string) {
		if path.Dir(p) == dir && p != dir {
			seen[path.Base(p)] = true
		}
	}
	//detcheck:ordered builds a set
	for f := range d.files {
		add(f)
	}
	//detcheck:ordered builds a set
	for dd := range d.dirs {
		add(dd)
	}
	out := make([]string, 0, len(seen))
	//detcheck:ordered sorted below
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (d *Disk) MkdirAll(dir string) error {
	for dir = clean(dir); dir != "." && dir != "/"; dir = path.Dir(dir) {
		d.dirs[dir] = true
	}
	return nil
}

func (d *Disk) SyncDir(dir string, done func(err error)) {
	d.Syncs++
	d.h.Post(func() { done(nil) })
}

// Files lists every file name, sorted (for assertions).
func (d *Disk) Files() []string {
	out := make([]string, 0, len(d.files))
	//detcheck:ordered sorted below
	for f := range d.files {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// File is an open in-memory file.
type File struct {
	d      *Disk
	name   string
	fd     *fileData
	closed bool
}

func (f *File) Name() string { return f.name }

func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, host.ErrClosed
	}
	if off >= int64(len(f.fd.b)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, f.fd.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, host.ErrClosed
	}
	end := off + int64(len(p))
	if end > int64(len(f.fd.b)) {
		f.fd.b = append(f.fd.b, make([]byte, end-int64(len(f.fd.b)))...)
	}
	copy(f.fd.b[off:], p)
	return len(p), nil
}

func (f *File) Size() (int64, error) { return int64(len(f.fd.b)), nil }

func (f *File) Truncate(size int64) error {
	if size < int64(len(f.fd.b)) {
		f.fd.b = f.fd.b[:size:size]
	} else {
		nb := make([]byte, size)
		copy(nb, f.fd.b)
		f.fd.b = nb
	}
	return nil
}

func (f *File) Sync(done func(err error)) {
	f.d.Syncs++
	f.d.h.Post(func() { done(nil) })
}

func (f *File) Close() error { f.closed = true; return nil }
