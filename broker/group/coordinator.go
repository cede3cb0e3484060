package group

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"
	"unicode/utf16"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire/batch"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Config are the coordinator's settings (Kafka's broker configs).
type Config struct {
	// NumPartitions is offsets.topic.num.partitions.
	NumPartitions int32
	// MinSessionTimeout, MaxSessionTimeout bound a member's session
	// timeout (group.min/max.session.timeout.ms) [6 s, 30 min].
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms [3 s];
	// negative means none.
	InitialRebalanceDelay time.Duration
	// MaxSize is group.max.size [unbounded].
	MaxSize int
	// OffsetMetadataMaxBytes is offset.metadata.max.bytes [4096].
	OffsetMetadataMaxBytes int
	// OnRebalance is told of every completed join (a new generation).
	OnRebalance func()
	// StaleGenerationCommits is bugzoo "group-commit-stale-generation":
	// OffsetCommit skips the generation check (test-only deliberate bug).
	StaleGenerationCommits bool
}

func (c Config) withDefaults() Config {
	if c.NumPartitions <= 0 {
		c.NumPartitions = 1
	}
	if c.MinSessionTimeout <= 0 {
		c.MinSessionTimeout = 6 * time.Second
	}
	if c.MaxSessionTimeout <= 0 {
		c.MaxSessionTimeout = 30 * time.Minute
	}
	if c.InitialRebalanceDelay == 0 {
		c.InitialRebalanceDelay = 3 * time.Second
	}
	if c.InitialRebalanceDelay < 0 {
		c.InitialRebalanceDelay = 0
	}
	if c.OffsetMetadataMaxBytes <= 0 {
		c.OffsetMetadataMaxBytes = 4096
	}
	return c
}

// Log is the coordinator's way to its __consumer_offsets partitions,
// implemented by the broker.
type Log interface {
	// Append writes records as one batch to the shard's partition, which
	// this broker leads, and calls done once the high watermark covers
	// them (nil) or with the produce error (never both, exactly once, on
	// the node's loop but never inside Append).
	Append(shard int32, records []batch.Record, done func(*kerr.Error))
	// PartitionExists reports whether a topic partition exists; commits
	// for others are refused with UNKNOWN_TOPIC_OR_PARTITION.
	PartitionExists(topic string, partition int32) bool
}

// Coordinator is the group coordinator of one broker.
type Coordinator struct {
	h      host.Host
	cfg    Config
	out    Log
	log    *slog.Logger
	shards map[int32]*shard
	groups map[string]*group
}

// shard is one __consumer_offsets partition this broker leads.
type shard struct {
	index   int32
	loading bool
	// gone: unloaded; callbacks of writes started before check it.
	gone bool
}

// New returns a coordinator leading no shard.
func New(h host.Host, cfg Config, out Log) *Coordinator {
	return &Coordinator{h: h, cfg: cfg.withDefaults(), out: out, log: h.Logger().With("component", "group-coordinator"),
		shards: map[int32]*shard{}, groups: map[string]*group{}}
}

// NumPartitions is the number of __consumer_offsets partitions.
func (c *Coordinator) NumPartitions() int32 { return c.cfg.NumPartitions }

// PartitionFor is the __consumer_offsets partition of a group: Kafka's
// Utils.abs(groupId.hashCode) % offsets.topic.num.partitions.
func PartitionFor(groupID string, numPartitions int32) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(groupID)) {
		h = 31*h + int32(u)
	}
	return (h & 0x7fffffff) % numPartitions
}

// PartitionFor is the shard of groupID.
func (c *Coordinator) PartitionFor(groupID string) int32 {
	return PartitionFor(groupID, c.cfg.NumPartitions)
}

// Owns is nil when this coordinator serves groupID now, else the error
// to answer: COORDINATOR_LOAD_IN_PROGRESS while its shard loads,
// NOT_COORDINATOR when this broker does not lead the shard.
func (c *Coordinator) Owns(groupID string) *kerr.Error {
	s := c.shards[c.PartitionFor(groupID)]
	switch {
	case s == nil:
		return kerr.NotCoordinator
	case s.loading:
		return kerr.CoordinatorLoadInProgress
	}
	return nil
}

// Loading reports whether shard is being loaded.
func (c *Coordinator) Loading(shardIndex int32) bool {
	s := c.shards[shardIndex]
	return s != nil && s.loading
}

// Leads reports whether shard is loaded or loading here.
func (c *Coordinator) Leads(shardIndex int32) bool { return c.shards[shardIndex] != nil }

// BeginLoad starts leading a shard: its groups answer
// COORDINATOR_LOAD_IN_PROGRESS until FinishLoad. Any previous state of
// the shard is dropped first.
func (c *Coordinator) BeginLoad(shardIndex int32) {
	c.Unload(shardIndex)
	c.shards[shardIndex] = &shard{index: shardIndex, loading: true}
	c.log.Info("loading group shard", "partition", shardIndex)
}

// FinishLoad makes a loading shard serve: loaded groups with members are
// Stable and their members' sessions start now.
func (c *Coordinator) FinishLoad(shardIndex int32) {
	s := c.shards[shardIndex]
	if s == nil || !s.loading {
		return
	}
	s.loading = false
	n := 0
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		g := c.groups[id]
		if g.shard != s {
			continue
		}
		n++
		for _, m := range g.members {
			c.scheduleSession(g, m)
		}
	}
	c.log.Info("group shard loaded", "partition", shardIndex, "groups", n)
}

// Unload stops leading a shard: its groups are forgotten (a new leader
// reloads them), their timers stopped and every waiting request answered
// NOT_COORDINATOR.
func (c *Coordinator) Unload(shardIndex int32) {
	s := c.shards[shardIndex]
	if s == nil {
		return
	}
	s.gone = true
	delete(c.shards, shardIndex)
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		g := c.groups[id]
		if g.shard != s {
			continue
		}
		delete(c.groups, id)
		g.stopTimers()
		for _, m := range g.members {
			m.failWaiting(kerr.NotCoordinator)
		}
	}
	c.log.Info("group shard unloaded", "partition", shardIndex)
}

// Replay applies one record of a loading shard's partition (in offset
// order). A record it cannot decode is an error: the caller decides
// (the broker logs it and skips it, as Kafka does).
func (c *Coordinator) Replay(shardIndex int32, key, value []byte) error {
	s := c.shards[shardIndex]
	if s == nil || !s.loading {
		return fmt.Errorf("group: replay into shard %d which is not loading", shardIndex)
	}
	r, err := decodeRecord(key, value)
	if err != nil {
		return err
	}
	g := c.groups[r.group]
	if g != nil && g.shard != s {
		return fmt.Errorf("group: group %q replayed into shard %d but lives in %d", r.group, shardIndex, g.shard.index)
	}
	switch {
	case r.offset != nil && r.deleted:
		if g != nil {
			delete(g.offsets, r.offset.tp)
		}
	case r.offset != nil:
		if g == nil {
			g = c.newGroup(r.group, s)
		}
		g.offsets[r.offset.tp] = r.offset.entry
	case r.deleted:
		if g != nil {
			delete(c.groups, r.group)
		}
	default:
		if g == nil {
			g = c.newGroup(r.group, s)
		}
		g.restore(r.meta)
	}
	return nil
}

func (c *Coordinator) newGroup(id string, s *shard) *group {
	g := &group{c: c, id: id, shard: s, state: Empty, offsets: map[TopicPartition]OffsetEntry{},
		pending: map[string]host.Timer{}, static: map[string]string{}}
	c.groups[id] = g
	return g
}

// lookup returns a served group (nil if unknown) or the ownership error.
func (c *Coordinator) lookup(groupID string) (*group, *kerr.Error) {
	if groupID == "" {
		return nil, kerr.InvalidGroupID
	}
	if e := c.Owns(groupID); e != nil {
		return nil, e
	}
	return c.groups[groupID], nil
}

// write appends records to the group's shard. done runs once with the
// coordinator-facing error (nil: committed) — and only while the shard
// that issued the write is still led, or with NOT_COORDINATOR.
func (c *Coordinator) write(g *group, records []batch.Record, done func(*kerr.Error)) {
	s := g.shard
	c.out.Append(s.index, records, func(e *kerr.Error) {
		if s.gone {
			done(kerr.NotCoordinator)
			return
		}
		done(coordinatorError(e))
	})
}

// coordinatorError maps a produce error on __consumer_offsets to what a
// group client understands (Kafka's GroupMetadataManager mapping).
func coordinatorError(e *kerr.Error) *kerr.Error {
	switch e {
	case nil:
		return nil
	case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut:
		return kerr.CoordinatorNotAvailable
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError, kerr.FencedLeaderEpoch:
		return kerr.NotCoordinator
	case kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidFetchSize:
		return kerr.InvalidCommitOffsetSize
	}
	return kerr.UnknownServerError
}

// Groups returns the ids of served groups, sorted (for tests and tools).
func (c *Coordinator) Groups() []string {
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		if !c.groups[id].shard.loading {
			ids = append(ids, id)
		}
	}
	return ids
}

// Snapshot describes a served group (for tests and scenarios).
type Snapshot struct {
	State      State
	Generation int32
	Leader     string
	Protocol   string
	Members    []string // member ids in join order
	Offsets    map[TopicPartition]OffsetEntry
}

// Group returns a served group's snapshot.
func (c *Coordinator) Group(id string) (Snapshot, bool) {
	g := c.groups[id]
	if g == nil || g.shard.loading {
		return Snapshot{}, false
	}
	s := Snapshot{State: g.state, Generation: g.generation, Leader: g.leader, Protocol: g.protocol, Offsets: maps.Clone(g.offsets)}
	for _, m := range g.members {
		s.Members = append(s.Members, m.id)
	}
	return s, true
}
