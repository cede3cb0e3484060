package realhost

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loglab/loglab/host"
)

// Config describes one node's runtime.
type Config struct {
	// Name is the node's name (host.Host.Name).
	Name string
	// DataDir is the root of the node's host.Disk, created if missing.
	// Empty means the node has no disk: every Disk call fails.
	DataDir string
	// Logger is the node's logger; nil means slog.Default() with node=Name.
	Logger *slog.Logger
	// Seed seeds the node's Rand stream (math/rand/v2 PCG); 0 draws one
	// from crypto/rand. Runtime.Seed reports the seed in use.
	Seed uint64
	// WriteBehindBytes: once a file has this many newly written bytes
	// since its last write-behind, writeback of them to the device is
	// started off the loop (sync_file_range(SYNC_FILE_RANGE_WRITE) on
	// Linux; RocksDB's bytes_per_sync). It promises nothing about
	// durability (only Sync does); it keeps dirty pages few, so the
	// kernel never writes back gigabytes at once while the loop's writes
	// wait on the filesystem. 0 means DefaultWriteBehindBytes; negative
	// turns it off.
	WriteBehindBytes int64
}

// DefaultWriteBehindBytes is Config.WriteBehindBytes's default.
const DefaultWriteBehindBytes = 1 << 20

// Stats are counters of a runtime's I/O, safe to read from any goroutine.
type Stats struct {
	// SyncsRequested counts File.Sync calls; Fsyncs the fsyncs they caused.
	// Fsyncs < SyncsRequested is group commit at work.
	SyncsRequested uint64
	Fsyncs         uint64
	// DirSyncsRequested and DirFsyncs are the same for Disk.SyncDir.
	DirSyncsRequested uint64
	DirFsyncs         uint64
	// WriteBehinds counts the writebacks started by write-behind
	// (Config.WriteBehindBytes), WriteBehindBytes the bytes they covered.
	WriteBehinds     uint64
	WriteBehindBytes uint64
}

// maxKeptQueue bounds the queue capacity the loop keeps between turns.
const maxKeptQueue = 4096

// Runtime runs one node on its own loop goroutine.
type Runtime struct {
	name   string
	node   host.Node
	host   *nodeHost
	logger *slog.Logger
	seed   uint64
	rand   *rand.Rand
	start  time.Time
	disk   *disk
	net    *network

	// The loop's queue; posting takes mu only.
	mu     sync.Mutex
	queue  []func()
	closed bool // the loop has exited or is tearing down: posts are dropped
	wake   chan struct{}

	quit     chan struct{} // closed to ask the loop to tear down
	quitOnce sync.Once
	done     chan struct{} // closed when the loop and every I/O goroutine ended

	// stopped is set (on the loop) when node code must get no more
	// callbacks: the Stopper called done, or teardown began.
	stopped      atomic.Bool
	stopping     atomic.Bool
	nodeStopped  chan struct{}
	nodeStopOnce sync.Once

	// ctx is cancelled at teardown; pending dials use it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // I/O goroutines

	// Resources registered by any goroutine, closed at teardown.
	resMu    sync.Mutex
	tornDown bool
	conns    map[*conn]struct{}
	lns      map[*listener]struct{}
	// Loop-owned resources.
	files  map[*file]struct{}
	timers map[*timer]struct{}

	stats struct {
		syncs, fsyncs, dirSyncs, dirFsyncs, writeBehinds, writeBehindBytes atomic.Uint64
	}
}

// Run starts node on a new loop goroutine: node.Start(h) is the loop's first
// callback.
func Run(node host.Node, cfg Config) (*Runtime, error) {
	if node == nil {
		return nil, errors.New("realhost: nil node")
	}
	seed := cfg.Seed
	if seed == 0 {
		var b [8]byte
		if _, err := crand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("realhost: seed: %w", err)
		}
		seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("realhost: data dir: %w", mapDiskErr(err))
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default().With("node", cfg.Name)
	}
	r := &Runtime{
		name:   cfg.Name,
		node:   node,
		logger: logger,
		seed:   seed,
		// The second PCG word is a fixed odd constant: one seed, one stream.
		rand:        rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		start:       time.Now(),
		wake:        make(chan struct{}, 1),
		quit:        make(chan struct{}),
		done:        make(chan struct{}),
		nodeStopped: make(chan struct{}),
		conns:       make(map[*conn]struct{}),
		lns:         make(map[*listener]struct{}),
		files:       make(map[*file]struct{}),
		timers:      make(map[*timer]struct{}),
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.host = &nodeHost{r: r}
	wb := cfg.WriteBehindBytes
	if wb == 0 {
		wb = DefaultWriteBehindBytes
	}
	if !writeBehindSupported {
		wb = -1
	}
	r.disk = &disk{r: r, root: cfg.DataDir, dirs: make(map[string]*syncer), writeBehind: wb}
	if cfg.DataDir != "" {
		r.disk.trash = &trash{r: r, root: filepath.Join(cfg.DataDir, TrashDir)}
		r.disk.trash.empty()
	}
	r.net = &network{r: r}
	r.post(func() { node.Start(r.host) })
	go r.loop()
	return r, nil
}

// Name is the node's name.
func (r *Runtime) Name() string { return r.name }

// Seed is the seed of the node's Rand stream (log it to replay choices).
func (r *Runtime) Seed() uint64 { return r.seed }

// Stats returns the runtime's I/O counters.
func (r *Runtime) Stats() Stats {
	return Stats{
		SyncsRequested:    r.stats.syncs.Load(),
		Fsyncs:            r.stats.fsyncs.Load(),
		DirSyncsRequested: r.stats.dirSyncs.Load(),
		DirFsyncs:         r.stats.dirFsyncs.Load(),
		WriteBehinds:      r.stats.writeBehinds.Load(),
		WriteBehindBytes:  r.stats.writeBehindBytes.Load(),
	}
}

// Post runs f on the loop, after everything posted before it. It never
// blocks and may be called from any goroutine. After the node stopped, f is
// dropped.
func (r *Runtime) Post(f func(h host.Host)) {
	r.post(func() { f(r.host) })
}

// Do runs f on the loop and waits for it to return. It returns
// host.ErrClosed, without running f, if the node has stopped. Do must not be
// called from the loop itself (it would wait for itself).
func (r *Runtime) Do(f func(h host.Host)) error {
	ran := make(chan struct{})
	if !r.post(func() { f(r.host); close(ran) }) {
		return host.ErrClosed
	}
	select {
	case <-ran:
		return nil
	case <-r.done:
		select {
		case <-ran:
			return nil
		default:
			return host.ErrClosed
		}
	}
}

// Done is closed once the runtime has stopped: the loop has exited and every
// socket, file and I/O goroutine of the node is gone.
func (r *Runtime) Done() <-chan struct{} { return r.done }

// Stop shuts the node down. If the node implements host.Stopper, its Stop
// runs on the loop and Stop waits for it to call done (or for ctx); then
// listeners, connections, files and the loop are closed and Stop waits for
// them. Stop is idempotent and safe from any goroutine but the loop. It
// returns an error wrapping ctx.Err() if ctx ended first.
func (r *Runtime) Stop(ctx context.Context) error {
	var err error
	if r.stopping.CompareAndSwap(false, true) {
		if s, ok := r.node.(host.Stopper); ok {
			r.post(func() { s.Stop(r.nodeDone) })
			select {
			case <-r.nodeStopped:
			case <-r.done:
			case <-ctx.Done():
				err = fmt.Errorf("realhost: %s: node did not stop: %w", r.name, ctx.Err())
			}
		}
		r.quitOnce.Do(func() { close(r.quit) })
	}
	select {
	case <-r.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("realhost: %s: stop: %w", r.name, ctx.Err())
	}
}

// nodeDone is the done func given to the node's Stopper.
func (r *Runtime) nodeDone() {
	r.nodeStopOnce.Do(func() {
		r.stopped.Store(true)
		close(r.nodeStopped)
	})
}

// post queues f for the loop and reports whether it was accepted.
func (r *Runtime) post(f func()) bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	r.queue = append(r.queue, f)
	first := len(r.queue) == 1
	r.mu.Unlock()
	if first {
		// The loop empties the whole queue each turn, so only the post
		// that makes it non-empty needs to wake it.
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
	return true
}

func (r *Runtime) loop() {
	var batch []func()
	for {
		r.mu.Lock()
		batch, r.queue = r.queue, batch[:0]
		r.mu.Unlock()
		for i, f := range batch {
			batch[i] = nil
			if !r.stopped.Load() {
				f()
			}
		}
		if cap(batch) > maxKeptQueue {
			batch = nil // do not keep a burst's backing array forever
		}
		if len(batch) == 0 {
			select {
			case <-r.wake:
				continue
			case <-r.quit:
			}
		} else {
			select {
			case <-r.quit:
			default:
				continue
			}
		}
		r.teardown()
		return
	}
}

// teardown runs on the loop: no node callback runs after it starts.
func (r *Runtime) teardown() {
	r.stopped.Store(true)
	r.mu.Lock()
	r.closed = true
	r.queue = nil
	r.mu.Unlock()
	r.cancel()
	for t := range r.timers {
		if t.t != nil {
			t.t.Stop()
		}
	}
	clear(r.timers)
	r.resMu.Lock()
	r.tornDown = true
	lns, conns := r.lns, r.conns
	r.lns, r.conns = nil, nil
	r.resMu.Unlock()
	for l := range lns {
		l.ln.Close()
	}
	for c := range conns {
		c.kill()
	}
	for f := range r.files {
		f.close()
	}
	clear(r.files)
	go func() {
		r.wg.Wait()
		close(r.done)
	}()
}

// goIO starts an I/O goroutine that teardown waits for.
func (r *Runtime) goIO(f func()) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
}
