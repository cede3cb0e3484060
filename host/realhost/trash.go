package realhost

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// TrashDir is where Remove moves files before unlinking them off the loop,
// directly under the data directory. It is hidden from List and no name
// may refer into it; it is empty once every removal has been unlinked.
const TrashDir = ".loglab-trash"

// trash unlinks removed files on an I/O goroutine. Unlinking a segment of
// a gigabyte makes ext4 free its extents (and, mounted with discard, queue
// discards) for up to a second; a topic deletion removes many of them at
// once. On the loop that stalled everything the node does, heartbeats
// included: deleting the maximum-rate search's topics fenced every broker
// of the embedded cluster (silent for 4.3 s). Remove therefore renames
// the file into TrashDir (one directory operation, as durable as the
// rename after SyncDir) and the goroutine unlinks it; Kafka likewise
// renames a deleted segment to .deleted and removes it in the background.
type trash struct {
	r    *Runtime
	root string // the trash directory's OS path

	mu      sync.Mutex
	pending []string
	running bool
	seq     uint64 // loop-owned: names of moved files
}

// move renames osPath into the trash and schedules its unlink. It reports
// false (and moves nothing) if the rename failed; the caller then removes
// osPath itself.
func (t *trash) move(osPath string) bool {
	if err := os.MkdirAll(t.root, 0o755); err != nil {
		return false
	}
	t.seq++
	dst := filepath.Join(t.root, fmt.Sprintf("%d-%s", t.seq, filepath.Base(osPath)))
	if err := os.Rename(osPath, dst); err != nil {
		return false
	}
	t.unlink(dst)
	return true
}

// unlink queues paths for the unlink goroutine, starting it if idle.
func (t *trash) unlink(paths ...string) {
	t.mu.Lock()
	t.pending = append(t.pending, paths...)
	start := !t.running && len(t.pending) > 0
	t.running = t.running || start
	t.mu.Unlock()
	if start {
		t.r.goIO(t.run)
	}
}

func (t *trash) run() {
	for {
		t.mu.Lock()
		batch := t.pending
		t.pending = nil
		if len(batch) == 0 {
			t.running = false
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
		for _, p := range batch {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.r.logger.Warn("unlinking a removed file failed", "path", p, "err", err)
			}
		}
	}
}

// empty unlinks what an earlier run left in the trash (it stopped or
// crashed before its unlinks ran).
func (t *trash) empty() {
	entries, err := os.ReadDir(t.root)
	if err != nil {
		return
	}
	paths := make([]string, 0, len(entries))
	for _, e := range entries {
		paths = append(paths, filepath.Join(t.root, e.Name()))
	}
	t.unlink(paths...)
}
