package controller

import (
	"github.com/loglab/loglab/host"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// peer is the outgoing raft connection to another voter. Raft tolerates
// lost messages, so a message for an unreachable peer is dropped and raft
// is told (ReportUnreachable); the connection is re-dialled after
// RedialBackoff, lazily, by the next message.
type peer struct {
	v       *Voter
	id      uint64
	addr    string
	conn    host.Conn
	retryAt int64 // monotonic ns
}

func (p *peer) send(frame []byte) bool {
	if p.conn == nil {
		if int64(p.v.h.Monotonic()) < p.retryAt {
			return false
		}
		timeout := p.v.cfg.TickInterval * 10 * 2
		p.conn = p.v.h.Net().Dial(p.addr, host.DialOptions{Timeout: timeout}, p)
	}
	return p.conn.Send(frame) == nil
}

func (p *peer) OnFrame(c host.Conn, frame []byte) {} // voters only send on this conn

func (p *peer) OnClose(c host.Conn, err error) {
	if p.conn != c {
		return
	}
	p.conn = nil
	p.retryAt = int64(p.v.h.Monotonic() + p.v.cfg.RedialBackoff)
	if !p.v.stopped && p.v.rn != nil {
		p.v.rn.ReportUnreachable(p.id)
		p.v.schedule()
	}
}

func (v *Voter) peer(id uint64) *peer {
	for _, p := range v.peers {
		if p.id == id {
			return p
		}
	}
	return nil
}

// send puts raft's messages on the wire, each through the protobuf codec.
func (v *Voter) send(msgs []raftpb.Message) {
	for i := range msgs {
		m := &msgs[i]
		p := v.peer(m.To)
		ok := false
		if p != nil {
			frame := append([]byte{kindRaft}, mustMarshal(m)...)
			ok = p.send(frame)
		}
		if !ok {
			v.rn.ReportUnreachable(m.To)
		}
		if m.Type == raftpb.MsgSnap {
			status := raft.SnapshotFinish
			if !ok {
				status = raft.SnapshotFailure
			}
			v.rn.ReportSnapshot(m.To, status)
		}
	}
}

// inbound handles a connection accepted by the voter's listener: raft
// messages from other voters and requests from brokers.
type inbound struct{ v *Voter }

func (in inbound) OnFrame(c host.Conn, frame []byte) {
	v := in.v
	if v.stopped || len(frame) == 0 {
		return
	}
	switch frame[0] {
	case kindRaft:
		var m raftpb.Message
		if err := m.Unmarshal(frame[1:]); err != nil {
			v.log.Warn("bad raft frame", "from", c.RemoteAddr(), "err", err)
			c.Close()
			return
		}
		if v.rn == nil || raft.IsLocalMsg(m.Type) {
			return
		}
		_ = v.rn.Step(m) // errors are stale or foreign messages: drop
		v.schedule()
	case kindRequest:
		v.handleRequest(c, frame)
	default:
		c.Close()
	}
}

func (in inbound) OnClose(c host.Conn, err error) {}
