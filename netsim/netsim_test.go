package netsim

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
)

const ms = int64(time.Millisecond)

// fixed is a jitter-free 1ms network, so tests can assert exact times.
func fixed() Config {
	return Config{DefaultLink: Link{Latency: time.Millisecond}, Loopback: Link{Latency: time.Microsecond}}
}

func frame(i int) []byte { return []byte(fmt.Sprintf("frame-%04d", i)) }

func wantFrames(t *testing.T, r *rec, from, to int) {
	t.Helper()
	if len(r.frames) != to-from {
		t.Fatalf("%s got %d frames, want %d", r.node, len(r.frames), to-from)
	}
	for i, f := range r.frames {
		if !bytes.Equal(f, frame(from+i)) {
			t.Fatalf("%s frame %d = %q, want %q", r.node, i, f, frame(from+i))
		}
	}
}

func wantClosed(t *testing.T, r *rec, sentinel error) {
	t.Helper()
	if r.closes != 1 {
		t.Fatalf("%s: OnClose called %d times, want 1", r.node, r.closes)
	}
	if sentinel == nil {
		if r.err != nil {
			t.Fatalf("%s: OnClose(%v), want nil", r.node, r.err)
		}
		return
	}
	if !errors.Is(r.err, sentinel) {
		t.Fatalf("%s: OnClose(%v), want %v", r.node, r.err, sentinel)
	}
}

// connect dials a -> b:9092 and runs until the connection is established.
func connect(t *testing.T, f *fakeEnv, a, b string) (*rec, *rec, *server) {
	t.Helper()
	s := f.listen(b, ":9092", host.ListenOptions{})
	d := f.dial(a, b+":9092", host.DialOptions{})
	f.runUntil(f.now + 10*ms)
	if len(s.conns) != 1 {
		t.Fatalf("accepted %d connections, want 1", len(s.conns))
	}
	return d, s.conns[0], s
}

func TestDialSendClose(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	s := f.listen("b", ":9092", host.ListenOptions{})
	if got := s.l.Addr(); got != "b:9092" {
		t.Fatalf("listener addr %q", got)
	}
	d := f.dial("a", "b:9092", host.DialOptions{})
	if d.conn.LocalAddr() != "a:40000" || d.conn.RemoteAddr() != "b:9092" {
		t.Fatalf("dialer addrs %s > %s", d.conn.LocalAddr(), d.conn.RemoteAddr())
	}
	// Queued before establishment; the caller's buffer is reused at once.
	buf := frame(0)
	if err := d.conn.Send(buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXXXX")
	if err := d.conn.Send(frame(1)); err != nil {
		t.Fatal(err)
	}
	if len(s.conns) != 0 {
		t.Fatal("accepted synchronously inside Dial")
	}
	f.runUntil(ms - 1)
	if len(s.conns) != 0 {
		t.Fatal("accepted before one link latency")
	}
	f.runUntil(ms)
	if len(s.conns) != 1 {
		t.Fatalf("not accepted after one latency")
	}
	a := s.conns[0]
	if a.conn.LocalAddr() != "b:9092" || a.conn.RemoteAddr() != "a:40000" {
		t.Fatalf("acceptor addrs %s > %s", a.conn.LocalAddr(), a.conn.RemoteAddr())
	}
	f.runUntil(10 * ms)
	wantFrames(t, a, 0, 2)
	if a.times[0] != 2*ms || a.times[1] != 2*ms {
		t.Fatalf("delivery times %v, want 2ms each (SYN then data)", a.times)
	}
	// Echo, then close from the dialer: FIN after data.
	a.conn.Send(frame(7))
	for i := 2; i < 5; i++ {
		d.conn.Send(frame(i))
	}
	d.conn.Close()
	closed := f.now
	if err := d.conn.Send(frame(99)); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("Send after Close = %v, want ErrClosed", err)
	}
	if d.closes != 0 {
		t.Fatal("OnClose ran inside Close")
	}
	f.run()
	wantFrames(t, a, 0, 5)
	wantClosed(t, a, nil)
	wantClosed(t, d, nil)
	if len(d.frames) != 0 {
		t.Fatalf("closed end got %d frames", len(d.frames))
	}
	if err := a.conn.Send(frame(8)); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("Send after peer FIN = %v, want ErrClosed", err)
	}
	if d.closedAt != closed || a.closedAt != closed+ms {
		t.Fatalf("closer told at %d, peer at %d; closed at %d", d.closedAt, a.closedAt, closed)
	}
	st := f.net.Stats()
	if st.FramesDelivered != 5 || st.Accepts != 1 || st.Dials != 1 || st.FramesDropped != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(f.net.Conns()) != 0 {
		t.Fatalf("live conns after close: %+v", f.net.Conns())
	}
}

func TestListenAddresses(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	nw := f.net.For("b")
	if _, err := nw.Listen("c:9092", host.ListenOptions{}, nil); err == nil {
		t.Fatal("listen on another node's name succeeded")
	}
	if _, err := nw.Listen("nonsense", host.ListenOptions{}, nil); err == nil {
		t.Fatal("listen without port succeeded")
	}
	l, err := nw.Listen("b:9092", host.ListenOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Listen(":9092", host.ListenOptions{}, nil); !errors.Is(err, host.ErrAddrInUse) {
		t.Fatalf("second listen = %v, want ErrAddrInUse", err)
	}
	l.Close()
	if _, err := nw.Listen(":9092", host.ListenOptions{}, func(host.Conn) host.ConnHandler { return nil }); err != nil {
		t.Fatalf("listen after close: %v", err)
	}
	e, err := nw.Listen(":0", host.ListenOptions{}, nil)
	if err != nil || e.Addr() != "b:40000" {
		t.Fatalf("ephemeral listen = %v, %v", e, err)
	}
	// Ephemeral dial ports count per node.
	d1 := f.dial("a", "b:9092", host.DialOptions{})
	d2 := f.dial("a", "b:9092", host.DialOptions{})
	d3 := f.dial("c", "b:9092", host.DialOptions{})
	if d1.conn.LocalAddr() != "a:40000" || d2.conn.LocalAddr() != "a:40001" || d3.conn.LocalAddr() != "c:40000" {
		t.Fatalf("ephemeral ports %s %s %s", d1.conn.LocalAddr(), d2.conn.LocalAddr(), d3.conn.LocalAddr())
	}
	// The accept callback above returns nil: the node declines, in order.
	f.run()
	wantClosed(t, d1, nil)
}

func TestRefusedDial(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	d := f.dial("a", "b:9092", host.DialOptions{})
	d.conn.Send(frame(0))
	f.run()
	wantClosed(t, d, host.ErrConnRefused)
	if d.closedAt != 2*ms {
		t.Fatalf("refused at %d, want a round trip (2ms)", d.closedAt)
	}
	if st := f.net.Stats(); st.Refused != 1 || st.FramesDropped != 1 {
		t.Fatalf("stats %+v", st)
	}
	bad := f.dial("a", "no-port", host.DialOptions{})
	f.run()
	wantClosed(t, bad, host.ErrConnRefused)
}

func TestDialTimeoutAcrossPartition(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	f.listen("b", ":9092", host.ListenOptions{})
	f.net.Split([]string{"a"}, []string{"b"})
	d := f.dial("a", "b:9092", host.DialOptions{Timeout: 2 * time.Second})
	f.run()
	wantClosed(t, d, host.ErrTimeout)
	if d.closedAt != 2000*ms {
		t.Fatalf("timed out at %d", d.closedAt)
	}
	// Default timeout.
	d2 := f.dial("a", "b:9092", host.DialOptions{})
	start := f.now
	f.run()
	wantClosed(t, d2, host.ErrTimeout)
	if d2.closedAt-start != int64(host.DefaultDialTimeout) {
		t.Fatalf("default timeout after %d", d2.closedAt-start)
	}
	// A heal before the timeout lets the retransmitted SYN through.
	s := f.listen("c", ":9092", host.ListenOptions{})
	f.net.Isolate("c")
	d3 := f.dial("a", "c:9092", host.DialOptions{Timeout: 5 * time.Second})
	d3.conn.Send(frame(0))
	f.runUntil(f.now + 3000*ms)
	if len(s.conns) != 0 {
		t.Fatal("accepted across an isolation")
	}
	f.net.Heal()
	healed := f.now
	f.run()
	if len(s.conns) != 1 || d3.closes != 0 {
		t.Fatalf("after heal: %d accepted, dialer closes %d (%v)", len(s.conns), d3.closes, d3.err)
	}
	wantFrames(t, s.conns[0], 0, 1)
	if s.conns[0].times[0] != healed+2*ms {
		t.Fatalf("first frame at %d, want heal+2ms", s.conns[0].times[0])
	}
}

func TestSYNInFlightHeldByPartition(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	s := f.listen("b", ":9092", host.ListenOptions{})
	d := f.dial("a", "b:9092", host.DialOptions{})
	f.runUntil(ms / 2)
	f.net.OneWay("a", "b")
	f.runUntil(1000 * ms)
	if len(s.conns) != 0 {
		t.Fatal("SYN crossed a one-way cut")
	}
	f.net.Heal()
	f.runUntil(1000*ms + ms)
	if len(s.conns) != 1 || d.closes != 0 {
		t.Fatalf("accepted %d at heal+1ms", len(s.conns))
	}
}

func TestPartitionHoldsThenHealDeliversInOrder(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	d, a, _ := connect(t, f, "a", "b")
	// Two frames in flight when the split starts, three sent during it.
	d.conn.Send(frame(0))
	d.conn.Send(frame(1))
	f.runUntil(f.now + ms/2)
	f.net.Split([]string{"a"}, []string{"b"})
	for i := 2; i < 5; i++ {
		d.conn.Send(frame(i))
	}
	a.conn.Send(frame(100))
	f.runUntil(f.now + 5000*ms)
	if len(a.frames) != 0 || len(d.frames) != 0 {
		t.Fatalf("delivered across a split: %d, %d", len(a.frames), len(d.frames))
	}
	f.net.Heal()
	healed := f.now
	f.runUntil(f.now + 10*ms)
	wantFrames(t, a, 0, 5)
	for _, at := range a.times {
		if at != healed+ms {
			t.Fatalf("held frames delivered at %v, want heal+1ms", a.times)
		}
	}
	if len(d.frames) != 1 || d.closes != 0 || a.closes != 0 {
		t.Fatalf("reverse direction %d frames, closes %d %d", len(d.frames), d.closes, a.closes)
	}
}

func TestStallTimeoutResets(t *testing.T) {
	f := newFakeEnv(t, 1, Config{DefaultLink: Link{Latency: time.Millisecond}, StallTimeout: 5 * time.Second})
	d, a, _ := connect(t, f, "a", "b")
	f.net.OneWay("a", "b")
	start := f.now
	d.conn.Send(frame(0))
	d.conn.Send(frame(1))
	// Traffic the other way still flows and does not keep a->b alive.
	for i := 0; i < 3; i++ {
		f.runUntil(f.now + 1000*ms)
		a.conn.Send(frame(i))
	}
	f.run()
	wantFrames(t, d, 0, 3)
	if len(a.frames) != 0 {
		t.Fatalf("delivered %d frames across a one-way cut", len(a.frames))
	}
	wantClosed(t, a, host.ErrConnReset)
	wantClosed(t, d, host.ErrConnReset)
	if d.closedAt != start+5000*ms || a.closedAt != start+5000*ms {
		t.Fatalf("reset at %d/%d, want %d", d.closedAt, a.closedAt, start+5000*ms)
	}
	if st := f.net.Stats(); st.Stalls != 1 || st.FramesDropped != 2 {
		t.Fatalf("stats %+v", st)
	}
	if err := d.conn.Send(frame(9)); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("Send after reset = %v", err)
	}
}

func TestStallTimerDisarmedByHeal(t *testing.T) {
	f := newFakeEnv(t, 1, Config{DefaultLink: Link{Latency: time.Millisecond}, StallTimeout: 5 * time.Second})
	d, a, _ := connect(t, f, "a", "b")
	f.net.Isolate("b")
	d.conn.Send(frame(0))
	f.runUntil(f.now + 4000*ms)
	f.net.Heal()
	f.runUntil(f.now + 10*ms)
	// Held again: the stall clock restarts from now.
	f.net.Isolate("a")
	d.conn.Send(frame(1))
	f.runUntil(f.now + 4000*ms)
	f.net.Heal()
	f.run()
	wantFrames(t, a, 0, 2)
	if a.closes != 0 || d.closes != 0 {
		t.Fatalf("reset although no direction stalled 5s: %v %v", a.err, d.err)
	}
}

func TestOneWay(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	d, a, _ := connect(t, f, "a", "b")
	f.net.OneWay("b", "a")
	d.conn.Send(frame(0))
	a.conn.Send(frame(0))
	f.runUntil(f.now + 100*ms)
	wantFrames(t, a, 0, 1)
	if len(d.frames) != 0 {
		t.Fatal("b->a delivered across OneWay(b, a)")
	}
	if !f.net.Reachable("a", "b") || f.net.Reachable("b", "a") {
		t.Fatal("Reachable disagrees with OneWay")
	}
	f.net.Heal()
	f.runUntil(f.now + 10*ms)
	wantFrames(t, d, 0, 1)
}

func TestBridgeAndIsolate(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	nodes := []string{"a", "b", "c"}
	cases := []struct {
		name  string
		apply func()
		cut   []string // directed pairs that must not deliver
	}{
		{"bridge", func() { f.net.Bridge([]string{"a"}, []string{"c"}, "b") }, []string{"a>c", "c>a"}},
		{"isolate", func() { f.net.Isolate("a") }, []string{"a>b", "b>a", "a>c", "c>a"}},
		{"split", func() { f.net.Split([]string{"a", "b"}, []string{"c"}) }, []string{"a>c", "c>a", "b>c", "c>b"}},
	}
	for _, tc := range cases {
		// A fresh set of connections per case, on fresh ports.
		srv := map[string]*server{}
		for _, n := range nodes {
			srv[n] = f.listen(n, ":9092", host.ListenOptions{})
		}
		dialers := map[string]*rec{}
		for _, x := range nodes {
			for _, y := range nodes {
				if x != y {
					dialers[x+">"+y] = f.dial(x, y+":9092", host.DialOptions{})
				}
			}
		}
		f.runUntil(f.now + 10*ms)
		tc.apply()
		for _, x := range nodes {
			for _, y := range nodes {
				if x != y {
					dialers[x+">"+y].conn.Send([]byte(x + ">" + y))
				}
			}
		}
		f.runUntil(f.now + 100*ms)
		blocked := map[string]bool{}
		for _, p := range tc.cut {
			blocked[p] = true
		}
		for _, y := range nodes {
			got := map[string]bool{}
			for _, r := range srv[y].conns {
				for _, fr := range r.frames {
					got[string(fr)] = true
				}
			}
			for _, x := range nodes {
				if x == y {
					continue
				}
				p := x + ">" + y
				if got[p] == blocked[p] {
					t.Errorf("%s: %s delivered=%v, blocked=%v", tc.name, p, got[p], blocked[p])
				}
				if f.net.Reachable(x, y) == blocked[p] {
					t.Errorf("%s: Reachable(%s) = %v", tc.name, p, !blocked[p])
				}
			}
		}
		f.net.Heal()
		f.runUntil(f.now + 100*ms)
		for _, y := range nodes {
			n := 0
			for _, r := range srv[y].conns {
				n += len(r.frames)
			}
			if n != len(nodes)-1 {
				t.Errorf("%s: after heal %s has %d frames", tc.name, y, n)
			}
			srv[y].l.Close()
		}
	}
}

func TestResetLosesInFlight(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	d, a, _ := connect(t, f, "a", "b")
	d.conn.Send(frame(0))
	a.conn.Send(frame(1))
	f.runUntil(f.now + ms/2)
	if n := f.net.ResetConnections("b"); n != 1 {
		t.Fatalf("reset %d connections", n)
	}
	f.run()
	if len(a.frames)+len(d.frames) != 0 {
		t.Fatal("frames delivered after reset")
	}
	wantClosed(t, a, host.ErrConnReset)
	wantClosed(t, d, host.ErrConnReset)
	if st := f.net.Stats(); st.FramesDropped != 2 || st.Resets != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n := f.net.ResetConnections("b"); n != 0 {
		t.Fatalf("reset %d dead connections", n)
	}
}

func TestResetRandomConnection(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	s := f.listen("b", ":9092", host.ListenOptions{})
	var ds []*rec
	for i := 0; i < 5; i++ {
		ds = append(ds, f.dial("a", "b:9092", host.DialOptions{}))
	}
	f.run()
	ci, ok := f.net.ResetRandomConnection(f.Rand("faults"))
	if !ok {
		t.Fatal("no connection reset")
	}
	f.run()
	reset := 0
	for i, d := range ds {
		if d.closes > 0 {
			reset++
			wantClosed(t, d, host.ErrConnReset)
			wantClosed(t, s.conns[i], host.ErrConnReset)
			if d.conn.LocalAddr() != ci.DialerAddr {
				t.Fatalf("reported %+v, reset %s", ci, d.conn.LocalAddr())
			}
		}
	}
	if reset != 1 || len(f.net.Conns()) != 4 {
		t.Fatalf("reset %d, %d live", reset, len(f.net.Conns()))
	}
}

func TestNodeDownNotifiesPeers(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	d, a, _ := connect(t, f, "a", "b")
	// b put a frame on the wire just before crashing; a's frame to b is lost.
	a.conn.Send(frame(0))
	d.conn.Send(frame(1))
	f.runUntil(f.now + ms/2)
	crashed := f.now
	f.crash("b")
	if err := d.conn.Send(frame(2)); err != nil {
		t.Fatalf("Send before the RST arrives = %v", err)
	}
	f.run()
	wantFrames(t, d, 0, 1)
	wantClosed(t, d, host.ErrConnReset)
	if d.closedAt != crashed+ms {
		t.Fatalf("peer told at %d, want crash+1ms", d.closedAt)
	}
	if a.closes != 0 || len(a.frames) != 0 {
		t.Fatal("callback to the crashed node")
	}
	// Its listener is gone: a dial now is refused by b's OS.
	d2 := f.dial("a", "b:9092", host.DialOptions{})
	f.run()
	wantClosed(t, d2, host.ErrConnRefused)
	// A SYN in flight when the target crashes is refused too.
	f.restart("b")
	s := f.listen("b", ":9092", host.ListenOptions{})
	d3 := f.dial("a", "b:9092", host.DialOptions{})
	f.runUntil(f.now + ms/2)
	f.crash("b")
	f.run()
	wantClosed(t, d3, host.ErrConnRefused)
	if len(s.conns) != 0 {
		t.Fatal("accepted on a crashed node")
	}
	// The dialer crashing silences its end; the acceptor is reset.
	f.restart("b")
	s = f.listen("b", ":9092", host.ListenOptions{})
	d4 := f.dial("a", "b:9092", host.DialOptions{})
	f.runUntil(f.now + 10*ms)
	f.crash("a")
	f.run()
	if d4.closes != 0 {
		t.Fatal("crashed dialer told")
	}
	wantClosed(t, s.conns[0], host.ErrConnReset)
}

func TestNodeDownRSTHeldByPartition(t *testing.T) {
	f := newFakeEnv(t, 1, Config{DefaultLink: Link{Latency: time.Millisecond}, StallTimeout: 3 * time.Second})
	d, _, _ := connect(t, f, "a", "b")
	f.net.Isolate("b")
	f.crash("b")
	f.runUntil(f.now + 1000*ms)
	if d.closes != 0 {
		t.Fatal("RST crossed an isolation")
	}
	f.net.Heal()
	healed := f.now
	f.run()
	wantClosed(t, d, host.ErrConnReset)
	if d.closedAt != healed+ms {
		t.Fatalf("RST at %d, want heal+1ms", d.closedAt)
	}
}

func TestOversizedFrameCloses(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	s := f.listen("b", ":9092", host.ListenOptions{MaxFrameBytes: 10})
	d := f.dial("a", "b:9092", host.DialOptions{MaxFrameBytes: 5})
	d.conn.Send(frame(0)) // 10 bytes: fits
	f.run()
	a := s.conns[0]
	wantFrames(t, a, 0, 1)
	a.conn.Send([]byte("12345")) // fits the dialer's limit
	d.conn.Send(append(frame(1), 'x'))
	f.run()
	if len(d.frames) != 1 { // the 5-byte frame arrived before the reset
		t.Fatalf("dialer frames %d", len(d.frames))
	}
	wantClosed(t, a, host.ErrFrameTooLarge)
	wantClosed(t, d, host.ErrFrameTooLarge)
	// The dialer's own limit.
	d2 := f.dial("a", "b:9092", host.DialOptions{MaxFrameBytes: 5})
	f.run()
	s.conns[1].conn.Send([]byte("123456"))
	f.run()
	wantClosed(t, d2, host.ErrFrameTooLarge)
	wantClosed(t, s.conns[1], host.ErrFrameTooLarge)
}

func TestBandwidthSerializes(t *testing.T) {
	cfg := Config{DefaultLink: Link{Latency: time.Millisecond, BytesPerSecond: 1_000_000}}
	f := newFakeEnv(t, 1, cfg)
	d, a, _ := connect(t, f, "a", "b")
	start := f.now
	big := bytes.Repeat([]byte{1}, 1000) // 1ms on the wire each
	d.conn.Send(big)
	d.conn.Send(big)
	f.run()
	if len(a.times) != 2 || a.times[0] != start+2*ms || a.times[1] != start+3*ms {
		t.Fatalf("delivered at %v, want +2ms, +3ms", a.times)
	}
}

func TestCloseBeforeEstablished(t *testing.T) {
	f := newFakeEnv(t, 1, fixed())
	s := f.listen("b", ":9092", host.ListenOptions{})
	d := f.dial("a", "b:9092", host.DialOptions{})
	d.conn.Send(frame(0))
	d.conn.Close()
	f.run()
	wantClosed(t, d, nil)
	if d.closedAt != 0 {
		t.Fatalf("closer told at %d, want at once", d.closedAt)
	}
	wantFrames(t, s.conns[0], 0, 1)
	wantClosed(t, s.conns[0], nil)
}
