package realhost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
)

// echoServer listens on 127.0.0.1:0 and echoes every frame back.
func echoServer(t testing.TB, opts host.ListenOptions) (*Runtime, *loopChecker, string, chan *recorder) {
	t.Helper()
	accepted := make(chan *recorder, 16)
	var addr string
	r, lc := start(t, "server", "", nil)
	do(t, r, func(h host.Host) {
		ln, err := h.Net().Listen("127.0.0.1:0", opts, func(c host.Conn) host.ConnHandler {
			lc.check("accept")
			rec := newRecorder(lc)
			rec.onFrame = func(c host.Conn, f []byte) { c.Send(f) }
			accepted <- rec
			return rec
		})
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr()
	})
	return r, lc, addr, accepted
}

func payload(i, size int) []byte {
	p := make([]byte, size)
	for j := range p {
		p[j] = byte(i + j)
	}
	if size >= 4 {
		binary.BigEndian.PutUint32(p, uint32(i))
	}
	return p
}

func TestFramesRoundTripInOrder(t *testing.T) {
	_, _, addr, _ := echoServer(t, host.ListenOptions{MaxFrameBytes: 2 << 20})
	client, lc := start(t, "client", "", nil)
	rng := rand.New(rand.NewPCG(7, 7))
	sizes := []int{0, 1, 4, 100, 4096, 4097, 64 << 10, 1 << 20}
	for range 300 {
		sizes = append(sizes, rng.IntN(8<<10))
	}
	for range 20 {
		sizes = append(sizes, rng.IntN(1<<20+1))
	}
	var sent [][]byte
	rec := newRecorder(lc)
	var c host.Conn
	do(t, client, func(h host.Host) {
		c = h.Net().Dial(addr, host.DialOptions{MaxFrameBytes: 2 << 20}, rec)
		// Sent before the dial can have completed: queued.
		for i, s := range sizes {
			p := payload(i, s)
			sent = append(sent, bytes.Clone(p))
			if err := c.Send(p); err != nil {
				t.Fatal(err)
			}
		}
	})
	pollUntil(t, "echoes", func() bool { return rec.frameCount() == len(sent) })
	got, _ := rec.snapshot()
	for i := range sent {
		if !bytes.Equal(got[i], sent[i]) {
			t.Fatalf("frame %d: got %d bytes, want %d (order or content broken)", i, len(got[i]), len(sent[i]))
		}
	}
	do(t, client, func(h host.Host) {
		if c.RemoteAddr() != addr {
			t.Errorf("RemoteAddr %q, want %q", c.RemoteAddr(), addr)
		}
		if _, _, err := net.SplitHostPort(c.LocalAddr()); err != nil {
			t.Errorf("LocalAddr %q: %v", c.LocalAddr(), err)
		}
	})
}

func TestOversizedFrameClosesReceiver(t *testing.T) {
	_, _, addr, accepted := echoServer(t, host.ListenOptions{MaxFrameBytes: 1024})
	client, lc := start(t, "client", "", nil)
	rec := newRecorder(lc)
	do(t, client, func(h host.Host) {
		c := h.Net().Dial(addr, host.DialOptions{}, rec)
		c.Send(make([]byte, 1024)) // at the limit: fine
		c.Send(make([]byte, 1025))
	})
	var srv *recorder
	select {
	case srv = <-accepted:
	case <-time.After(testTimeout):
		t.Fatal("no accept")
	}
	wait(t, srv.closedCh, "server OnClose")
	frames, err := srv.snapshot()
	if !errors.Is(err, host.ErrFrameTooLarge) {
		t.Fatalf("server closed with %v, want ErrFrameTooLarge", err)
	}
	if len(frames) != 1 || len(frames[0]) != 1024 {
		t.Fatalf("server got %d frames before the oversized one", len(frames))
	}
	// The client sees its connection end too.
	wait(t, rec.closedCh, "client OnClose")
}

func TestDialRefused(t *testing.T) {
	// A port that was just free: listen, note it, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	client, lc := start(t, "client", "", nil)
	rec := newRecorder(lc)
	do(t, client, func(h host.Host) {
		c := h.Net().Dial(addr, host.DialOptions{Timeout: testTimeout}, rec)
		if err := c.Send([]byte("queued")); err != nil {
			t.Errorf("Send while dialing: %v", err)
		}
	})
	wait(t, rec.closedCh, "OnClose")
	if _, err := rec.snapshot(); !errors.Is(err, host.ErrConnRefused) {
		t.Fatalf("refused dial closed with %v", err)
	}
}

func TestListenAddrInUse(t *testing.T) {
	r, _ := start(t, "n", "", nil)
	do(t, r, func(h host.Host) {
		accept := func(c host.Conn) host.ConnHandler { return nil }
		ln, err := h.Net().Listen("127.0.0.1:0", host.ListenOptions{}, accept)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Net().Listen(ln.Addr(), host.ListenOptions{}, accept); !errors.Is(err, host.ErrAddrInUse) {
			t.Fatalf("second Listen on %s: %v", ln.Addr(), err)
		}
		ln.Close()
		ln.Close() // idempotent
	})
}

// The client sends frames then closes: the server gets every frame, then
// OnClose(nil); the client gets OnClose(nil) and Send fails afterwards.
func TestPeerCloseAfterAllFrames(t *testing.T) {
	server, slc := start(t, "server", "", nil)
	accepted := make(chan *recorder, 1)
	var addr string
	do(t, server, func(h host.Host) {
		ln, err := h.Net().Listen("127.0.0.1:0", host.ListenOptions{}, func(c host.Conn) host.ConnHandler {
			rec := newRecorder(slc)
			accepted <- rec
			return rec
		})
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr()
	})
	client, clc := start(t, "client", "", nil)
	rec := newRecorder(clc)
	const n = 2000
	do(t, client, func(h host.Host) {
		c := h.Net().Dial(addr, host.DialOptions{}, rec)
		for i := range n {
			c.Send(payload(i, 8+i%300))
		}
		c.Close()
		if err := c.Send([]byte("late")); !errors.Is(err, host.ErrClosed) {
			t.Errorf("Send after Close: %v", err)
		}
		if rec.closed {
			t.Error("OnClose ran inside Close")
		}
	})
	wait(t, rec.closedCh, "client OnClose")
	if _, err := rec.snapshot(); err != nil {
		t.Fatalf("client OnClose(%v), want nil", err)
	}
	var srv *recorder
	select {
	case srv = <-accepted:
	case <-time.After(testTimeout):
		t.Fatal("no accept")
	}
	wait(t, srv.closedCh, "server OnClose")
	frames, err := srv.snapshot()
	if err != nil {
		t.Fatalf("server OnClose(%v), want nil", err)
	}
	if len(frames) != n {
		t.Fatalf("server got %d of %d frames before OnClose", len(frames), n)
	}
	for i, f := range frames {
		if !bytes.Equal(f, payload(i, 8+i%300)) {
			t.Fatalf("frame %d corrupted or out of order", i)
		}
	}
}

// Stopping a runtime closes its connections: the peer sees OnClose, and no
// callback reaches the stopped node.
func TestStopClosesConnections(t *testing.T) {
	server, _, addr, accepted := echoServer(t, host.ListenOptions{})
	_ = server
	client, err := Run(funcNode{}, Config{Name: "client"})
	if err != nil {
		t.Fatal(err)
	}
	lc := &loopChecker{t: t}
	rec := newRecorder(lc)
	do(t, client, func(h host.Host) {
		lc.id = goid()
		c := h.Net().Dial(addr, host.DialOptions{}, rec)
		c.Send([]byte("hello"))
	})
	pollUntil(t, "echo", func() bool { return rec.frameCount() == 1 })
	srv := <-accepted
	stopRuntime(t, client)
	wait(t, srv.closedCh, "server OnClose after peer stopped")
	if rec.closed {
		t.Fatal("OnClose delivered to a stopped node")
	}
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, host.ErrConnReset},
		{"pipe", &net.OpError{Op: "write", Err: syscall.EPIPE}, host.ErrConnReset},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, host.ErrConnRefused},
		{"inuse", &net.OpError{Op: "listen", Err: syscall.EADDRINUSE}, host.ErrAddrInUse},
		{"deadline", &net.OpError{Op: "read", Err: timeoutErr{}}, host.ErrTimeout},
		{"truncated", io.ErrUnexpectedEOF, host.ErrConnReset},
	} {
		if got := mapNetErr(tc.err); !errors.Is(got, tc.want) || !errors.Is(got, tc.err) {
			t.Errorf("%s: mapNetErr = %v", tc.name, got)
		}
	}
	if err := mapDialErr(&net.OpError{Op: "dial", Err: timeoutErr{}}); !errors.Is(err, host.ErrTimeout) {
		t.Errorf("dial timeout: %v", err)
	}
	if err := mapDialErr(&net.OpError{Op: "dial", Err: syscall.EHOSTUNREACH}); !errors.Is(err, host.ErrConnRefused) {
		t.Errorf("dial unreachable: %v", err)
	}
	if mapNetErr(nil) != nil {
		t.Error("nil maps to non-nil")
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// Close while the peer is still sending to us: our FIN goes after our
// frames and we keep draining, so the kernel never answers with a RST that
// would destroy frames the peer has not read yet.
func TestCloseWhilePeerFloodsDeliversEverything(t *testing.T) {
	server, slc := start(t, "server", "", nil)
	accepted := make(chan *recorder, 1)
	var addr string
	const n, size = 2000, 1024
	do(t, server, func(h host.Host) {
		ln, err := h.Net().Listen("127.0.0.1:0", host.ListenOptions{}, func(c host.Conn) host.ConnHandler {
			for i := range n {
				c.Send(payload(i, size))
			}
			rec := newRecorder(slc)
			accepted <- rec
			return rec
		})
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr()
	})
	client, clc := start(t, "client", "", nil)
	rec := newRecorder(clc)
	do(t, client, func(h host.Host) {
		c := h.Net().Dial(addr, host.DialOptions{}, rec)
		for i := range n {
			c.Send(payload(i, size))
		}
		c.Close()
	})
	srv := <-accepted
	wait(t, srv.closedCh, "server OnClose")
	frames, err := srv.snapshot()
	if err != nil || len(frames) != n {
		t.Fatalf("server got %d of %d frames, then OnClose(%v)", len(frames), n, err)
	}
}

// Frames already read when the node closes the conn are not delivered.
func TestNoFramesAfterLocalClose(t *testing.T) {
	_, _, addr, _ := echoServer(t, host.ListenOptions{})
	client, lc := start(t, "client", "", nil)
	rec := newRecorder(lc)
	rec.onFrame = func(c host.Conn, f []byte) { c.Close() }
	do(t, client, func(h host.Host) {
		c := h.Net().Dial(addr, host.DialOptions{}, rec)
		for i := range 500 {
			c.Send(payload(i, 16))
		}
	})
	wait(t, rec.closedCh, "OnClose")
	if frames, err := rec.snapshot(); len(frames) != 1 || err != nil {
		t.Fatalf("%d frames delivered around a Close in the first; OnClose(%v)", len(frames), err)
	}
}

// A dial that cannot finish within DialOptions.Timeout closes with
// ErrTimeout (a 1ns budget expires before the connect completes).
func TestDialTimeout(t *testing.T) {
	_, _, addr, _ := echoServer(t, host.ListenOptions{})
	client, lc := start(t, "client", "", nil)
	rec := newRecorder(lc)
	do(t, client, func(h host.Host) {
		h.Net().Dial(addr, host.DialOptions{Timeout: time.Nanosecond}, rec)
	})
	wait(t, rec.closedCh, "OnClose")
	if _, err := rec.snapshot(); !errors.Is(err, host.ErrTimeout) {
		t.Fatalf("dial with 1ns timeout closed with %v", err)
	}
}
