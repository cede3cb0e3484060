package log

import (
	"time"

	"github.com/loglab/loglab/host"
)

// flusher is the group-commit state: at most one sync round in flight.
type flusher struct {
	inFlight  bool
	want      bool   // another round is wanted once the current one completes
	started   uint64 // rounds started
	completed uint64 // rounds completed without error
	waiters   []waiter
	unflushed int64 // records appended since the last round started
	timer     host.Timer
	startedAt time.Duration // when the round in flight started (OnFlush)
}

// waiter is released once RecoveryPoint >= offset (WhenDurable) or once
// round number round has completed (Sync).
type waiter struct {
	offset int64
	round  uint64
	done   func(error)
}

// Sync makes everything appended before the call durable, then calls done
// (with the error of a failed sync, after which the log has failed). It
// starts a round at once unless one is in flight, in which case the next
// round, started when that one completes, covers the call.
func (l *Log) Sync(done func(error)) {
	if err := l.usableOrClosing(); err != nil {
		l.later(done, err)
		return
	}
	if l.truncPending {
		l.afterTruncation = append(l.afterTruncation, func() { l.Sync(done) })
		return
	}
	round := l.flush.started + 1
	if !l.flush.inFlight && !l.needsRound() {
		l.later(done, nil)
		return
	}
	l.flush.waiters = append(l.flush.waiters, waiter{offset: -1, round: round, done: done})
	l.requestRound()
}

// WhenDurable calls done once RecoveryPoint >= offset (usually an append's
// LastOffset+1), or with the error that failed the log, or with
// ErrTruncated if TruncateTo removes the offset first. It does not start a
// sync itself: the flush policy (or Sync, a roll, Close) does.
func (l *Log) WhenDurable(offset int64, done func(error)) {
	if l.failed != nil {
		l.later(done, l.failed)
		return
	}
	if offset <= l.recoveryPoint || l.bugAckBeforeFlush() {
		l.later(done, nil)
		return
	}
	if l.closed {
		l.later(done, ErrClosed)
		return
	}
	l.flush.waiters = append(l.flush.waiters, waiter{offset: offset, done: done})
}

func (l *Log) usableOrClosing() error {
	if l.failed != nil {
		return l.failed
	}
	if l.closed {
		return ErrClosed
	}
	return nil
}

// needsRound reports whether anything written is not yet durable.
func (l *Log) needsRound() bool {
	return l.dirDirty || l.parentDirty || len(l.rolled) > 0 || l.active().dirty || l.recoveryPoint < l.LogEndOffset()
}

// afterAppend applies the flush policy to records just appended.
func (l *Log) afterAppend(records int64) {
	l.flush.unflushed += records
	if l.cfg.FlushMessages > 0 && l.flush.unflushed >= l.cfg.FlushMessages {
		l.requestRound()
		return
	}
	if l.cfg.FlushMs > 0 && l.flush.timer == nil {
		l.flush.timer = l.h.AfterFunc(time.Duration(l.cfg.FlushMs)*time.Millisecond, func() {
			l.flush.timer = nil
			if l.failed == nil && !l.closed {
				l.requestRound()
			}
		})
	}
}

func (l *Log) requestRound() {
	if l.flush.inFlight {
		l.flush.want = true
		return
	}
	l.startRound()
}

// startRound syncs what is not durable yet: segments rolled since the last
// round (data and indexes), the active segment's data, and the directories
// whose entries changed. When every sync has completed without error,
// RecoveryPoint becomes the log end offset captured here.
func (l *Log) startRound() {
	if l.failed != nil || l.flush.inFlight {
		return
	}
	if l.flush.timer != nil {
		l.flush.timer.Stop()
		l.flush.timer = nil
	}
	l.flush.inFlight, l.flush.want = true, false
	l.flush.started++
	l.flush.startedAt = l.h.Monotonic()
	l.flush.unflushed = 0
	round := l.flush.started
	target := l.LogEndOffset()
	epoch := l.truncEpoch

	pending := 1 // released after issuing, so completion cannot run early
	var firstErr error
	complete := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
		pending--
		if pending == 0 {
			l.roundDone(round, target, epoch, firstErr)
		}
	}
	syncFile := func(f host.File) {
		if f != nil {
			pending++
			f.Sync(complete)
		}
	}
	for _, s := range l.rolled {
		syncFile(s.log)
		syncFile(s.index)
		syncFile(s.timeIndex)
	}
	l.rolled = l.rolled[:0]
	if a := l.active(); a.dirty {
		a.dirty = false
		syncFile(a.log)
	}
	if l.dirDirty {
		l.dirDirty = false
		pending++
		l.h.Disk().SyncDir(l.dir, complete)
	}
	if l.parentDirty {
		l.parentDirty = false
		pending++
		l.h.Disk().SyncDir(l.parentDir(), complete)
	}
	if pending == 1 {
		// Nothing to sync: complete on the loop, not inside the caller.
		l.h.Post(func() { complete(nil) })
		return
	}
	complete(nil)
}

func (l *Log) roundDone(round uint64, target int64, epoch uint64, err error) {
	l.flush.inFlight = false
	if l.failed != nil {
		return
	}
	if err != nil {
		l.fail(err)
		return
	}
	l.flush.completed = round
	if l.cfg.OnFlush != nil {
		l.cfg.OnFlush(l.h.Monotonic() - l.flush.startedAt)
	}
	if epoch == l.truncEpoch && target > l.recoveryPoint {
		l.recoveryPoint = min(target, l.LogEndOffset())
		l.scheduleCheckpoint()
	} else if epoch != l.truncEpoch {
		l.flush.want = true // what this round synced may not be the log any more
	}
	kept := l.flush.waiters[:0]
	var ready []func(error)
	for _, w := range l.flush.waiters {
		if (w.offset >= 0 && w.offset <= l.recoveryPoint) || (w.offset < 0 && w.round <= round && epoch == l.truncEpoch) {
			ready = append(ready, w.done)
		} else {
			if w.offset < 0 && w.round <= round {
				w.round = l.flush.started + 1 // retry with the next round
				l.flush.want = true
			}
			kept = append(kept, w)
		}
	}
	clear(l.flush.waiters[len(kept):])
	l.flush.waiters = kept
	if l.flush.want || (l.cfg.FlushMessages > 0 && l.flush.unflushed >= l.cfg.FlushMessages) {
		l.startRound()
	}
	for _, done := range ready {
		if done != nil {
			done(nil)
		}
	}
}
