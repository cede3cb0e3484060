package broker

// Cluster mode: the broker's side of the controller quorum. The broker
// embeds a controller.Follower (and, in combined mode, a Voter), and on
// every change of the metadata image it reconciles its partitions with
// the image (reconcile): it opens logs of partitions assigned to it,
// removes those of deleted topics and acts on leadership changes
// (becomeLeader / becomeFollower). The image is the only truth: there is
// no local topic catalogue in cluster mode.

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/loglab/loglab/broker/controller"
	plog "github.com/loglab/loglab/broker/log"
	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/broker/topics"
	"github.com/loglab/loglab/host"
)

// roleKey is what a role change is decided on.
type roleKey struct {
	leader, epoch int32
	mayLead       bool
}

// PartitionState is one partition as this broker last learnt it (the
// inspection API used by scenarios and tests).
type PartitionState struct {
	Leader, LeaderEpoch                         int32
	IsLeader                                    bool
	ISR                                         []int32
	HighWatermark, LogEndOffset, LogStartOffset int64
}

// Image is the metadata image this broker follows (nil in standalone
// mode). Call it on the node's loop; Clone it to keep it.
func (b *Broker) Image() *metadata.Image {
	if b.follower == nil {
		return nil
	}
	return b.follower.Image()
}

// Voter is the controller voter this node runs in combined mode (nil
// otherwise).
func (b *Broker) Voter() *controller.Voter { return b.voter }

// Partition reports one partition's state on this broker; false if the
// broker does not know the partition or holds no log for it.
func (b *Broker) Partition(topic string, p int32) (PartitionState, bool) {
	t := b.topics[topic]
	if t == nil {
		return PartitionState{}, false
	}
	pp := t.partition(p)
	if pp == nil || pp.log == nil {
		return PartitionState{}, false
	}
	st := PartitionState{
		Leader: pp.leader, LeaderEpoch: pp.leaderEpoch, IsLeader: pp.isLeader,
		ISR:           slices.Clone(pp.isr),
		HighWatermark: pp.highWatermark(), LogEndOffset: pp.log.LogEndOffset(), LogStartOffset: pp.log.LogStartOffset(),
	}
	if !pp.replicated {
		st.Leader, st.IsLeader, st.ISR = b.cfg.NodeID, true, []int32{b.cfg.NodeID}
	}
	return st, true
}

func (b *Broker) clustered() bool { return len(b.cfg.Controllers) > 0 }

// startCluster starts the voter (combined mode) and the metadata follower.
func (b *Broker) startCluster(advertised string) error {
	if b.cfg.Voter != nil {
		vc := *b.cfg.Voter
		if b.cfg.NodeID < 1 || vc.ID != uint64(b.cfg.NodeID) {
			return fmt.Errorf("broker: voter id %d must equal node id %d (>= 1)", vc.ID, b.cfg.NodeID)
		}
		vc.Bugs = b.cfg.Bugs
		v, err := controller.StartVoter(b.h, vc)
		if err != nil {
			return fmt.Errorf("broker: start controller voter: %w", err)
		}
		b.voter = v
	}
	f, err := controller.NewFollower(b.h, controller.FollowerConfig{
		BrokerID: b.cfg.NodeID, Addr: advertised, Rack: b.cfg.Rack, Controllers: b.cfg.Controllers,
		HeartbeatInterval: time.Duration(b.cfg.HeartbeatIntervalMs) * time.Millisecond,
		OnChange:          func(*metadata.Image, []controller.FetchedRecord) { b.reconcile() },
		Bugs:              b.cfg.Bugs,
	})
	if err != nil {
		return fmt.Errorf("broker: start metadata follower: %w", err)
	}
	b.follower = f
	b.fetchers = map[int32]*replicaFetcher{}
	b.scheduleISRCheck()
	b.scheduleHWCheckpoint()
	return nil
}

// stopCluster stops replication and the quorum's parts on this node.
func (b *Broker) stopCluster() {
	if b.follower != nil {
		b.follower.Close()
	}
	if b.voter != nil {
		b.voter.Stop()
	}
	for _, id := range slices.Sorted(maps.Keys(b.fetchers)) {
		b.fetchers[id].close()
	}
	b.fetchers = map[int32]*replicaFetcher{}
	if b.isrTimer != nil {
		b.isrTimer.Stop()
	}
	if b.hwTimer != nil {
		b.hwTimer.Stop()
	}
	for _, name := range b.sortedTopicNames() {
		for _, p := range b.topics[name].partitions {
			if p.lead != nil {
				b.failProduceWaits(p, kerr.NotLeaderForPartition)
			}
		}
	}
}

// mayLead reports whether the image shows this very process (its own
// incarnation) registered and unfenced: only then may it act as a leader.
// A restarted broker reading an image written before its restart must
// not lead from it.
func (b *Broker) mayLead(img *metadata.Image) bool {
	br := img.Broker(b.cfg.NodeID)
	return br != nil && br.Incarnation == b.follower.Incarnation() && !br.Fenced
}

// reconcile brings the broker's partitions in line with the image.
// Topics and partitions are walked in sorted order.
func (b *Broker) reconcile() {
	if b.stopping || b.follower == nil {
		return
	}
	img := b.follower.Image()
	for _, name := range b.sortedTopicNames() {
		t := b.topics[name]
		if it := img.Topic(name); it == nil || topics.ID(it.ID) != t.id {
			b.dropTopic(t)
		}
	}
	mayLead := b.mayLead(img)
	for i := range img.Topics {
		it := &img.Topics[i]
		if b.reserved[it.Name] {
			continue // files of a deleted incarnation are being removed; reconcile runs again then
		}
		t := b.topics[it.Name]
		if t == nil {
			var err error
			if t, err = b.newClusterTopic(it); err != nil {
				b.log.Error("topic from the metadata image cannot be served", "topic", it.Name, "err", err)
				continue
			}
			b.topics[t.name] = t
			b.byID[t.id] = t
		}
		for j := range it.Partitions {
			b.reconcilePartition(img, t.partitions[j], &it.Partitions[j], mayLead)
			b.syncShard(t.partitions[j])
		}
	}
	for _, id := range slices.Sorted(maps.Keys(b.fetchers)) {
		if f := b.fetchers[id]; len(f.parts) == 0 {
			f.close()
			delete(b.fetchers, id)
		} else {
			f.kick()
		}
	}
}

// newClusterTopic builds a live topic from the image; logs are opened by
// reconcilePartition for the partitions assigned here.
func (b *Broker) newClusterTopic(it *metadata.Topic) (*topic, error) {
	overrides := map[string]string{}
	for _, c := range it.Configs {
		overrides[c.Key] = c.Value
	}
	cfg, err := topics.ParseConfig(b.cfg.TopicDefaults, overrides)
	if err != nil {
		return nil, err
	}
	t := &topic{name: it.Name, id: topics.ID(it.ID), overrides: overrides, cfg: cfg}
	for i := range it.Partitions {
		t.partitions = append(t.partitions, &partition{topic: t, index: int32(i), replicated: true, leader: metadata.NoLeader, role: roleKey{leader: -2}})
	}
	return t, nil
}

func (b *Broker) reconcilePartition(img *metadata.Image, p *partition, ip *metadata.Partition, mayLead bool) {
	me := b.cfg.NodeID
	if st := (seenState{ip.LeaderEpoch, ip.PartitionEpoch}); st != p.seen {
		p.seen = st
		leo := int64(-1)
		if p.log != nil {
			leo = p.log.LogEndOffset()
		}
		b.log.Debug("partition state", "topic", p.topic.name, "partition", p.index, "leader", ip.Leader, "leader_epoch", ip.LeaderEpoch,
			"partition_epoch", ip.PartitionEpoch, "isr", fmt.Sprint(ip.ISR), "replicas", fmt.Sprint(ip.Replicas),
			"log_end_offset", leo, "high_watermark", p.hw, "suspect", p.suspect)
	}
	p.replicas = slices.Clone(ip.Replicas)
	if !slices.Contains(ip.Replicas, me) || p.offline != nil {
		// Not ours (or our log failed): metadata only.
		if p.lead != nil {
			b.failProduceWaits(p, kerr.NotLeaderForPartition)
			p.lead = nil
		}
		b.stopFollowing(p)
		p.leader, p.leaderEpoch, p.isLeader = ip.Leader, ip.LeaderEpoch, false
		p.isr, p.partitionEpoch = slices.Clone(ip.ISR), ip.PartitionEpoch
		return
	}
	if p.log == nil {
		err := b.openPartitionLog(p, false)
		if errors.Is(err, plog.ErrCorruption) {
			dir := partitionDir(p.topic.name, p.index)
			if b.othersHold(img, ip) {
				// Synced data rotted: our copy is lost, but other in-sync
				// replicas hold it. Start empty and fetch it from them.
				b.log.Warn("partition log corrupt below its recovery point; wiping it to refetch from the other in-sync replicas", "dir", dir, "err", err, "isr", fmt.Sprint(ip.ISR))
				if err = removeAll(b.h.Disk(), dir); err == nil {
					err = b.openPartitionLog(p, false)
				}
			} else {
				// No other in-sync replica: keep what is intact, cut at
				// the rot, and count as having lost committed records
				// (suspect): out-of-sync replicas may hold the rest.
				b.log.Warn("partition log corrupt below its recovery point; cutting it at the rot", "dir", dir, "err", err, "isr", fmt.Sprint(ip.ISR))
				err = b.openPartitionLog(p, true)
			}
		}
		if err != nil {
			p.offline = err
			b.log.Error("partition offline: log cannot be opened", "topic", p.topic.name, "partition", p.index, "err", err)
			p.leader, p.leaderEpoch, p.isLeader = ip.Leader, ip.LeaderEpoch, false
			p.isr = slices.Clone(ip.ISR)
			return
		}
	}
	if b.registered(img) {
		b.cutFutureEpochs(p, ip)
	}
	key := roleKey{leader: ip.Leader, epoch: ip.LeaderEpoch, mayLead: ip.Leader == me && mayLead}
	if key != p.role {
		if b.bugFencedLeaderKeepsLeading(p, ip.Leader != me) {
			return
		}
		if key.mayLead {
			b.becomeLeader(p, ip)
		} else {
			b.becomeFollower(img, p, ip)
		}
		p.role = key
	}
	if p.lead != nil {
		if ip.PartitionEpoch >= p.partitionEpoch {
			p.isr, p.partitionEpoch = slices.Clone(ip.ISR), ip.PartitionEpoch
		}
		p.settlePendingISR()
		b.advanceHW(p)
		return
	}
	p.isr, p.partitionEpoch = slices.Clone(ip.ISR), ip.PartitionEpoch
}

// registered reports that img holds this broker's current registration:
// it was committed after everything this broker's earlier incarnations
// saw, so img is at least as new as every partition state they acted on.
func (b *Broker) registered(img *metadata.Image) bool {
	br := img.Broker(b.cfg.NodeID)
	return br != nil && br.Incarnation == b.follower.Incarnation()
}

// cutFutureEpochs cuts p's log where it claims a leader epoch newer than
// the image's. Every batch in the log was written by a leader, or fetched
// from one, in an epoch this broker had seen, and img (registered) is at
// least as new as all of them, so such a batch's epoch field rotted: the
// CRC does not cover it, and recovery cannot tell a rotten last batch
// from a new epoch. Kept, it makes the log refuse every append once this
// replica leads (KAFKA_STORAGE_ERROR forever: cluster-swarm recovery
// regression seed 13). The cut is rot like any other: the replica
// counts as having lost committed records (suspect).
func (b *Broker) cutFutureEpochs(p *partition, ip *metadata.Partition) {
	latest, ok := p.log.LatestEpoch()
	if !ok || latest <= ip.LeaderEpoch || b.bugTrustEpochField() {
		return
	}
	_, end := p.log.EndOffsetForEpoch(ip.LeaderEpoch) // where the first newer epoch begins
	end = max(end, p.log.LogStartOffset())
	leo, hw := p.log.LogEndOffset(), p.hw
	b.log.Warn("partition log claims a leader epoch newer than the controller's: a rotten epoch field; cutting it there",
		"topic", p.topic.name, "partition", p.index, "log_epoch", latest, "leader_epoch", ip.LeaderEpoch, "cut_at", end, "log_end_offset", leo)
	b.truncate(p, end)
	if p.offline == nil && p.log.LogEndOffset() < leo {
		p.markSuspect(max(hw, p.log.LogEndOffset()+1))
	}
}

// othersHold reports whether an usable ISR member other than this broker
// holds the partition's committed data.
func (b *Broker) othersHold(img *metadata.Image, ip *metadata.Partition) bool {
	for _, r := range ip.ISR {
		if r != b.cfg.NodeID && img.Usable(r) {
			return true
		}
	}
	return false
}

// becomeLeader makes this broker the partition's leader at ip's epoch.
// Kafka assigns the epoch at becoming leader: the epoch cache gets
// (epoch, LogEndOffset) now, so OffsetForLeaderEpoch answers for an epoch
// that has no batch yet. The high watermark starts where it was.
func (b *Broker) becomeLeader(p *partition, ip *metadata.Partition) {
	b.stopFollowing(p)
	p.leader, p.leaderEpoch, p.isLeader, p.zombie = b.cfg.NodeID, ip.LeaderEpoch, true, false
	leo := p.log.LogEndOffset()
	if !p.suspect {
		if err := p.log.AssignEpoch(ip.LeaderEpoch, leo); err != nil {
			b.log.Warn("assigning leader epoch failed", "topic", p.topic.name, "partition", p.index, "err", err)
		}
	}
	if p.lead != nil {
		b.failProduceWaits(p, kerr.NotLeaderForPartition)
	}
	ls := &leaderState{epochStart: leo}
	now := b.h.Monotonic()
	for _, r := range ip.Replicas {
		if r != b.cfg.NodeID {
			ls.followers = append(ls.followers, &replicaState{id: r, leo: -1, lastCaughtUp: now, lastFetchTime: now})
		}
	}
	p.lead = ls
	p.isr, p.partitionEpoch = slices.Clone(ip.ISR), ip.PartitionEpoch
	b.cfg.Metrics.Add("loglab_broker_leader_elections_total", 1)
	p.hw = min(p.hw, leo)
	b.log.Info("became leader", "topic", p.topic.name, "partition", p.index, "leader_epoch", ip.LeaderEpoch, "log_end_offset", leo, "high_watermark", p.hw, "isr", fmt.Sprint(ip.ISR))
	if p.suspect {
		b.startRecovery(p)
		return
	}
	b.advanceHW(p)
	b.h.Post(p.wake)
}

// becomeFollower makes this broker follow ip's leader (or nobody when
// there is none, or when the leader named is this broker but it may not
// lead from this image).
func (b *Broker) becomeFollower(img *metadata.Image, p *partition, ip *metadata.Partition) {
	if p.lead != nil {
		b.failProduceWaits(p, kerr.NotLeaderForPartition)
		p.lead = nil
	}
	b.stopFollowing(p)
	p.leader, p.leaderEpoch, p.isLeader, p.zombie = ip.Leader, ip.LeaderEpoch, false, false
	if ip.Leader >= 0 && ip.Leader != b.cfg.NodeID {
		if br := img.Broker(ip.Leader); br != nil {
			b.startFollowing(p, ip.Leader, br.Addr)
		}
	}
	b.log.Info("became follower", "topic", p.topic.name, "partition", p.index, "leader", ip.Leader, "leader_epoch", ip.LeaderEpoch)
	b.h.Post(p.wake)
}

// dropTopic forgets a topic the image no longer has (or has under another
// ID): invisible at once, logs closed and directories removed after.
func (b *Broker) dropTopic(t *topic) {
	if t.name == offsetsTopic {
		b.unloadShards()
	}
	delete(b.topics, t.name)
	delete(b.byID, t.id)
	b.reserved[t.name] = true
	for _, p := range t.partitions {
		if p.lead != nil {
			b.failProduceWaits(p, kerr.UnknownTopicOrPartition)
			p.lead = nil
		}
		b.stopFollowing(p)
		p.wake()
	}
	b.beginBusy()
	b.removeTopicFiles(t) // frees the name and calls endBusy
	b.whenIdleOnce(b.reconcile)
}

// whenIdleOnce runs f once the broker is idle (after a deletion's files
// are gone), unless stopping.
func (b *Broker) whenIdleOnce(f func()) {
	b.afterIdle(func() {
		if !b.stopping {
			f()
		}
	})
}

// partitionMetadataFile holds the topic ID a partition directory belongs
// to (Kafka's partition.metadata, KIP-516), so that a directory left by a
// deleted topic of the same name is detected and wiped, not served.
const partitionMetadataFile = "partition.metadata"

// openPartitionLog opens a replica's log, wiping a directory that belongs
// to another topic ID; scanAll: see logOpener.
func (b *Broker) openPartitionLog(p *partition, scanAll bool) error {
	d := b.h.Disk()
	dir := partitionDir(p.topic.name, p.index)
	want := "version: 0\ntopic_id: " + p.topic.id.String() + "\n"
	got, err := readSmallFile(d, dir+"/"+partitionMetadataFile)
	switch {
	case err == nil && got == want:
	case err == nil || !errors.Is(err, host.ErrNotExist):
		b.log.Warn("partition directory belongs to another topic incarnation; wiping it", "dir", dir, "found", strings.TrimSpace(got), "err", err)
		if err := removeAll(d, dir); err != nil {
			return fmt.Errorf("broker: wipe %s: %w", dir, err)
		}
		fallthrough
	default:
		// No partition.metadata: a new partition, or one whose file was
		// lost in a crash (it is written before any data, but synced in
		// the background). Adopt the directory, as Kafka does.
		if err := d.MkdirAll(dir); err != nil {
			return err
		}
		if err := writeSmallFile(d, dir+"/"+partitionMetadataFile, want); err != nil {
			return err
		}
		d.SyncDir(dir, func(error) {})
		d.SyncDir("", func(error) {})
	}
	l, err := b.openLog(b.h, dir, p.topic.cfg, scanAll)
	if err != nil {
		return err
	}
	p.log = l
	hw, _ := readHWCheckpoint(d, dir)
	p.hw = min(hw, l.LogEndOffset())
	p.hwSaved = p.hw
	if hw > l.LogEndOffset() {
		p.markSuspect(hw)
		b.log.Warn("partition log reopened below its checkpointed high watermark: committed data was lost here", "dir", dir, "log_end_offset", l.LogEndOffset(), "high_watermark_checkpoint", hw)
	}
	if cut, ok := l.RecoveryCut(); ok {
		// The high watermark checkpoint is written once a second: it may
		// predate records that were committed, synced and have now rotted
		// or been cut. Whatever recovery dropped may have been committed,
		// so this replica asks the others before leading (KIP-966's
		// "unclean shutdown" replica, which Kafka keeps out of the
		// eligible leaders) and stays suspect until, as a follower, it
		// has caught up with its leader's high watermark.
		p.markSuspect(max(hw, cut+1))
		b.log.Warn("partition log recovery cut its tail: committed records may be lost here", "dir", dir, "log_end_offset", l.LogEndOffset(), "cut_at", cut)
	}
	b.bugTrustRecoveryLoss(p)
	return nil
}

func readSmallFile(d host.Disk, name string) (string, error) {
	f, err := d.OpenFile(name, false)
	if err != nil {
		return "", err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return "", err
	}
	if size > 4096 {
		return "", fmt.Errorf("broker: %s: %d bytes", name, size)
	}
	buf := make([]byte, size)
	if n, err := f.ReadAt(buf, 0); err != nil && !(errors.Is(err, io.EOF) && n == len(buf)) {
		return "", err
	}
	return string(buf), nil
}

// writeSmallFile writes name and syncs it in the background.
func writeSmallFile(d host.Disk, name, content string) error {
	f, err := d.OpenFile(name, true)
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteAt([]byte(content), 0); err != nil {
		f.Close()
		return err
	}
	f.Sync(func(error) { f.Close() })
	return nil
}

// reopenRotten reopens a replica's log that failed on a corrupt batch,
// scanning every segment: recovery cuts it at the first corrupt batch and
// keeps the intact prefix, which makes the replica suspect, so it asks the
// other replicas before leading and refetches the rest as a follower.
// Kafka keeps such a log directory offline until the broker restarts; a
// partition whose only in-sync replica rotted then stays offline for good
// even though its out-of-sync replicas hold its records (cluster-swarm
// seed 9000769). If the reopen fails the partition stays offline.
func (b *Broker) reopenRotten(p *partition) {
	l := p.log
	l.Close(func(error) {
		if b.stopping || p.log != l || b.topics[p.topic.name] != p.topic {
			return
		}
		if p.lead != nil {
			b.failProduceWaits(p, kerr.NotLeaderForPartition)
			p.lead.endRecovery()
			p.lead = nil
		}
		b.stopFollowing(p)
		p.log, p.role = nil, roleKey{leader: -2}
		if err := b.openPartitionLog(p, true); err != nil {
			p.log = l // closed: every call fails, as offline expects
			b.log.Error("partition stays offline: reopening its log failed", "topic", p.topic.name, "partition", p.index, "err", err)
			return
		}
		p.offline = nil
		b.log.Warn("partition log reopened after corruption, cut at the first corrupt batch", "topic", p.topic.name, "partition", p.index,
			"log_end_offset", p.log.LogEndOffset())
		b.reconcile()
	})
}

// reportOffline tells the controller that this broker's copy of p is
// offline (AlterPartition.Offline, as Kafka brokers report offline log
// directories), so that it leaves the ISR at once instead of holding
// acks=all back until replica.lag.time.max.ms. Retried until the image
// shows it out of the ISR (or it is the last member, which stays).
func (b *Broker) reportOffline(p *partition) {
	if b.follower == nil || p.offline == nil || b.stopping {
		return
	}
	if img := b.follower.Image(); img != nil {
		ip := img.Partition(p.topic.name, p.index)
		if ip == nil || !slices.Contains(ip.ISR, b.cfg.NodeID) || len(ip.ISR) == 1 {
			return
		}
	}
	b.follower.Submit(metadata.Record{Type: metadata.TypeAlterPartition, AlterPartition: &metadata.AlterPartition{
		Topic: p.topic.name, Partition: p.index, BrokerID: b.cfg.NodeID, BrokerEpoch: b.follower.BrokerEpoch(), Offline: true,
	}}, func(res metadata.Result, err error) {
		if err == nil {
			err = res.Err
		}
		if err != nil {
			b.log.Info("offline report not committed; retrying", "topic", p.topic.name, "partition", p.index, "err", err)
			b.h.AfterFunc(500*time.Millisecond, func() { b.reportOffline(p) })
		}
	})
}
