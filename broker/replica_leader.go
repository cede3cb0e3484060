package broker

// The partition leader's side of replication (Kafka's Partition): it
// tracks each follower's log end offset and last caught-up time from
// their fetches, moves the high watermark, parks acks=all produces until
// the high watermark covers them, and proposes ISR changes to the
// controller (AlterPartition), one at a time per partition.
//
// High watermark = min log end offset over the maximal ISR (the committed
// ISR plus a pending expansion, KIP-497), the leader's own contribution
// being min(LogEndOffset, RecoveryPoint) when the topic syncs every append;
// it never decreases while this broker leads, and it does not move while
// the committed ISR is smaller than min(min.insync.replicas, replicas)
// (KIP-966's strict min-ISR rule, Kafka 4.x), so a record is visible to
// consumers only once min.insync.replicas replicas hold it.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/host"
)

// leaderState is a partition's state while this broker leads it.
type leaderState struct {
	// epochStart is the log end offset when this leadership began: a
	// follower joins the ISR only once it has reached it.
	epochStart int64
	followers  []*replicaState // every other replica, in replica order
	// alterInFlight: an AlterPartition is awaiting its verdict.
	// pendingISR is the ISR an expansion proposed, against partition epoch
	// pendingEpoch: until the controller's answer or an image past that
	// epoch settles it, the controller may have committed it, so the high
	// watermark counts its members too (Kafka's maximal ISR), and no other
	// ISR change is proposed.
	alterInFlight bool
	pendingISR    []int32
	pendingEpoch  int32
	// localDropped: followers bugzoo isr-shrink-without-controller
	// removed from the ISR locally.
	localDropped []int32
	waits        []*produceWait
	// recovery is the inquiry of a suspect leader (replica_recovery.go);
	// while it runs the partition serves nobody.
	recovery *recovery
}

// replicaState is what the leader knows of one follower.
type replicaState struct {
	id  int32
	leo int64 // -1: unknown since this leadership began
	// Kafka's caught-up rule: a fetch at offset >= the leader's log end
	// offset catches up now; a fetch at offset >= the leader's log end
	// offset at the previous fetch catches up as of that fetch.
	lastCaughtUp      time.Duration
	lastFetchLeaderLE int64
	lastFetchTime     time.Duration
}

func (ls *leaderState) follower(id int32) *replicaState {
	for _, f := range ls.followers {
		if f.id == id {
			return f
		}
	}
	return nil
}

// produceWait is an acks=all produce waiting for the high watermark.
type produceWait struct {
	lastOffset int64
	timer      host.Timer
	done       func(e *kerr.Error)
	finished   bool
}

func (w *produceWait) finish(e *kerr.Error) {
	if w.finished {
		return
	}
	w.finished = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.done(e)
}

// parkProduce answers done once the high watermark passes lastOffset
// (nil, or NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR is then below
// min.insync.replicas), at the timeout (REQUEST_TIMED_OUT) or when this
// broker stops leading (NOT_LEADER_OR_FOLLOWER).
func (b *Broker) parkProduce(p *partition, lastOffset int64, timeout time.Duration, done func(e *kerr.Error)) {
	w := &produceWait{lastOffset: lastOffset, done: done}
	p.lead.waits = append(p.lead.waits, w)
	w.timer = b.h.AfterFunc(timeout, func() {
		if p.lead != nil {
			p.lead.waits = slices.DeleteFunc(p.lead.waits, func(x *produceWait) bool { return x == w })
		}
		w.finish(kerr.RequestTimedOut)
	})
	b.completeProduceWaits(p)
}

func (b *Broker) completeProduceWaits(p *partition) {
	ls := p.lead
	if ls == nil || len(ls.waits) == 0 {
		return
	}
	kept := ls.waits[:0]
	var ready []*produceWait
	for _, w := range ls.waits {
		if p.hw > w.lastOffset {
			ready = append(ready, w)
		} else {
			kept = append(kept, w)
		}
	}
	ls.waits = kept
	for _, w := range ready {
		if len(b.effectiveISR(p)) < p.topic.cfg.MinISR() {
			w.finish(kerr.NotEnoughReplicasAfterAppend)
		} else {
			w.finish(nil)
		}
	}
}

// failProduceWaits answers the parked produces when this broker stops
// leading (and abandons a leadership recovery).
func (b *Broker) failProduceWaits(p *partition, e *kerr.Error) {
	if p.lead == nil {
		return
	}
	p.lead.endRecovery()
	ws := p.lead.waits
	p.lead.waits = nil
	for _, w := range ws {
		w.finish(e)
	}
}

// effectiveISR is the ISR the leader acts on: the committed one, minus
// followers dropped locally by bugzoo isr-shrink-without-controller.
func (b *Broker) effectiveISR(p *partition) []int32 {
	if p.lead == nil || len(p.lead.localDropped) == 0 {
		return p.isr
	}
	return slices.DeleteFunc(slices.Clone(p.isr), func(r int32) bool { return slices.Contains(p.lead.localDropped, r) })
}

// underMinISR reports whether the committed ISR is smaller than the
// partition's effective min.insync.replicas, min(min.insync.replicas,
// replicas) as in Kafka's Partition.effectiveMinIsr: then the high
// watermark holds still (KIP-966's strict min-ISR rule). Without it a
// leader left alone in the ISR commits records only it holds; if its log
// then loses them (bit rot cut by recovery), consumers have read offsets
// that the next leader hands out again (cluster-swarm seed 9002678).
func (b *Broker) underMinISR(p *partition) bool {
	return len(b.effectiveISR(p)) < min(p.topic.cfg.MinISR(), max(len(p.replicas), 1))
}

// leaderEndOffset is the leader's own contribution to the high watermark.
func (b *Broker) leaderEndOffset(p *partition) int64 {
	leo := p.log.LogEndOffset()
	if p.topic.cfg.SyncsEveryAppend() && !b.bugAckBeforeFlush() {
		return min(leo, p.log.RecoveryPoint())
	}
	return leo
}

// advanceHW recomputes the leader's high watermark; when it moves it
// answers parked produces and wakes long-polling fetches.
func (b *Broker) advanceHW(p *partition) {
	if p.lead == nil || p.log == nil || p.offline != nil || p.lead.recovery != nil {
		return
	}
	defer b.syncShard(p)
	hw := b.leaderEndOffset(p)
	switch {
	case b.bugHWBeforeISR(p):
	case b.underMinISR(p) && !b.bugHWBelowMinISR():
		return
	default:
		maximal := b.effectiveISR(p)
		for _, r := range p.lead.pendingISR {
			if !slices.Contains(maximal, r) {
				maximal = append(slices.Clone(maximal), r)
			}
		}
		for _, r := range maximal {
			if r == b.cfg.NodeID {
				continue
			}
			f := p.lead.follower(r)
			if f == nil {
				continue
			}
			hw = min(hw, f.leo)
		}
	}
	if hw > p.hw {
		p.hw = hw
		b.completeProduceWaits(p)
		b.h.Post(p.wake)
	}
}

// recordFollowerFetch updates the leader's view of follower id after a
// fetch at offset, then the high watermark and, if the follower caught
// up, the ISR.
func (b *Broker) recordFollowerFetch(p *partition, id int32, offset int64) {
	f := p.lead.follower(id)
	if f == nil {
		return
	}
	now := b.h.Monotonic()
	leo := p.log.LogEndOffset()
	switch {
	case offset >= leo:
		f.lastCaughtUp = now
	case offset >= f.lastFetchLeaderLE:
		f.lastCaughtUp = max(f.lastCaughtUp, f.lastFetchTime)
	}
	f.lastFetchLeaderLE, f.lastFetchTime = leo, now
	f.leo = offset
	b.advanceHW(p)
	b.maybeExpandISR(p, f)
}

// maybeExpandISR adds a follower that has caught up with the high
// watermark and with this leadership's start.
func (b *Broker) maybeExpandISR(p *partition, f *replicaState) {
	ls := p.lead
	if p.zombie || f.leo < p.hw || f.leo < ls.epochStart {
		return
	}
	if i := slices.Index(ls.localDropped, f.id); i >= 0 {
		ls.localDropped = slices.Delete(ls.localDropped, i, i+1)
		return
	}
	if slices.Contains(p.isr, f.id) || ls.alterInFlight || ls.pendingISR != nil {
		return
	}
	if img := b.follower.Image(); !img.Usable(f.id) {
		return // the controller would refuse a fenced replica
	}
	isr := append(slices.Clone(p.isr), f.id)
	ls.pendingISR, ls.pendingEpoch = isr, p.partitionEpoch
	b.cfg.Metrics.Add("loglab_broker_isr_expands_total", 1)
	b.alterISR(p, isr)
}

// settlePendingISR drops an expansion the image has settled: a partition
// epoch past the proposal's means p.isr is the committed truth.
func (p *partition) settlePendingISR() {
	if ls := p.lead; ls != nil && ls.pendingISR != nil && p.partitionEpoch > ls.pendingEpoch {
		ls.pendingISR = nil
	}
}

// staleProposal: the controller refused an AlterPartition because it
// was made against state it has moved past (our leadership, partition
// epoch or broker epoch): what it did commit comes with the next image.
func staleProposal(err error) bool {
	for _, e := range []error{kerr.InvalidUpdateVersion, kerr.FencedLeaderEpoch, kerr.NotLeaderForPartition, kerr.StaleBrokerEpoch} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// alterISR proposes a new ISR to the controller. The committed image stays
// the truth: a refused change waits for the next image.
func (b *Broker) alterISR(p *partition, isr []int32) {
	ls := p.lead
	ls.alterInFlight = true
	epoch := p.leaderEpoch
	rec := metadata.Record{Type: metadata.TypeAlterPartition, AlterPartition: &metadata.AlterPartition{
		Topic: p.topic.name, Partition: p.index, BrokerID: b.cfg.NodeID, BrokerEpoch: b.follower.BrokerEpoch(),
		LeaderEpoch: epoch, PartitionEpoch: p.partitionEpoch, ISR: isr,
	}}
	b.log.Info("proposing ISR change", "topic", p.topic.name, "partition", p.index, "from", fmt.Sprint(p.isr), "to", fmt.Sprint(isr))
	b.follower.Submit(rec, func(res metadata.Result, err error) {
		if p.lead != ls {
			return // leadership changed meanwhile
		}
		ls.alterInFlight = false
		switch {
		case err != nil:
			// The controller may have committed it: an expansion stays
			// pending (its members count toward the high watermark) and
			// is proposed again until answered. Dropping it here let a
			// leader cut off from the controller commit records its new
			// ISR member lacked, which the controller then elected
			// (cluster-swarm-classic seed 12001191).
			b.log.Info("ISR change outcome unknown", "topic", p.topic.name, "partition", p.index, "err", err, "expansion_pending", ls.pendingISR != nil)
			if ls.pendingISR != nil {
				b.h.AfterFunc(alterRetry, func() {
					if p.lead == ls && ls.pendingISR != nil && !ls.alterInFlight && p.partitionEpoch == ls.pendingEpoch {
						b.alterISR(p, ls.pendingISR)
					}
				})
			}
		case res.Err != nil:
			if !staleProposal(res.Err) {
				ls.pendingISR = nil // refused on its merits: nothing was committed
			}
			b.log.Info("ISR change refused; waiting for the image", "topic", p.topic.name, "partition", p.index, "err", res.Err)
		default:
			ls.pendingISR = nil
			if rp := res.Partition; rp != nil && rp.LeaderEpoch == p.leaderEpoch && rp.PartitionEpoch >= p.partitionEpoch {
				p.isr, p.partitionEpoch = slices.Clone(rp.ISR), rp.PartitionEpoch
			}
		}
		b.advanceHW(p)
	})
}

// alterRetry is how soon an AlterPartition whose outcome is unknown is
// proposed again.
const alterRetry = 200 * time.Millisecond

// scheduleISRCheck runs the ISR shrink check every
// replica.lag.time.max.ms / 2.
func (b *Broker) scheduleISRCheck() {
	b.isrTimer = b.h.AfterFunc(time.Duration(b.cfg.ReplicaLagTimeMaxMs/2)*time.Millisecond, func() {
		if b.stopping {
			return
		}
		for _, name := range b.sortedTopicNames() {
			for _, p := range b.topics[name].partitions {
				if p.lead != nil && !p.zombie && p.offline == nil && p.lead.recovery == nil {
					b.maybeShrinkISR(p)
				}
			}
		}
		b.scheduleISRCheck()
	})
}

// maybeShrinkISR proposes removing ISR followers that have not caught up
// for longer than replica.lag.time.max.ms.
func (b *Broker) maybeShrinkISR(p *partition) {
	ls := p.lead
	now := b.h.Monotonic()
	lag := time.Duration(b.cfg.ReplicaLagTimeMaxMs) * time.Millisecond
	leo := p.log.LogEndOffset()
	var out []int32
	for _, r := range p.isr {
		f := ls.follower(r)
		if f == nil || slices.Contains(ls.localDropped, r) {
			continue
		}
		if f.leo < leo && now-f.lastCaughtUp > lag {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return
	}
	if b.bugShrinkISRLocally(p, ls, out) {
		return
	}
	if ls.alterInFlight || ls.pendingISR != nil {
		return
	}
	isr := slices.DeleteFunc(slices.Clone(p.isr), func(r int32) bool { return slices.Contains(out, r) })
	b.cfg.Metrics.Add("loglab_broker_isr_shrinks_total", 1)
	b.alterISR(p, isr)
}

// The high watermark is checkpointed per partition (Kafka's
// replication-offset-checkpoint, here one small file per partition
// directory) so that a restarted replica starts from it.
const hwCheckpointFile = "high-watermark-checkpoint"

const hwCheckpointInterval = time.Second

// readHWCheckpoint reads "<high watermark> <leader epoch below it>"; a
// missing or unreadable file is (0, -1).
func readHWCheckpoint(d host.Disk, dir string) (int64, int32) {
	s, err := readSmallFile(d, dir+"/"+hwCheckpointFile)
	if err != nil {
		return 0, -1
	}
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, -1
	}
	hw, err1 := strconv.ParseInt(f[0], 10, 64)
	e, err2 := strconv.ParseInt(f[1], 10, 32)
	if err1 != nil || err2 != nil || hw < 0 {
		return 0, -1
	}
	return hw, int32(e)
}

func (b *Broker) scheduleHWCheckpoint() {
	b.hwTimer = b.h.AfterFunc(hwCheckpointInterval, func() {
		if b.stopping {
			return
		}
		b.checkpointHWs()
		b.publishGauges()
		b.scheduleHWCheckpoint()
	})
}

func (b *Broker) checkpointHWs() {
	for _, name := range b.sortedTopicNames() {
		for _, p := range b.topics[name].partitions {
			if p.log == nil || p.offline != nil || p.hw == p.hwSaved {
				continue
			}
			dir := partitionDir(p.topic.name, p.index)
			epoch := int32(-1)
			if p.hw > 0 {
				epoch = p.log.EpochAt(p.hw - 1)
			}
			line := strconv.FormatInt(p.hw, 10) + " " + strconv.FormatInt(int64(epoch), 10) + "\n"
			name := dir + "/" + hwCheckpointFile
			_, err := readSmallFile(b.h.Disk(), name)
			fresh := errors.Is(err, host.ErrNotExist)
			if err := writeSmallFile(b.h.Disk(), name, line); err != nil {
				b.log.Warn("high watermark checkpoint failed", "dir", dir, "err", err)
				continue
			}
			if fresh {
				b.h.Disk().SyncDir(dir, func(error) {}) // the new file's entry
			}
			p.hwSaved = p.hw
		}
	}
}

// corruptRead handles a read that found a corrupt batch at or after
// offset at: the leader steps down (AlterPartition.StepDown) so that an
// in-sync replica with an intact copy leads. As a follower it keeps its
// log — the rotten batch is never served (reads check CRCs) and the
// intact data around it may be the only copy — and follows from its end;
// restart recovery cuts the damage. A sole in-sync replica cannot step
// down: it keeps answering KAFKA_STORAGE_ERROR for the damaged range.
func (b *Broker) corruptRead(p *partition, at int64, err error) {
	ls := p.lead
	if ls == nil || p.zombie || ls.alterInFlight || p.offline != nil {
		return // (offline: a reopen after an earlier corrupt read is under way)
	}
	img := b.follower.Image()
	var isr []int32
	for _, r := range p.isr {
		if r != b.cfg.NodeID {
			isr = append(isr, r)
		}
	}
	usable := false
	for _, r := range isr {
		usable = usable || img.Usable(r)
	}
	if !usable {
		// Nobody in the ISR to hand over to, and no follower can fetch
		// past the rot to rejoin it: reopen the log cut at the rot
		// (reopenRotten). The cut makes this replica suspect, so as
		// leader it asks the out-of-sync replicas, which may hold the
		// rest, before serving again (cluster-swarm seed 9002147).
		b.log.Error("corrupt batch in the log of the only usable in-sync replica; reopening it cut at the rot", "topic", p.topic.name, "partition", p.index, "offset", at, "err", err)
		p.offline = fmt.Errorf("broker: reopening the log after a corrupt batch at offset %d: %w", at, err)
		b.reopenRotten(p)
		return
	}
	b.log.Warn("corrupt batch in the leader's log; stepping down", "topic", p.topic.name, "partition", p.index, "offset", at, "err", err, "isr", fmt.Sprint(isr))
	ls.alterInFlight = true
	rec := metadata.Record{Type: metadata.TypeAlterPartition, AlterPartition: &metadata.AlterPartition{
		Topic: p.topic.name, Partition: p.index, BrokerID: b.cfg.NodeID, BrokerEpoch: b.follower.BrokerEpoch(),
		LeaderEpoch: p.leaderEpoch, PartitionEpoch: p.partitionEpoch, ISR: isr, StepDown: true,
	}}
	b.follower.Submit(rec, func(res metadata.Result, err error) {
		if p.lead != ls {
			return
		}
		ls.alterInFlight = false
		if err == nil {
			err = res.Err
		}
		if err != nil {
			b.log.Info("step-down not committed; retrying on the next failed read", "topic", p.topic.name, "partition", p.index, "err", err)
		}
	})
}
