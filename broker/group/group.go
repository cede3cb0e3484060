package group

import (
	"encoding/hex"
	"maps"
	"slices"
	"time"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire/batch"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// State is a group's state, named as Kafka's DescribeGroups names it.
type State string

// Group states.
const (
	Empty               State = "Empty"
	PreparingRebalance  State = "PreparingRebalance"
	CompletingRebalance State = "CompletingRebalance"
	Stable              State = "Stable"
	Dead                State = "Dead"
)

type protocol struct {
	name     string
	metadata []byte
}

type member struct {
	id, instanceID, clientID, clientHost string
	sessionTimeout, rebalanceTimeout     time.Duration
	protocolType                         string
	protocols                            []protocol
	assignment                           []byte
	joinReply                            func(*kmsg.JoinGroupResponse)
	syncReply                            func(*kmsg.SyncGroupResponse)
	session                              host.Timer
}

// failWaiting answers a member's parked JoinGroup or SyncGroup with e.
func (m *member) failWaiting(e *kerr.Error) {
	if f := m.joinReply; f != nil {
		m.joinReply = nil
		resp := kmsg.NewPtrJoinGroupResponse()
		resp.ErrorCode, resp.Generation, resp.MemberID = e.Code, -1, m.id
		f(resp)
	}
	if f := m.syncReply; f != nil {
		m.syncReply = nil
		resp := kmsg.NewPtrSyncGroupResponse()
		resp.ErrorCode = e.Code
		f(resp)
	}
}

func (m *member) metadataFor(name string) []byte {
	for _, p := range m.protocols {
		if p.name == name {
			return p.metadata
		}
	}
	return nil
}

func (m *member) sameProtocols(ps []protocol) bool {
	return slices.EqualFunc(m.protocols, ps, func(a, b protocol) bool {
		return a.name == b.name && string(a.metadata) == string(b.metadata)
	})
}

type group struct {
	c            *Coordinator
	id           string
	shard        *shard
	state        State
	protocolType string
	protocol     string
	generation   int32
	leader       string
	members      []*member // join order
	// pending are member ids handed out with MEMBER_ID_REQUIRED, each
	// expiring after the joiner's session timeout.
	pending map[string]host.Timer
	static  map[string]string // group.instance.id → member id
	offsets map[TopicPartition]OffsetEntry

	rebalance host.Timer
	// initialDelay: the rebalance from Empty is waiting for more members;
	// delayLeft is how much longer it may be extended, newMember whether
	// a member arrived during the current delay.
	initialDelay bool
	delayLeft    time.Duration
	newMember    bool
}

func (g *group) member(id string) *member {
	for _, m := range g.members {
		if m.id == id {
			return m
		}
	}
	return nil
}

func (g *group) stopTimers() {
	if g.rebalance != nil {
		g.rebalance.Stop()
		g.rebalance = nil
	}
	for _, m := range g.members {
		if m.session != nil {
			m.session.Stop()
		}
	}
	for _, id := range slices.Sorted(maps.Keys(g.pending)) {
		g.pending[id].Stop()
	}
}

// live reports whether g is still the coordinator's served group object
// (timers and write callbacks of an unloaded or deleted group do nothing).
func (g *group) live() bool {
	return !g.shard.gone && g.c.groups[g.id] == g
}

// supports reports whether a joiner's protocols fit the group: same
// protocol type, and with members, one protocol every member supports.
func (g *group) supports(protocolType string, ps []protocol) bool {
	if len(ps) == 0 || protocolType == "" {
		return false
	}
	if len(g.members) == 0 {
		return true
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range ps {
		all := true
		for _, m := range g.members {
			if m.metadataFor(p.name) == nil && !slices.ContainsFunc(m.protocols, func(x protocol) bool { return x.name == p.name }) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// selectProtocol is Kafka's vote: among the protocols every member
// supports, each member votes for the first in its own preference order;
// the most votes win, ties going to the earliest in the first member's
// list.
func (g *group) selectProtocol() string {
	var candidates []string
	for _, p := range g.members[0].protocols {
		all := true
		for _, m := range g.members[1:] {
			if !slices.ContainsFunc(m.protocols, func(x protocol) bool { return x.name == p.name }) {
				all = false
				break
			}
		}
		if all {
			candidates = append(candidates, p.name)
		}
	}
	votes := map[string]int{}
	for _, m := range g.members {
		for _, p := range m.protocols {
			if slices.Contains(candidates, p.name) {
				votes[p.name]++
				break
			}
		}
	}
	best := ""
	for _, name := range candidates {
		if best == "" || votes[name] > votes[best] {
			best = name
		}
	}
	return best
}

func (c *Coordinator) newMemberID(clientID string) string {
	var b [16]byte
	r := c.h.Rand()
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	u := hex.EncodeToString(b[:])
	return clientID + "-" + u[:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:]
}

// scheduleSession (re)starts a member's session timer: without a
// heartbeat (or join, sync, commit) within its session timeout it is
// removed. A member whose JoinGroup or SyncGroup is parked has satisfied
// its heartbeat (Kafka's hasSatisfiedHeartbeat): clients do not heartbeat
// while they wait, and the rebalance timeout, not the session, bounds the
// join phase; its timer starts again when the answer goes out.
func (c *Coordinator) scheduleSession(g *group, m *member) {
	if m.session != nil {
		m.session.Stop()
	}
	m.session = c.h.AfterFunc(m.sessionTimeout, func() {
		if !g.live() || g.member(m.id) != m {
			return
		}
		if m.joinReply != nil || m.syncReply != nil {
			c.scheduleSession(g, m)
			return
		}
		c.log.Info("group member session expired", "group", g.id, "member", m.id, "generation", g.generation)
		c.removeMember(g, m, kerr.UnknownMemberID)
		c.afterRemoval(g)
	})
}

// addMember adds a joining member and starts or advances a rebalance.
func (c *Coordinator) addMember(g *group, m *member, reply func(*kmsg.JoinGroupResponse)) {
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	g.members = append(g.members, m)
	if m.instanceID != "" {
		g.static[m.instanceID] = m.id
	}
	if g.leader == "" {
		g.leader = m.id
	}
	m.joinReply = reply
	g.newMember = true
	c.scheduleSession(g, m)
	c.rebalanceOrComplete(g, "member "+m.id+" joined")
}

// rebalanceOrComplete starts a rebalance unless one is preparing, in
// which case it checks whether everyone has joined.
func (c *Coordinator) rebalanceOrComplete(g *group, reason string) {
	if g.state == PreparingRebalance {
		c.maybeCompleteJoin(g)
		return
	}
	c.prepareRebalance(g, reason)
}

// removeMember takes m out of the group, answering its parked requests
// with e.
func (c *Coordinator) removeMember(g *group, m *member, e *kerr.Error) {
	if m.session != nil {
		m.session.Stop()
	}
	m.failWaiting(e)
	g.members = slices.DeleteFunc(g.members, func(x *member) bool { return x == m })
	if m.instanceID != "" && g.static[m.instanceID] == m.id {
		delete(g.static, m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
		if len(g.members) > 0 {
			g.leader = g.members[0].id
		}
	}
}

// afterRemoval rebalances a group that lost a member.
func (c *Coordinator) afterRemoval(g *group) {
	switch g.state {
	case Stable, CompletingRebalance:
		c.prepareRebalance(g, "member left")
	case PreparingRebalance:
		c.maybeCompleteJoin(g)
	}
}

func (g *group) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// prepareRebalance moves g to PreparingRebalance: members must rejoin
// within the rebalance timeout.
func (c *Coordinator) prepareRebalance(g *group, reason string) {
	if g.state == CompletingRebalance {
		for _, m := range g.members {
			if f := m.syncReply; f != nil {
				m.syncReply = nil
				resp := kmsg.NewPtrSyncGroupResponse()
				resp.ErrorCode = kerr.RebalanceInProgress.Code
				f(resp)
			}
			m.assignment = nil
		}
	}
	fromEmpty := g.state == Empty
	g.state = PreparingRebalance
	if g.rebalance != nil {
		g.rebalance.Stop()
	}
	c.log.Info("preparing rebalance", "group", g.id, "generation", g.generation, "reason", reason)
	timeout := g.maxRebalanceTimeout()
	if fromEmpty && c.cfg.InitialRebalanceDelay > 0 {
		d := min(c.cfg.InitialRebalanceDelay, timeout)
		g.initialDelay, g.delayLeft, g.newMember = true, timeout-d, false
		c.armDelay(g, d)
		return
	}
	g.initialDelay = false
	g.rebalance = c.h.AfterFunc(timeout, func() {
		if g.live() && g.state == PreparingRebalance {
			c.completeJoin(g)
		}
	})
	c.maybeCompleteJoin(g)
}

// armDelay waits d for more members of a group rebalancing from Empty,
// extending while members keep arriving (Kafka's InitialDelayedJoin).
func (c *Coordinator) armDelay(g *group, d time.Duration) {
	g.rebalance = c.h.AfterFunc(d, func() {
		if !g.live() || g.state != PreparingRebalance || !g.initialDelay {
			return
		}
		if g.newMember && g.delayLeft > 0 {
			next := min(c.cfg.InitialRebalanceDelay, g.delayLeft)
			g.delayLeft -= next
			g.newMember = false
			c.armDelay(g, next)
			return
		}
		g.initialDelay = false
		c.completeJoin(g)
	})
}

func (c *Coordinator) maybeCompleteJoin(g *group) {
	if g.state != PreparingRebalance || g.initialDelay || len(g.pending) > 0 {
		return
	}
	for _, m := range g.members {
		if m.joinReply == nil {
			return
		}
	}
	c.completeJoin(g)
}

// completeJoin ends the join phase: members that did not rejoin are
// removed, the generation advances and every joined member gets its
// JoinGroup answer (the leader with everyone's subscriptions).
func (c *Coordinator) completeJoin(g *group) {
	if g.rebalance != nil {
		g.rebalance.Stop()
		g.rebalance = nil
	}
	for _, m := range slices.Clone(g.members) {
		if m.joinReply == nil {
			c.log.Info("group member did not rejoin in time; removed", "group", g.id, "member", m.id)
			c.removeMember(g, m, kerr.UnknownMemberID)
		}
	}
	g.generation++
	if c.cfg.OnRebalance != nil {
		c.cfg.OnRebalance()
	}
	if len(g.members) == 0 {
		g.state, g.protocol, g.leader = Empty, "", ""
		c.log.Info("group is empty", "group", g.id, "generation", g.generation)
		c.write(g, []batch.Record{groupRecord(g.id, g.metadataValue())}, func(e *kerr.Error) {
			if e != nil {
				c.log.Warn("writing empty group metadata failed", "group", g.id, "err", e.Message)
			}
		})
		return
	}
	g.protocol = g.selectProtocol()
	if g.member(g.leader) == nil {
		g.leader = g.members[0].id
	}
	g.state = CompletingRebalance
	c.log.Info("group rebalanced", "group", g.id, "generation", g.generation, "protocol", g.protocol, "leader", g.leader, "members", len(g.members))
	for _, m := range g.members {
		resp := c.joinResponse(g, m, m.id == g.leader)
		f := m.joinReply
		m.joinReply = nil
		c.scheduleSession(g, m)
		f(resp)
	}
}

func (c *Coordinator) joinResponse(g *group, m *member, withMembers bool) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Generation, resp.LeaderID, resp.MemberID = g.generation, g.leader, m.id
	pt, pn := g.protocolType, g.protocol
	resp.ProtocolType, resp.Protocol = &pt, &pn
	if withMembers {
		for _, x := range g.members {
			jm := kmsg.NewJoinGroupResponseMember()
			jm.MemberID = x.id
			if x.instanceID != "" {
				id := x.instanceID
				jm.InstanceID = &id
			}
			jm.ProtocolMetadata = x.metadataFor(g.protocol)
			resp.Members = append(resp.Members, jm)
		}
	}
	return resp
}

// metadataValue is the group's record for __consumer_offsets.
func (g *group) metadataValue() *kmsg.GroupMetadataValue {
	v := kmsg.NewGroupMetadataValue()
	v.Version = 3
	v.ProtocolType, v.Generation, v.CurrentStateTimestamp = g.protocolType, g.generation, g.c.h.Now().UnixMilli()
	if g.protocol != "" {
		p := g.protocol
		v.Protocol = &p
	}
	if g.leader != "" {
		l := g.leader
		v.Leader = &l
	}
	for _, m := range g.members {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID, vm.ClientID, vm.ClientHost = m.id, m.clientID, m.clientHost
		if m.instanceID != "" {
			id := m.instanceID
			vm.InstanceID = &id
		}
		vm.RebalanceTimeoutMillis = int32(m.rebalanceTimeout / time.Millisecond)
		vm.SessionTimeoutMillis = int32(m.sessionTimeout / time.Millisecond)
		vm.Subscription, vm.Assignment = m.metadataFor(g.protocol), m.assignment
		v.Members = append(v.Members, vm)
	}
	return &v
}

// restore loads a group from its replayed metadata record.
func (g *group) restore(v *kmsg.GroupMetadataValue) {
	g.protocolType, g.generation = v.ProtocolType, v.Generation
	g.protocol, g.leader = "", ""
	if v.Protocol != nil {
		g.protocol = *v.Protocol
	}
	if v.Leader != nil {
		g.leader = *v.Leader
	}
	g.members = nil
	g.static = map[string]string{}
	for _, vm := range v.Members {
		m := &member{id: vm.MemberID, clientID: vm.ClientID, clientHost: vm.ClientHost,
			sessionTimeout:   time.Duration(vm.SessionTimeoutMillis) * time.Millisecond,
			rebalanceTimeout: time.Duration(vm.RebalanceTimeoutMillis) * time.Millisecond,
			protocolType:     v.ProtocolType, assignment: vm.Assignment,
			protocols: []protocol{{name: g.protocol, metadata: vm.Subscription}}}
		if m.rebalanceTimeout <= 0 {
			m.rebalanceTimeout = m.sessionTimeout
		}
		if vm.InstanceID != nil {
			m.instanceID = *vm.InstanceID
			g.static[m.instanceID] = m.id
		}
		g.members = append(g.members, m)
	}
	g.state = Empty
	if len(g.members) > 0 {
		g.state = Stable
	}
}
