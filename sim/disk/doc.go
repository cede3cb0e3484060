// Package disk is the simulated disk of loglab's deterministic simulator: one
// machine's storage, with a volatile page cache in front of durable media, a
// device queue that serves fsyncs with group commit, power-loss crash modes and
// injectable storage faults. It implements host.Disk and host.File.
//
// Ownership and imports: this package owns the storage model below. It imports
// only package host and the standard library. Package sim owns the world (the
// event queue, virtual time, random streams, the trace) and gives it to the
// disk through the small Env interface.
//
// # Model (this section is the spec; tests check it)
//
// One *Disk per node, created by New. It survives the node's crashes: it is the
// machine's storage. The node's current incarnation uses Disk.Host(). The
// world calls Crash when the node dies: a power-loss mode for a machine crash,
// KeepPageCache for a process kill or before restarting a cleanly stopped
// node (the kernel's cache survives both). After Crash, every File opened
// before it returns host.ErrClosed, and no Sync or SyncDir completion issued
// before it is ever delivered or applied.
//
// Names are slash-separated paths relative to the node's data directory. They
// are cleaned with path.Clean; "" and "." name the root; absolute paths and
// paths that climb out with ".." are rejected with ErrInvalid.
//
// Files. Each file (an inode) has two contents:
//
//	cache    what reads see: every completed WriteAt and Truncate, at once
//	durable  what is on the media and survives a power loss
//
// The cache is tracked in pages of PageSize (4096) bytes. A page is dirty when
// the cache may hold bytes the media has not got: WriteAt dirties the pages it
// touches, and growing a file (by a write past the end or by Truncate) dirties
// the pages from the old end to the new end, because the media may still hold
// old bytes there. Each dirtying stamps the page with a fresh version number.
//
// File.Sync(done) takes a snapshot at the call: the file's size and a copy of
// every dirty page with its version. The snapshot becomes durable when the
// flush that carries it completes: the durable size becomes the snapshot's
// size (zero-extended or cut) and the snapshot's pages are written to the
// media. A page stops being dirty at that completion only if it has not been
// dirtied again since the snapshot (same version), so a page rewritten while a
// flush is in flight stays dirty. Invariant (without faults): a page that is
// not dirty holds the same bytes in cache and on the media.
//
// Directories. Each directory has a cached and a durable set of entries
// (name -> file or directory). OpenFile with create, Rename, Remove and
// MkdirAll change only cached entries. SyncDir(dir, done) snapshots dir's
// cached entries at the call; when its flush completes they become dir's
// durable entries. A directory is a real node of the tree, so renaming a
// directory moves its whole subtree. After a power loss the namespace is what
// the durable entries reach from the root: a file created and fsynced whose
// directory was never synced disappears, a rename not dir-synced reverts, a
// remove not dir-synced comes back with its durable content. A rename across
// two directories of which only one was synced may leave the file under both
// names or under neither; both names then share one file, like a hard link.
//
// Device queue and group commit. Syncs and SyncDirs of a disk are served by
// one device queue in issue order. When the queue is idle a call starts a
// flush at once; while a flush is in flight, later calls (of any file or
// directory) wait and are all carried together by the next flush. Each
// caller's done runs when the flush carrying its request completes, so a
// flush that started after the call. Within one flush, several requests for
// the same file are served by one fsync of its newest snapshot, and share one
// outcome. A flush takes
//
//	SyncLatency + uniform[0, SyncJitter] + bytes*1e9/FlushBandwidth
//
// nanoseconds of virtual time (a slow flush, see Faults, multiplies it by
// SlowSyncFactor and adds SlowSyncExtra). done callbacks run on the node's
// loop, inside the completion event, in issue order, never inside the Sync or
// SyncDir call itself (an error found at the call is delivered by an event at
// the current time).
//
// Crash modes (Crash). All but KeepPageCache are a power loss: the namespace
// becomes the durable one, and the files' contents are:
//
//	LoseUnsynced     cache := durable for every file.
//	KeepRandomPages  each dirty page is independently written back with
//	                 probability Config.KeepPageRate (drawn from the crash
//	                 stream, pages visited in path then page order). The
//	                 size becomes max(durable size, end of the highest kept
//	                 page, capped at the cached size); unkept pages below it
//	                 hold their durable bytes, or zeros past the durable size.
//	                 Every page of the result thus equals its durable page,
//	                 its cached page, or zeros: garbage tails on purpose.
//	TornLastSector   cache := durable, except for the most recent WriteAt
//	                 of the disk (if no Truncate of its file followed it): all
//	                 of it up to its last 512-byte sector lands, and of that
//	                 last sector only a random strict prefix of its new bytes
//	                 lands; the rest keeps the old (or zero) bytes. The file
//	                 grows to cover exactly what landed.
//	KeepPageCache    a process crash: the kernel keeps the page cache and the
//	                 cached namespace, nothing is lost, dirty pages stay
//	                 dirty. Handles close and pending completions are dropped.
//
// After a power loss the result is both the cache and the media, with no page
// dirty. In every mode pending flushes are abandoned and open handles close.
//
// # Faults
//
// Faults are set at any time with SetFaults. Rates are integers per million
// (Rate). A fault with rate 0 never fires and draws nothing from any random
// stream, so turning faults off leaves a run's other random choices intact.
//
//	ReadErrorRate      per ReadAt: it fails with an error wrapping host.ErrIO.
//	BitFlipOnReadRate  per ReadAt that returns bytes: one random bit of the
//	                   returned bytes is flipped; the cache and media are not.
//	WriteErrorRate     per WriteAt: it fails with host.ErrIO, nothing written.
//	Capacity           bytes; a WriteAt or Truncate that would make the space
//	                   used exceed it fails with host.ErrNoSpace and changes
//	                   nothing. Space used is the sum over live files (reached
//	                   by a cached or durable entry, or held open) of
//	                   max(cached size, durable size). 0 means unlimited.
//	SyncErrorRate      per file (or directory) per flush: its Sync/SyncDir
//	                   callers get an error wrapping host.ErrIO and its
//	                   snapshot is NOT made durable. Like Linux after a failed
//	                   fsync ("fsyncgate"), the pages the snapshot carried are
//	                   marked clean although the media does not have them:
//	                   later syncs do not retry them, reads still see them, and
//	                   a power loss loses them. A later successful sync still
//	                   makes the size durable, so those pages may read as old
//	                   bytes or zeros after a crash. A failed SyncDir leaves
//	                   the durable entries unchanged.
//	SlowSyncRate       per flush: the flush is slow (SlowSyncFactor, SlowSyncExtra).
//
// BitRot(name, offset) and RandomBitRot flip one bit of a file's media
// (persistent corruption); the cached byte is flipped too when the cache
// mirrors the media there (the page is clean and the bytes agree), so reads see
// it at once.
//
// # Randomness and determinism
//
// Every random choice comes from the Env's named streams:
//
//	"disk/<node>"          fault draws, bit positions, RandomBitRot's choice
//	"disk/<node>/crash"    KeepRandomPages and TornLastSector choices
//	"disk/<node>/latency"  flush jitter
//
// Map iteration order never reaches behaviour: names are sorted wherever a map
// is walked.
//
// # Trace
//
// Every operation goes to Env.Trace (node, kind, detail). Kinds:
//
//	disk.create, disk.open, disk.close, disk.mkdir, disk.remove, disk.rename
//	disk.write       name off= len= crc= (CRC-32C of the written bytes)
//	disk.read        name off= len= n=
//	disk.truncate    name size=
//	disk.sync        name size= pages=      (issue: what the snapshot holds)
//	disk.syncdir     dir entries=
//	disk.flush       requests= files= dirs= bytes= latency=
//	disk.sync-done, disk.syncdir-done   name err=
//	disk.crash       mode= files= dirty-pages= (kept= | torn=)
//	disk.faults      the new fault set (SetFaults), in ParseFaults form
//	disk.fault       a fired fault: read-error, bit-flip-on-read,
//	                 write-error, no-space, sync-error, syncdir-error,
//	                 slow-sync, bit-rot
//
// Stats counts the same (bytes written, syncs requested, flushes performed,
// faults fired by kind), so group commit and fault rates are measurable.
package disk
