package disk

import (
	"fmt"
	"maps"
	"strings"

	"github.com/loglab/loglab/host"
)

// request is one Sync or SyncDir waiting for, or carried by, a flush.
type request struct {
	name string
	// A file sync: the inode and its snapshot. snap is nil when a later
	// request for the same inode in the same flush supersedes it.
	ino  *inode
	snap *fileSnap
	// A directory sync: the directory and its cached entries at the call.
	dir     *dir
	entries map[string]entry
	done    func(err error)
}

// deviceQueue serves syncs one flush at a time. While a flush is in flight,
// new requests wait in pending and all go together in the next flush.
type deviceQueue struct {
	pending []*request
	busy    bool
}

func (d *Disk) enqueue(r *request) {
	if r.ino != nil {
		// One fsync of the newest snapshot serves every waiting request of
		// this file: the newest snapshot holds every page the older ones
		// hold, except pages a truncate cut, which its size cuts too.
		for _, old := range d.queue.pending {
			if old.ino == r.ino {
				old.snap = nil
			}
		}
	}
	d.queue.pending = append(d.queue.pending, r)
	if !d.queue.busy {
		d.startFlush()
	}
}

func (d *Disk) startFlush() {
	batch := d.queue.pending
	d.queue.pending = nil
	d.queue.busy = true
	d.stats.Flushes++
	var bytes int64
	files, dirs := 0, 0
	for _, r := range batch {
		switch {
		case r.snap != nil:
			bytes += r.snap.bytes()
			files++
		case r.dir != nil:
			dirs++
		}
	}
	d.stats.FileFsyncs += int64(files)
	latency := d.cfg.SyncLatency
	if d.cfg.SyncJitter > 0 {
		latency += d.latencyRand.Int64N(d.cfg.SyncJitter + 1)
	}
	if d.cfg.FlushBandwidth > 0 {
		latency += bytes * 1_000_000_000 / d.cfg.FlushBandwidth
	}
	if d.fire(d.faults.SlowSyncRate) {
		latency = latency*max(d.faults.SlowSyncFactor, 1) + max(d.faults.SlowSyncExtra, 0)
		d.stats.Faults.SlowSyncs++
		d.trace("disk.fault", "slow-sync latency=%d", latency)
	}
	d.trace("disk.flush", "requests=%d files=%d dirs=%d bytes=%d latency=%d", len(batch), files, dirs, bytes, latency)
	epoch := d.epoch
	d.env.At(d.env.Now()+latency, d.node, func() {
		if d.epoch == epoch { // a crash abandons the flush
			d.completeFlush(batch)
		}
	})
}

// completeFlush applies the flush's snapshots, starts the next flush if
// requests are waiting, then calls the dones in issue order.
func (d *Disk) completeFlush(batch []*request) {
	d.queue.busy = false
	// One outcome per file or directory per flush, drawn in order of first
	// appearance (deterministic: batch order).
	failedFile := map[*inode]bool{}
	failedDir := map[*dir]bool{}
	for _, r := range batch {
		if r.ino != nil {
			if _, seen := failedFile[r.ino]; !seen {
				failedFile[r.ino] = d.fire(d.faults.SyncErrorRate)
			}
		} else if _, seen := failedDir[r.dir]; !seen {
			failedDir[r.dir] = d.fire(d.faults.SyncErrorRate)
		}
	}
	errs := make([]error, len(batch))
	for i, r := range batch {
		failed := failedDir[r.dir]
		kind := "disk.syncdir-done"
		if r.ino != nil {
			failed = failedFile[r.ino]
			kind = "disk.sync-done"
		}
		if failed {
			errs[i] = fmt.Errorf("disk: sync %s: %w", r.name, host.ErrIO)
		}
		switch {
		case r.snap != nil && failed:
			r.ino.settle(r.snap) // fsyncgate: clean, not durable, never retried
			d.stats.Faults.SyncErrors++
			d.trace("disk.fault", "sync-error %s pages=%d", r.name, len(r.snap.pages))
		case r.snap != nil:
			r.ino.apply(r.snap)
			d.usageValid = false
		case r.dir != nil && failed:
			d.stats.Faults.SyncErrors++
			d.trace("disk.fault", "syncdir-error %s", r.name)
		case r.dir != nil:
			r.dir.durable = r.entries
			d.usageValid = false
		}
		d.trace(kind, "%s err=%v", r.name, errs[i] != nil)
	}
	if len(d.queue.pending) > 0 {
		d.startFlush()
	}
	epoch := d.epoch
	for i, r := range batch {
		if d.epoch != epoch {
			return // a done crashed the node: the rest are never delivered
		}
		if r.done != nil {
			r.done(errs[i])
		}
	}
}

// SyncDir snapshots dirName's cached entries now and makes them its durable
// entries when the flush carrying the request completes.
func (d *Disk) SyncDir(dirName string, done func(err error)) {
	parts, err := splitPath(dirName)
	if err != nil {
		d.later(done, err)
		return
	}
	dr, err := d.lookupDir(parts)
	if err != nil {
		d.later(done, err)
		return
	}
	name := strings.Join(parts, "/")
	if name == "" {
		name = "."
	}
	d.stats.SyncDirsRequested++
	entries := maps.Clone(dr.cached)
	d.trace("disk.syncdir", "%s entries=%d", name, len(entries))
	d.enqueue(&request{name: name, dir: dr, entries: entries, done: done})
}
