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
// An fsync failure is sticky: on Linux a failed fsync may drop the dirty
// pages and a later fsync can then report success for data that is gone
// ("fsyncgate"), so every later request reports the first error.
type syncer struct {
	r         *Runtime
	fsync     func() error // runs on the sync goroutine
	performed *atomic.Uint64

	mu         sync.Mutex
	waiting    []func(error)
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

func (s *syncer) run() {
	for {
		s.mu.Lock()
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
