package realhost

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
)

func TestPostOrder(t *testing.T) {
	r, lc := start(t, "n", "", nil)
	var got []int
	const n = 1000
	for i := range n {
		r.Post(func(h host.Host) {
			lc.check("Post")
			got = append(got, i)
		})
	}
	// A host Post from inside a callback runs after that callback returns,
	// behind everything already queued.
	var order []string
	do(t, r, func(h host.Host) {
		h.Post(func() { order = append(order, "posted") })
		order = append(order, "callback")
	})
	do(t, r, func(h host.Host) {})
	do(t, r, func(h host.Host) {
		if len(got) != n {
			t.Fatalf("ran %d of %d posts", len(got), n)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("post %d ran as %d", v, i)
			}
		}
		if len(order) != 2 || order[0] != "callback" || order[1] != "posted" {
			t.Fatalf("host Post ran re-entrantly: %v", order)
		}
	})
}

func TestPostFromManyGoroutinesKeepsPerSenderOrder(t *testing.T) {
	r, _ := start(t, "n", "", nil)
	const senders, each = 8, 500
	last := make([]int, senders)
	var bad int
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := 1; i <= each; i++ {
				r.Post(func(h host.Host) {
					if last[s] != i-1 {
						bad++
					}
					last[s] = i
				})
			}
		})
	}
	wg.Wait()
	do(t, r, func(h host.Host) {
		if bad != 0 {
			t.Fatalf("%d posts out of order", bad)
		}
		for s, v := range last {
			if v != each {
				t.Fatalf("sender %d: %d of %d ran", s, v, each)
			}
		}
	})
}

func TestTimers(t *testing.T) {
	r, lc := start(t, "n", "", nil)
	fired := make(chan string, 10)
	var stopped, immediate host.Timer
	do(t, r, func(h host.Host) {
		h.AfterFunc(5*time.Millisecond, func() { lc.check("timer"); fired <- "5ms" })
		stopped = h.AfterFunc(time.Millisecond, func() { fired <- "stopped" })
		if !stopped.Stop() {
			t.Error("Stop of a pending timer returned false")
		}
		if stopped.Stop() {
			t.Error("second Stop returned true")
		}
		immediate = h.AfterFunc(0, func() { fired <- "0" })
		if len(fired) != 0 {
			t.Error("AfterFunc(0) ran re-entrantly")
		}
	})
	for _, want := range []string{"0", "5ms"} {
		select {
		case got := <-fired:
			if got != want {
				t.Fatalf("fired %q, want %q", got, want)
			}
		case <-time.After(testTimeout):
			t.Fatalf("timer %s did not fire", want)
		}
	}
	do(t, r, func(h host.Host) {
		if immediate.Stop() {
			t.Error("Stop after firing returned true")
		}
	})
	// The stopped timer's 1ms is long past; flush the loop and check.
	do(t, r, func(h host.Host) {})
	if len(fired) != 0 {
		t.Fatalf("stopped timer fired: %q", <-fired)
	}
}

// A timer whose expiry is already queued on the loop must still be
// stoppable: Stop wins, f never runs.
func TestTimerStopAfterExpiryQueued(t *testing.T) {
	r, _ := start(t, "n", "", nil)
	ran := false
	var tm host.Timer
	do(t, r, func(h host.Host) {
		tm = h.AfterFunc(time.Millisecond, func() { ran = true })
		// Stay in this callback until the expiry has been posted.
		deadline := time.Now().Add(testTimeout)
		for r.queueLen() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("timer expiry never posted")
			}
			runtime.Gosched()
		}
		if !tm.Stop() {
			t.Error("Stop lost to a queued expiry")
		}
	})
	do(t, r, func(h host.Host) {})
	if ran {
		t.Fatal("stopped timer ran")
	}
}

func (r *Runtime) queueLen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

func TestHostBasics(t *testing.T) {
	r, _ := start(t, "broker-1", "", nil)
	do(t, r, func(h host.Host) {
		if h.Name() != "broker-1" {
			t.Errorf("Name %q", h.Name())
		}
		if d := time.Since(h.Now()); d < -time.Minute || d > time.Minute {
			t.Errorf("Now off by %v", d)
		}
		m1 := h.Monotonic()
		m2 := h.Monotonic()
		if m1 < 0 || m2 < m1 {
			t.Errorf("Monotonic %v then %v", m1, m2)
		}
		if h.Logger() == nil || h.Rand() == nil {
			t.Error("nil Logger or Rand")
		}
	})
	// The same seed gives the same stream.
	draw := func(seed uint64) (v [4]uint64) {
		rt, err := Run(funcNode{}, Config{Name: "x", Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		defer stopRuntime(t, rt)
		do(t, rt, func(h host.Host) {
			for i := range v {
				v[i] = h.Rand().Uint64()
			}
		})
		return v
	}
	if a, b, c := draw(42), draw(42), draw(43); a != b || a == c {
		t.Fatalf("seeded streams: %v %v %v", a, b, c)
	}
}

// stopperNode flushes a file on Stop and reports done from the Sync
// completion, like a broker would.
type stopperNode struct {
	h        host.Host
	f        host.File
	doneRan  chan struct{}
	neverEnd bool
	after    int // callbacks after done
}

func (n *stopperNode) Start(h host.Host) {
	n.h = h
	f, err := h.Disk().OpenFile("log", true)
	if err != nil {
		panic(err)
	}
	n.f = f
}

func (n *stopperNode) Stop(done func()) {
	if n.neverEnd {
		return
	}
	n.f.WriteAt([]byte("flushed"), 0)
	n.f.Sync(func(err error) {
		close(n.doneRan)
		done()
		n.h.Post(func() { n.after++ })
		n.h.AfterFunc(0, func() { n.after++ })
	})
}

func TestStopCallsStopperAndWaits(t *testing.T) {
	dir := t.TempDir()
	n := &stopperNode{doneRan: make(chan struct{})}
	r, err := Run(n, Config{Name: "n", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.doneRan:
	default:
		t.Fatal("Stop returned before the Stopper called done")
	}
	select {
	case <-r.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if n.after != 0 {
		t.Fatalf("%d callbacks ran after done", n.after)
	}
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := r.Do(func(host.Host) { t.Error("Do ran after Stop") }); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("Do after Stop: %v", err)
	}
	r.Post(func(host.Host) { t.Error("Post ran after Stop") })
}

func TestStopTimesOutOnStuckStopper(t *testing.T) {
	n := &stopperNode{neverEnd: true}
	r, err := Run(n, Config{Name: "n", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := r.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop with a stuck Stopper: %v", err)
	}
	// The runtime still tears down.
	wait(t, r.Done(), "Done")
}

// Stop leaves nothing behind: every goroutine the runtimes started (loop,
// accept, dial, reader, writer, sync) has ended once Done is closed.
func TestStopReleasesGoroutines(t *testing.T) {
	baseline := runtime.NumGoroutine()
	func() {
		server, slc := start(t, "server", "", nil)
		var addr string
		do(t, server, func(h host.Host) {
			ln, err := h.Net().Listen("127.0.0.1:0", host.ListenOptions{}, func(c host.Conn) host.ConnHandler {
				return newRecorder(slc)
			})
			if err != nil {
				t.Fatal(err)
			}
			addr = ln.Addr()
		})
		client, clc := start(t, "client", t.TempDir(), nil)
		rec := newRecorder(clc)
		do(t, client, func(h host.Host) {
			c := h.Net().Dial(addr, host.DialOptions{}, rec)
			c.Send([]byte("x"))
			h.AfterFunc(time.Hour, func() {})
			f, err := h.Disk().OpenFile("f", true)
			if err != nil {
				t.Fatal(err)
			}
			f.Sync(func(error) {})
		})
		stopRuntime(t, client)
		stopRuntime(t, server)
	}()
	pollUntil(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= baseline })
}
