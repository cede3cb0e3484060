package disk

import (
	"slices"
)

// inode is one file: its page cache, the per-page versions that say which
// snapshot saw which bytes, the dirty pages, and its durable content.
type inode struct {
	id      uint64
	data    []byte             // the page cache: what reads see
	ver     []uint64           // per cache page: the seq of its last dirtying
	dirty   map[int64]struct{} // cache pages the media may lack
	durable []byte             // the media
}

func pageCount(size int64) int64 { return (size + PageSize - 1) / PageSize }

// resizeZero returns b with length n; bytes past the old length are zeros.
func resizeZero(b []byte, n int64) []byte {
	if n <= int64(len(b)) {
		return b[:n]
	}
	old := len(b)
	b = slices.Grow(b, int(n)-old)[:n]
	clear(b[old:])
	return b
}

func (ino *inode) markDirty(first, last int64, seq uint64) {
	for p := first; p <= last; p++ {
		ino.ver[p] = seq
		ino.dirty[p] = struct{}{}
	}
}

// resize sets the cached size. Growing dirties the pages from the old end to
// the new end: the media may hold stale bytes there that must become zeros.
func (ino *inode) resize(size int64, seq uint64) {
	old := int64(len(ino.data))
	if size == old {
		return
	}
	ino.data = resizeZero(ino.data, size)
	n := pageCount(size)
	if size < old {
		ino.ver = ino.ver[:n]
		for _, p := range ino.dirtyPages() {
			if p >= n {
				delete(ino.dirty, p)
			}
		}
		return
	}
	ino.ver = slices.Grow(ino.ver, int(n)-len(ino.ver))[:n]
	ino.markDirty(old/PageSize, (size-1)/PageSize, seq)
}

func (ino *inode) write(p []byte, off int64, seq uint64) {
	end := off + int64(len(p))
	if end > int64(len(ino.data)) {
		ino.resize(end, seq)
	}
	copy(ino.data[off:], p)
	ino.markDirty(off/PageSize, (end-1)/PageSize, seq)
}

// page returns cache page p, clipped to the cached size.
func (ino *inode) page(p int64) []byte {
	lo := p * PageSize
	hi := min(lo+PageSize, int64(len(ino.data)))
	return ino.data[lo:hi]
}

func (ino *inode) dirtyPages() []int64 {
	pages := make([]int64, 0, len(ino.dirty))
	for p := range ino.dirty { //detcheck:ordered collected, then sorted below
		pages = append(pages, p)
	}
	slices.Sort(pages)
	return pages
}

// charged is the space the file occupies: max(cached, durable size).
func (ino *inode) charged() int64 { return int64(max(len(ino.data), len(ino.durable))) }

// fileSnap is what a Sync makes durable: the size and the dirty pages, as they
// were at the call.
type fileSnap struct {
	size  int64
	pages []pageSnap
}

type pageSnap struct {
	idx  int64
	ver  uint64
	data []byte
}

func (ino *inode) snapshot() *fileSnap {
	s := &fileSnap{size: int64(len(ino.data))}
	for _, p := range ino.dirtyPages() {
		s.pages = append(s.pages, pageSnap{idx: p, ver: ino.ver[p], data: slices.Clone(ino.page(p))})
	}
	return s
}

func (s *fileSnap) bytes() int64 {
	var n int64
	for _, p := range s.pages {
		n += int64(len(p.data))
	}
	return n
}

// apply makes s durable. A page stays dirty if it was dirtied after s.
func (ino *inode) apply(s *fileSnap) {
	ino.durable = resizeZero(ino.durable, s.size)
	for _, p := range s.pages {
		lo := p.idx * PageSize
		if lo < s.size {
			copy(ino.durable[lo:], p.data)
		}
	}
	ino.settle(s)
}

// settle marks clean the pages of s not dirtied since. After a successful
// apply that means cache == media; after a failed fsync it is the fsyncgate
// state, clean but not durable.
func (ino *inode) settle(s *fileSnap) {
	for _, p := range s.pages {
		if p.idx < int64(len(ino.ver)) && ino.ver[p.idx] == p.ver {
			delete(ino.dirty, p.idx)
		}
	}
}

// revert drops the cache: cache := media, nothing dirty.
func (ino *inode) revert() {
	ino.setContent(slices.Clone(ino.durable))
}

// setContent makes b both the cache and the media (after a power loss).
func (ino *inode) setContent(b []byte) {
	ino.data = b
	ino.durable = slices.Clone(b)
	ino.ver = make([]uint64, pageCount(int64(len(b))))
	clear(ino.dirty)
}
