package log

import (
	"container/heap"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim/disk"
)

// testWorld is a minimal deterministic world for one node: virtual time, an
// event queue, incarnations and the simulated disk. It implements disk.Env
// and hands out a host.Host (timers, Post, clocks, Disk). Package sim does
// the same for whole clusters; this one keeps the log's tests independent.
type testWorld struct {
	t      testing.TB
	now    int64
	seq    uint64
	inc    int
	events evHeap
	seed   uint64
	rands  map[string]*rand.Rand
	disk   *disk.Disk
	host   *testHost
}

type ev struct {
	at  int64
	seq uint64
	inc int
	fn  func()
}

type evHeap []*ev

func (h evHeap) Len() int { return len(h) }
func (h evHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h evHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *evHeap) Push(x any)   { *h = append(*h, x.(*ev)) }
func (h *evHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newTestWorld(t testing.TB, seed uint64) *testWorld {
	w := &testWorld{t: t, seed: seed, rands: map[string]*rand.Rand{}}
	w.disk = disk.New(w, "n1", disk.Config{})
	w.host = &testHost{w: w, inc: w.inc}
	return w
}

// disk.Env
func (w *testWorld) Now() int64 { return w.now }
func (w *testWorld) At(at int64, node string, fn func()) {
	w.seq++
	heap.Push(&w.events, &ev{at: at, seq: w.seq, inc: w.inc, fn: fn})
}
func (w *testWorld) Rand(name string) *rand.Rand {
	if r, ok := w.rands[name]; ok {
		return r
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	r := rand.New(rand.NewPCG(w.seed, h.Sum64()))
	w.rands[name] = r
	return r
}
func (w *testWorld) Trace(node, kind, detail string) {}

// step runs one event; false when none is left.
func (w *testWorld) step() bool {
	for w.events.Len() > 0 {
		e := heap.Pop(&w.events).(*ev)
		if e.inc != w.inc {
			continue // scheduled by a crashed incarnation
		}
		w.now = max(w.now, e.at)
		e.fn()
		return true
	}
	return false
}

// runUntil runs events until cond holds; it fails the test if the queue
// empties or too many events pass first.
func (w *testWorld) runUntil(cond func() bool) {
	w.t.Helper()
	for i := 0; !cond(); i++ {
		if i > 1_000_000 || !w.step() {
			w.t.Fatalf("condition not reached (events left %d)", w.events.Len())
		}
	}
}

// drain runs every pending event (timers included) up to virtual time limit.
func (w *testWorld) runFor(d time.Duration) {
	end := w.now + int64(d)
	for w.events.Len() > 0 && w.events[0].at <= end {
		w.step()
	}
	w.now = max(w.now, end)
}

// crash loses memory and, per mode, unsynced disk state; returns the new
// incarnation's host.
func (w *testWorld) crash(mode disk.CrashMode) host.Host {
	w.disk.Crash(mode)
	w.inc++
	w.host = &testHost{w: w, inc: w.inc}
	return w.host
}

type testHost struct {
	w   *testWorld
	inc int
}

func (h *testHost) Name() string             { return "n1" }
func (h *testHost) Now() time.Time           { return time.Unix(0, 1_700_000_000_000_000_000+h.w.now) }
func (h *testHost) Monotonic() time.Duration { return time.Duration(h.w.now) }
func (h *testHost) AfterFunc(d time.Duration, f func()) host.Timer {
	t := &testTimer{f: f}
	h.w.At(h.w.now+max(int64(d), 0), "n1", func() {
		if !t.stopped {
			t.stopped = true
			t.f()
		}
	})
	return t
}
func (h *testHost) Post(f func())        { h.w.At(h.w.now, "n1", f) }
func (h *testHost) Rand() *rand.Rand     { return h.w.Rand("host") }
func (h *testHost) Net() host.Network    { return nil }
func (h *testHost) Disk() host.Disk      { return h.w.disk.Host() }
func (h *testHost) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type testTimer struct {
	f       func()
	stopped bool
}

func (t *testTimer) Stop() bool {
	was := !t.stopped
	t.stopped = true
	return was
}
