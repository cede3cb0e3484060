//go:build !linux

package realhost

import "os"

// writeBehindSupported: only Linux has sync_file_range; elsewhere
// write-behind is off and the kernel's own writeback decides.
const writeBehindSupported = false

func startWriteBack(*os.File, int64, int64) error { return nil }
