package disk

import (
	"fmt"
	"maps"
	"slices"
)

// Crash models a crash of the machine (or, with KeepPageCache, of the
// process) in the given mode; see the package doc. Handles opened before it
// return host.ErrClosed and no pending Sync or SyncDir completes.
func (d *Disk) Crash(mode CrashMode) {
	if mode < LoseUnsynced || mode > KeepPageCache {
		panic(fmt.Sprintf("disk: Crash: unknown mode %d", int(mode)))
	}
	d.epoch++
	d.stats.Crashes++
	d.queue = deviceQueue{}
	clear(d.openCount)
	d.usageValid = false
	lw := d.lastWrite
	d.lastWrite = nil
	if mode == KeepPageCache {
		d.trace("disk.crash", "mode=%s", mode)
		return
	}
	d.revertNamespace()
	seen := map[*inode]bool{}
	var files, dirty, kept int
	torn := "none"
	d.walk(false, func(name string, ino *inode) {
		if seen[ino] {
			return
		}
		seen[ino] = true
		files++
		dirty += len(ino.dirty)
		switch mode {
		case KeepRandomPages:
			kept += d.keepRandomPages(ino)
		case TornLastSector:
			ino.revert()
			if lw != nil && lw.ino == ino {
				landed := d.tear(ino, lw)
				torn = fmt.Sprintf("%s off=%d landed=%d/%d", name, lw.off, landed, len(lw.data))
			}
		default:
			ino.revert()
		}
	})
	switch mode {
	case KeepRandomPages:
		d.trace("disk.crash", "mode=%s files=%d dirty-pages=%d kept=%d", mode, files, dirty, kept)
	case TornLastSector:
		d.trace("disk.crash", "mode=%s files=%d dirty-pages=%d torn=%s", mode, files, dirty, torn)
	default:
		d.trace("disk.crash", "mode=%s files=%d dirty-pages=%d", mode, files, dirty)
	}
}

// revertNamespace makes the durable entries the cached ones, for every
// directory the durable entries reach from the root. Everything else is gone.
func (d *Disk) revertNamespace() {
	seen := map[*dir]bool{}
	var rec func(dr *dir)
	rec = func(dr *dir) {
		if seen[dr] {
			return
		}
		seen[dr] = true
		dr.cached = maps.Clone(dr.durable)
		for _, name := range sortedNames(dr.durable) {
			if e := dr.durable[name]; e.dir != nil {
				rec(e.dir)
			}
		}
	}
	rec(d.root)
}

// keepRandomPages writes back each dirty page with probability KeepPageRate
// and returns how many it kept.
func (d *Disk) keepRandomPages(ino *inode) int {
	var kept []int64
	size := int64(len(ino.durable))
	for _, p := range ino.dirtyPages() {
		if d.crashRand.Int32N(int32(Million)) < int32(d.cfg.KeepPageRate) {
			kept = append(kept, p)
			size = max(size, min(int64(len(ino.data)), (p+1)*PageSize))
		}
	}
	res := resizeZero(slices.Clone(ino.durable), size)
	for _, p := range kept {
		lo := p * PageSize
		seg := res[lo:min(lo+PageSize, size)]
		n := copy(seg, ino.page(p))
		clear(seg[n:]) // the cache holds zeros past its end
	}
	ino.setContent(res)
	return len(kept)
}

// tear lands lw on the reverted ino up to its last sector, and a random
// strict prefix of that sector's new bytes. It returns the bytes landed.
func (d *Disk) tear(ino *inode, lw *lastWrite) int64 {
	n := int64(len(lw.data))
	tailStart := max(lw.off, (lw.off+n-1)/SectorSize*SectorSize)
	full := tailStart - lw.off
	landed := full + d.crashRand.Int64N(n-full)
	if landed == 0 {
		return 0
	}
	end := lw.off + landed
	res := resizeZero(slices.Clone(ino.durable), max(int64(len(ino.durable)), end))
	copy(res[lw.off:], lw.data[:landed])
	ino.setContent(res)
	return landed
}
