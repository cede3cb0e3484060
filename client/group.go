package client

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/host"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrNoGroup: a group method was called without Config.Group.
var ErrNoGroup = errors.New("client: no consumer group configured")

type groupPhase uint8

const (
	phaseIdle    groupPhase = iota // not subscribed, or left
	phaseFinding                   // FindCoordinator
	phaseJoining                   // JoinGroup
	phaseSyncing                   // SyncGroup (and the leader's wait for metadata)
	phaseStable                    // assigned; heartbeating
	phaseFenced                    // FENCED_INSTANCE_ID: stopped for good
)

// groupMember is the client's membership of Config.Group (the classic,
// eager protocol: every rebalance revokes everything, then assigns).
type groupMember struct {
	cl          *Client
	phase       groupPhase
	coordinator string
	memberID    string
	generation  int32
	protocol    string
	owned       []topicPartition         // sorted
	committed   map[topicPartition]int64 // last committed offset we know of
	attempts    int
	// round invalidates callbacks of earlier coordinator exchanges
	// (bumped on every join, when the coordinator is lost, on leaving);
	// membership (bumped on every join and on leaving) those of an
	// earlier assignment.
	round      int
	membership int
	heartbeat  host.Timer
	autoTimer  host.Timer
	retry      host.Timer
	// afterFind is what to do once the coordinator is found again: join,
	// or resume heartbeating a stable membership.
	resumeStable bool
}

func (cl *Client) groupMember() *groupMember {
	if cl.group == nil {
		cl.group = &groupMember{cl: cl, generation: -1, committed: map[topicPartition]int64{}}
	}
	return cl.group
}

// Subscribe joins Config.Group for Config.Topics. Partitions the group
// assigns this member are fetched from their committed offsets (or per
// OffsetReset without one) and given to OnRecords; OnAssigned and
// OnRevoked report ownership changes.
func (cl *Client) Subscribe() error {
	if cl.cfg.Group == "" {
		return ErrNoGroup
	}
	g := cl.groupMember()
	if g.phase != phaseIdle {
		return nil
	}
	for _, t := range cl.cfg.Topics {
		cl.wantTopics[t] = true
	}
	cl.needMetadata()
	g.find(false)
	return nil
}

// Generation is this member's id and generation (-1 when not in one).
func (cl *Client) Generation() (member string, generation int32) {
	if cl.group == nil || cl.group.phase != phaseStable {
		return "", -1
	}
	return cl.group.memberID, cl.group.generation
}

// Assigned lists the partitions this member owns, sorted.
func (cl *Client) Assigned() map[string][]int32 {
	out := map[string][]int32{}
	if cl.group != nil {
		for _, tp := range cl.group.owned {
			out[tp.topic] = append(out[tp.topic], tp.partition)
		}
	}
	return out
}

func (g *groupMember) later(d time.Duration, f func()) {
	if g.retry != nil {
		g.retry.Stop()
	}
	round := g.round
	g.retry = g.cl.h.AfterFunc(d, func() {
		if g.round == round && !g.cl.closed {
			f()
		}
	})
}

func (g *groupMember) backoff() time.Duration {
	g.attempts++
	return g.cl.backoff(g.attempts)
}

// find asks any broker for the group's coordinator; resume: keep the
// current membership and heartbeat it afterwards (the coordinator moved),
// else join.
func (g *groupMember) find(resume bool) {
	cl := g.cl
	g.phase, g.resumeStable, g.coordinator = phaseFinding, resume, ""
	cands := cl.metadataCandidates()
	if len(cands) == 0 {
		g.later(g.backoff(), func() { g.find(resume) })
		return
	}
	addr := cands[g.attempts%len(cands)]
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorKey, req.CoordinatorType = cl.cfg.Group, 0
	req.CoordinatorKeys = []string{cl.cfg.Group}
	round := g.round
	cl.request(addr, connGeneral, req, cl.cfg.RequestTimeout, func(resp kmsg.Response, err error) {
		if g.round != round || cl.closed {
			return
		}
		if err == nil {
			r := resp.(*kmsg.FindCoordinatorResponse)
			code, host, port := r.ErrorCode, r.Host, r.Port
			if len(r.Coordinators) > 0 {
				c := r.Coordinators[0]
				code, host, port = c.ErrorCode, c.Host, c.Port
			}
			err = kerr.ErrorForCode(code)
			if err == nil {
				g.attempts = 0
				g.coordinator = joinHostPort(host, port)
				if resume && g.memberID != "" {
					g.phase = phaseStable
					g.sendHeartbeat()
				} else {
					g.join()
				}
				return
			}
		}
		cl.log.Debug("find coordinator failed", "group", cl.cfg.Group, "err", err)
		g.later(g.backoff(), func() { g.find(resume) })
	})
}

// coordinatorLost: the coordinator did not answer or moved.
func (g *groupMember) coordinatorLost(err error) {
	g.cl.log.Debug("group coordinator lost", "group", g.cl.cfg.Group, "err", err)
	resume := g.phase == phaseStable
	g.round++
	g.later(g.backoff(), func() { g.find(resume) })
}

// coordinatorMoved reports the errors that mean "find the coordinator
// again".
func coordinatorMoved(err error) bool {
	return errors.Is(err, kerr.NotCoordinator) || errors.Is(err, kerr.CoordinatorNotAvailable) ||
		errors.Is(err, kerr.CoordinatorLoadInProgress) || errors.Is(err, ErrConnLost) || errors.Is(err, errNotSent) ||
		errors.Is(err, kerr.RequestTimedOut)
}

func (g *groupMember) join() {
	cl := g.cl
	g.round++
	g.membership++
	g.phase = phaseJoining
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = slices.Clone(cl.cfg.Topics)
	req := kmsg.NewPtrJoinGroupRequest()
	req.Group, req.MemberID, req.ProtocolType = cl.cfg.Group, g.memberID, "consumer"
	req.SessionTimeoutMillis = int32(cl.cfg.SessionTimeout / time.Millisecond)
	req.RebalanceTimeoutMillis = int32(cl.cfg.RebalanceTimeout / time.Millisecond)
	if cl.cfg.GroupInstanceID != "" {
		req.InstanceID = kmsg.StringPtr(cl.cfg.GroupInstanceID)
	}
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = cl.cfg.Assignor, meta.AppendTo(nil)
	req.Protocols = append(req.Protocols, p)
	round := g.round
	cl.request(g.coordinator, connGroup, req, cl.cfg.RebalanceTimeout+cl.cfg.RequestTimeout, func(resp kmsg.Response, err error) {
		if g.round != round || cl.closed {
			return
		}
		var r *kmsg.JoinGroupResponse
		if err == nil {
			r = resp.(*kmsg.JoinGroupResponse)
			err = kerr.ErrorForCode(r.ErrorCode)
		}
		switch {
		case err == nil:
		case errors.Is(err, kerr.MemberIDRequired):
			g.memberID = r.MemberID
			g.join()
			return
		case errors.Is(err, kerr.UnknownMemberID):
			g.memberID = ""
			g.later(g.backoff(), g.join)
			return
		case errors.Is(err, kerr.FencedInstanceID):
			g.fenced(err)
			return
		case coordinatorMoved(err):
			g.coordinatorLost(err)
			return
		default:
			cl.log.Debug("join group failed", "group", cl.cfg.Group, "err", err)
			g.later(g.backoff(), g.join)
			return
		}
		g.attempts = 0
		g.memberID, g.generation = r.MemberID, r.Generation
		if r.Protocol != nil {
			g.protocol = *r.Protocol
		}
		g.phase = phaseSyncing
		cl.log.Debug("joined group", "group", cl.cfg.Group, "member", g.memberID, "generation", g.generation, "leader", r.LeaderID == r.MemberID)
		if r.LeaderID == r.MemberID {
			g.lead(r.Members, 0)
			return
		}
		g.sync(nil)
	})
}

// lead computes the assignment as the group's leader member, once the
// partition counts of every subscribed topic are known (waiting for
// metadata a few times, then assigning what is known).
func (g *groupMember) lead(members []kmsg.JoinGroupResponseMember, waited int) {
	cl := g.cl
	var subs []subscription
	counts := map[string]int32{}
	missing := false
	for _, m := range members {
		var meta kmsg.ConsumerMemberMetadata
		if err := meta.ReadFrom(m.ProtocolMetadata); err != nil {
			cl.log.Warn("group member's subscription is malformed; it gets nothing", "member", m.MemberID, "err", err)
			subs = append(subs, subscription{member: m.MemberID})
			continue
		}
		subs = append(subs, subscription{member: m.MemberID, topics: meta.Topics})
		for _, t := range meta.Topics {
			tm := cl.topics[t]
			if tm == nil || tm.err != nil {
				if !cl.wantTopics[t] {
					cl.wantTopics[t] = true
				}
				missing = true
				continue
			}
			counts[t] = int32(len(tm.partitions))
		}
	}
	if missing && waited < 20 {
		cl.needMetadata()
		g.later(cl.cfg.RetryBackoff, func() { g.lead(members, waited+1) })
		return
	}
	var a assignment
	if g.protocol == AssignorRoundRobin {
		a = assignRoundRobin(subs, counts)
	} else {
		a = assignRange(subs, counts)
	}
	var out []kmsg.SyncGroupRequestGroupAssignment
	for _, s := range subs {
		ma := kmsg.NewConsumerMemberAssignment()
		for _, t := range slices.Sorted(maps.Keys(a[s.member])) {
			at := kmsg.NewConsumerMemberAssignmentTopic()
			at.Topic, at.Partitions = t, a[s.member][t]
			ma.Topics = append(ma.Topics, at)
		}
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID, ga.MemberAssignment = s.member, ma.AppendTo(nil)
		out = append(out, ga)
	}
	g.sync(out)
}

func (g *groupMember) sync(assignments []kmsg.SyncGroupRequestGroupAssignment) {
	cl := g.cl
	req := kmsg.NewPtrSyncGroupRequest()
	req.Group, req.Generation, req.MemberID = cl.cfg.Group, g.generation, g.memberID
	if cl.cfg.GroupInstanceID != "" {
		req.InstanceID = kmsg.StringPtr(cl.cfg.GroupInstanceID)
	}
	req.ProtocolType, req.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr(g.protocol)
	req.GroupAssignment = assignments
	round := g.round
	cl.request(g.coordinator, connGroup, req, cl.cfg.RebalanceTimeout+cl.cfg.RequestTimeout, func(resp kmsg.Response, err error) {
		if g.round != round || cl.closed {
			return
		}
		var r *kmsg.SyncGroupResponse
		if err == nil {
			r = resp.(*kmsg.SyncGroupResponse)
			err = kerr.ErrorForCode(r.ErrorCode)
		}
		switch {
		case err == nil:
		case errors.Is(err, kerr.UnknownMemberID):
			g.memberID = ""
			g.join()
			return
		case errors.Is(err, kerr.FencedInstanceID):
			g.fenced(err)
			return
		case coordinatorMoved(err):
			g.coordinatorLost(err)
			return
		default: // REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, ...
			g.join()
			return
		}
		var ma kmsg.ConsumerMemberAssignment
		var owned []topicPartition
		if len(r.MemberAssignment) > 0 {
			if err := ma.ReadFrom(r.MemberAssignment); err != nil {
				cl.log.Warn("assignment from the group leader is malformed; rejoining", "err", err)
				g.later(g.backoff(), g.join)
				return
			}
		}
		for _, t := range ma.Topics {
			for _, p := range t.Partitions {
				tp := topicPartition{t.Topic, p}
				if !slices.Contains(owned, tp) {
					owned = append(owned, tp)
				}
			}
		}
		slices.SortFunc(owned, func(a, b topicPartition) int {
			if a.less(b) {
				return -1
			}
			if b.less(a) {
				return 1
			}
			return 0
		})
		g.assign(owned)
	})
}

// assign starts owning partitions: history, committed offsets, fetching.
func (g *groupMember) assign(owned []topicPartition) {
	cl := g.cl
	g.phase, g.owned = phaseStable, owned
	cl.log.Debug("group assignment", "group", cl.cfg.Group, "member", g.memberID, "generation", g.generation, "partitions", len(owned))
	for _, topic := range ownedTopics(owned) {
		ps := partitionsOf(owned, topic)
		op := history.Op{ID: cl.nextOp(), Type: history.Invoke, F: history.Assign, Topic: topic, Partition: history.NoPartition,
			Offset: history.NoOffset, Group: cl.cfg.Group, Member: g.memberID, Generation: g.generation, Partitions: ps}
		cl.record(op)
		op.Type = history.OK
		cl.record(op)
	}
	g.scheduleHeartbeat()
	if cl.cfg.AutoCommit {
		g.scheduleAutoCommit()
	}
	g.fetchCommitted(owned)
}

// fetchCommitted asks the coordinator for the committed offsets of
// owned and starts fetching each from there.
func (g *groupMember) fetchCommitted(owned []topicPartition) {
	cl := g.cl
	if len(owned) == 0 {
		return
	}
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = cl.cfg.Group
	rg := kmsg.NewOffsetFetchRequestGroup()
	rg.Group = cl.cfg.Group
	ops := map[topicPartition]history.Op{}
	for _, topic := range ownedTopics(owned) {
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = topic, partitionsOf(owned, topic)
		req.Topics = append(req.Topics, rt)
		gt := kmsg.NewOffsetFetchRequestGroupTopic()
		gt.Topic, gt.Partitions = topic, rt.Partitions
		rg.Topics = append(rg.Topics, gt)
	}
	req.Groups = append(req.Groups, rg)
	for _, tp := range owned {
		op := history.Op{ID: cl.nextOp(), Type: history.Invoke, F: history.FetchOffset, Topic: tp.topic, Partition: tp.partition,
			Offset: history.NoOffset, Group: cl.cfg.Group, Member: g.memberID, Generation: g.generation}
		cl.record(op)
		ops[tp] = op
	}
	membership := g.membership
	cl.request(g.coordinator, connGroup, req, cl.cfg.RequestTimeout, func(resp kmsg.Response, err error) {
		got := map[topicPartition]int64{}
		if err == nil {
			r := resp.(*kmsg.OffsetFetchResponse)
			code := r.ErrorCode
			topics := r.Topics
			if len(r.Groups) > 0 {
				code = r.Groups[0].ErrorCode
				topics = nil
				for _, t := range r.Groups[0].Topics {
					ft := kmsg.NewOffsetFetchResponseTopic()
					ft.Topic = t.Topic
					for _, p := range t.Partitions {
						fp := kmsg.NewOffsetFetchResponseTopicPartition()
						fp.Partition, fp.Offset, fp.ErrorCode = p.Partition, p.Offset, p.ErrorCode
						ft.Partitions = append(ft.Partitions, fp)
					}
					topics = append(topics, ft)
				}
			}
			err = kerr.ErrorForCode(code)
			for _, t := range topics {
				for _, p := range t.Partitions {
					if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil && err == nil {
						err = perr
					}
					got[topicPartition{t.Topic, p.Partition}] = p.Offset
				}
			}
		}
		for _, tp := range owned {
			op := ops[tp]
			off, ok := got[tp]
			switch {
			case err == nil && ok:
				op.Type = history.OK
				if off >= 0 {
					op.Offset = off
				}
			case err != nil && errors.Is(err, errNotSent):
				op.Type, op.Error = history.Fail, errorText(err)
			case err != nil:
				op.Type, op.Error = history.Info, errorText(err)
			default:
				op.Type, op.Error = history.Fail, "partition missing from the answer"
			}
			cl.record(op)
		}
		if g.membership != membership || cl.closed {
			return
		}
		if err != nil {
			// Keep the membership and ask again (the heartbeat finds a
			// moved coordinator).
			cl.h.AfterFunc(g.backoff(), func() { g.fetchCommittedLater(owned, membership) })
			return
		}
		for _, tp := range owned {
			off := got[tp]
			g.committed[tp] = off
			start := Earliest
			switch {
			case off >= 0:
				start = At(off)
			case cl.cfg.OffsetReset == ResetLatest:
				start = Latest
			}
			cl.Assign(tp.topic, tp.partition, start)
		}
		if cl.cfg.OnAssigned != nil {
			for _, topic := range ownedTopics(owned) {
				cl.cfg.OnAssigned(topic, partitionsOf(owned, topic))
			}
		}
	})
}

// fetchCommittedLater retries fetchCommitted once a coordinator is known
// again, as long as the membership is the same.
func (g *groupMember) fetchCommittedLater(owned []topicPartition, membership int) {
	cl := g.cl
	if g.membership != membership || cl.closed {
		return
	}
	if g.coordinator == "" {
		cl.h.AfterFunc(cl.cfg.RetryBackoff, func() { g.fetchCommittedLater(owned, membership) })
		return
	}
	g.fetchCommitted(owned)
}

func (g *groupMember) scheduleHeartbeat() {
	if g.heartbeat != nil {
		g.heartbeat.Stop()
	}
	round := g.round
	g.heartbeat = g.cl.h.AfterFunc(g.cl.cfg.HeartbeatInterval, func() {
		if g.round == round && g.phase == phaseStable && !g.cl.closed {
			g.sendHeartbeat()
		}
	})
}

func (g *groupMember) sendHeartbeat() {
	cl := g.cl
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.Generation, req.MemberID = cl.cfg.Group, g.generation, g.memberID
	if cl.cfg.GroupInstanceID != "" {
		req.InstanceID = kmsg.StringPtr(cl.cfg.GroupInstanceID)
	}
	round := g.round
	cl.request(g.coordinator, connGroup, req, cl.cfg.RequestTimeout, func(resp kmsg.Response, err error) {
		if g.round != round || cl.closed || g.phase != phaseStable {
			return
		}
		if err == nil {
			err = kerr.ErrorForCode(resp.(*kmsg.HeartbeatResponse).ErrorCode)
		}
		switch {
		case err == nil:
			g.scheduleHeartbeat()
		case errors.Is(err, kerr.RebalanceInProgress):
			// Eager protocol: commit what was consumed, give everything
			// up, rejoin.
			g.revoke(true, g.join)
		case errors.Is(err, kerr.UnknownMemberID):
			g.revoke(false, func() { g.memberID = ""; g.join() })
		case errors.Is(err, kerr.FencedInstanceID):
			g.revoke(false, func() { g.fenced(err) })
		case coordinatorMoved(err):
			g.coordinatorLost(err)
		default: // ILLEGAL_GENERATION and the rest: fenced out of this generation
			g.revoke(false, g.join)
		}
	})
}

func (g *groupMember) fenced(err error) {
	g.phase = phaseFenced
	g.round++
	g.membership++
	g.cl.log.Error("group member fenced: another process uses its group.instance.id", "group", g.cl.cfg.Group, "instance", g.cl.cfg.GroupInstanceID, "err", err)
}

// revoke gives up every owned partition (committing their positions
// first when commit and AutoCommit are set), then calls then.
func (g *groupMember) revoke(commit bool, then func()) {
	cl := g.cl
	membership := g.membership
	finish := func(error) {
		if g.membership != membership || cl.closed {
			return
		}
		owned := g.owned
		g.owned = nil
		for _, topic := range ownedTopics(owned) {
			ps := partitionsOf(owned, topic)
			op := history.Op{ID: cl.nextOp(), Type: history.Invoke, F: history.Revoke, Topic: topic, Partition: history.NoPartition,
				Offset: history.NoOffset, Group: cl.cfg.Group, Member: g.memberID, Generation: g.generation, Partitions: ps}
			cl.record(op)
			op.Type = history.OK
			cl.record(op)
			for _, p := range ps {
				cl.Unassign(topic, p)
			}
			if cl.cfg.OnRevoked != nil {
				cl.cfg.OnRevoked(topic, ps)
			}
		}
		if g.autoTimer != nil {
			g.autoTimer.Stop()
		}
		then()
	}
	if commit && cl.cfg.AutoCommit {
		g.commitPositions(finish)
		return
	}
	finish(nil)
}

func (g *groupMember) scheduleAutoCommit() {
	if g.autoTimer != nil {
		g.autoTimer.Stop()
	}
	round := g.round
	g.autoTimer = g.cl.h.AfterFunc(g.cl.cfg.AutoCommitInterval, func() {
		if g.round != round || g.phase != phaseStable || g.cl.closed {
			return
		}
		g.commitPositions(func(error) {})
		g.scheduleAutoCommit()
	})
}

// commitPositions commits the consumed position of every owned partition
// that moved since its last commit.
func (g *groupMember) commitPositions(done func(error)) {
	offsets := map[topicPartition]int64{}
	for _, tp := range g.owned {
		pos, _, ok := g.cl.Position(tp.topic, tp.partition)
		if last, known := g.committed[tp]; ok && (!known || pos > last) {
			offsets[tp] = pos
		}
	}
	g.commit(offsets, done)
}

// commit sends one OffsetCommit for offsets (at this generation).
func (g *groupMember) commit(offsets map[topicPartition]int64, done func(error)) {
	cl := g.cl
	if len(offsets) == 0 {
		done(nil)
		return
	}
	if g.coordinator == "" || g.phase != phaseStable {
		done(fmt.Errorf("%w: not in a stable group", kerr.RebalanceInProgress))
		return
	}
	tps := slices.SortedFunc(maps.Keys(offsets), func(a, b topicPartition) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation, req.MemberID = cl.cfg.Group, g.generation, g.memberID
	if cl.cfg.GroupInstanceID != "" {
		req.InstanceID = kmsg.StringPtr(cl.cfg.GroupInstanceID)
	}
	req.RetentionTimeMillis = -1
	ops := make([]history.Op, len(tps))
	for i, tp := range tps {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != tp.topic {
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic = tp.topic
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = tp.partition, offsets[tp], -1
		rt := &req.Topics[len(req.Topics)-1]
		rt.Partitions = append(rt.Partitions, rp)
		ops[i] = history.Op{ID: cl.nextOp(), Type: history.Invoke, F: history.Commit, Topic: tp.topic, Partition: tp.partition,
			Offset: offsets[tp], Group: cl.cfg.Group, Member: g.memberID, Generation: g.generation}
		cl.record(ops[i])
	}
	cl.request(g.coordinator, connGroup, req, cl.cfg.RequestTimeout, func(resp kmsg.Response, err error) {
		codes := map[topicPartition]int16{}
		if err == nil {
			for _, t := range resp.(*kmsg.OffsetCommitResponse).Topics {
				for _, p := range t.Partitions {
					codes[topicPartition{t.Topic, p.Partition}] = p.ErrorCode
				}
			}
		}
		var first error
		for i, tp := range tps {
			op := ops[i]
			perr := err
			if perr == nil {
				if c, ok := codes[tp]; !ok {
					perr = fmt.Errorf("%w: no result for %s-%d", ErrProtocol, tp.topic, tp.partition)
				} else {
					perr = kerr.ErrorForCode(c)
				}
			}
			switch {
			case perr == nil:
				op.Type = history.OK
				if offsets[tp] > g.committed[tp] {
					g.committed[tp] = offsets[tp]
				}
			case errors.Is(perr, errNotSent):
				op.Type, op.Error = history.Fail, errorText(perr)
			case errors.Is(perr, ErrConnLost) || errors.Is(perr, ErrProtocol) || errors.Is(perr, kerr.RequestTimedOut) ||
				errors.Is(perr, kerr.CoordinatorNotAvailable) || errors.Is(perr, kerr.NotCoordinator) || errors.Is(perr, kerr.UnknownServerError):
				// The write may have reached __consumer_offsets.
				op.Type, op.Error = history.Info, errorText(perr)
			default:
				op.Type, op.Error = history.Fail, errorText(perr)
			}
			cl.record(op)
			if perr != nil && first == nil {
				first = perr
			}
		}
		done(first)
	})
}

// Commit commits the consumed position of every owned partition (manual
// commits: Config.AutoCommit off).
func (cl *Client) Commit(done func(error)) {
	if cl.group == nil {
		done(ErrNoGroup)
		return
	}
	cl.group.commitPositions(done)
}

// CommitOffset commits offset (the next to consume) for one partition.
func (cl *Client) CommitOffset(topic string, partition int32, offset int64, done func(error)) {
	if cl.group == nil {
		done(ErrNoGroup)
		return
	}
	cl.group.commit(map[topicPartition]int64{{topic, partition}: offset}, done)
}

// LeaveGroup gives up the assignment (committing first with AutoCommit),
// sends LeaveGroup and stops the membership; done runs after.
func (cl *Client) LeaveGroup(done func()) {
	g := cl.group
	if g == nil || g.phase == phaseIdle {
		done()
		return
	}
	g.revoke(true, func() {
		g.round++
		g.membership++
		g.phase = phaseIdle
		g.stopTimers()
		if g.coordinator == "" || g.memberID == "" {
			done()
			return
		}
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group, req.MemberID = cl.cfg.Group, g.memberID
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = g.memberID
		if cl.cfg.GroupInstanceID != "" {
			m.InstanceID = kmsg.StringPtr(cl.cfg.GroupInstanceID)
		}
		req.Members = append(req.Members, m)
		cl.request(g.coordinator, connGroup, req, cl.cfg.RequestTimeout, func(kmsg.Response, error) { done() })
	})
}

func (g *groupMember) stopTimers() {
	for _, t := range []host.Timer{g.heartbeat, g.autoTimer, g.retry} {
		if t != nil {
			t.Stop()
		}
	}
}

func ownedTopics(tps []topicPartition) []string {
	var out []string
	for _, tp := range tps {
		if len(out) == 0 || out[len(out)-1] != tp.topic {
			out = append(out, tp.topic)
		}
	}
	return out
}

func partitionsOf(tps []topicPartition, topic string) []int32 {
	var out []int32
	for _, tp := range tps {
		if tp.topic == topic {
			out = append(out, tp.partition)
		}
	}
	return out
}
