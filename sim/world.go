package sim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/loglab/loglab/netsim"
	"github.com/loglab/loglab/sim/disk"
)

// DefaultEpoch is virtual time zero on every node's wall clock: a fixed
// instant, so timestamps in a run do not depend on when it ran.
var DefaultEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Config fixes a world. Everything not given is derived from Seed or is a
// documented default; Knobs lists the result.
type Config struct {
	Seed  uint64
	Epoch time.Time     // zero: DefaultEpoch
	Net   netsim.Config // zero: netsim.DefaultConfig()
	Disk  disk.Config
	// RecordTrace keeps the text of every trace record (for --out); the
	// hash is always computed.
	RecordTrace bool
	// MaxEvents stops any run after this many events (0: no limit). It is
	// a safety net against livelocked scenarios.
	MaxEvents uint64
	// Log receives node logs (with virtual timestamps); nil discards them.
	Log      io.Writer
	LogLevel slog.Level
}

// ErrEventLimit is returned when a run hits Config.MaxEvents or a
// RunUntil step limit.
var ErrEventLimit = errors.New("sim: event limit reached")

// World is one simulated run. It is not safe for concurrent use: the whole
// world runs on the caller's goroutine.
type World struct {
	cfg     Config
	epoch   time.Time
	now     int64
	seq     uint64
	events  uint64
	q       eventQueue
	nodes   map[string]*nodeRT
	order   []string // node names in AddNode order
	streams map[string]*rand.Rand
	net     *netsim.Network
	hash    uint64
	trace   []string
}

// NewWorld makes an empty world at virtual time 0.
func NewWorld(cfg Config) *World {
	w := &World{
		cfg:     cfg,
		epoch:   cfg.Epoch,
		nodes:   make(map[string]*nodeRT),
		streams: make(map[string]*rand.Rand),
		hash:    fnvOffset64,
	}
	if w.epoch.IsZero() {
		w.epoch = DefaultEpoch
	}
	if w.cfg.Net == (netsim.Config{}) {
		w.cfg.Net = netsim.DefaultConfig()
	}
	w.net = netsim.New(w, w.cfg.Net)
	return w
}

// Seed is the run's seed.
func (w *World) Seed() uint64 { return w.cfg.Seed }

// Knobs lists the seed and every derived setting, one "key=value" per
// entry, for printing at the start of a run.
func (w *World) Knobs() []string {
	return []string{
		"seed=" + strconv.FormatUint(w.cfg.Seed, 10),
		"epoch=" + w.epoch.Format(time.RFC3339),
		fmt.Sprintf("net=%+v", w.cfg.Net),
		fmt.Sprintf("disk=%+v", w.cfg.Disk),
		fmt.Sprintf("max_events=%d", w.cfg.MaxEvents),
	}
}

// Now is virtual time in nanoseconds since the start of the run
// (netsim.Env and disk.Env).
func (w *World) Now() int64 { return w.now }

// Elapsed is virtual time since the start of the run.
func (w *World) Elapsed() time.Duration { return time.Duration(w.now) }

// Events is the number of events run so far.
func (w *World) Events() uint64 { return w.events }

// Net is the simulated network, for fault injection.
func (w *World) Net() *netsim.Network { return w.net }

// Rand returns the stream reserved for name (netsim.Env and disk.Env).
func (w *World) Rand(name string) *rand.Rand {
	r, ok := w.streams[name]
	if !ok {
		r = Stream(w.cfg.Seed, name)
		w.streams[name] = r
	}
	return r
}

// At schedules fn on node's loop at virtual time at (netsim.Env and
// disk.Env). An unknown node name schedules a world event.
func (w *World) At(at int64, node string, fn func()) {
	rt := w.nodes[node]
	w.push(at, rt, evEnv, nil, fn)
}

// Schedule runs fn as a world event (not tied to a node) after d.
func (w *World) Schedule(d time.Duration, fn func()) {
	w.push(w.now+int64(d), nil, evWorld, nil, fn)
}

func (w *World) push(at int64, rt *nodeRT, kind eventKind, t *timer, fn func()) {
	if at < w.now {
		at = w.now
	}
	w.seq++
	e := event{at: at, seq: w.seq, node: rt, kind: kind, t: t, fn: fn}
	if rt != nil {
		e.inc = rt.inc
	}
	w.q.push(e)
}

// Trace appends a record to the trace and the running hash (netsim.Env and
// disk.Env).
func (w *World) Trace(node, kind, detail string) {
	w.hashRecord(node, kind, detail)
	if w.cfg.RecordTrace {
		w.trace = append(w.trace, fmt.Sprintf("%d %s %s %s", w.now, node, kind, detail))
	}
}

func (w *World) hashRecord(node, kind, detail string) {
	h := w.hashInt(w.hash, uint64(w.now))
	h = hashString(h, node)
	h = hashString(h, kind)
	w.hash = hashString(h, detail)
}

func (w *World) hashInt(h, v uint64) uint64 {
	for i := 0; i < 8; i++ {
		h ^= v & 0xff
		h *= fnvPrime64
		v >>= 8
	}
	return h
}

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	// A separator so ("ab","c") and ("a","bc") hash apart.
	h ^= 0xff
	h *= fnvPrime64
	return h
}

// TraceHash is the running hash of the trace so far.
func (w *World) TraceHash() uint64 { return w.hash }

// TraceLines returns the recorded trace (Config.RecordTrace).
func (w *World) TraceLines() []string { return w.trace }

// Step runs the next event. It reports false when the queue is empty.
func (w *World) Step() bool {
	for len(w.q) > 0 {
		e := w.q.pop()
		if e.at > w.now {
			w.now = e.at
		}
		if !w.runnable(&e) {
			continue
		}
		w.run(&e)
		return true
	}
	return false
}

// runnable drops events of dead incarnations and holds those of paused
// nodes.
func (w *World) runnable(e *event) bool {
	rt := e.node
	if rt == nil {
		return true
	}
	if e.inc != rt.inc || !rt.up {
		return false
	}
	if e.kind == evTimer && e.t.stopped {
		return false
	}
	if rt.paused {
		rt.held = append(rt.held, *e)
		return false
	}
	return true
}

func (w *World) run(e *event) {
	w.events++
	if e.kind != evEnv {
		// Env events are traced by their owner (netsim, disk) with detail.
		name := ""
		if e.node != nil {
			name = e.node.name
		}
		h := w.hashInt(w.hash, uint64(w.now))
		h = hashString(h, name)
		w.hash = w.hashInt(h, uint64(e.kind))
		if w.cfg.RecordTrace {
			w.trace = append(w.trace, fmt.Sprintf("%d %s %s", w.now, name, e.kind))
		}
	}
	if e.kind == evTimer {
		e.t.fired = true
	}
	e.fn()
}

// RunFor runs every event due within d of virtual time, then advances the
// clock to now+d.
func (w *World) RunFor(d time.Duration) error {
	end := w.now + int64(d)
	for len(w.q) > 0 && w.q[0].at <= end {
		if w.limitHit() {
			return ErrEventLimit
		}
		w.Step()
	}
	if w.now < end {
		w.now = end
	}
	return nil
}

// RunUntil runs events until cond holds (checked before each event), the
// queue empties, or maxEvents more events have run (0: no limit but
// Config.MaxEvents). It returns ErrEventLimit on a limit and an error if
// the queue empties with cond false.
func (w *World) RunUntil(cond func() bool, maxEvents uint64) error {
	start := w.events
	for !cond() {
		if maxEvents > 0 && w.events-start >= maxEvents || w.limitHit() {
			return fmt.Errorf("%w after %d events at %v", ErrEventLimit, w.events-start, w.Elapsed())
		}
		if !w.Step() {
			if cond() {
				return nil
			}
			return fmt.Errorf("sim: idle at %v with condition unmet", w.Elapsed())
		}
	}
	return nil
}

// RunUntilIdle runs until no event is left or maxEvents have run.
func (w *World) RunUntilIdle(maxEvents uint64) error {
	err := w.RunUntil(func() bool { return len(w.q) == 0 }, maxEvents)
	return err
}

func (w *World) limitHit() bool {
	return w.cfg.MaxEvents > 0 && w.events >= w.cfg.MaxEvents
}

// Nodes returns node names in the order they were added.
func (w *World) Nodes() []string { return append([]string(nil), w.order...) }

// sortedNodes returns node names sorted, for deterministic iteration.
func (w *World) sortedNodes() []string {
	names := w.Nodes()
	sort.Strings(names)
	return names
}
