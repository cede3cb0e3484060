package disk

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/loglab/loglab/host"
)

// Rate is a probability in parts per million.
type Rate int32

// Million is the Rate that always fires.
const Million Rate = 1_000_000

// Faults are the injectable storage faults; see the package doc for when each
// is drawn. The zero value injects nothing.
type Faults struct {
	ReadErrorRate     Rate
	BitFlipOnReadRate Rate
	WriteErrorRate    Rate
	SyncErrorRate     Rate
	// SlowSyncRate is the share of flushes that are slow: their latency is
	// multiplied by SlowSyncFactor (0 counts as 1) and SlowSyncExtra ns added.
	SlowSyncRate   Rate
	SlowSyncFactor int64
	SlowSyncExtra  int64 // ns
	// Capacity is the device size in bytes; 0 is unlimited.
	Capacity int64
}

// String prints the non-zero faults, e.g. "read-error=100ppm capacity=1048576",
// or "none"; ParseFaults reads it back.
func (f Faults) String() string {
	var parts []string
	for _, ff := range faultFields {
		var v int64
		if ff.rate != nil {
			v = int64(*ff.rate(&f))
		} else {
			v = *ff.field(&f)
		}
		if v != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d%s", ff.name, v, ff.unit))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// faultFields maps the printed names to the fields and their units, in
// String's order.
var faultFields = []struct {
	name, unit string
	field      func(*Faults) *int64
	rate       func(*Faults) *Rate
}{
	{"read-error", "ppm", nil, func(f *Faults) *Rate { return &f.ReadErrorRate }},
	{"bit-flip-on-read", "ppm", nil, func(f *Faults) *Rate { return &f.BitFlipOnReadRate }},
	{"write-error", "ppm", nil, func(f *Faults) *Rate { return &f.WriteErrorRate }},
	{"sync-error", "ppm", nil, func(f *Faults) *Rate { return &f.SyncErrorRate }},
	{"slow-sync", "ppm", nil, func(f *Faults) *Rate { return &f.SlowSyncRate }},
	{"slow-sync-factor", "", func(f *Faults) *int64 { return &f.SlowSyncFactor }, nil},
	{"slow-sync-extra", "ns", func(f *Faults) *int64 { return &f.SlowSyncExtra }, nil},
	{"capacity", "", func(f *Faults) *int64 { return &f.Capacity }, nil},
}

// ParseFaults reads the form String prints ("none", or space-separated
// name=value pairs with the units String prints), so a failing run's fault
// plan can be pasted into a scenario file. Rates must lie in [0, 1e6],
// other values must not be negative.
func ParseFaults(s string) (Faults, error) {
	var f Faults
	s = strings.TrimSpace(s)
	if s == "none" || s == "" {
		return f, nil
	}
	seen := map[string]bool{}
	for _, tok := range strings.Fields(s) {
		name, val, ok := strings.Cut(tok, "=")
		if !ok {
			return Faults{}, fmt.Errorf("%w: fault %q is not name=value", ErrInvalid, tok)
		}
		if seen[name] {
			return Faults{}, fmt.Errorf("%w: fault %q given twice", ErrInvalid, name)
		}
		seen[name] = true
		found := false
		for _, ff := range faultFields {
			if ff.name != name {
				continue
			}
			found = true
			num, ok := strings.CutSuffix(val, ff.unit)
			if !ok {
				return Faults{}, fmt.Errorf("%w: fault %s=%q lacks its unit %q", ErrInvalid, name, val, ff.unit)
			}
			v, err := strconv.ParseInt(num, 10, 64)
			if err != nil || v < 0 {
				return Faults{}, fmt.Errorf("%w: fault %s=%q: not a non-negative integer", ErrInvalid, name, val)
			}
			if ff.rate != nil {
				if v > int64(Million) {
					return Faults{}, fmt.Errorf("%w: fault %s=%q above 1000000ppm", ErrInvalid, name, val)
				}
				*ff.rate(&f) = Rate(v)
			} else {
				*ff.field(&f) = v
			}
		}
		if !found {
			return Faults{}, fmt.Errorf("%w: unknown fault %q", ErrInvalid, name)
		}
	}
	return f, nil
}

// SetFaults replaces the faults in force from now on.
func (d *Disk) SetFaults(f Faults) {
	d.faults = f
	d.trace("disk.faults", "%s", f)
}

// Faults returns the faults in force.
func (d *Disk) Faults() Faults { return d.faults }

// fire draws one fault decision. Rate 0 draws nothing.
func (d *Disk) fire(r Rate) bool {
	if r <= 0 {
		return false
	}
	return d.faultRand.Int32N(int32(Million)) < int32(r)
}

// usage is the space used: max(cached, durable size) summed over the live
// files, those reached by a cached or a durable entry or held open.
func (d *Disk) usage() int64 {
	if d.usageValid {
		return d.usedBytes
	}
	seen := map[*inode]bool{}
	var used int64
	count := func(_ string, ino *inode) {
		if !seen[ino] {
			seen[ino] = true
			used += ino.charged()
		}
	}
	d.walk(false, count)
	d.walk(true, count)
	open := make([]*inode, 0, len(d.openCount))
	for ino := range d.openCount { //detcheck:ordered collected, then sorted below
		open = append(open, ino)
	}
	slices.SortFunc(open, func(a, b *inode) int { return cmp.Compare(a.id, b.id) })
	for _, ino := range open {
		count("", ino)
	}
	d.usedBytes, d.usageValid = used, true
	return used
}

// reserve checks that ino may grow to size within Capacity and, if so, keeps
// the usage count current (ino is open, so live).
func (d *Disk) reserve(ino *inode, size int64, op, name string) error {
	if d.faults.Capacity <= 0 {
		d.usageValid = false
		return nil
	}
	used := d.usage()
	delta := max(size, int64(len(ino.durable))) - ino.charged()
	if delta > 0 && used+delta > d.faults.Capacity {
		d.stats.Faults.NoSpace++
		d.trace("disk.fault", "no-space %s %s size=%d used=%d capacity=%d", op, name, size, used, d.faults.Capacity)
		return fmt.Errorf("disk: %s %s: %w", op, name, host.ErrNoSpace)
	}
	d.usedBytes += delta
	return nil
}

// BitRot flips one random bit of the byte at offset on the media of the file
// name (resolved through the cached namespace), and in the cache when the
// cache mirrors the media there.
func (d *Disk) BitRot(name string, offset int64) error {
	ino, ok := d.lookupFile(name, false)
	if !ok {
		return fmt.Errorf("disk: bit rot %s: %w", name, host.ErrNotExist)
	}
	if offset < 0 || offset >= int64(len(ino.durable)) {
		return fmt.Errorf("%w: bit rot %s at %d, durable size %d", ErrInvalid, name, offset, len(ino.durable))
	}
	d.rot(name, ino, offset, uint(d.faultRand.IntN(8)))
	return nil
}

func (d *Disk) rot(name string, ino *inode, offset int64, bit uint) {
	_, dirty := ino.dirty[offset/PageSize]
	if !dirty && offset < int64(len(ino.data)) && ino.data[offset] == ino.durable[offset] {
		ino.data[offset] ^= 1 << bit
	}
	ino.durable[offset] ^= 1 << bit
	d.stats.Faults.BitRots++
	d.trace("disk.fault", "bit-rot %s off=%d bit=%d", name, offset, bit)
}

// RandomBitRot rots one bit of a byte drawn uniformly over the durable bytes
// of the files of the cached namespace (sorted by path). r chooses; nil means
// the disk's fault stream. It reports what it rotted; ok is false when no
// file has durable bytes.
func (d *Disk) RandomBitRot(r *rand.Rand) (name string, offset int64, ok bool) {
	if r == nil {
		r = d.faultRand
	}
	type candidate struct {
		name string
		ino  *inode
	}
	var files []candidate
	var total int64
	seen := map[*inode]bool{}
	d.walk(false, func(n string, ino *inode) {
		if len(ino.durable) > 0 && !seen[ino] {
			seen[ino] = true
			files = append(files, candidate{n, ino})
			total += int64(len(ino.durable))
		}
	})
	if total == 0 {
		return "", 0, false
	}
	at := r.Int64N(total)
	for _, c := range files {
		if at < int64(len(c.ino.durable)) {
			d.rot(c.name, c.ino, at, uint(r.IntN(8)))
			return c.name, at, true
		}
		at -= int64(len(c.ino.durable))
	}
	panic("disk: RandomBitRot: offset past the durable bytes") // unreachable: at < total
}
