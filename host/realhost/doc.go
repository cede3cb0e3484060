// Package realhost is the real-world host.Host: one event-loop goroutine per
// node, TCP connections carrying Kafka's 4-byte length-prefixed frames, files
// under a data directory with fsync done off the loop, and the wall clock.
//
// Ownership and imports: it owns the only goroutines, sockets, files and wall
// clock reads of a loglab process (the package is exempt from the
// determinism rules). It imports the standard library, package host and
// golang.org/x/sys/unix (sync_file_range).
//
// Threading model:
//
//   - The loop: a mutex-protected FIFO of funcs plus a one-slot wakeup
//     channel. Posting never blocks, so I/O goroutines can always hand work
//     over. Funcs run one at a time on the loop goroutine; every call into
//     node code (Start, Stop, timers, accept, OnFrame, OnClose, Sync and
//     SyncDir completions, Post) happens there and nowhere else.
//   - Per connection: a reader goroutine (bufio + host.ReadFrame, posting
//     frames in small batches) and a writer goroutine (drains the send queue
//     with one writev per batch). Dials and accepts have their own goroutine.
//   - Per file (and per synced directory): a sync goroutine that exists only
//     while syncs are pending. It gives group commit: every Sync requested
//     while an fsync is in flight is served by the one next fsync, which
//     starts after all of them were requested. The same goroutine starts
//     write-behind: once a file has Config.WriteBehindBytes (1 MiB) of
//     newly appended bytes, sync_file_range(SYNC_FILE_RANGE_WRITE) starts
//     their writeback without waiting for it. Durability is unchanged
//     (only Sync promises it); dirty pages stay a few MB instead of
//     growing to the kernel's background threshold (10 % of RAM) and
//     being written back in bursts while the loop's writes wait on the
//     filesystem. Measured: docs/performance.md.
//   - Removed files: Disk.Remove renames a file into the hidden
//     .loglab-trash directory and an unlink goroutine (alive while there
//     is work) deletes it, so freeing a gigabyte segment's extents never
//     stalls the loop; a new runtime empties what an old one left.
//
// Invariants:
//
//   - After the node's Stopper calls done, or after Stop tears the runtime
//     down, no callback reaches node code: the loop drops queued work.
//   - OnClose runs exactly once per Conn, after every frame it delivered,
//     and no frame is delivered after it.
//   - A Sync's done runs after an fsync that started after the Sync call
//     returned, so it covers every write made before the call.
//   - Every goroutine started here is counted and has ended before Done is
//     closed; every socket and file is closed by then.
package realhost
