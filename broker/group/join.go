package group

import (
	"slices"
	"time"

	"github.com/loglab/loglab/wire/batch"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup handles a JoinGroup request (v0-9) from clientHost; reply
// is called exactly once, possibly later (when the rebalance completes).
func (c *Coordinator) JoinGroup(req *kmsg.JoinGroupRequest, clientID, clientHost string, reply func(*kmsg.JoinGroupResponse)) {
	fail := func(e *kerr.Error, memberID string) {
		resp := kmsg.NewPtrJoinGroupResponse()
		resp.ErrorCode, resp.Generation, resp.MemberID = e.Code, -1, memberID
		reply(resp)
	}
	g, e := c.lookup(req.Group)
	if e != nil {
		fail(e, req.MemberID)
		return
	}
	session := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	if session < c.cfg.MinSessionTimeout || session > c.cfg.MaxSessionTimeout {
		fail(kerr.InvalidSessionTimeout, req.MemberID)
		return
	}
	rebalance := session
	if req.Version >= 1 {
		rebalance = time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	}
	if rebalance <= 0 {
		rebalance = session
	}
	instance := ""
	if req.InstanceID != nil {
		instance = *req.InstanceID
	}
	ps := make([]protocol, 0, len(req.Protocols))
	for _, p := range req.Protocols {
		ps = append(ps, protocol{name: p.Name, metadata: p.Metadata})
	}
	newMember := func(id string) *member {
		return &member{id: id, instanceID: instance, clientID: clientID, clientHost: clientHost,
			sessionTimeout: session, rebalanceTimeout: rebalance, protocolType: req.ProtocolType, protocols: ps}
	}

	if req.MemberID == "" {
		if g == nil {
			g = c.newGroup(req.Group, c.shards[c.PartitionFor(req.Group)])
		}
		if !g.supports(req.ProtocolType, ps) {
			fail(kerr.InconsistentGroupProtocol, "")
			return
		}
		if c.cfg.MaxSize > 0 && len(g.members)+len(g.pending) >= c.cfg.MaxSize {
			fail(kerr.GroupMaxSizeReached, "")
			return
		}
		id := c.newMemberID(clientID)
		if instance != "" {
			if old := g.member(g.static[instance]); old != nil {
				c.replaceStatic(g, old, newMember(id), reply)
				return
			}
			c.addMember(g, newMember(id), reply)
			return
		}
		if req.Version >= 4 {
			// KIP-394: the joiner must come back with this id.
			g.pending[id] = c.h.AfterFunc(session, func() {
				if g.live() && g.pending[id] != nil {
					delete(g.pending, id)
					c.maybeCompleteJoin(g)
				}
			})
			fail(kerr.MemberIDRequired, id)
			return
		}
		c.addMember(g, newMember(id), reply)
		return
	}

	if g == nil {
		fail(kerr.UnknownMemberID, req.MemberID)
		return
	}
	if t := g.pending[req.MemberID]; t != nil {
		t.Stop()
		delete(g.pending, req.MemberID)
		if !g.supports(req.ProtocolType, ps) {
			fail(kerr.InconsistentGroupProtocol, req.MemberID)
			c.maybeCompleteJoin(g)
			return
		}
		c.addMember(g, newMember(req.MemberID), reply)
		return
	}
	m := g.member(req.MemberID)
	if e := g.checkInstance(req.MemberID, instance); e != nil {
		fail(e, req.MemberID)
		return
	}
	if m == nil {
		fail(kerr.UnknownMemberID, req.MemberID)
		return
	}
	if !g.supports(req.ProtocolType, ps) {
		fail(kerr.InconsistentGroupProtocol, req.MemberID)
		return
	}
	switch g.state {
	case PreparingRebalance:
		m.protocols, m.sessionTimeout, m.rebalanceTimeout, m.joinReply = ps, session, rebalance, reply
		c.scheduleSession(g, m)
		c.maybeCompleteJoin(g)
	case CompletingRebalance, Stable:
		if m.sameProtocols(ps) && (g.state == CompletingRebalance || m.id != g.leader) {
			// A lost answer or a follower's redundant join: answer with
			// the current generation, no rebalance.
			c.scheduleSession(g, m)
			reply(c.joinResponse(g, m, m.id == g.leader))
			return
		}
		m.protocols, m.sessionTimeout, m.rebalanceTimeout, m.joinReply = ps, session, rebalance, reply
		c.scheduleSession(g, m)
		c.prepareRebalance(g, "member "+m.id+" rejoined")
	default:
		fail(kerr.UnknownMemberID, req.MemberID)
	}
}

// checkInstance fences a static member's old member id: the instance id
// now belongs to another member (FENCED_INSTANCE_ID).
func (g *group) checkInstance(memberID, instance string) *kerr.Error {
	if instance == "" {
		return nil
	}
	if cur, ok := g.static[instance]; ok && cur != memberID {
		return kerr.FencedInstanceID
	}
	return nil
}

// replaceStatic gives a restarted static member (same group.instance.id,
// new member id) its predecessor's place; the old id is fenced. A Stable
// group keeps its generation and assignment (KIP-345: no rebalance).
func (c *Coordinator) replaceStatic(g *group, old, m *member, reply func(*kmsg.JoinGroupResponse)) {
	old.failWaiting(kerr.FencedInstanceID)
	if old.session != nil {
		old.session.Stop()
	}
	protocolsSame := old.sameProtocols(m.protocols)
	m.assignment = old.assignment
	i := slices.Index(g.members, old)
	g.members[i] = m
	g.static[m.instanceID] = m.id
	if g.leader == old.id {
		g.leader = m.id
	}
	c.scheduleSession(g, m)
	c.log.Info("static member replaced", "group", g.id, "instance", m.instanceID, "old_member", old.id, "member", m.id)
	switch {
	case g.state == Stable && protocolsSame:
		reply(c.joinResponse(g, m, false))
		// The new id must survive a failover: persist it.
		c.write(g, []batch.Record{groupRecord(g.id, g.metadataValue())}, func(e *kerr.Error) {
			if e != nil {
				c.log.Warn("persisting a replaced static member failed", "group", g.id, "err", e.Message)
			}
		})
	case g.state == PreparingRebalance:
		m.joinReply = reply
		c.maybeCompleteJoin(g)
	default:
		m.joinReply = reply
		c.prepareRebalance(g, "static member "+m.instanceID+" rejoined with new protocols")
	}
}

// SyncGroup handles a SyncGroup request (v0-5): the leader member hands
// in every member's assignment; everyone waits for it.
func (c *Coordinator) SyncGroup(req *kmsg.SyncGroupRequest, reply func(*kmsg.SyncGroupResponse)) {
	fail := func(e *kerr.Error) {
		resp := kmsg.NewPtrSyncGroupResponse()
		resp.ErrorCode = e.Code
		reply(resp)
	}
	g, e := c.lookup(req.Group)
	if e != nil {
		fail(e)
		return
	}
	instance := ""
	if req.InstanceID != nil {
		instance = *req.InstanceID
	}
	if g == nil {
		fail(kerr.UnknownMemberID)
		return
	}
	if e := g.checkInstance(req.MemberID, instance); e != nil {
		fail(e)
		return
	}
	m := g.member(req.MemberID)
	if m == nil {
		fail(kerr.UnknownMemberID)
		return
	}
	if req.Generation != g.generation {
		fail(kerr.IllegalGeneration)
		return
	}
	if req.ProtocolType != nil && *req.ProtocolType != g.protocolType || req.Protocol != nil && *req.Protocol != g.protocol {
		fail(kerr.InconsistentGroupProtocol)
		return
	}
	switch g.state {
	case Empty, Dead:
		fail(kerr.UnknownMemberID)
	case PreparingRebalance:
		fail(kerr.RebalanceInProgress)
	case Stable:
		c.scheduleSession(g, m)
		reply(c.syncResponse(g, m))
	case CompletingRebalance:
		m.syncReply = reply
		c.scheduleSession(g, m)
		if m.id != g.leader {
			return
		}
		for _, x := range g.members {
			x.assignment = nil
		}
		for _, a := range req.GroupAssignment {
			if x := g.member(a.MemberID); x != nil {
				x.assignment = a.MemberAssignment
			}
		}
		gen := g.generation
		c.write(g, []batch.Record{groupRecord(g.id, g.metadataValue())}, func(e *kerr.Error) {
			if !g.live() || g.state != CompletingRebalance || g.generation != gen {
				return // a rebalance already answered the waiting members
			}
			if e != nil {
				c.log.Warn("persisting the group assignment failed; rebalancing", "group", g.id, "generation", gen, "err", e.Message)
				for _, x := range g.members {
					x.assignment = nil
					if f := x.syncReply; f != nil {
						x.syncReply = nil
						resp := kmsg.NewPtrSyncGroupResponse()
						resp.ErrorCode = e.Code
						f(resp)
					}
				}
				c.prepareRebalance(g, "assignment not persisted")
				return
			}
			g.state = Stable
			c.log.Info("group stable", "group", g.id, "generation", gen, "members", len(g.members))
			for _, x := range g.members {
				if f := x.syncReply; f != nil {
					x.syncReply = nil
					c.scheduleSession(g, x)
					f(c.syncResponse(g, x))
				}
			}
		})
	}
}

func (c *Coordinator) syncResponse(g *group, m *member) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	pt, pn := g.protocolType, g.protocol
	resp.ProtocolType, resp.Protocol = &pt, &pn
	resp.MemberAssignment = m.assignment
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{}
	}
	return resp
}

// Heartbeat handles a Heartbeat request (v0-4).
func (c *Coordinator) Heartbeat(req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := kmsg.NewPtrHeartbeatResponse()
	resp.ErrorCode = code(c.heartbeat(req))
	return resp
}

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) *kerr.Error {
	g, e := c.lookup(req.Group)
	if e != nil {
		return e
	}
	if g == nil {
		return kerr.UnknownMemberID
	}
	instance := ""
	if req.InstanceID != nil {
		instance = *req.InstanceID
	}
	if e := g.checkInstance(req.MemberID, instance); e != nil {
		return e
	}
	m := g.member(req.MemberID)
	if m == nil || g.state == Empty || g.state == Dead {
		return kerr.UnknownMemberID
	}
	if req.Generation != g.generation {
		return kerr.IllegalGeneration
	}
	c.scheduleSession(g, m)
	if g.state == PreparingRebalance {
		return kerr.RebalanceInProgress
	}
	return nil
}

// LeaveGroup handles a LeaveGroup request: v0-2 one member, v3+ a batch
// (by member id or group.instance.id, KIP-345).
func (c *Coordinator) LeaveGroup(req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := kmsg.NewPtrLeaveGroupResponse()
	g, e := c.lookup(req.Group)
	if e != nil {
		resp.ErrorCode = e.Code
		return resp
	}
	type leaver struct{ id, instance string }
	var ls []leaver
	if req.Version < 3 {
		ls = []leaver{{id: req.MemberID}}
	} else {
		for _, m := range req.Members {
			l := leaver{id: m.MemberID}
			if m.InstanceID != nil {
				l.instance = *m.InstanceID
			}
			ls = append(ls, l)
		}
	}
	removed := false
	for _, l := range ls {
		err := c.leave(g, l.id, l.instance, &removed)
		if req.Version < 3 {
			resp.ErrorCode = code(err)
			continue
		}
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID = l.id
		if l.instance != "" {
			id := l.instance
			rm.InstanceID = &id
		}
		rm.ErrorCode = code(err)
		resp.Members = append(resp.Members, rm)
	}
	if removed {
		c.afterRemoval(g)
	}
	return resp
}

func (c *Coordinator) leave(g *group, memberID, instance string, removed *bool) *kerr.Error {
	if g == nil {
		return kerr.UnknownMemberID
	}
	if instance != "" {
		cur, ok := g.static[instance]
		if !ok {
			return kerr.UnknownMemberID
		}
		if memberID != "" && cur != memberID {
			return kerr.FencedInstanceID
		}
		memberID = cur
	}
	if t := g.pending[memberID]; t != nil {
		t.Stop()
		delete(g.pending, memberID)
		c.maybeCompleteJoin(g)
		return nil
	}
	m := g.member(memberID)
	if m == nil {
		return kerr.UnknownMemberID
	}
	c.log.Info("group member left", "group", g.id, "member", m.id)
	c.removeMember(g, m, kerr.UnknownMemberID)
	*removed = true
	return nil
}

// code is e's wire code (0 for nil).
func code(e *kerr.Error) int16 {
	if e == nil {
		return 0
	}
	return e.Code
}
