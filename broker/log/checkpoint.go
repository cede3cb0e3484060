package log

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"time"

	"github.com/loglab/loglab/host"
)

// Frozen checkpoint format (see the package doc).
const (
	checkpointName  = "log.checkpoint"
	checkpointTmp   = "log.checkpoint.tmp"
	checkpointBytes = 24
	checkpointMagic = "LLCK"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checkpointer serializes checkpoint writes: one in flight; callers during
// it are served by the next write, which starts when it completes.
type checkpointer struct {
	inFlight bool
	waiters  []func(error) // released when the write in flight is durable
	next     []func(error) // released by the next write
	again    bool
	rp       int64 // recovery point of the last durable checkpoint
	claimRP  int64 // the largest recovery point a crash could show (durable or in flight)
	timer    host.Timer
}

func encodeCheckpoint(rp, lso int64) []byte {
	b := make([]byte, 0, checkpointBytes)
	b = append(b, checkpointMagic...)
	b = binary.BigEndian.AppendUint64(b, uint64(rp))
	b = binary.BigEndian.AppendUint64(b, uint64(lso))
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeCheckpoint parses a checkpoint file; it never panics.
func decodeCheckpoint(b []byte) (rp, lso int64, ok bool) {
	if len(b) != checkpointBytes || string(b[:4]) != checkpointMagic ||
		crc32.Checksum(b[:20], castagnoli) != binary.BigEndian.Uint32(b[20:]) {
		return 0, 0, false
	}
	rp, lso = int64(binary.BigEndian.Uint64(b[4:])), int64(binary.BigEndian.Uint64(b[12:]))
	if rp < 0 || lso < 0 {
		return 0, 0, false
	}
	return rp, lso, true
}

// readCheckpoint returns the checkpointed recovery point and log start
// offset; a missing or corrupt checkpoint gives 0, 0 (scan everything).
func (l *Log) readCheckpoint(names []string) (rp, lso int64) {
	if _, found := slices.BinarySearch(names, checkpointName); !found {
		return 0, 0
	}
	f, err := l.h.Disk().OpenFile(l.dir+"/"+checkpointName, false)
	if err != nil {
		l.h.Logger().Warn("log checkpoint unreadable; full recovery", "dir", l.dir, "err", err)
		return 0, 0
	}
	defer f.Close()
	b, err := readAll(f)
	if err != nil {
		l.h.Logger().Warn("log checkpoint unreadable; full recovery", "dir", l.dir, "err", err)
		return 0, 0
	}
	rp, lso, ok := decodeCheckpoint(b)
	if !ok {
		l.h.Logger().Warn("log checkpoint corrupt; full recovery", "dir", l.dir, "bytes", len(b))
	}
	return rp, lso
}

// scheduleCheckpoint arms the checkpoint timer if the recovery point moved
// past the durable checkpoint (which the leader-epoch file may hold back:
// see epochSafeRP).
func (l *Log) scheduleCheckpoint() {
	if l.ckpt.timer != nil || l.recoveryPoint <= l.ckpt.rp || l.closing {
		return
	}
	l.ckpt.timer = l.h.AfterFunc(time.Duration(l.cfg.CheckpointIntervalMs)*time.Millisecond, func() {
		l.ckpt.timer = nil
		if l.failed == nil && !l.closed {
			l.writeCheckpoint(nil)
		}
	})
}

// writeCheckpoint durably records RecoveryPoint and LogStartOffset (tmp,
// sync, rename, directory sync), then calls done. A failure fails the log.
func (l *Log) writeCheckpoint(done func(error)) {
	if l.failed != nil {
		l.later(done, l.failed)
		return
	}
	if l.ckpt.inFlight {
		l.ckpt.again = true
		if done != nil {
			l.ckpt.next = append(l.ckpt.next, done)
		}
		return
	}
	if l.ckpt.timer != nil {
		l.ckpt.timer.Stop()
		l.ckpt.timer = nil
	}
	l.ckpt.inFlight = true
	if done != nil {
		l.ckpt.waiters = append(l.ckpt.waiters, done)
	}
	rp, lso := l.epochSafeRP(l.recoveryPoint), l.logStartOffset
	l.ckpt.claimRP = max(l.ckpt.claimRP, rp)
	tmp, final := l.dir+"/"+checkpointTmp, l.dir+"/"+checkpointName
	finish := func(err error) {
		l.ckpt.inFlight = false
		if l.failed != nil {
			return // fail already released the waiters
		}
		if err != nil {
			l.fail(err)
			return
		}
		l.ckpt.rp, l.ckpt.claimRP = rp, rp
		l.epochs.durableLSO = max(l.epochs.durableLSO, lso)
		ws := l.ckpt.waiters
		l.ckpt.waiters = nil
		if l.ckpt.again {
			l.ckpt.again = false
			next := l.ckpt.next
			l.ckpt.next = nil
			l.writeCheckpoint(nil)
			l.ckpt.waiters = append(l.ckpt.waiters, next...)
		}
		for _, w := range ws {
			w(nil)
		}
	}
	l.replaceFile(tmp, final, encodeCheckpoint(rp, lso), finish)
}

// replaceFile makes final hold data durably: write tmp, sync it, rename it
// over final, sync the directory; then done (always asynchronously, on the
// loop). A crash at any point leaves final either old or new, never torn.
func (l *Log) replaceFile(tmp, final string, data []byte, done func(error)) {
	d := l.h.Disk()
	f, err := d.OpenFile(tmp, true)
	if err != nil {
		l.h.Post(func() { done(err) })
		return
	}
	if err = f.Truncate(0); err == nil {
		_, err = f.WriteAt(data, 0)
	}
	if err != nil {
		_ = f.Close()
		l.h.Post(func() { done(err) })
		return
	}
	f.Sync(func(err error) {
		if cerr := f.Close(); err == nil && cerr != nil && !errors.Is(cerr, host.ErrClosed) {
			err = cerr
		}
		if err == nil {
			err = d.Rename(tmp, final)
		}
		if err != nil {
			done(err)
			return
		}
		d.SyncDir(l.dir, done)
	})
}
