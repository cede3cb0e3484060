package disk

import (
	"fmt"
	"hash/crc32"
	"io"

	"github.com/loglab/loglab/host"
)

// file is an open handle: it names an inode, not a path, like a Unix file
// descriptor, so a removed or renamed file stays usable through it.
type file struct {
	d      *Disk
	ino    *inode
	name   string // the name it was opened by
	epoch  uint64
	closed bool
}

// lastWrite is the disk's most recent WriteAt, which TornLastSector tears.
type lastWrite struct {
	ino  *inode
	name string
	off  int64
	data []byte
}

func (f *file) Name() string { return f.name }

func (f *file) check(op string) error {
	if f.closed || f.epoch != f.d.epoch {
		return fmt.Errorf("disk: %s %s: %w", op, f.name, host.ErrClosed)
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// hashBytes identifies written bytes in the trace (CRC-32C: fast, stable).
func hashBytes(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }

// ReadAt reads from the page cache. Read faults may fail it or flip a bit of
// the returned bytes.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, fmt.Errorf("%w: read %s at offset %d", ErrInvalid, f.name, off)
	}
	d := f.d
	if d.fire(d.faults.ReadErrorRate) {
		d.stats.Faults.ReadErrors++
		d.trace("disk.fault", "read-error %s off=%d len=%d", f.name, off, len(p))
		return 0, fmt.Errorf("disk: read %s at %d: %w", f.name, off, host.ErrIO)
	}
	size := int64(len(f.ino.data))
	var n int
	if off < size {
		n = copy(p, f.ino.data[off:])
	}
	d.stats.Reads++
	d.stats.BytesRead += int64(n)
	if n > 0 && d.fire(d.faults.BitFlipOnReadRate) {
		bit := d.faultRand.Int64N(int64(n) * 8)
		p[bit/8] ^= 1 << (bit % 8)
		d.stats.Faults.BitFlipsOnRead++
		d.trace("disk.fault", "bit-flip-on-read %s off=%d bit=%d", f.name, off+bit/8, bit%8)
	}
	d.trace("disk.read", "%s off=%d len=%d n=%d", f.name, off, len(p), n)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt writes to the page cache. A write fault or a full disk fails it
// with nothing written.
func (f *file) WriteAt(p []byte, off int64) (int, error) {
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, fmt.Errorf("%w: write %s at offset %d", ErrInvalid, f.name, off)
	}
	d := f.d
	if d.fire(d.faults.WriteErrorRate) {
		d.stats.Faults.WriteErrors++
		d.trace("disk.fault", "write-error %s off=%d len=%d", f.name, off, len(p))
		return 0, fmt.Errorf("disk: write %s at %d: %w", f.name, off, host.ErrIO)
	}
	if len(p) == 0 {
		return 0, nil
	}
	end := off + int64(len(p))
	if err := d.reserve(f.ino, max(end, int64(len(f.ino.data))), "write", f.name); err != nil {
		return 0, err
	}
	f.ino.write(p, off, d.nextSeq())
	d.lastWrite = &lastWrite{ino: f.ino, name: f.name, off: off, data: append([]byte(nil), p...)}
	d.stats.Writes++
	d.stats.BytesWritten += int64(len(p))
	d.trace("disk.write", "%s off=%d len=%d crc=%08x", f.name, off, len(p), hashBytes(p))
	return len(p), nil
}

func (f *file) Size() (int64, error) {
	if err := f.check("size"); err != nil {
		return 0, err
	}
	return int64(len(f.ino.data)), nil
}

func (f *file) Truncate(size int64) error {
	if err := f.check("truncate"); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("%w: truncate %s to %d", ErrInvalid, f.name, size)
	}
	d := f.d
	if err := d.reserve(f.ino, size, "truncate", f.name); err != nil {
		return err
	}
	f.ino.resize(size, d.nextSeq())
	if d.lastWrite != nil && d.lastWrite.ino == f.ino {
		d.lastWrite = nil // the most recent change of this file is no longer a write
	}
	d.stats.Truncates++
	d.trace("disk.truncate", "%s size=%d", f.name, size)
	return nil
}

// Sync snapshots the file now and queues it on the device; done runs when the
// flush carrying it completes.
func (f *file) Sync(done func(err error)) {
	d := f.d
	if err := f.check("sync"); err != nil {
		d.later(done, err)
		return
	}
	d.stats.SyncsRequested++
	snap := f.ino.snapshot()
	d.trace("disk.sync", "%s size=%d pages=%d", f.name, snap.size, len(snap.pages))
	d.enqueue(&request{name: f.name, ino: f.ino, snap: snap, done: done})
}

// Close releases the handle; its pending Syncs still complete.
func (f *file) Close() error {
	if err := f.check("close"); err != nil {
		return err
	}
	f.closed = true
	d := f.d
	if d.openCount[f.ino]--; d.openCount[f.ino] <= 0 {
		delete(d.openCount, f.ino)
	}
	d.usageValid = false
	d.trace("disk.close", "%s", f.name)
	return nil
}
