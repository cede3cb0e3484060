package host

// Disk is a node's storage: a tree of files under the node's data directory.
// Names are slash-separated paths relative to that directory ("t-0/00000000000000000000.log").
// Every call but Sync and SyncDir is synchronous and happens on the node's
// loop; Sync and SyncDir complete asynchronously, calling done on the
// node's loop.
type Disk interface {
	// OpenFile opens name. With create, a missing file is created (its
	// directory entry is durable only after SyncDir of its directory).
	OpenFile(name string, create bool) (File, error)
	// Remove deletes a file (durable after SyncDir). Missing: ErrNotExist.
	Remove(name string) error
	// Rename atomically replaces newName with oldName (durable after
	// SyncDir of both directories).
	Rename(oldName, newName string) error
	// List returns the names of the files and directories directly in dir,
	// sorted, without the dir prefix. A missing dir lists as empty.
	List(dir string) ([]string, error)
	// MkdirAll creates dir and its parents (durable after SyncDir of the
	// parent).
	MkdirAll(dir string) error
	// SyncDir makes the directory entries of dir (creates, renames,
	// removes done before the call) durable, then calls done.
	SyncDir(dir string, done func(err error))
}

// File is an open file. Reads see every completed write at once.
type File interface {
	Name() string
	// ReadAt reads len(p) bytes at off; short reads at the end of the file
	// return io.EOF like os.File.
	ReadAt(p []byte, off int64) (int, error)
	// WriteAt writes p at off, extending the file (with zeros) if needed.
	WriteAt(p []byte, off int64) (int, error)
	// Size is the current (not necessarily durable) size.
	Size() (int64, error)
	// Truncate sets the size (durable after Sync).
	Truncate(size int64) error
	// Sync makes every write and truncate done before the call durable,
	// then calls done on the node's loop. Concurrent Syncs of one file may
	// be served by one fsync (group commit). A failed Sync (done(err) with
	// err != nil) leaves the data's durability unknown: treat it as lost.
	Sync(done func(err error))
	// Close releases the file. Pending Syncs still complete.
	Close() error
}
