package realhost

import (
	"errors"
	"net"
	"time"

	"github.com/loglab/loglab/host"
)

type network struct{ r *Runtime }

var _ host.Network = (*network)(nil)

type listener struct {
	r      *Runtime
	ln     net.Listener
	addr   string
	accept func(c host.Conn) host.ConnHandler
	max    int
	closed bool // loop-owned
}

func (l *listener) Addr() string { return l.addr }

// Close stops accepting. Connections already accepted stay open.
func (l *listener) Close() {
	if l.closed {
		return
	}
	l.closed = true
	l.r.resMu.Lock()
	delete(l.r.lns, l)
	l.r.resMu.Unlock()
	l.ln.Close()
}

// Listen opens a TCP listener; port 0 picks a free port (see Addr).
func (n *network) Listen(addr string, opts host.ListenOptions, accept func(c host.Conn) host.ConnHandler) (host.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, mapNetErr(err)
	}
	l := &listener{r: n.r, ln: ln, addr: ln.Addr().String(), accept: accept, max: maxFrame(opts.MaxFrameBytes)}
	n.r.resMu.Lock()
	if n.r.tornDown {
		n.r.resMu.Unlock()
		ln.Close()
		return nil, host.ErrClosed
	}
	n.r.lns[l] = struct{}{}
	n.r.resMu.Unlock()
	n.r.goIO(l.acceptLoop)
	return l, nil
}

func (l *listener) acceptLoop() {
	var backoff time.Duration
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off as net/http
			// does rather than spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.r.logger.Warn("accept failed", "addr", l.addr, "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-l.r.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		setNoDelay(nc)
		c := newConn(l.r, l.max)
		c.nc = nc
		c.local, c.remote = nc.LocalAddr().String(), nc.RemoteAddr().String()
		if !l.r.register(c) {
			nc.Close()
			return
		}
		// The accept callback is queued before the reader starts, so it
		// runs before any of the connection's frames.
		l.r.post(func() {
			if l.closed {
				c.kill()
				return
			}
			c.state = stateOpen
			h := l.accept(c)
			if h == nil {
				// The node refused the connection.
				c.state = stateClosed
				c.kill()
				return
			}
			c.h = h
		})
		c.startIO()
	}
}

// Dial connects asynchronously; frames sent meanwhile are queued.
func (n *network) Dial(addr string, opts host.DialOptions, h host.ConnHandler) host.Conn {
	c := newConn(n.r, maxFrame(opts.MaxFrameBytes))
	c.h = h
	c.state = stateDialing
	c.remote = addr
	if !n.r.register(c) {
		c.state = stateClosed
		return c
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = host.DefaultDialTimeout
	}
	n.r.goIO(func() {
		d := net.Dialer{Timeout: timeout}
		nc, err := d.DialContext(n.r.ctx, "tcp", addr)
		if err != nil {
			c.abort(mapDialErr(err))
			return
		}
		setNoDelay(nc)
		local, remote := nc.LocalAddr().String(), nc.RemoteAddr().String()
		c.mu.Lock()
		if c.dead {
			c.mu.Unlock()
			nc.Close()
			return
		}
		c.nc = nc
		if c.closing {
			nc.SetDeadline(time.Now().Add(closeLinger))
		}
		c.mu.Unlock()
		n.r.post(func() {
			c.local, c.remote = local, remote
			if c.state == stateDialing {
				c.state = stateOpen
			}
		})
		c.startIO()
	})
	return c
}

// register records c so that teardown closes it; false if teardown began.
func (r *Runtime) register(c *conn) bool {
	r.resMu.Lock()
	defer r.resMu.Unlock()
	if r.tornDown {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *Runtime) unregister(c *conn) {
	r.resMu.Lock()
	delete(r.conns, c)
	r.resMu.Unlock()
}

func maxFrame(n int) int {
	if n <= 0 {
		return host.DefaultMaxFrameBytes
	}
	return n
}

// setNoDelay: requests and responses are whole frames already batched by
// the writer; Nagle would only add latency.
func setNoDelay(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
}
