package realhost

import (
	"os"

	"golang.org/x/sys/unix"
)

// writeBehindSupported: Linux has sync_file_range.
const writeBehindSupported = true

// startWriteBack starts writeback of the dirty pages of [off, off+n) and
// returns without waiting for it (SYNC_FILE_RANGE_WRITE alone). It never
// waits for completion, so it cannot consume a writeback error that a
// later fsync must report.
func startWriteBack(f *os.File, off, n int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	}); err != nil {
		return err
	}
	return serr
}
