package netsim

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/loglab/loglab/host"
)

// Partitions are a set of blocked directed node pairs plus a set of isolated
// nodes. Each call below adds to them; only Heal removes. A blocked
// direction holds its frames (see doc.go).

// Isolate cuts node off from every other node, both ways.
func (n *Network) Isolate(node string) {
	n.isolated[node] = true
	n.env.Trace("", "net.isolate", node)
	n.reroute()
}

// Split blocks both directions between every node of a and every node of b.
func (n *Network) Split(a, b []string) {
	for _, x := range a {
		for _, y := range b {
			if x != y {
				n.cut[linkKey{x, y}] = true
				n.cut[linkKey{y, x}] = true
			}
		}
	}
	n.env.Trace("", "net.split", strings.Join(a, ",")+"|"+strings.Join(b, ","))
	n.reroute()
}

// OneWay blocks frames from -> to; to -> from still flows.
func (n *Network) OneWay(from, to string) {
	if from != to {
		n.cut[linkKey{from, to}] = true
	}
	n.env.Trace("", "net.oneway", from+">"+to)
	n.reroute()
}

// Bridge splits a from b while bridge (in neither side) still reaches, and
// is reached by, both: the classic "bridge" partition.
func (n *Network) Bridge(a, b []string, bridge string) {
	for _, x := range a {
		for _, y := range b {
			if x != y && x != bridge && y != bridge {
				n.cut[linkKey{x, y}] = true
				n.cut[linkKey{y, x}] = true
			}
		}
	}
	n.env.Trace("", "net.bridge", strings.Join(a, ",")+"|"+bridge+"|"+strings.Join(b, ","))
	n.reroute()
}

// Heal restores every link; held frames go out with fresh delays.
func (n *Network) Heal() {
	clear(n.isolated)
	clear(n.cut)
	n.env.Trace("", "net.heal", "")
	n.reroute()
}

// Partitioned reports whether any partition is in force.
func (n *Network) Partitioned() bool { return len(n.isolated)+len(n.cut) > 0 }

// reroute applies the current reachability to every connection: newly
// blocked directions take their in-flight items back (held, stall timer
// armed); newly reachable ones send what they hold.
func (n *Network) reroute() {
	for _, c := range n.conns {
		if c.killed {
			continue
		}
		if !c.established {
			h := &c.halves[0]
			ok := n.Reachable(h.fromNode, h.toNode)
			switch {
			case c.synInFlight && !ok:
				c.synGen++
				c.synInFlight, c.synWaiting = false, true
			case c.synWaiting && ok:
				n.sendSYN(c)
			}
		}
		for i := range c.halves {
			h := &c.halves[i]
			if h.dead {
				continue
			}
			if !n.Reachable(h.fromNode, h.toNode) {
				h.pullBack()
			}
			h.pump()
		}
	}
}

// ResetConnections resets every connection with an end on node, as a
// middlebox or the node's kernel would: in-flight and held frames are lost
// and both ends get OnClose with an error wrapping host.ErrConnReset. It
// returns how many connections it reset.
func (n *Network) ResetConnections(node string) int {
	count := 0
	for _, c := range n.conns {
		if c.killed || (c.ends[0].node != node && c.target != node) {
			continue
		}
		c.kill(fmt.Errorf("netsim: %s: reset by fault: %w", c.detail(0), host.ErrConnReset), "fault")
		count++
	}
	return count
}

// ConnInfo describes a live connection.
type ConnInfo struct {
	ID          uint64
	DialerAddr  string // the dialer's local address
	DialedAddr  string // the address dialed (the listener's)
	Established bool
}

// Conns lists the live connections in creation order.
func (n *Network) Conns() []ConnInfo {
	var out []ConnInfo
	for _, c := range n.conns {
		if !c.killed {
			out = append(out, c.info())
		}
	}
	return out
}

func (c *conn) info() ConnInfo {
	return ConnInfo{ID: c.id, DialerAddr: c.laddr, DialedAddr: c.raddr, Established: c.established}
}

// ResetConn resets the live connection with the given ID, as
// ResetConnections does. It reports whether there was one.
func (n *Network) ResetConn(id uint64) bool {
	for _, c := range n.conns {
		if c.id == id && !c.killed {
			c.kill(fmt.Errorf("netsim: %s: reset by fault: %w", c.detail(0), host.ErrConnReset), "fault")
			return true
		}
	}
	return false
}

// ResetRandomConnection resets one live connection chosen uniformly with r
// (the caller's stream, e.g. the nemesis's). It reports which, and false if
// there was none.
func (n *Network) ResetRandomConnection(r *rand.Rand) (ConnInfo, bool) {
	live := n.Conns()
	if len(live) == 0 {
		return ConnInfo{}, false
	}
	ci := live[r.IntN(len(live))]
	n.ResetConn(ci.ID)
	return ci, true
}

// NodeDown is called by the world when node crashes or stops: its listeners
// vanish and its connections die without callbacks to it. A peer sees
// OnClose(ErrConnReset) once the RST of node's OS reaches it: one link delay
// after the frames node already put on the wire (those still arrive; what
// node had queued but not sent is lost, as is everything sent to node).
// A dial in flight to node is refused.
func (n *Network) NodeDown(node string) {
	n.down[node] = true
	var addrs []string
	//detcheck:ordered the addresses are sorted before use
	for addr, l := range n.listeners {
		if l.node == node {
			addrs = append(addrs, addr)
		}
	}
	sort.Strings(addrs)
	for _, addr := range addrs {
		n.listeners[addr].closed = true
		delete(n.listeners, addr)
	}
	n.env.Trace(node, "net.down", "listeners="+itoa(int64(len(addrs))))
	for _, c := range n.conns {
		if !c.killed {
			c.nodeDown(node)
		}
	}
}

func (c *conn) nodeDown(node string) {
	onDialer, onTarget := c.ends[0].node == node, c.target == node
	if !onDialer && !onTarget {
		return
	}
	// The node's ends get no more callbacks.
	for _, e := range c.ends {
		if e != nil && e.node == node {
			e.notified, e.sendShut = true, true
		}
	}
	if onDialer && onTarget {
		c.kill(nil, "")
		return
	}
	if !c.established {
		if onDialer {
			c.kill(nil, "")
			return
		}
		if c.synInFlight {
			// The SYN will find no process: the OS refuses it.
			c.synGen++
			c.synInFlight = false
			c.halves[1].push(item{kind: itemRefuse}, c.n.now()+c.halves[0].link.sample())
		}
		return // a waiting SYN is refused when it is sent (n.down)
	}
	side := 0
	if onTarget {
		side = 1
	}
	peer := c.ends[1-side]
	if peer.notified {
		c.kill(nil, "")
		return
	}
	c.halves[1-side].tearDown()
	out := &c.halves[side]
	out.dropHeld()
	out.push(item{kind: itemRST}, c.n.now())
	c.checkFinished()
}
