package netsim

import (
	"fmt"

	"github.com/loglab/loglab/host"
)

// A connection has two ends (0 = dialer, 1 = acceptor) and two halves, one
// per direction: halves[s] carries what end s sends. Each half is a FIFO of
// items: frames and the control segments that end a connection (FIN, the
// RST of a crashed peer, the RST that refuses a dial). An item is first
// "held" (not on the wire: the connection is not yet established, or a
// partition blocks the direction), then "on the wire" with a delivery time
// and one env.At event on the receiver's loop.

type itemKind uint8

const (
	itemData   itemKind = iota
	itemFIN             // orderly close, after all data
	itemRST             // the sender's process died; its OS resets the socket
	itemRefuse          // the dial reached a port nobody listens on
)

type item struct {
	kind  itemKind
	seq   uint64 // per half, for the FIFO assertion
	due   int64
	frame []byte
}

type half struct {
	c                *conn
	side             int // the sending end
	fromNode, toNode string
	link             *link
	// open: held items may go on the wire. The dialer's half opens when
	// the connection is established; the acceptor's is open from the start.
	open bool
	// dead: the half was torn down; Send drops, events are stale.
	dead bool
	held []item
	wire []item // wire[head:] are in flight, due times non-decreasing
	head int
	// epoch invalidates the At events of items taken off the wire.
	epoch   uint64
	nextSeq uint64
	lastDue int64
	// stall timer: stallGen invalidates a pending timer.
	stallArmed bool
	stallGen   uint64
}

type conn struct {
	n      *Network
	id     uint64
	ends   [2]*end // ends[1] is nil until accepted
	halves [2]half
	target string // the dialed node
	laddr  string // the dialer's address
	raddr  string // the dialed address (the listener's)

	established bool
	killed      bool // reset, refused or timed out: nothing more flows
	finished    bool // every end has been told; pruned from Network.conns

	synInFlight bool
	synWaiting  bool // the SYN waits for a partition to heal
	synGen      uint64
}

// end is one side of a connection; it is the host.Conn a node holds.
type end struct {
	c        *conn
	side     int
	node     string
	local    string
	remote   string
	handler  host.ConnHandler
	maxFrame int
	// sendShut: Send returns ErrClosed (Close was called, or OnClose is
	// scheduled). notified: OnClose is scheduled or the node is gone;
	// nothing more is delivered to this end.
	sendShut bool
	notified bool
}

var _ host.Conn = (*end)(nil)

func (e *end) LocalAddr() string  { return e.local }
func (e *end) RemoteAddr() string { return e.remote }

// Send copies frame onto the connection.
func (e *end) Send(frame []byte) error {
	if e.sendShut {
		return host.ErrClosed
	}
	n := e.c.n
	h := &e.c.halves[e.side]
	n.stats.FramesSent++
	if h.dead {
		// The peer crashed and its RST is still on the way: the bytes go
		// into a socket that will be reset.
		n.drop(1, len(frame))
		return nil
	}
	buf := make([]byte, len(frame))
	copy(buf, frame)
	h.push(item{kind: itemData, frame: buf}, n.now())
	return nil
}

// Close sends FIN after every queued frame and schedules this end's
// OnClose(nil). Frames still arriving for this end are dropped.
func (e *end) Close() {
	if e.sendShut {
		return
	}
	c := e.c
	e.sendShut = true
	if h := &c.halves[e.side]; !h.dead {
		h.push(item{kind: itemFIN}, c.n.now())
	}
	c.n.env.Trace(e.node, "net.shutdown", c.detail(e.side))
	c.n.notify(e, nil)
}

// push queues it on the half: on the wire at once if the half is open,
// unblocked and nothing is held before it; held otherwise.
func (h *half) push(it item, notBefore int64) {
	if h.dead {
		return
	}
	it.seq = h.nextSeq
	h.nextSeq++
	if len(h.held) == 0 && h.open && h.c.n.Reachable(h.fromNode, h.toNode) {
		h.dispatch(it, notBefore)
		return
	}
	h.held = append(h.held, it)
	h.pump()
}

// pump moves held items onto the wire if the half may send, and keeps the
// stall timer armed exactly while items are held behind a partition.
func (h *half) pump() {
	if h.dead || !h.open || len(h.held) == 0 {
		h.cancelStall()
		return
	}
	n := h.c.n
	if !n.Reachable(h.fromNode, h.toNode) {
		h.armStall()
		return
	}
	now := n.now()
	for i := range h.held {
		h.dispatch(h.held[i], now)
		h.held[i] = item{}
	}
	h.held = h.held[:0]
	h.cancelStall()
}

// dispatch puts it on the wire. Its delivery time is
//
//	max(previous delivery time on this half, start + link delay)
//
// where start is when the link has serialized it (bandwidth), so a later
// frame never overtakes an earlier one however the delays are drawn.
func (h *half) dispatch(it item, notBefore int64) {
	n := h.c.n
	start := max(notBefore, n.now())
	k := h.link
	if bw := k.cfg.BytesPerSecond; bw > 0 && len(it.frame) > 0 {
		start = max(start, k.busyUntil) + int64(len(it.frame))*1_000_000_000/bw
		k.busyUntil = start
	}
	due := max(start+k.sample(), h.lastDue)
	h.lastDue = due
	it.due = due
	if h.head > 32 && h.head*2 > len(h.wire) {
		m := copy(h.wire, h.wire[h.head:])
		clear(h.wire[m:])
		h.wire = h.wire[:m]
		h.head = 0
	}
	h.wire = append(h.wire, it)
	epoch, seq := h.epoch, it.seq
	n.env.At(due, h.toNode, func() { h.arrive(epoch, seq) })
}

// pullBack takes the items on the wire back to the front of the held queue:
// a partition cut them off, and TCP will retransmit them after it heals.
func (h *half) pullBack() {
	inFlight := h.wire[h.head:]
	if len(inFlight) == 0 {
		return
	}
	held := make([]item, 0, len(inFlight)+len(h.held))
	held = append(held, inFlight...)
	held = append(held, h.held...)
	h.held = held
	h.clearWire()
}

func (h *half) clearWire() {
	clear(h.wire)
	h.wire = h.wire[:0]
	h.head = 0
	h.epoch++
	h.lastDue = 0
}

func (h *half) armStall() {
	if h.stallArmed || !h.c.established {
		return
	}
	h.stallArmed = true
	n := h.c.n
	gen := h.stallGen
	// On the receiver's loop: the sender may be a crashed node whose RST
	// is held, and then only the receiver is left to time out.
	n.env.At(n.now()+n.stall, h.toNode, func() {
		if h.stallGen != gen || h.dead || h.c.killed {
			return
		}
		n.stats.Stalls++
		h.c.kill(fmt.Errorf("netsim: %s: stalled %v behind a partition: %w", h.c.detail(h.side), n.stall, host.ErrConnReset), "stall")
	})
}

func (h *half) cancelStall() {
	if h.stallArmed {
		h.stallArmed = false
		h.stallGen++
	}
}

// tearDown loses everything on the half and makes its events stale.
func (h *half) tearDown() {
	n := h.c.n
	for _, it := range h.held {
		if it.kind == itemData {
			n.drop(1, len(it.frame))
		}
	}
	for _, it := range h.wire[h.head:] {
		if it.kind == itemData {
			n.drop(1, len(it.frame))
		}
	}
	clear(h.held)
	h.held = nil
	h.clearWire()
	h.wire = nil
	h.cancelStall()
	h.dead = true
}

// dropHeld loses what is not on the wire yet (a crashed sender's socket
// buffer) and keeps what is.
func (h *half) dropHeld() {
	for _, it := range h.held {
		if it.kind == itemData {
			h.c.n.drop(1, len(it.frame))
		}
	}
	clear(h.held)
	h.held = h.held[:0]
	h.cancelStall()
}

// arrive runs on the receiver's loop when the item at the head of the wire
// is due.
func (h *half) arrive(epoch, seq uint64) {
	if epoch != h.epoch || h.dead {
		return
	}
	it := h.wire[h.head]
	if it.seq != seq {
		panic(fmt.Sprintf("netsim: FIFO broken on %s: item %d due, %d at head", h.c.detail(h.side), seq, it.seq))
	}
	h.wire[h.head] = item{}
	h.head++
	if h.head == len(h.wire) {
		h.wire = h.wire[:0]
		h.head = 0
	}
	c, n := h.c, h.c.n
	recv := c.ends[1-h.side]
	switch it.kind {
	case itemData:
		if recv == nil || recv.notified {
			n.drop(1, len(it.frame))
			return
		}
		if len(it.frame) > recv.maxFrame {
			n.drop(1, len(it.frame))
			c.kill(fmt.Errorf("netsim: %s: frame of %d bytes, limit %d: %w",
				c.detail(h.side), len(it.frame), recv.maxFrame, host.ErrFrameTooLarge), "toolarge")
			return
		}
		n.stats.FramesDelivered++
		n.stats.BytesDelivered += int64(len(it.frame))
		n.env.Trace(recv.node, "net.frame", c.frameDetail(h.side, it.frame))
		recv.handler.OnFrame(recv, it.frame)
	case itemFIN:
		if recv != nil && !recv.notified {
			n.env.Trace(recv.node, "net.fin", c.detail(h.side))
			n.notify(recv, nil)
		}
	case itemRST:
		if recv != nil && !recv.notified {
			n.env.Trace(recv.node, "net.rst", c.detail(h.side))
			n.stats.Resets++
			n.notify(recv, fmt.Errorf("netsim: %s: peer process died: %w", c.detail(h.side), host.ErrConnReset))
		}
		c.kill(nil, "")
	case itemRefuse:
		if c.established || c.killed {
			return
		}
		d := c.ends[0]
		n.env.Trace(d.node, "net.refused", c.detail(0))
		n.stats.Refused++
		n.notify(d, fmt.Errorf("netsim: dial %s from %s: %w", c.raddr, c.laddr, host.ErrConnRefused))
		c.kill(nil, "")
	}
}

// notify schedules e's OnClose(err) on its loop, once per end.
func (n *Network) notify(e *end, err error) {
	if e.notified {
		return
	}
	e.notified, e.sendShut = true, true
	n.env.At(n.now(), e.node, func() {
		n.env.Trace(e.node, "net.close", e.c.detail(e.side)+" err="+errClass(err))
		e.handler.OnClose(e, err)
	})
	e.c.checkFinished()
}

// kill ends the connection at once: everything in flight or held is lost
// and every end not yet told gets OnClose(err). err nil kills silently (the
// ends were told already, or are gone with their node). why names the
// cause in the trace.
func (c *conn) kill(err error, why string) {
	if c.killed {
		return
	}
	n := c.n
	c.killed = true
	c.synGen++
	c.synInFlight, c.synWaiting = false, false
	lost := n.stats.FramesDropped
	for i := range c.halves {
		if !c.halves[i].dead {
			c.halves[i].tearDown()
		}
	}
	lost = n.stats.FramesDropped - lost
	if err != nil {
		n.stats.Resets++
		n.env.Trace(c.ends[0].node, "net.reset", c.detail(0)+" why="+why+" lost="+itoa(lost))
		for _, e := range c.ends {
			if e != nil {
				n.notify(e, err)
			}
		}
	}
	c.checkFinished()
}

// checkFinished retires a connection once every end has been told and no
// more can be accepted; whatever is still in flight goes to nobody.
func (c *conn) checkFinished() {
	if c.finished || !c.ends[0].notified || (c.ends[1] == nil && !c.killed) ||
		(c.ends[1] != nil && !c.ends[1].notified) {
		return
	}
	c.finished = true
	c.kill(nil, "")
	n := c.n
	n.nfinished++
	if len(n.conns) >= 64 && n.nfinished*2 > len(n.conns) {
		// A fresh slice: a caller may be ranging over the old one.
		live := make([]*conn, 0, len(n.conns)-n.nfinished)
		for _, x := range n.conns {
			if !x.finished {
				live = append(live, x)
			}
		}
		n.conns = live
		n.nfinished = 0
	}
}

func (n *Network) drop(frames, bytes int) {
	n.stats.FramesDropped += int64(frames)
	n.stats.BytesDropped += int64(bytes)
}
