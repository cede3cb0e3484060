package broker

// The broker's side of the group coordinator (package broker/group): it
// owns the internal topic __consumer_offsets, tells the coordinator which
// of its partitions ("shards") this broker leads, replays a shard's
// records into it, and appends the coordinator's records like an
// acks=all produce.
//
// A shard is loaded from everything its partition held when this broker
// became its leader (at that leader epoch): the coordinator serves the
// shard only once the high watermark covers that log end offset, so it
// never answers from records a new leader could still lose, and it is
// unloaded the moment this broker stops leading the partition or its log
// goes offline.

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker/group"
	plog "github.com/loglab/loglab/broker/log"
	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/wire/batch"
)

// offsetsTopic is Kafka's internal topic of group metadata and offsets.
const offsetsTopic = "__consumer_offsets"

// offsetsCommitTimeout is offsets.commit.timeout.ms: how long a
// coordinator write waits for the ISR.
const offsetsCommitTimeout = 5 * time.Second

// shardLoad is what the broker remembers of a shard it loads or serves.
type shardLoad struct {
	leaderEpoch int32
	end         int64 // log end offset when this leadership began
}

func (b *Broker) newCoordinator(numPartitions int32) *group.Coordinator {
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	delay := ms(b.cfg.GroupInitialRebalanceDelayMs)
	if b.cfg.GroupInitialRebalanceDelayMs < 0 {
		delay = -1
	}
	return group.New(b.h, group.Config{
		NumPartitions:          numPartitions,
		MinSessionTimeout:      ms(b.cfg.GroupMinSessionTimeoutMs),
		MaxSessionTimeout:      ms(b.cfg.GroupMaxSessionTimeoutMs),
		InitialRebalanceDelay:  delay,
		StaleGenerationCommits: b.bugCommitStaleGeneration(),
		OnRebalance:            func() { b.cfg.Metrics.Add("loglab_broker_group_rebalances_total", 1) },
	}, groupLog{b})
}

// groupLog implements group.Log on this broker's partitions.
type groupLog struct{ b *Broker }

func (l groupLog) PartitionExists(topic string, partition int32) bool {
	t := l.b.topics[topic]
	return t != nil && t.partition(partition) != nil
}

func (l groupLog) Append(shard int32, records []batch.Record, done func(*kerr.Error)) {
	b := l.b
	later := func(e *kerr.Error) { b.h.Post(func() { done(e) }) }
	p := b.offsetsPartition(shard)
	if p == nil || !b.leadsShard(p) {
		later(kerr.NotLeaderForPartition)
		return
	}
	if p.replicated && len(b.effectiveISR(p)) < p.topic.cfg.MinISR() {
		later(kerr.NotEnoughReplicas)
		return
	}
	buf := batch.Build(nil, records, batch.BuildOptions{BaseTimestamp: b.h.Now().UnixMilli()})
	var op kmsg.ProduceResponseTopicPartition
	end, e, msg := b.appendRecords(p, buf, &op)
	if e != nil {
		b.log.Warn("coordinator write failed", "partition", shard, "error", e.Message, "why", msg)
		later(e)
		return
	}
	switch {
	case p.replicated:
		b.parkProduce(p, end-1, offsetsCommitTimeout, later)
	case p.topic.cfg.SyncsEveryAppend():
		p.log.WhenDurable(end, func(err error) {
			if err != nil {
				later(kerr.KafkaStorageError)
				return
			}
			later(nil)
		})
	default:
		later(nil)
	}
	b.syncShard(p)
}

func (b *Broker) offsetsPartition(shard int32) *partition {
	t := b.topics[offsetsTopic]
	if t == nil {
		return nil
	}
	return t.partition(shard)
}

// leadsShard reports whether this broker may coordinate the groups of an
// offsets partition: it leads it (standalone: it has it) with a usable
// log.
func (b *Broker) leadsShard(p *partition) bool {
	if p.log == nil || p.offline != nil || b.stopping {
		return false
	}
	if !p.replicated {
		return true
	}
	return p.isLeader && p.lead != nil && p.lead.recovery == nil && !p.zombie
}

// syncShard brings the coordinator in line with this broker's role for
// an offsets partition: unload when it stops leading, (re)load at a new
// leader epoch, and finish a load once the high watermark covers it.
func (b *Broker) syncShard(p *partition) {
	if b.groups == nil || p.topic.name != offsetsTopic {
		return
	}
	if n := int32(len(p.topic.partitions)); n != b.groups.NumPartitions() {
		// The topic exists with another partition count than configured
		// (created by another configuration): its count rules.
		for i := range b.groups.NumPartitions() {
			b.groups.Unload(i)
		}
		b.shards = map[int32]shardLoad{}
		b.groups = b.newCoordinator(n)
	}
	i := p.index
	if !b.leadsShard(p) {
		if b.groups.Leads(i) {
			b.groups.Unload(i)
			delete(b.shards, i)
		}
		return
	}
	if s, ok := b.shards[i]; !ok || s.leaderEpoch != p.leaderEpoch || !b.groups.Leads(i) {
		b.shards[i] = shardLoad{leaderEpoch: p.leaderEpoch, end: p.log.LogEndOffset()}
		b.groups.BeginLoad(i)
	}
	if b.groups.Loading(i) && p.highWatermark() >= b.shards[i].end {
		b.replayShard(p, b.shards[i].end)
	}
}

// replayShard feeds the coordinator every record of p below end and lets
// the shard serve. Undecodable records are logged and skipped, as Kafka
// does; a read failure leaves the shard loading (and the partition's
// read error handling takes it from there).
func (b *Broker) replayShard(p *partition, end int64) {
	off := p.log.LogStartOffset()
	records, skipped := 0, 0
	for off < end {
		buf, err := p.log.Read(nil, off, 1<<20, true)
		if err != nil {
			b.log.Error("loading group shard: read failed", "partition", p.index, "offset", off, "err", err)
			if errors.Is(err, plog.ErrCorruption) && p.replicated {
				b.corruptRead(p, off, err)
			}
			return
		}
		if len(buf) == 0 {
			break
		}
		it := batch.Iterate(buf)
		for it.Next() && off < end {
			h := it.Header()
			recs, err := batch.Records(it.Batch())
			if err != nil {
				b.log.Warn("loading group shard: batch skipped", "partition", p.index, "offset", h.BaseOffset, "err", err)
				skipped++
				off = h.NextOffset()
				continue
			}
			for _, r := range recs {
				o := h.BaseOffset + int64(r.OffsetDelta)
				if o < off || o >= end {
					continue
				}
				if err := b.groups.Replay(p.index, r.Key, r.Value); err != nil {
					b.log.Warn("loading group shard: record skipped", "partition", p.index, "offset", o, "err", err)
					skipped++
				}
				records++
			}
			off = h.NextOffset()
		}
		if it.Err() != nil {
			b.log.Error("loading group shard: bad batch", "partition", p.index, "offset", off, "err", it.Err())
			return
		}
	}
	b.log.Info("group shard replayed", "partition", p.index, "records", records, "skipped", skipped, "end", end)
	b.groups.FinishLoad(p.index)
}

// coordinatorAddr locates the coordinator of a group: the leader of its
// offsets partition. A missing __consumer_offsets is created (the first
// FindCoordinator does it, as in Kafka) and COORDINATOR_NOT_AVAILABLE
// answered meanwhile.
func (b *Broker) coordinatorAddr(groupID string) (int32, string, int32, *kerr.Error) {
	t := b.topics[offsetsTopic]
	if t == nil {
		b.createOffsetsTopic()
		return -1, "", -1, kerr.CoordinatorNotAvailable
	}
	return b.meta.coordinator(t.partition(group.PartitionFor(groupID, int32(len(t.partitions)))))
}

// createOffsetsTopic creates __consumer_offsets (once at a time):
// offsets.topic.num.partitions partitions, retention off (offsets must
// not age out of a log that is not compacted).
func (b *Broker) createOffsetsTopic() {
	if b.offsetsCreating || b.reserved[offsetsTopic] {
		return
	}
	b.meta.createOffsetsTopic(map[string]string{"retention.ms": "-1", "retention.bytes": "-1"})
}

// unloadShards stops coordinating every group (stopping, or
// __consumer_offsets deleted).
func (b *Broker) unloadShards() {
	if b.groups == nil {
		return
	}
	for i := range b.groups.NumPartitions() {
		b.groups.Unload(i)
	}
	b.shards = map[int32]shardLoad{}
}

// syncAllShards re-checks every offsets partition (after a stop or a
// topic change).
func (b *Broker) syncAllShards() {
	if t := b.topics[offsetsTopic]; t != nil {
		for _, p := range t.partitions {
			b.syncShard(p)
		}
	}
}

// groupClient names the requesting client for DescribeGroups: client.id
// and "/host" as Kafka shows it.
func groupClient(r *request) (string, string) {
	clientID := ""
	if r.hdr.ClientID != nil {
		clientID = *r.hdr.ClientID
	}
	host, _, err := splitHostPort(r.cn.c.RemoteAddr())
	if err != nil {
		host = r.cn.c.RemoteAddr()
	}
	return clientID, fmt.Sprintf("/%s", host)
}

// groupRefused logs a group request the coordinator refused (one line;
// Info, since most refusals are the protocol's normal flow: a rebalance
// in progress, a fenced member, a coordinator that moved).
func (r *request) groupRefused(code int16, attrs ...any) {
	if code == 0 {
		return
	}
	name := fmt.Sprintf("error %d", code)
	if e := kerr.ErrorForCode(code); e != nil {
		var ke *kerr.Error
		if errors.As(e, &ke) {
			name = ke.Message
		}
	}
	r.cn.b.log.Info("group request refused", append(append(r.logAttrs(), "error", name), attrs...)...)
}

var (
	kerrMemberIDRequired    = kerr.MemberIDRequired.Code
	kerrRebalanceInProgress = kerr.RebalanceInProgress.Code
)

// coordinator is this broker: it holds every offsets partition.
func (s catalogueSource) coordinator(p *partition) (int32, string, int32, *kerr.Error) {
	if p.offline != nil {
		return -1, "", -1, kerr.CoordinatorNotAvailable
	}
	return s.b.cfg.NodeID, s.b.advHost, s.b.advPort, nil
}

// coordinator is the leader of the offsets partition, if it is a live,
// unfenced broker.
func (s imageSource) coordinator(p *partition) (int32, string, int32, *kerr.Error) {
	img := s.b.follower.Image()
	if p.leader < 0 {
		return -1, "", -1, kerr.CoordinatorNotAvailable
	}
	br := img.Broker(p.leader)
	if br == nil || br.Fenced {
		return -1, "", -1, kerr.CoordinatorNotAvailable
	}
	host, port, err := splitHostPort(br.Addr)
	if err != nil {
		return -1, "", -1, kerr.CoordinatorNotAvailable
	}
	return p.leader, host, port, nil
}

// createOffsetsTopic creates the topic in the catalogue.
func (s catalogueSource) createOffsetsTopic(overrides map[string]string) {
	b := s.b
	b.offsetsCreating = true
	b.createTopic(offsetsTopic, b.cfg.OffsetsTopicNumPartitions, overrides, func(t *topic, err error) {
		b.offsetsCreating = false
		if err != nil {
			b.log.Error("creating __consumer_offsets failed", "err", err)
		}
	})
}

// createOffsetsTopic submits the topic to the controller, its replication
// factor capped at the brokers registered.
func (s imageSource) createOffsetsTopic(overrides map[string]string) {
	b := s.b
	if !b.ready() {
		return
	}
	img := b.follower.Image()
	rf := b.cfg.OffsetsTopicReplicationFactor
	if n := int16(len(img.Brokers)); n < rf {
		rf = max(n, 1)
	}
	var cfgs []metadata.Config
	for _, k := range []string{"retention.bytes", "retention.ms"} {
		cfgs = append(cfgs, metadata.Config{Key: k, Value: overrides[k]})
	}
	b.offsetsCreating = true
	b.log.Info("creating __consumer_offsets", "partitions", b.cfg.OffsetsTopicNumPartitions, "replication_factor", rf)
	rec := metadata.Record{Type: metadata.TypeCreateTopic, CreateTopic: &metadata.CreateTopic{
		Name: offsetsTopic, NumPartitions: b.cfg.OffsetsTopicNumPartitions, ReplicationFactor: rf, Configs: cfgs}}
	b.follower.Submit(rec, func(res metadata.Result, err error) {
		b.offsetsCreating = false
		if err == nil && res.Err != nil && !errors.Is(res.Err, kerr.TopicAlreadyExists) {
			err = res.Err
		}
		if err != nil {
			b.log.Warn("creating __consumer_offsets failed", "err", err)
		}
	})
}
