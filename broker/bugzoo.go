package broker

import (
	"fmt"
	"time"

	"github.com/loglab/loglab/broker/bugzoo"
	plog "github.com/loglab/loglab/broker/log"
	"github.com/loglab/loglab/broker/topics"
	"github.com/loglab/loglab/host"
)

// Deliberate bugs for the bug zoo (package bugzoo), test-only. Each has
// one seam in the production path, a one-line call of a bug* method
// below (the way FoundationDB keeps its BUGGIFY points one line long);
// the bug's logic lives here. With the zero Config.Bugs every seam is a
// bit test that does nothing. The log's bugs are in broker/log/bugzoo.go;
// the controller's unclean election is metadata.Image.UncleanElectionBug.

// bugFencedLeaderKeepsLeading (bugzoo.FencedLeaderAcceptsWrites): a
// leader whose leadership moved away keeps leading at its old epoch,
// acknowledging on its local append alone (p.zombie; see bugHWBeforeISR).
// It reports whether the bug kept the role.
func (b *Broker) bugFencedLeaderKeepsLeading(p *partition, movedAway bool) bool {
	if p.lead == nil || !movedAway || !b.cfg.Bugs.Has(bugzoo.FencedLeaderAcceptsWrites) {
		return false
	}
	if !p.zombie {
		b.log.Warn("bugzoo: leadership moved away; keeping on leading", "topic", p.topic.name, "partition", p.index)
	}
	p.zombie = true
	return true
}

// bugTrustRecoveryLoss (bugzoo.RecoveryLossTrusted): a replica whose
// recovery cut committed records is trusted anyway, so it may lead with
// the short log.
func (b *Broker) bugTrustRecoveryLoss(p *partition) {
	if b.cfg.Bugs.Has(bugzoo.RecoveryLossTrusted) {
		p.suspect = false
	}
}

// bugFetchPastHighWatermark (bugzoo.FetchPastHighWatermark) is hw, or
// with the bug the log end offset: consumers read uncommitted records.
func (b *Broker) bugFetchPastHighWatermark(p *partition, hw int64) int64 {
	if b.cfg.Bugs.Has(bugzoo.FetchPastHighWatermark) {
		return p.log.LogEndOffset()
	}
	return hw
}

// bugFollowerTruncatesToHW (bugzoo.FollowerTruncatesToHW): a new follower
// truncates to its own high watermark (Kafka before KIP-101) instead of
// asking the leader where their logs diverge. It reports whether it did.
func (b *Broker) bugFollowerTruncatesToHW(p *partition) bool {
	if !b.cfg.Bugs.Has(bugzoo.FollowerTruncatesToHW) {
		return false
	}
	b.truncate(p, p.hw)
	return true
}

// bugHWBeforeISR (bugzoo.HWBeforeISR, and a zombie leader of
// bugFencedLeaderKeepsLeading): the high watermark advances to the
// leader's log end without waiting for the ISR.
func (b *Broker) bugHWBeforeISR(p *partition) bool {
	return b.cfg.Bugs.Has(bugzoo.HWBeforeISR) || p.zombie
}

// bugHWBelowMinISR (bugzoo.HWBelowMinISR): the high watermark advances
// while the ISR is below min.insync.replicas (Kafka before KIP-966).
func (b *Broker) bugHWBelowMinISR() bool { return b.cfg.Bugs.Has(bugzoo.HWBelowMinISR) }

// bugShrinkISRLocally (bugzoo.ISRShrinkWithoutController): the leader
// drops lagging followers from its ISR on its own, without the
// controller's AlterPartition. It reports whether it did.
func (b *Broker) bugShrinkISRLocally(p *partition, ls *leaderState, out []int32) bool {
	if !b.cfg.Bugs.Has(bugzoo.ISRShrinkWithoutController) {
		return false
	}
	ls.localDropped = append(ls.localDropped, out...)
	b.log.Warn("bugzoo: dropping lagging followers from the ISR locally", "topic", p.topic.name, "partition", p.index, "dropped", fmt.Sprint(out))
	b.advanceHW(p)
	return true
}

// bugCommitStaleGeneration (bugzoo.CommitStaleGeneration): the group
// coordinator accepts offset commits from a stale generation.
func (b *Broker) bugCommitStaleGeneration() bool { return b.cfg.Bugs.Has(bugzoo.CommitStaleGeneration) }

// bugzooLogOpener is defaultLogOpener with the log's share of the bug
// zoo's deliberate bugs switched on (test-only; see package bugzoo). New
// uses it only when Config.Bugs is not empty.
func bugzooLogOpener(bugs bugzoo.Set, onFlush func(time.Duration)) logOpener {
	return func(h host.Host, dir string, cfg topics.Config, scanAll bool) (partitionLog, error) {
		lc := logConfig(cfg)
		lc.Bugs, lc.OnFlush, lc.ScanAll = bugs, onFlush, scanAll
		l, err := plog.Open(h, dir, lc)
		if err != nil {
			return nil, err
		}
		return newDiskLog(l)
	}
}

// bugTrustEpochField (bugzoo.EpochFieldTrusted): a log claiming an epoch
// newer than the controller's is kept, and followers take batches from an
// epoch newer than their leader's.
func (b *Broker) bugTrustEpochField() bool { return b.cfg.Bugs.Has(bugzoo.EpochFieldTrusted) }

// bugAckBeforeFlush (bugzoo.AckBeforeFlush, in the log's WhenDurable
// too): a leader counts its unsynced log end toward the high watermark,
// so acks=all answers before the leader's flush.
func (b *Broker) bugAckBeforeFlush() bool { return b.cfg.Bugs.Has(bugzoo.AckBeforeFlush) }
