package controller

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path"

	"github.com/loglab/loglab/host"
	"go.etcd.io/raft/v3/raftpb"
)

// The raft log on disk: one file, <dir>/wal, a sequence of records
//
//	record  := length:uint32 | crc:uint32 | type:uint8 | payload
//	length  = 1 + len(payload)         (big-endian)
//	crc     = CRC-32C of type|payload  (big-endian)
//	type    1 snapshot  (raftpb.Snapshot; only as the first record)
//	        2 hardstate (raftpb.HardState)
//	        3 entry     (raftpb.Entry)
//
// Appends go to the end and are made durable by File.Sync before raft is
// told (Advance) or any message depending on them is sent. Replaying the
// records in order rebuilds the raft storage: an entry at an index already
// present replaces it and everything after it (raft's own truncation rule),
// the last hardstate wins.
//
// Recovery reads records until the first one that is short, has an
// impossible length or a bad CRC, and truncates the file there: a crash may
// tear or garble the unsynced tail, never a synced record (what was synced
// before a crash was acknowledged, what was not may be lost). What it read
// may still be only in the page cache, so the voter syncs the file before
// raft acts on it (Voter.syncRecovered): an unsynced entry that survived
// one crash must not be acknowledged and then lost to the next.
//
// Compaction and snapshot installation rewrite the whole file: the new
// content (snapshot, hardstate, remaining entries) goes to <dir>/wal.tmp,
// which is synced, renamed over wal, and the directory synced. A crash at
// any point leaves either the old or the new file; a stale wal.tmp is
// removed at startup.

const (
	walRecSnapshot  = 1
	walRecHardState = 2
	walRecEntry     = 3

	walHeaderBytes = 9
	// walMaxRecord bounds a record's length field so that a garbled length
	// never makes recovery allocate gigabytes.
	walMaxRecord = 64 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrWALCorrupt classifies a WAL whose valid prefix cannot be replayed
// (an entry gap): not a torn tail, which is truncated silently.
var ErrWALCorrupt = errors.New("controller: raft log corrupt")

// walState is what recovery found.
type walState struct {
	snapshot raftpb.Snapshot
	hard     raftpb.HardState
	entries  []raftpb.Entry // in file order, possibly overlapping
	fresh    bool           // no wal file at all
	torn     int64          // bytes cut from the tail
}

type wal struct {
	disk host.Disk
	dir  string
	f    host.File
	size int64
	// fresh: the directory was just created and its parents not yet synced.
	fresh bool
}

func (w *wal) name() string    { return path.Join(w.dir, "wal") }
func (w *wal) tmpName() string { return path.Join(w.dir, "wal.tmp") }

// openWAL recovers the log in dir.
func openWAL(disk host.Disk, dir string) (*wal, walState, error) {
	w := &wal{disk: disk, dir: dir}
	var st walState
	if err := disk.MkdirAll(dir); err != nil {
		return nil, st, err
	}
	if err := disk.Remove(w.tmpName()); err != nil && !errors.Is(err, host.ErrNotExist) {
		return nil, st, err
	}
	f, err := disk.OpenFile(w.name(), false)
	if errors.Is(err, host.ErrNotExist) {
		st.fresh, w.fresh = true, true
		return w, st, nil
	}
	if err != nil {
		return nil, st, err
	}
	w.f = f
	size, err := f.Size()
	if err != nil {
		return nil, st, err
	}
	buf := make([]byte, size)
	if n, err := f.ReadAt(buf, 0); err != nil && !(errors.Is(err, io.EOF) && int64(n) == size) {
		return nil, st, fmt.Errorf("controller: read wal: %w", err)
	}
	good := parseWAL(buf, &st)
	if good < size {
		st.torn = size - good
		if err := f.Truncate(good); err != nil {
			return nil, st, err
		}
	}
	w.size = good
	return w, st, nil
}

// parseWAL decodes records into st and returns the length of the valid
// prefix.
func parseWAL(buf []byte, st *walState) int64 {
	var off int64
	for {
		rest := buf[off:]
		if len(rest) < walHeaderBytes {
			return off
		}
		n := binary.BigEndian.Uint32(rest[0:4])
		if n < 1 || n > walMaxRecord || int64(len(rest)) < 8+int64(n) {
			return off
		}
		body := rest[8 : 8+n]
		if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(rest[4:8]) {
			return off
		}
		payload := body[1:]
		switch body[0] {
		case walRecSnapshot:
			var s raftpb.Snapshot
			if off != 0 || s.Unmarshal(payload) != nil {
				return off
			}
			st.snapshot = s
		case walRecHardState:
			var h raftpb.HardState
			if h.Unmarshal(payload) != nil {
				return off
			}
			st.hard = h
		case walRecEntry:
			var e raftpb.Entry
			if e.Unmarshal(payload) != nil {
				return off
			}
			st.entries = append(st.entries, e)
		default:
			return off
		}
		off += 8 + int64(n)
	}
}

func appendWALRecord(dst []byte, typ byte, payload []byte) []byte {
	var hdr [walHeaderBytes]byte
	binary.BigEndian.PutUint32(hdr[0:4], uint32(1+len(payload)))
	crc := crc32.Update(crc32.Checksum([]byte{typ}, crcTable), crcTable, payload)
	binary.BigEndian.PutUint32(hdr[4:8], crc)
	hdr[8] = typ
	dst = append(dst, hdr[:]...)
	return append(dst, payload...)
}

func mustMarshal(m interface{ Marshal() ([]byte, error) }) []byte {
	b, err := m.Marshal()
	if err != nil {
		panic("controller: marshal: " + err.Error())
	}
	return b
}

func encodeWAL(dst []byte, snap *raftpb.Snapshot, hs raftpb.HardState, ents []raftpb.Entry) []byte {
	if snap != nil {
		dst = appendWALRecord(dst, walRecSnapshot, mustMarshal(snap))
	}
	for i := range ents {
		dst = appendWALRecord(dst, walRecEntry, mustMarshal(&ents[i]))
	}
	if !isEmptyHardState(hs) {
		dst = appendWALRecord(dst, walRecHardState, mustMarshal(&hs))
	}
	return dst
}

func isEmptyHardState(hs raftpb.HardState) bool { return hs == raftpb.HardState{} }

// append writes entries then the hardstate at the end of the log; with sync
// it calls done once they are durable, otherwise at once.
func (w *wal) append(ents []raftpb.Entry, hs raftpb.HardState, sync bool, done func(error)) {
	buf := encodeWAL(nil, nil, hs, ents)
	if len(buf) > 0 {
		if _, err := w.f.WriteAt(buf, w.size); err != nil {
			done(fmt.Errorf("controller: wal write: %w", err))
			return
		}
		w.size += int64(len(buf))
	}
	if !sync || len(buf) == 0 {
		done(nil)
		return
	}
	w.f.Sync(done)
}

// rewrite replaces the whole log with snap, hs and ents (see the format
// comment), calling done when the new log is durable and open.
func (w *wal) rewrite(snap raftpb.Snapshot, hs raftpb.HardState, ents []raftpb.Entry, done func(error)) {
	buf := encodeWAL(nil, &snap, hs, ents)
	tmp, err := w.disk.OpenFile(w.tmpName(), true)
	if err != nil {
		done(err)
		return
	}
	if err := tmp.Truncate(0); err != nil {
		done(err)
		return
	}
	if _, err := tmp.WriteAt(buf, 0); err != nil {
		tmp.Close()
		done(fmt.Errorf("controller: wal rewrite: %w", err))
		return
	}
	tmp.Sync(func(err error) {
		if err != nil {
			tmp.Close()
			done(fmt.Errorf("controller: wal rewrite sync: %w", err))
			return
		}
		if err := w.disk.Rename(w.tmpName(), w.name()); err != nil {
			tmp.Close()
			done(err)
			return
		}
		dirs := []string{w.dir}
		if w.fresh {
			// The first rewrite also makes the directory itself durable:
			// MkdirAll's entries need a sync of every parent.
			for d := w.dir; d != "." && d != "/" && d != ""; {
				d = path.Dir(d)
				dirs = append(dirs, d)
			}
		}
		syncDirs(w.disk, dirs, func(err error) {
			if err != nil {
				tmp.Close()
				done(fmt.Errorf("controller: wal rewrite syncdir: %w", err))
				return
			}
			w.fresh = false
			if w.f != nil {
				w.f.Close()
			}
			w.f, w.size = tmp, int64(len(buf))
			done(nil)
		})
	})
}

// syncDirs syncs dirs one after the other.
func syncDirs(disk host.Disk, dirs []string, done func(error)) {
	if len(dirs) == 0 {
		done(nil)
		return
	}
	disk.SyncDir(dirs[0], func(err error) {
		if err != nil {
			done(err)
			return
		}
		syncDirs(disk, dirs[1:], done)
	})
}

func (w *wal) close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}
