package netsim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/loglab/loglab/host"
)

// nodeNet is one node's view of the network (host.Network).
type nodeNet struct {
	n    *Network
	node string
}

var _ host.Network = (*nodeNet)(nil)

type listener struct {
	n        *Network
	node     string
	addr     string
	maxFrame int
	accept   func(host.Conn) host.ConnHandler
	closed   bool
}

func (l *listener) Addr() string { return l.addr }

// Close stops accepting; established connections are not affected.
func (l *listener) Close() {
	if l.closed {
		return
	}
	l.closed = true
	if l.n.listeners[l.addr] == l {
		delete(l.n.listeners, l.addr)
	}
	l.n.env.Trace(l.node, "net.unlisten", l.addr)
}

// errBadAddr reports an address that is not "host:port".
var errBadAddr = errors.New("netsim: address must be host:port")

// splitAddr splits "host:port"; an empty host means self.
func splitAddr(addr, self string) (node, port string, err error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || i == len(addr)-1 {
		return "", "", fmt.Errorf("%w: %q", errBadAddr, addr)
	}
	node, port = addr[:i], addr[i+1:]
	if node == "" {
		node = self
	}
	return node, port, nil
}

// Listen binds addr, whose host part must be the node's name or empty. Port
// "0" picks the node's next ephemeral port.
func (v *nodeNet) Listen(addr string, opts host.ListenOptions, accept func(c host.Conn) host.ConnHandler) (host.Listener, error) {
	n := v.n
	delete(n.down, v.node) // it runs, so it is up
	node, port, err := splitAddr(addr, v.node)
	if err != nil {
		return nil, fmt.Errorf("netsim: listen on %s: %w", v.node, err)
	}
	if node != v.node {
		return nil, fmt.Errorf("netsim: listen %q on node %s: the host part must be the node's name", addr, v.node)
	}
	if port == "0" {
		port = itoa(int64(n.nextEphemeral(v.node)))
	}
	full := node + ":" + port
	if n.listeners[full] != nil {
		return nil, fmt.Errorf("netsim: listen %s: %w", full, host.ErrAddrInUse)
	}
	l := &listener{n: n, node: v.node, addr: full, maxFrame: frameLimit(opts.MaxFrameBytes), accept: accept}
	n.listeners[full] = l
	n.env.Trace(v.node, "net.listen", full)
	return l, nil
}

func frameLimit(max int) int {
	if max <= 0 {
		return host.DefaultMaxFrameBytes
	}
	return max
}

func (n *Network) nextEphemeral(node string) int {
	p := n.ephemeral[node]
	if p == 0 {
		p = EphemeralPortStart
	}
	n.ephemeral[node] = p + 1
	return p
}

// Dial starts a connection. The SYN takes one link delay; if a listener is
// there, its accept runs and the connection is established, and frames sent
// meanwhile follow. Otherwise the refusal takes one more delay back.
func (v *nodeNet) Dial(addr string, opts host.DialOptions, h host.ConnHandler) host.Conn {
	n := v.n
	delete(n.down, v.node)
	target, port, err := splitAddr(addr, v.node)
	n.nextConnID++
	c := &conn{n: n, id: n.nextConnID, target: target}
	c.laddr = v.node + ":" + itoa(int64(n.nextEphemeral(v.node)))
	c.raddr = target + ":" + port
	e := &end{c: c, side: 0, node: v.node, local: c.laddr, remote: c.raddr, handler: h, maxFrame: frameLimit(opts.MaxFrameBytes)}
	c.ends[0] = e
	c.halves[0] = half{c: c, side: 0, fromNode: v.node, toNode: target, link: n.link(v.node, target)}
	c.halves[1] = half{c: c, side: 1, fromNode: target, toNode: v.node, link: n.link(target, v.node), open: true}
	n.conns = append(n.conns, c)
	n.stats.Dials++
	n.env.Trace(v.node, "net.dial", c.detail(0))
	if err != nil {
		n.stats.Refused++
		c.kill(fmt.Errorf("netsim: dial from %s: %w: %w", v.node, err, host.ErrConnRefused), "badaddr")
		return e
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = host.DefaultDialTimeout
	}
	n.env.At(n.now()+int64(timeout), v.node, func() {
		if c.established || c.killed {
			return
		}
		n.stats.DialTimeouts++
		n.env.Trace(v.node, "net.timeout", c.detail(0))
		if e.notified {
			c.kill(nil, "")
			return
		}
		n.notify(e, fmt.Errorf("netsim: dial %s from %s: no answer in %v: %w", c.raddr, c.laddr, time.Duration(timeout), host.ErrTimeout))
		c.kill(nil, "")
	})
	n.sendSYN(c)
	return e
}

// sendSYN puts the SYN on the wire, or leaves it waiting for the partition
// between dialer and target to heal (TCP retransmits SYNs until the dial
// times out).
func (n *Network) sendSYN(c *conn) {
	h := &c.halves[0]
	if !n.Reachable(h.fromNode, h.toNode) {
		c.synWaiting = true
		return
	}
	c.synWaiting = false
	delay := h.link.sample()
	if n.down[c.target] {
		// No process runs there, so the world would drop an event on its
		// loop; its OS answers for it with a refusal instead.
		c.halves[1].push(item{kind: itemRefuse}, n.now()+delay)
		return
	}
	c.synInFlight = true
	gen := c.synGen
	n.env.At(n.now()+delay, c.target, func() {
		if c.synGen != gen || c.killed {
			return
		}
		c.synInFlight = false
		n.arriveSYN(c)
	})
}

// arriveSYN runs on the target's loop.
func (n *Network) arriveSYN(c *conn) {
	l := n.listeners[c.raddr]
	if l == nil {
		n.env.Trace(c.target, "net.refuse", c.detail(0))
		c.halves[1].push(item{kind: itemRefuse}, n.now())
		return
	}
	a := &end{c: c, side: 1, node: c.target, local: c.raddr, remote: c.laddr, maxFrame: l.maxFrame}
	c.ends[1] = a
	c.established = true
	n.stats.Accepts++
	n.env.Trace(c.target, "net.accept", c.detail(0))
	hd := l.accept(a)
	if hd == nil {
		// The node declined the connection: close it in order.
		hd = nopHandler{}
		a.handler = hd
		a.Close()
	}
	a.handler = hd
	c.halves[0].open = true
	c.halves[0].pump()
}

type nopHandler struct{}

func (nopHandler) OnFrame(host.Conn, []byte) {}
func (nopHandler) OnClose(host.Conn, error)  {}
