package realhost

import (
	"sync"
	"sync/atomic"
)

// syncer serves the Syncs of one file (or the SyncDirs of one directory)
// with group commit. While an fsync is in flight, new requests wait; the
// next fsync, which starts after all of them were made, serves them all.
//
// Its goroutine exists only while requests are pending, so an idle file
// costs nothing and fsyncs of different files run in parallel (the disk's
// queue, not a fixed pool, bounds them).
//
// It also starts write-behind writebacks (Config.WriteBehindBytes): ranges
// requested while one is in flight are merged into one, and each is
// started before the next fsync, never blocking the loop.
//
// An fsync failure is sticky: on Linux a failed fsync may drop the dirty
// pages and a later fsync can then report success for data that is gone
// ("fsyncgate"), so every later request reports the first error.
type syncer struct {
	r         *Runtime
	fsync     func() error // runs on the sync goroutine
	performed *atomic.Uint64
	// writeBack starts writeback of [off, off+n) (nil: none for
	// directories); runs on the sync goroutine.
	writeBack func(off, n int64) error

	mu         sync.Mutex
	waiting    []func(error)
	wbStart    int64 // pending write-behind range [wbStart, wbEnd)
	wbEnd      int64
	wbPending  bool
	running    bool
	failed     error
	closeAfter func() // runs once the pending requests are served
}

// request queues done; it runs on the loop after an fsync that started
// after this call.
func (s *syncer) request(done func(error)) {
	s.mu.Lock()
	s.waiting = append(s.waiting, done)
	start := !s.running
	s.running = true
	s.mu.Unlock()
	if start {
		s.r.goIO(s.run)
	}
}

// requestWriteBack asks for writeback of [off, end) to be started. It
// merges with a range still pending (the next one usually continues it).
func (s *syncer) requestWriteBack(off, end int64) {
	s.mu.Lock()
	if s.wbPending {
		s.wbStart, s.wbEnd = min(s.wbStart, off), max(s.wbEnd, end)
	} else {
		s.wbStart, s.wbEnd, s.wbPending = off, end, true
	}
	start := !s.running
	s.running = true
	s.mu.Unlock()
	if start {
		s.r.goIO(s.run)
	}
}

func (s *syncer) run() {
	for {
		s.mu.Lock()
		if s.wbPending && s.failed == nil {
			off, end := s.wbStart, s.wbEnd
			s.wbPending = false
			s.mu.Unlock()
			// An error starting writeback is made sticky like a failed
			// fsync: the pages' fate is unknown, so no later Sync may
			// report success.
			err := s.writeBack(off, end-off)
			s.r.stats.writeBehinds.Add(1)
			s.r.stats.writeBehindBytes.Add(uint64(end - off))
			if err != nil {
				s.mu.Lock()
				if s.failed == nil {
					s.failed = mapDiskErr(err)
				}
				s.mu.Unlock()
			}
			continue
		}
		s.wbPending = false
		batch := s.waiting
		if len(batch) == 0 {
			s.running = false
			after := s.closeAfter
			s.closeAfter = nil
			s.mu.Unlock()
			if after != nil {
				after()
			}
			return
		}
		s.waiting = nil
		failed := s.failed
		s.mu.Unlock()

		err := failed
		if err == nil {
			err = mapDiskErr(s.fsync())
			s.performed.Add(1)
			if err != nil {
				s.mu.Lock()
				s.failed = err
				s.mu.Unlock()
			}
		}
		s.r.post(func() {
			for _, done := range batch {
				done(err)
			}
		})
	}
}

// deferUntilIdle arranges for f to run once the pending requests are
// served, if any are pending (Close must not close a file an fsync is
// using). It reports false, without keeping f, if nothing is pending.
func (s *syncer) deferUntilIdle(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return false
	}
	s.closeAfter = f
	return true
}
