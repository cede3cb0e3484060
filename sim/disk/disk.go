package disk

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/loglab/loglab/host"
)

// Env is the part of the simulated world the disk needs. Package sim implements it.
type Env interface {
	// Now is virtual time in nanoseconds since the start of the run.
	Now() int64
	// At runs fn at virtual time at (>= Now()) on node's loop. The world captures the node's
	// incarnation when At is called: if the node crashes before then, fn is dropped; while the
	// node is paused, fn is deferred until it resumes. Events at equal times run in At order.
	At(at int64, node string, fn func())
	// Rand returns the random stream reserved for name; the same name always gives the same stream.
	Rand(name string) *rand.Rand
	// Trace appends one event to the run's trace and its running hash.
	Trace(node, kind, detail string)
}

const (
	// PageSize is the unit of dirty tracking and of KeepRandomPages.
	PageSize = 4096
	// SectorSize is the unit TornLastSector tears.
	SectorSize = 512
	// DefaultSyncLatency is a flush's base latency when Config.SyncLatency
	// is 0: the design's figure for an fsync on these machines. (A 4 KiB
	// append + fsync on /work measured p50 115µs, p99 186µs: the virtual
	// disk acknowledges from a cache; 2ms is the conservative choice.)
	DefaultSyncLatency = 2_000_000 // ns
)

// Errors of this package; the host sentinels (host.ErrNotExist, host.ErrIO,
// host.ErrNoSpace, host.ErrClosed) cover the rest.
var (
	// ErrInvalid: a malformed path (absolute, climbing out with ".."), a
	// negative offset or size, or an offset outside the media.
	ErrInvalid = errors.New("disk: invalid argument")
	// ErrIsDir: a file operation on a directory.
	ErrIsDir = errors.New("disk: is a directory")
	// ErrNotDir: a path component or a directory operand is a file.
	ErrNotDir = errors.New("disk: not a directory")
	// ErrNotEmpty: removing or replacing a non-empty directory.
	ErrNotEmpty = errors.New("disk: directory not empty")
)

// Config is fixed at New. Zero values select the defaults.
type Config struct {
	// SyncLatency is a flush's base latency in ns (0: DefaultSyncLatency).
	SyncLatency int64
	// SyncJitter is the bound of the uniform extra latency in ns added to
	// each flush (0: SyncLatency/4; negative: no jitter).
	SyncJitter int64
	// FlushBandwidth in bytes per second adds bytes*1e9/FlushBandwidth ns to
	// a flush carrying that many bytes of pages (0: no size term).
	FlushBandwidth int64
	// KeepPageRate is the probability, per million, that KeepRandomPages
	// writes a dirty page back (0: 500_000).
	KeepPageRate Rate
	// Faults are the initial faults (see SetFaults).
	Faults Faults
}

// CrashMode says what a crash does to the disk.
type CrashMode int

const (
	// LoseUnsynced: power loss; every file reverts to its durable content.
	LoseUnsynced CrashMode = iota
	// KeepRandomPages: power loss; a seeded random subset of dirty pages
	// was written back.
	KeepRandomPages
	// TornLastSector: power loss; only the most recent write partly
	// landed, its last sector torn.
	TornLastSector
	// KeepPageCache: process crash; the kernel keeps the page cache.
	KeepPageCache
)

func (m CrashMode) String() string {
	switch m {
	case LoseUnsynced:
		return "LoseUnsynced"
	case KeepRandomPages:
		return "KeepRandomPages"
	case TornLastSector:
		return "TornLastSector"
	case KeepPageCache:
		return "KeepPageCache"
	}
	return fmt.Sprintf("CrashMode(%d)", int(m))
}

// Stats counts what the disk did since New.
type Stats struct {
	Reads, BytesRead     int64
	Writes, BytesWritten int64
	Truncates            int64
	SyncsRequested       int64 // File.Sync calls
	SyncDirsRequested    int64 // SyncDir calls
	Flushes              int64 // device flushes started (group commit: <= requests)
	FileFsyncs           int64 // per-file fsyncs carried by flushes (dedup within a flush)
	Crashes              int64
	Faults               FaultStats
}

// FaultStats counts fired faults by kind.
type FaultStats struct {
	ReadErrors, BitFlipsOnRead, WriteErrors, NoSpace, SyncErrors, SlowSyncs, BitRots int64
}

// Total is the number of faults fired.
func (s FaultStats) Total() int64 {
	return s.ReadErrors + s.BitFlipsOnRead + s.WriteErrors + s.NoSpace + s.SyncErrors + s.SlowSyncs + s.BitRots
}

// Disk is one machine's simulated storage. It is used from its node's loop
// only (the simulator is single-threaded).
type Disk struct {
	env  Env
	node string
	cfg  Config

	faults               Faults
	faultRand, crashRand *rand.Rand
	latencyRand          *rand.Rand
	root                 *dir
	nextID               uint64 // inode and directory ids
	seq                  uint64 // page versions and write order
	epoch                uint64 // bumped by Crash; handles and completions of older epochs are dead
	openCount            map[*inode]int
	lastWrite            *lastWrite
	queue                deviceQueue
	usedBytes            int64
	usageValid           bool
	stats                Stats
}

// New returns node's disk, empty. cfg's zero fields take their defaults.
func New(env Env, node string, cfg Config) *Disk {
	if cfg.SyncLatency <= 0 {
		cfg.SyncLatency = DefaultSyncLatency
	}
	if cfg.SyncJitter == 0 {
		cfg.SyncJitter = cfg.SyncLatency / 4
	}
	if cfg.SyncJitter < 0 {
		cfg.SyncJitter = 0
	}
	if cfg.KeepPageRate == 0 {
		cfg.KeepPageRate = Million / 2
	}
	d := &Disk{
		env:         env,
		node:        node,
		cfg:         cfg,
		faults:      cfg.Faults,
		faultRand:   env.Rand("disk/" + node),
		crashRand:   env.Rand("disk/" + node + "/crash"),
		latencyRand: env.Rand("disk/" + node + "/latency"),
		openCount:   map[*inode]int{},
	}
	d.root = d.newDir()
	d.root.durable = map[string]entry{}
	return d
}

// Host is the host.Disk the node's current incarnation uses.
func (d *Disk) Host() host.Disk { return d }

// Node is the name of the node whose disk this is.
func (d *Disk) Node() string { return d.node }

// Stats returns the counters.
func (d *Disk) Stats() Stats { return d.stats }

func (d *Disk) trace(kind, format string, args ...any) {
	d.env.Trace(d.node, kind, fmt.Sprintf(format, args...))
}

func (d *Disk) nextSeq() uint64 {
	d.seq++
	return d.seq
}

// later delivers done(err) by an event at the current time, so a callback
// never runs inside the call that registered it.
func (d *Disk) later(done func(error), err error) {
	if done == nil {
		return
	}
	epoch := d.epoch
	d.env.At(d.env.Now(), d.node, func() {
		if d.epoch == epoch {
			done(err)
		}
	})
}
