package disk

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/loglab/loglab/host"
)

// entry is a directory entry's target: exactly one of file and dir is set.
type entry struct {
	file *inode
	dir  *dir
}

func (e entry) ok() bool { return e.file != nil || e.dir != nil }

// dir is a directory: its cached entries (what the node sees) and its
// durable entries (what survives a power loss).
type dir struct {
	id      uint64
	cached  map[string]entry
	durable map[string]entry
}

func (d *Disk) newDir() *dir {
	d.nextID++
	return &dir{id: d.nextID, cached: map[string]entry{}, durable: map[string]entry{}}
}

func sortedNames(m map[string]entry) []string {
	names := make([]string, 0, len(m))
	for name := range m { //detcheck:ordered collected, then sorted below
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// splitPath cleans name and returns its components (none for the root).
func splitPath(name string) ([]string, error) {
	if path.IsAbs(name) {
		return nil, fmt.Errorf("%w: absolute path %q", ErrInvalid, name)
	}
	clean := path.Clean(name)
	if clean == "." {
		return nil, nil
	}
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return nil, fmt.Errorf("%w: path %q leaves the data directory", ErrInvalid, name)
	}
	return strings.Split(clean, "/"), nil
}

// lookupDir walks parts through cached entries; every part must be a directory.
func (d *Disk) lookupDir(parts []string) (*dir, error) {
	cur := d.root
	for i, p := range parts {
		e, ok := cur.cached[p]
		switch {
		case !ok:
			return nil, fmt.Errorf("disk: %s: %w", strings.Join(parts[:i+1], "/"), host.ErrNotExist)
		case e.dir == nil:
			return nil, fmt.Errorf("disk: %s: %w", strings.Join(parts[:i+1], "/"), ErrNotDir)
		}
		cur = e.dir
	}
	return cur, nil
}

// resolve splits name into its parent directory (which must exist) and base.
func (d *Disk) resolve(name string) (parent *dir, base, clean string, err error) {
	parts, err := splitPath(name)
	if err != nil {
		return nil, "", "", err
	}
	if len(parts) == 0 {
		return nil, "", ".", nil
	}
	parent, err = d.lookupDir(parts[:len(parts)-1])
	if err != nil {
		return nil, "", "", err
	}
	return parent, parts[len(parts)-1], strings.Join(parts, "/"), nil
}

// OpenFile opens name; with create, a missing file is created in the cached
// namespace. Its parent directory must exist.
func (d *Disk) OpenFile(name string, create bool) (host.File, error) {
	parent, base, clean, err := d.resolve(name)
	if err != nil {
		return nil, err
	}
	if parent == nil {
		return nil, fmt.Errorf("disk: open %q: %w", name, ErrIsDir)
	}
	e, ok := parent.cached[base]
	switch {
	case ok && e.dir != nil:
		return nil, fmt.Errorf("disk: open %s: %w", clean, ErrIsDir)
	case ok:
		d.trace("disk.open", "%s size=%d", clean, len(e.file.data))
	case !create:
		return nil, fmt.Errorf("disk: open %s: %w", clean, host.ErrNotExist)
	default:
		d.nextID++
		e = entry{file: &inode{id: d.nextID, dirty: map[int64]struct{}{}}}
		parent.cached[base] = e
		d.usageValid = false
		d.trace("disk.create", "%s", clean)
	}
	d.openCount[e.file]++
	return &file{d: d, ino: e.file, name: clean, epoch: d.epoch}, nil
}

// Remove deletes a file or an empty directory from the cached namespace.
func (d *Disk) Remove(name string) error {
	parent, base, clean, err := d.resolve(name)
	if err != nil {
		return err
	}
	if parent == nil {
		return fmt.Errorf("%w: remove the root", ErrInvalid)
	}
	e, ok := parent.cached[base]
	if !ok {
		return fmt.Errorf("disk: remove %s: %w", clean, host.ErrNotExist)
	}
	if e.dir != nil && len(e.dir.cached) > 0 {
		return fmt.Errorf("disk: remove %s: %w", clean, ErrNotEmpty)
	}
	delete(parent.cached, base)
	d.usageValid = false
	d.trace("disk.remove", "%s", clean)
	return nil
}

// Rename moves oldName to newName in the cached namespace, replacing a file
// (or an empty directory, when moving a directory) at newName.
func (d *Disk) Rename(oldName, newName string) error {
	op, ob, oc, err := d.resolve(oldName)
	if err != nil {
		return err
	}
	np, nb, nc, err := d.resolve(newName)
	if err != nil {
		return err
	}
	if op == nil || np == nil {
		return fmt.Errorf("%w: rename the root", ErrInvalid)
	}
	src, ok := op.cached[ob]
	if !ok {
		return fmt.Errorf("disk: rename %s: %w", oc, host.ErrNotExist)
	}
	if oc == nc {
		return nil
	}
	if src.dir != nil && strings.HasPrefix(nc, oc+"/") {
		return fmt.Errorf("%w: rename %s into itself (%s)", ErrInvalid, oc, nc)
	}
	if dst, ok := np.cached[nb]; ok {
		switch {
		case dst.dir != nil && src.dir == nil:
			return fmt.Errorf("disk: rename %s to %s: %w", oc, nc, ErrIsDir)
		case dst.dir == nil && src.dir != nil:
			return fmt.Errorf("disk: rename %s to %s: %w", oc, nc, ErrNotDir)
		case dst.dir != nil && len(dst.dir.cached) > 0:
			return fmt.Errorf("disk: rename %s to %s: %w", oc, nc, ErrNotEmpty)
		}
	}
	np.cached[nb] = src
	delete(op.cached, ob)
	d.usageValid = false
	d.trace("disk.rename", "%s -> %s", oc, nc)
	return nil
}

// List returns the cached names directly in dir, sorted. A missing dir lists
// as empty.
func (d *Disk) List(dirName string) ([]string, error) {
	parts, err := splitPath(dirName)
	if err != nil {
		return nil, err
	}
	dr, err := d.lookupDir(parts)
	if err != nil {
		if errors.Is(err, host.ErrNotExist) {
			return []string{}, nil
		}
		return nil, err
	}
	return sortedNames(dr.cached), nil
}

// MkdirAll creates dirName and its missing parents in the cached namespace.
func (d *Disk) MkdirAll(dirName string) error {
	parts, err := splitPath(dirName)
	if err != nil {
		return err
	}
	cur := d.root
	for i, p := range parts {
		e, ok := cur.cached[p]
		if !ok {
			e = entry{dir: d.newDir()}
			cur.cached[p] = e
			d.trace("disk.mkdir", "%s", strings.Join(parts[:i+1], "/"))
		} else if e.dir == nil {
			return fmt.Errorf("disk: mkdir %s: %w", strings.Join(parts[:i+1], "/"), ErrNotDir)
		}
		cur = e.dir
	}
	return nil
}

// walk visits every file name reachable from the root through cached (or
// durable) entries, in sorted path order. An inode under two names (see the
// package doc) is visited twice; a directory reached twice is walked once.
func (d *Disk) walk(durable bool, visit func(name string, ino *inode)) {
	seenDir := map[*dir]bool{}
	var rec func(prefix string, dr *dir)
	rec = func(prefix string, dr *dir) {
		if seenDir[dr] {
			return
		}
		seenDir[dr] = true
		m := dr.cached
		if durable {
			m = dr.durable
		}
		for _, name := range sortedNames(m) {
			e := m[name]
			full := name
			if prefix != "" {
				full = prefix + "/" + name
			}
			if e.dir != nil {
				rec(full, e.dir)
			} else {
				visit(full, e.file)
			}
		}
	}
	rec("", d.root)
}

// lookupFile finds a file by name through cached or durable entries.
func (d *Disk) lookupFile(name string, durable bool) (*inode, bool) {
	parts, err := splitPath(name)
	if err != nil || len(parts) == 0 {
		return nil, false
	}
	cur := d.root
	for i, p := range parts {
		m := cur.cached
		if durable {
			m = cur.durable
		}
		e, ok := m[p]
		if !ok {
			return nil, false
		}
		if i == len(parts)-1 {
			return e.file, e.file != nil
		}
		if e.dir == nil {
			return nil, false
		}
		cur = e.dir
	}
	return nil, false
}
