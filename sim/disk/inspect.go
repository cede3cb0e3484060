package disk

import "slices"

// Inspection for tests and checkers: these read the model, they are not part
// of host.Disk and draw no randomness.

// DurableContent returns a copy of what the media holds for name, resolved
// through the durable namespace: what a power loss now would leave (with
// LoseUnsynced).
func (d *Disk) DurableContent(name string) ([]byte, bool) {
	ino, ok := d.lookupFile(name, true)
	if !ok {
		return nil, false
	}
	return slices.Clone(ino.durable), true
}

// CachedContent returns a copy of what reads of name see now.
func (d *Disk) CachedContent(name string) ([]byte, bool) {
	ino, ok := d.lookupFile(name, false)
	if !ok {
		return nil, false
	}
	return slices.Clone(ino.data), true
}

// Files returns the paths of the files of the cached namespace, sorted.
func (d *Disk) Files() []string { return d.files(false) }

// DurableFiles returns the paths of the files of the durable namespace, sorted.
func (d *Disk) DurableFiles() []string { return d.files(true) }

func (d *Disk) files(durable bool) []string {
	names := []string{}
	d.walk(durable, func(name string, _ *inode) { names = append(names, name) })
	slices.Sort(names) // walk order is per directory; "a-b" sorts before "a/b"
	return names
}

// DirtyPages returns how many pages of name's cache the media may lack.
func (d *Disk) DirtyPages(name string) int {
	ino, ok := d.lookupFile(name, false)
	if !ok {
		return 0
	}
	return len(ino.dirty)
}
