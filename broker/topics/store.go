package topics

import (
	"errors"
	"fmt"
	"io"

	"github.com/loglab/loglab/host"
)

// File names of the catalogue in the broker's data directory.
const (
	FileName    = "topics.json"
	tmpFileName = "topics.json.tmp"
)

// Load reads the catalogue from d. A missing file is an empty catalogue
// (a fresh broker); a leftover temporary file from a crash mid-save is
// ignored (it is overwritten by the next save).
func Load(d host.Disk) (State, error) {
	f, err := d.OpenFile(FileName, false)
	if errors.Is(err, host.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("topics: open %s: %w", FileName, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return State{}, fmt.Errorf("topics: size of %s: %w", FileName, err)
	}
	const maxBytes = 64 << 20
	if size > maxBytes {
		return State{}, fmt.Errorf("%w: %s is %d bytes", ErrCorruptState, FileName, size)
	}
	b := make([]byte, size)
	if n, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && n == len(b)) {
		return State{}, fmt.Errorf("topics: read %s: %w", FileName, err)
	}
	return Decode(b)
}

// Store saves catalogues to a Disk one at a time. Save may be called while
// a save is in flight: the newest state is written next and every waiting
// callback runs once a state at least as new as its own is durable. It
// runs on the node's loop like everything else.
type Store struct {
	disk     host.Disk
	writing  bool
	next     *State
	waiting  []func(error) // callbacks for next
	inflight []func(error) // callbacks for the state being written
}

// NewStore returns a Store writing to d's root directory.
func NewStore(d host.Disk) *Store { return &Store{disk: d} }

// Busy reports whether a save is in flight or queued.
func (s *Store) Busy() bool { return s.writing || s.next != nil }

// Save makes st durable and then calls done (nil on success).
func (s *Store) Save(st State, done func(error)) {
	s.next = &st
	s.waiting = append(s.waiting, done)
	if !s.writing {
		s.start()
	}
}

func (s *Store) start() {
	st := *s.next
	s.next = nil
	s.inflight, s.waiting = s.waiting, nil
	s.writing = true
	s.write(Encode(st), s.finish)
}

func (s *Store) finish(err error) {
	cbs := s.inflight
	s.inflight = nil
	s.writing = false
	for _, cb := range cbs {
		cb(err)
	}
	if s.next != nil {
		s.start()
	}
}

// write does tmp write → Sync → Rename → SyncDir, calling done once.
func (s *Store) write(b []byte, done func(error)) {
	f, err := s.disk.OpenFile(tmpFileName, true)
	if err != nil {
		done(fmt.Errorf("topics: create %s: %w", tmpFileName, err))
		return
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		done(fmt.Errorf("topics: truncate %s: %w", tmpFileName, err))
		return
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		f.Close()
		done(fmt.Errorf("topics: write %s: %w", tmpFileName, err))
		return
	}
	f.Sync(func(err error) {
		f.Close()
		if err != nil {
			done(fmt.Errorf("topics: sync %s: %w", tmpFileName, err))
			return
		}
		if err := s.disk.Rename(tmpFileName, FileName); err != nil {
			done(fmt.Errorf("topics: rename %s: %w", tmpFileName, err))
			return
		}
		s.disk.SyncDir("", func(err error) {
			if err != nil {
				err = fmt.Errorf("topics: sync data directory: %w", err)
			}
			done(err)
		})
	})
}
