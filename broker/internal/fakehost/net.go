package fakehost

import (
	"github.com/loglab/loglab/host"
)

// Network records listeners; tests connect with Connect.
type Network struct {
	h         *Host
	listeners map[string]*Listener
	nextPort  int
}

// Listener is a fake listen socket.
type Listener struct {
	n      *Network
	addr   string
	accept func(c host.Conn) host.ConnHandler
	closed bool
	opts   host.ListenOptions
}

func (l *Listener) Addr() string { return l.addr }
func (l *Listener) Close()       { l.closed = true; delete(l.n.listeners, l.addr) }

// Listen registers addr. Port 0 picks a port from 40000 up.
func (n *Network) Listen(addr string, opts host.ListenOptions, accept func(c host.Conn) host.ConnHandler) (host.Listener, error) {
	if len(addr) >= 2 && addr[len(addr)-2:] == ":0" {
		n.nextPort++
		addr = addr[:len(addr)-1] + itoa(40000+n.nextPort)
	}
	if _, ok := n.listeners[addr]; ok {
		return nil, host.ErrAddrInUse
	}
	l := &Listener{n: n, addr: addr, accept: accept, opts: opts}
	n.listeners[addr] = l
	return l, nil
}

// Dial is not supported by the fake: the broker never dials (yet).
func (n *Network) Dial(addr string, opts host.DialOptions, h host.ConnHandler) host.Conn {
	c := &Conn{n: n, remote: addr}
	n.h.Post(func() { h.OnClose(c, host.ErrConnRefused) })
	c.closed = true
	return c
}

// ListenOptions returns the options the listener at addr was opened with.
func (n *Network) ListenOptions(addr string) (host.ListenOptions, bool) {
	l, ok := n.listeners[addr]
	if !ok {
		return host.ListenOptions{}, false
	}
	return l.opts, true
}

// Connect opens a connection to the listener at addr, as a client would.
// It returns nil if nobody listens there.
func (n *Network) Connect(addr string) *Conn {
	l, ok := n.listeners[addr]
	if !ok {
		return nil
	}
	n.nextPort++
	c := &Conn{n: n, local: addr, remote: "client:" + itoa(n.nextPort)}
	c.handler = l.accept(c)
	return c
}

// Conn is the broker's side of a fake connection. Sent holds the frames
// the broker sent, in order; the test plays the client by calling Deliver.
type Conn struct {
	n             *Network
	local, remote string
	handler       host.ConnHandler
	Sent          [][]byte
	closed        bool
	CloseErr      error
	onCloseCalled bool
}

func (c *Conn) Send(frame []byte) error {
	if c.closed {
		return host.ErrClosed
	}
	c.Sent = append(c.Sent, frame)
	return nil
}

// Close closes the connection from the broker's side; OnClose follows.
func (c *Conn) Close() {
	if c.closed {
		return
	}
	c.closed = true
	c.n.h.Post(c.fireClose)
}

func (c *Conn) fireClose() {
	if c.onCloseCalled || c.handler == nil {
		return
	}
	c.onCloseCalled = true
	c.handler.OnClose(c, c.CloseErr)
}

func (c *Conn) LocalAddr() string  { return c.local }
func (c *Conn) RemoteAddr() string { return c.remote }

// Closed reports whether the broker (or the test) closed the connection.
func (c *Conn) Closed() bool { return c.closed }

// Deliver hands a frame to the broker, as if the client had sent it.
func (c *Conn) Deliver(frame []byte) {
	if c.closed || c.handler == nil {
		return
	}
	c.handler.OnFrame(c, frame)
}

// Hangup closes the connection from the client's side.
func (c *Conn) Hangup() {
	if c.closed {
		return
	}
	c.closed = true
	c.n.h.Post(c.fireClose)
}

// TakeSent returns and clears the frames sent so far.
func (c *Conn) TakeSent() [][]byte {
	s := c.Sent
	c.Sent = nil
	return s
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
