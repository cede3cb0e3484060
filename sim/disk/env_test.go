package disk

import (
	"container/heap"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"testing"
)

// fakeEnv is a minimal world: a heap-ordered event queue in virtual time,
// per-node incarnations, named seeded streams and a hashed trace.
type fakeEnv struct {
	now     int64
	nextSeq uint64
	events  eventHeap
	inc     map[string]int
	seed    uint64
	streams map[string]*rand.Rand
	trace   []string
	hash    uint64
	log     bool // keep the trace lines
	t       testing.TB
}

type event struct {
	at  int64
	seq uint64
	inc int
	fn  func()
	n   string
}

type eventHeap []*event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(*event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newFakeEnv(t testing.TB, seed uint64) *fakeEnv {
	return &fakeEnv{inc: map[string]int{}, seed: seed, streams: map[string]*rand.Rand{}, hash: 14695981039346656037, log: true, t: t}
}

func (e *fakeEnv) Now() int64 { return e.now }

func (e *fakeEnv) At(at int64, node string, fn func()) {
	if at < e.now {
		e.t.Fatalf("At(%d) in the past (now %d)", at, e.now)
	}
	e.nextSeq++
	heap.Push(&e.events, &event{at: at, seq: e.nextSeq, inc: e.inc[node], fn: fn, n: node})
}

func (e *fakeEnv) Rand(name string) *rand.Rand {
	if r, ok := e.streams[name]; ok {
		return r
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	r := rand.New(rand.NewPCG(e.seed, h.Sum64()))
	e.streams[name] = r
	return r
}

func (e *fakeEnv) Trace(node, kind, detail string) {
	line := fmt.Sprintf("%d %s %s %s", e.now, node, kind, detail)
	h := fnv.New64a()
	fmt.Fprintf(h, "%016x%s", e.hash, line)
	e.hash = h.Sum64()
	if e.log {
		e.trace = append(e.trace, line)
	}
}

// crashNode drops node's pending events, as the world does on a crash.
func (e *fakeEnv) crashNode(node string) { e.inc[node]++ }

// runUntil runs every event at or before t, then sets the clock to t.
func (e *fakeEnv) runUntil(t int64) {
	for e.events.Len() > 0 && e.events[0].at <= t {
		ev := heap.Pop(&e.events).(*event)
		e.now = ev.at
		if ev.inc == e.inc[ev.n] {
			ev.fn()
		}
	}
	if t > e.now {
		e.now = t
	}
}

// run drains the queue.
func (e *fakeEnv) run() {
	for e.events.Len() > 0 {
		e.runUntil(e.events[0].at)
	}
}
