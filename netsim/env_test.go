package netsim

import (
	"container/heap"
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"github.com/loglab/loglab/host"
)

// fakeEnv is a minimal world: a heap-ordered event queue with incarnations
// and crash support, named random streams, and a recorded trace.
// tb is what fakeEnv needs of *testing.T, *testing.B and *rapid.T.
type tb interface {
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Fatal(args ...any)
}

type fakeEnv struct {
	tb      tb
	now     int64
	seq     uint64
	q       eventHeap
	seed    uint64
	streams map[string]*rand.Rand
	inc     map[string]int
	down    map[string]bool
	running string // node whose event is running; "" outside events
	inEvent bool
	trace   []string
	noTrace bool
	net     *Network
}

type fakeEvent struct {
	at   int64
	seq  uint64
	node string
	inc  int
	fn   func()
}

type eventHeap []fakeEvent

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(fakeEvent)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newFakeEnv(tb tb, seed uint64, cfg Config) *fakeEnv {
	f := &fakeEnv{tb: tb, seed: seed, streams: map[string]*rand.Rand{}, inc: map[string]int{}, down: map[string]bool{}}
	f.net = New(f, cfg)
	return f
}

func (f *fakeEnv) Now() int64 { return f.now }

func (f *fakeEnv) At(at int64, node string, fn func()) {
	if at < f.now {
		f.tb.Fatalf("At(%d) in the past (now %d)", at, f.now)
	}
	f.seq++
	heap.Push(&f.q, fakeEvent{at: at, seq: f.seq, node: node, inc: f.inc[node], fn: fn})
}

func (f *fakeEnv) Rand(name string) *rand.Rand {
	r := f.streams[name]
	if r == nil {
		h := fnv.New64a()
		h.Write([]byte(name))
		r = rand.New(rand.NewPCG(f.seed, h.Sum64()))
		f.streams[name] = r
	}
	return r
}

func (f *fakeEnv) Trace(node, kind, detail string) {
	if !f.noTrace {
		f.trace = append(f.trace, fmt.Sprintf("%d %s %s %s", f.now, node, kind, detail))
	}
}

// step runs the next event; false when the queue is empty.
func (f *fakeEnv) step() bool {
	for f.q.Len() > 0 {
		e := heap.Pop(&f.q).(fakeEvent)
		f.now = max(f.now, e.at)
		if e.inc != f.inc[e.node] || f.down[e.node] {
			continue
		}
		f.running, f.inEvent = e.node, true
		e.fn()
		f.running, f.inEvent = "", false
		return true
	}
	return false
}

// runUntil runs every event due at or before t, then sets the clock to t.
func (f *fakeEnv) runUntil(t int64) {
	for f.q.Len() > 0 && f.q[0].at <= t {
		f.step()
	}
	f.now = max(f.now, t)
}

// run runs until the queue is empty (bounded).
func (f *fakeEnv) run() {
	for i := 0; f.step(); i++ {
		if i > 10_000_000 {
			f.tb.Fatal("fakeEnv: runaway event loop")
		}
	}
}

// crash kills node's incarnation and tells the network.
func (f *fakeEnv) crash(node string) {
	f.inc[node]++
	f.down[node] = true
	f.net.NodeDown(node)
}

func (f *fakeEnv) restart(node string) { f.down[node] = false }

// rec is a ConnHandler that records what it gets and checks it is called
// only from an event on its own node's loop.
type rec struct {
	env      *fakeEnv
	node     string
	conn     host.Conn
	frames   [][]byte
	times    []int64
	closes   int
	err      error
	closedAt int64
	onFrame  func(c host.Conn, f []byte)
}

func (r *rec) check(what string) {
	if !r.env.inEvent || r.env.running != r.node {
		r.env.tb.Errorf("%s for %s called outside its loop (running %q, in event %v)", what, r.node, r.env.running, r.env.inEvent)
	}
}

func (r *rec) OnFrame(c host.Conn, f []byte) {
	r.check("OnFrame")
	if r.closes > 0 {
		r.env.tb.Errorf("%s: frame after OnClose", r.node)
	}
	r.frames = append(r.frames, f)
	r.times = append(r.times, r.env.now)
	if r.onFrame != nil {
		r.onFrame(c, f)
	}
}

func (r *rec) OnClose(c host.Conn, err error) {
	r.check("OnClose")
	r.closes++
	if r.closes > 1 {
		r.env.tb.Errorf("%s: OnClose called %d times", r.node, r.closes)
	}
	r.err, r.closedAt = err, r.env.now
}

// server listens on node:port and records every accepted connection.
type server struct {
	env   *fakeEnv
	node  string
	l     host.Listener
	conns []*rec
}

func (f *fakeEnv) listen(node, addr string, opts host.ListenOptions) *server {
	s := &server{env: f, node: node}
	l, err := f.net.For(node).Listen(addr, opts, func(c host.Conn) host.ConnHandler {
		r := &rec{env: f, node: node, conn: c}
		r.check("accept")
		s.conns = append(s.conns, r)
		return r
	})
	if err != nil {
		f.tb.Fatalf("listen %s on %s: %v", addr, node, err)
	}
	s.l = l
	return s
}

func (f *fakeEnv) dial(node, addr string, opts host.DialOptions) *rec {
	r := &rec{env: f, node: node}
	r.conn = f.net.For(node).Dial(addr, opts, r)
	return r
}
