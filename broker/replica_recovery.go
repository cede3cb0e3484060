package broker

// Leadership recovery: a replica whose log may have lost committed
// records (p.suspect) — it reopened shorter than its checkpointed high
// watermark, its recovery cut a torn or rotten tail, or a truncation hit
// rot and dropped the log — must not serve its short log and make the
// followers truncate to it when the controller elects it anyway
// (typically as the last ISR member: Kafka's "last replica standing",
// which KIP-966 addresses by keeping such a replica out of the eligible
// leaders and recovering from the others). Instead it first asks every
// other replica of the partition — fenced ones too: a broker whose
// heartbeats lapsed during a pause is fenced but still holds its log —
// for the newest leader epoch in its log and its log end offset: an
// OffsetForLeaderEpoch for epoch MaxInt32, which a follower answers from
// its own log for its current leader (key23).
//
// Logs are ranked as Raft ranks them (§5.4.1): the newer last epoch
// wins, then the longer log. A follower holds an epoch only through a
// batch that leader wrote, and below that batch its log is the leader's
// (KIP-101/279 truncation), so among replicas that did not lose data
// the best-ranked one holds every committed record the others hold.
//
// The suspect waits until every other replica has answered — a replica
// that does not answer may hold the only copy of a committed record —
// and then, if the best-ranked one ranks above its own log, adds it to
// the ISR and steps down to it (AlterPartition, then
// AlterPartition.StepDown), waiting for it to be unfenced if it is
// fenced; otherwise it leads with its own log. Only a topic that allows
// unclean leader election gives up waiting (after recoveryWait, or
// recoveryMaxWait for a fenced replica holding more) and leads with the
// best it heard of. Until it decides it answers NOT_LEADER_OR_FOLLOWER to
// everyone, so no follower truncates to it.

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire"
)

// recoveryWait bounds how long a suspect leader of a topic that allows
// unclean leader election waits for the other replicas' answers;
// recoveryMaxWait how long it waits for a replica that answered with
// more of the log, but is fenced, to come back. Other topics wait as long
// as it takes: leading without an answer may truncate committed records
// away.
const (
	recoveryWait    = 3 * time.Second
	recoveryMaxWait = 10 * time.Second
)

// logPos ranks a replica's log: its newest leader epoch, then its end.
type logPos struct {
	epoch int32
	end   int64
}

func (a logPos) above(b logPos) bool {
	return a.epoch > b.epoch || (a.epoch == b.epoch && a.end > b.end)
}

// recovery is a suspect leader's inquiry.
type recovery struct {
	answers  map[int32]logPos // replica → its log's newest epoch and end
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
	rc := &recovery{answers: map[int32]logPos{}, deadline: b.h.Monotonic() + recoveryMaxWait}
	ls.recovery = rc
	img := b.follower.Image()
	b.log.Warn("leading a partition whose log lost committed data: asking the other replicas first",
		"topic", p.topic.name, "partition", p.index, "log_end_offset", p.log.LogEndOffset(), "suspect_hw", p.suspectHW)
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
	if p.topic.cfg.UncleanLeaderElectionEnable {
		rc.timer = b.h.AfterFunc(recoveryWait, func() { b.decideRecovery(p, ls, rc) })
	}
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
	rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = p.index, p.leaderEpoch, math.MaxInt32
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	buf := wire.AppendRequest(nil, req, 1, "leader-recovery")
	h := &probeConn{}
	h.onFrame = func(frame []byte) {
		h.conn.Close()
		if rc.done || p.lead != ls {
			return
		}
		kresp, err := wire.ReadResponse(frame, req, 1)
		resp, _ := kresp.(*kmsg.OffsetForLeaderEpochResponse)
		if err != nil || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			b.retryProbe(p, ls, rc, r, addr)
			return
		}
		a := resp.Topics[0].Partitions[0]
		pos := logPos{a.LeaderEpoch, a.EndOffset}
		switch a.ErrorCode {
		case 0:
		case kerr.KafkaStorageError.Code:
			pos = logPos{-1, -1} // its copy is offline: it holds nothing to serve
		default:
			b.retryProbe(p, ls, rc, r, addr)
			return
		}
		if _, seen := rc.answers[r]; !seen {
			rc.pending--
		}
		rc.answers[r] = pos
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

// decideRecovery hands leadership to the replica whose log ranks best,
// or leads with this one's.
func (b *Broker) decideRecovery(p *partition, ls *leaderState, rc *recovery) {
	if rc.done || rc.deciding || p.lead != ls {
		return
	}
	unclean := p.topic.cfg.UncleanLeaderElectionEnable
	if rc.pending > 0 && !unclean {
		return // every replica must answer first; the last answer decides
	}
	img := b.follower.Image()
	own := logPos{-1, p.log.LogEndOffset()}
	if e, ok := p.log.LatestEpoch(); ok {
		own.epoch = e
	}
	best, bestR := own, b.cfg.NodeID // among usable replicas
	most, mostR := own, b.cfg.NodeID // among all that answered
	for _, r := range slices.Sorted(maps.Keys(rc.answers)) {
		pos := rc.answers[r]
		if pos.above(most) {
			most, mostR = pos, r
		}
		if pos.above(best) && img.Usable(r) {
			best, bestR = pos, r
		}
	}
	if mostR != bestR && (!unclean || b.h.Monotonic() < rc.deadline) {
		// The replica holding the most is fenced: wait for it (its
		// unfencing changes the image; decide again shortly).
		b.decideLater(p, ls, rc)
		return
	}
	if bestR == b.cfg.NodeID {
		b.finishRecovery(p, ls, rc, "no other replica holds more of the committed log")
		return
	}
	rc.deciding = true
	b.log.Warn("handing leadership to a replica holding more of the committed log", "topic", p.topic.name, "partition", p.index,
		"to", bestR, "its_epoch", best.epoch, "its_end", best.end, "our_epoch", own.epoch, "our_end", own.end)
	fail := func(err error) {
		rc.deciding = false
		if !unclean || b.h.Monotonic() < rc.deadline {
			// The controller may be moving (NOT_CONTROLLER, a lost
			// connection): try the hand-over again rather than lead
			// with a log known to be short.
			b.log.Info("hand-over not committed; trying again", "topic", p.topic.name, "partition", p.index, "err", err)
			b.decideLater(p, ls, rc)
			return
		}
		b.log.Info("hand-over not committed; leading with our log", "topic", p.topic.name, "partition", p.index, "err", err)
		b.finishRecovery(p, ls, rc, "hand-over failed")
	}
	stepDown := func(leaderEpoch, partitionEpoch int32, isr []int32) {
		to := bestR
		b.follower.Submit(metadata.Record{Type: metadata.TypeAlterPartition, AlterPartition: &metadata.AlterPartition{
			Topic: p.topic.name, Partition: p.index, BrokerID: b.cfg.NodeID, BrokerEpoch: b.follower.BrokerEpoch(),
			LeaderEpoch: leaderEpoch, PartitionEpoch: partitionEpoch, StepDown: true, StepDownTo: &to,
			ISR: slices.DeleteFunc(slices.Clone(isr), func(r int32) bool { return r == b.cfg.NodeID }),
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
	}
	if slices.Contains(p.isr, bestR) {
		stepDown(p.leaderEpoch, p.partitionEpoch, p.isr)
		return
	}
	b.follower.Submit(metadata.Record{Type: metadata.TypeAlterPartition, AlterPartition: &metadata.AlterPartition{
		Topic: p.topic.name, Partition: p.index, BrokerID: b.cfg.NodeID, BrokerEpoch: b.follower.BrokerEpoch(),
		LeaderEpoch: p.leaderEpoch, PartitionEpoch: p.partitionEpoch, ISR: append(slices.Clone(p.isr), bestR),
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
		stepDown(res.Partition.LeaderEpoch, res.Partition.PartitionEpoch, res.Partition.ISR)
	})
}

// decideLater runs decideRecovery again shortly.
func (b *Broker) decideLater(p *partition, ls *leaderState, rc *recovery) {
	if rc.timer != nil {
		rc.timer.Stop()
	}
	rc.timer = b.h.AfterFunc(200*time.Millisecond, func() { b.decideRecovery(p, ls, rc) })
}

// finishRecovery ends the inquiry; this broker leads with its own log.
func (b *Broker) finishRecovery(p *partition, ls *leaderState, rc *recovery, why string) {
	rc.done = true
	if rc.timer != nil {
		rc.timer.Stop()
	}
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
