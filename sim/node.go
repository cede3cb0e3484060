package sim

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim/disk"
)

// nodeRT is the world's record of one node across its incarnations.
type nodeRT struct {
	name    string
	factory func() host.Node
	disk    *disk.Disk
	inc     uint64 // incremented on every crash and stop
	up      bool
	paused  bool
	held    []event
	offset  time.Duration // clock skew of the node's wall clock
	node    host.Node
	host    *nodeHost
	starts  int
	crashes int
}

// NodeFunc adapts a start function to host.Node.
type NodeFunc func(h host.Host)

// Start calls f.
func (f NodeFunc) Start(h host.Host) { f(h) }

// AddNode registers a node and its factory. The node is not started; its
// disk exists from now on and survives crashes.
func (w *World) AddNode(name string, factory func() host.Node) {
	if _, dup := w.nodes[name]; dup {
		panic("sim: duplicate node " + name)
	}
	rt := &nodeRT{name: name, factory: factory}
	w.nodes[name] = rt
	w.order = append(w.order, name)
	rt.disk = disk.New(w, name, w.cfg.Disk)
	w.Trace(name, "add", "")
}

func (w *World) mustNode(name string) *nodeRT {
	rt, ok := w.nodes[name]
	if !ok {
		panic("sim: unknown node " + name)
	}
	return rt
}

// Start boots a node that is down: a fresh value from its factory is given
// a new Host and its Start runs as an event at the current instant.
func (w *World) Start(name string) {
	rt := w.mustNode(name)
	if rt.up {
		return
	}
	rt.up = true
	rt.paused = false
	rt.starts++
	rt.node = rt.factory()
	rt.host = &nodeHost{w: w, rt: rt, inc: rt.inc, disk: rt.disk.Host()}
	rt.host.rand = w.Rand("node/" + name + "/" + strconv.FormatUint(rt.inc, 10))
	rt.host.logger = w.nodeLogger(rt)
	w.Trace(name, "start", strconv.Itoa(rt.starts))
	node, h := rt.node, rt.host
	w.push(w.now, rt, evStart, nil, func() { node.Start(h) })
}

// Restart is Start under the name scenarios use after a crash.
func (w *World) Restart(name string) { w.Start(name) }

// Crash kills a node: its memory, timers and pending callbacks are gone,
// its connections reset, and its disk loses unsynced state by mode.
func (w *World) Crash(name string, mode disk.CrashMode) {
	rt := w.mustNode(name)
	if !rt.up {
		return
	}
	rt.crashes++
	w.Trace(name, "crash", mode.String())
	w.down(rt)
	rt.disk.Crash(mode)
}

// Stop shuts a node down cleanly: if it implements host.Stopper its Stop
// runs and the node goes down when it calls done (its disk keeps unsynced
// writes, as after a clean process exit: the page cache survives). done
// (may be nil) runs as a world event once the node is down.
func (w *World) Stop(name string, done func()) {
	rt := w.mustNode(name)
	if !rt.up {
		if done != nil {
			w.Schedule(0, done)
		}
		return
	}
	finish := func() {
		if rt.up {
			w.Trace(name, "stopped", "")
			w.down(rt)
		}
		if done != nil {
			w.Schedule(0, done)
		}
	}
	s, ok := rt.node.(host.Stopper)
	if !ok {
		w.push(w.now, rt, evPost, nil, finish)
		return
	}
	w.push(w.now, rt, evPost, nil, func() { s.Stop(finish) })
}

func (w *World) down(rt *nodeRT) {
	rt.up = false
	rt.paused = false
	rt.held = nil
	rt.inc++
	rt.node = nil
	rt.host = nil
	w.net.NodeDown(rt.name)
}

// Pause stops a node's loop (a long GC pause, SIGSTOP): its events are held
// until Resume. Its peers see nothing but silence.
func (w *World) Pause(name string) {
	rt := w.mustNode(name)
	if !rt.up || rt.paused {
		return
	}
	rt.paused = true
	w.Trace(name, "pause", "")
}

// Resume restarts a paused node's loop; held events run now, in order.
func (w *World) Resume(name string) {
	rt := w.mustNode(name)
	if !rt.paused {
		return
	}
	rt.paused = false
	w.Trace(name, "resume", strconv.Itoa(len(rt.held)))
	held := rt.held
	rt.held = nil
	for _, e := range held {
		w.seq++
		e.at, e.seq = w.now, w.seq
		w.q.push(e)
	}
}

// SetClockOffset sets the skew of a node's wall clock (Now); its timers
// and monotonic clock are unaffected, as on a real machine.
func (w *World) SetClockOffset(name string, offset time.Duration) {
	rt := w.mustNode(name)
	rt.offset = offset
	w.Trace(name, "clock", offset.String())
}

// ClockOffset is a node's current wall-clock skew.
func (w *World) ClockOffset(name string) time.Duration { return w.mustNode(name).offset }

// Up reports whether a node is running (possibly paused).
func (w *World) Up(name string) bool { return w.mustNode(name).up }

// Paused reports whether a node is paused.
func (w *World) Paused(name string) bool { return w.mustNode(name).paused }

// Host returns the Host of the node's current incarnation (nil when down).
// Tests use it to drive a node from outside; calls through it must happen
// between events, never concurrently.
func (w *World) Host(name string) host.Host {
	rt := w.mustNode(name)
	if rt.host == nil {
		return nil
	}
	return rt.host
}

// Node returns the node value of the current incarnation (nil when down).
func (w *World) Node(name string) host.Node { return w.mustNode(name).node }

// Disk returns a node's simulated disk (for fault injection and checks).
func (w *World) Disk(name string) *disk.Disk { return w.mustNode(name).disk }

// Do runs f on a node's loop as an event now (for tests and workloads that
// drive a node from outside).
func (w *World) Do(name string, f func(h host.Host)) {
	rt := w.mustNode(name)
	h := rt.host
	if h == nil {
		return
	}
	w.push(w.now, rt, evPost, nil, func() { f(h) })
}

// nodeHost is the Host of one incarnation of a node.
type nodeHost struct {
	w      *World
	rt     *nodeRT
	inc    uint64
	rand   *rand.Rand
	logger *slog.Logger
	disk   host.Disk
}

var _ host.Host = (*nodeHost)(nil)

func (h *nodeHost) Name() string { return h.rt.name }

func (h *nodeHost) Now() time.Time {
	return h.w.epoch.Add(time.Duration(h.w.now) + h.rt.offset)
}

func (h *nodeHost) Monotonic() time.Duration { return time.Duration(h.w.now) }

func (h *nodeHost) AfterFunc(d time.Duration, f func()) host.Timer {
	t := &timer{}
	h.w.pushFor(h, h.w.now+int64(d), evTimer, t, f)
	return t
}

func (h *nodeHost) Post(f func()) { h.w.pushFor(h, h.w.now, evPost, nil, f) }

func (w *World) pushFor(h *nodeHost, at int64, kind eventKind, t *timer, fn func()) {
	if h.inc != h.rt.inc {
		return // a dead incarnation's host: nothing it schedules may run
	}
	w.push(at, h.rt, kind, t, fn)
}

func (h *nodeHost) Rand() *rand.Rand     { return h.rand }
func (h *nodeHost) Net() host.Network    { return h.w.net.For(h.rt.name) }
func (h *nodeHost) Disk() host.Disk      { return h.disk }
func (h *nodeHost) Logger() *slog.Logger { return h.logger }

type timer struct {
	stopped bool
	fired   bool
}

func (t *timer) Stop() bool {
	if t.stopped || t.fired {
		return false
	}
	t.stopped = true
	return true
}

// nodeLogger returns a logger that stamps records with the node's virtual
// wall clock.
func (w *World) nodeLogger(rt *nodeRT) *slog.Logger {
	if w.cfg.Log == nil {
		return slog.New(discardHandler{})
	}
	inner := slog.NewTextHandler(w.cfg.Log, &slog.HandlerOptions{Level: w.cfg.LogLevel})
	return slog.New(&virtualTimeHandler{inner: inner, w: w, rt: rt}).With("node", rt.name)
}

type virtualTimeHandler struct {
	inner slog.Handler
	w     *World
	rt    *nodeRT
}

func (v *virtualTimeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return v.inner.Enabled(ctx, l)
}

func (v *virtualTimeHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Time = v.w.epoch.Add(time.Duration(v.w.now) + v.rt.offset)
	return v.inner.Handle(ctx, r)
}

func (v *virtualTimeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &virtualTimeHandler{inner: v.inner.WithAttrs(as), w: v.w, rt: v.rt}
}

func (v *virtualTimeHandler) WithGroup(name string) slog.Handler {
	return &virtualTimeHandler{inner: v.inner.WithGroup(name), w: v.w, rt: v.rt}
}

type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (d discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discardHandler) WithGroup(string) slog.Handler           { return d }

// NodeSummary renders a node's lifecycle counters (for summaries).
func (w *World) NodeSummary(name string) string {
	rt := w.mustNode(name)
	return fmt.Sprintf("%s starts=%d crashes=%d up=%v", name, rt.starts, rt.crashes, rt.up)
}
