package broker

// Leadership recovery: a replica whose log reopened shorter than its
// checkpointed high watermark (p.suspect: power loss with unsynced data,
// a torn or rotten tail cut by recovery) has lost committed records. When
// the controller elects it anyway — typically as the last ISR member, the
// case Kafka's KIP-966 addresses — it must not serve its short log and
// make the followers truncate to it. Instead it first asks every other
// registered replica — fenced ones too: a broker whose heartbeats lapsed
// during a pause is fenced but still holds its log — how far its log
// matches the committed one: an
// OffsetForLeaderEpoch for the epoch of the checkpointed high watermark
// (hwEpoch), which a follower answers from its own log for a replica that
// claims a leader epoch at least as new as its own (key23). By the epoch
// invariant, a replica whose hwEpoch data ends at offset X holds the
// committed log up to X.
//
// If a usable replica holds more than this one, the leader adds it to the
// ISR and steps down to it (AlterPartition, then AlterPartition.StepDown);
// if the one holding the most is fenced, it waits for it to be unfenced,
// up to recoveryMaxWait;
// otherwise — nobody answers within the recovery wait, or nobody holds
// more — it leads with what it has, as Kafka does, and whatever it lacks
// is lost. Until then it answers NOT_LEADER_OR_FOLLOWER to everyone, so
// no follower truncates to it.

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/host"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// recoveryWait bounds how long a suspect leader waits for the other
// replicas' answers; recoveryMaxWait how long it waits for a replica that
// answered with more of the committed log, but is fenced, to come back
// (a broker whose heartbeats lapsed during a pause is fenced yet holds
// the data: leading without it would truncate it away).
const (
	recoveryWait    = 3 * time.Second
	recoveryMaxWait = 10 * time.Second
)

// recovery is a suspect leader's inquiry.
type recovery struct {
	answers  map[int32]int64 // replica → end of its log matching the committed one
	pending  int
	deadline time.Duration // Monotonic: stop waiting for a fenced replica
	timer    host.Timer
	probes   []host.Conn
	deciding bool
	done     bool
}

// startRecovery begins the inquiry for the suspect leader p.
func (b *Broker) startRecovery(p *partition) {
	ls := p.lead
	rc := &recovery{answers: map[int32]int64{}, deadline: b.h.Monotonic() + recoveryMaxWait}
	ls.recovery = rc
	img := b.follower.Image()
	b.log.Warn("leading a partition whose log lost committed data: asking the other replicas first",
		"topic", p.topic.name, "partition", p.index, "log_end_offset", p.log.LogEndOffset(), "hw_epoch", p.hwEpoch)
	for _, r := range p.replicas {
		// Fenced replicas are asked too: fencing says their heartbeats
		// lapsed, not that their logs are gone.
		br := img.Broker(r)
		if r == b.cfg.NodeID || br == nil {
			continue
		}
		rc.pending++
		b.probe(p, ls, rc, r, br.Addr)
	}
	rc.timer = b.h.AfterFunc(recoveryWait, func() { b.decideRecovery(p, ls, rc) })
	if rc.pending == 0 {
		b.decideRecovery(p, ls, rc)
	}
}

// probe asks replica r (at addr) how far its log matches, retrying until
// the recovery ends.
func (b *Broker) probe(p *partition, ls *leaderState, rc *recovery, r int32, addr string) {
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.Version = 4
	req.ReplicaID = b.cfg.NodeID
	rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
	rt.Topic = p.topic.name
	rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = p.index, p.leaderEpoch, p.hwEpoch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	buf := appendRequest(nil, req, 1, "leader-recovery")
	h := &probeConn{}
	h.onFrame = func(frame []byte) {
		h.conn.Close()
		if rc.done || p.lead != ls {
			return
		}
		resp := kmsg.NewPtrOffsetForLeaderEpochResponse()
		resp.Version = 4
		if len(frame) < 5 || resp.ReadFrom(frame[5:]) != nil || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			b.retryProbe(p, ls, rc, r, addr)
			return
		}
		a := resp.Topics[0].Partitions[0]
		if a.ErrorCode != 0 {
			b.retryProbe(p, ls, rc, r, addr)
			return
		}
		end := int64(-1)
		if a.LeaderEpoch == p.hwEpoch {
			end = a.EndOffset
		}
		if _, seen := rc.answers[r]; !seen {
			rc.pending--
		}
		rc.answers[r] = end
		if rc.pending == 0 {
			b.decideRecovery(p, ls, rc)
		}
	}
	h.onClose = func() {
		if !h.answered && !rc.done && p.lead == ls {
			b.retryProbe(p, ls, rc, r, addr)
		}
	}
	h.conn = b.h.Net().Dial(addr, host.DialOptions{Timeout: time.Second}, h)
	rc.probes = append(rc.probes, h.conn)
	h.conn.Send(buf)
}

func (b *Broker) retryProbe(p *partition, ls *leaderState, rc *recovery, r int32, addr string) {
	b.h.AfterFunc(200*time.Millisecond, func() {
		if !rc.done && p.lead == ls && !b.stopping {
			b.probe(p, ls, rc, r, addr)
		}
	})
}

type probeConn struct {
	conn     host.Conn
	answered bool
	onFrame  func([]byte)
	onClose  func()
}

func (pc *probeConn) OnFrame(_ host.Conn, frame []byte) {
	if pc.answered {
		return
	}
	pc.answered = true
	pc.onFrame(frame)
}

func (pc *probeConn) OnClose(host.Conn, error) { pc.onClose() }

// decideRecovery hands leadership to the replica holding the most of the
// committed log, or leads with this one's.
func (b *Broker) decideRecovery(p *partition, ls *leaderState, rc *recovery) {
	if rc.done || rc.deciding || p.lead != ls {
		return
	}
	img := b.follower.Image()
	best, bestR := p.log.LogEndOffset(), b.cfg.NodeID // among usable replicas
	most, mostR := p.log.LogEndOffset(), b.cfg.NodeID // among all that answered
	for _, r := range slices.Sorted(maps.Keys(rc.answers)) {
		end := rc.answers[r]
		if end > most {
			most, mostR = end, r
		}
		if end > best && img.Usable(r) {
			best, bestR = end, r
		}
	}
	if mostR != bestR && b.h.Monotonic() < rc.deadline {
		// The replica holding the most is fenced: wait for it (its
		// unfencing changes the image; decide again shortly).
		rc.timer.Stop()
		rc.timer = b.h.AfterFunc(200*time.Millisecond, func() { b.decideRecovery(p, ls, rc) })
		return
	}
	if bestR == b.cfg.NodeID {
		b.finishRecovery(p, ls, rc, "no other replica holds more of the committed log")
		return
	}
	rc.deciding = true
	b.log.Warn("handing leadership to a replica holding more of the committed log", "topic", p.topic.name, "partition", p.index, "to", bestR, "its_end", best, "our_end", p.log.LogEndOffset())
	fail := func(err error) {
		rc.deciding = false
		if b.h.Monotonic() < rc.deadline {
			// The controller may be moving (NOT_CONTROLLER, a lost
			// connection): try the hand-over again rather than lead
			// with a log known to be short.
			b.log.Info("hand-over not committed; trying again", "topic", p.topic.name, "partition", p.index, "err", err)
			rc.timer.Stop()
			rc.timer = b.h.AfterFunc(200*time.Millisecond, func() { b.decideRecovery(p, ls, rc) })
			return
		}
		b.log.Info("hand-over not committed; leading with our log", "topic", p.topic.name, "partition", p.index, "err", err)
		b.finishRecovery(p, ls, rc, "hand-over failed")
	}
	grow := append(slices.Clone(p.isr), bestR)
	b.follower.Submit(metadata.Record{Type: metadata.TypeAlterPartition, AlterPartition: &metadata.AlterPartition{
		Topic: p.topic.name, Partition: p.index, BrokerID: b.cfg.NodeID, BrokerEpoch: b.follower.BrokerEpoch(),
		LeaderEpoch: p.leaderEpoch, PartitionEpoch: p.partitionEpoch, ISR: grow,
	}}, func(res metadata.Result, err error) {
		if p.lead != ls || rc.done {
			return
		}
		if err == nil {
			err = res.Err
		}
		if err != nil || res.Partition == nil {
			fail(fmt.Errorf("grow ISR: %w", err))
			return
		}
		isr := slices.DeleteFunc(slices.Clone(res.Partition.ISR), func(r int32) bool { return r == b.cfg.NodeID })
		b.follower.Submit(metadata.Record{Type: metadata.TypeAlterPartition, AlterPartition: &metadata.AlterPartition{
			Topic: p.topic.name, Partition: p.index, BrokerID: b.cfg.NodeID, BrokerEpoch: b.follower.BrokerEpoch(),
			LeaderEpoch: res.Partition.LeaderEpoch, PartitionEpoch: res.Partition.PartitionEpoch, ISR: isr, StepDown: true,
		}}, func(res metadata.Result, err error) {
			if p.lead != ls || rc.done {
				return
			}
			if err == nil {
				err = res.Err
			}
			if err != nil {
				fail(fmt.Errorf("step down: %w", err))
			}
			// Success: the image makes us a follower (becomeFollower).
		})
	})
}

// finishRecovery ends the inquiry; this broker leads with its own log.
func (b *Broker) finishRecovery(p *partition, ls *leaderState, rc *recovery, why string) {
	rc.done = true
	rc.timer.Stop()
	for _, c := range rc.probes {
		c.Close()
	}
	ls.recovery = nil
	p.suspect = false
	leo := p.log.LogEndOffset()
	ls.epochStart = leo
	if err := p.log.AssignEpoch(p.leaderEpoch, leo); err != nil {
		b.log.Warn("assigning leader epoch failed", "topic", p.topic.name, "partition", p.index, "err", err)
	}
	b.log.Warn("leading with our own log after recovery", "topic", p.topic.name, "partition", p.index, "log_end_offset", leo, "why", why)
	b.advanceHW(p)
	b.h.Post(p.wake)
}

// endRecovery abandons an inquiry when leadership moves.
func (ls *leaderState) endRecovery() {
	rc := ls.recovery
	if rc == nil {
		return
	}
	rc.done = true
	if rc.timer != nil {
		rc.timer.Stop()
	}
	for _, c := range rc.probes {
		c.Close()
	}
	ls.recovery = nil
}
