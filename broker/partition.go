package broker

import (
	"strconv"

	"github.com/loglab/loglab/broker/topics"
	"github.com/loglab/loglab/host"
)

// partitionLog is what the broker needs from one partition's storage
// (package broker/log, through an adapter). Every call runs on the node's
// loop.
type partitionLog interface {
	LogStartOffset() int64
	LogEndOffset() int64
	// AppendAsLeader stores one whole, validated v2 batch, stamping
	// leaderEpoch into it and assigning its offsets from LogEndOffset (and
	// stamping LogAppendTime if the log is so configured). It returns the
	// base offset and the append time it stamped (-1 under CreateTime).
	// An idempotent batch is first checked against the producer state:
	// a duplicate of one of its producer's last five batches is not
	// written and reports the original offsets with duplicate set.
	AppendAsLeader(batch []byte, leaderEpoch int32) (baseOffset, lastOffset, logAppendTime int64, duplicate bool, err error)
	// AppendAsFollower stores whole batches fetched from the leader,
	// keeping their offsets and leader epochs.
	AppendAsFollower(batches []byte) error
	// TruncateTo removes every batch at or above offset (and the epoch
	// cache's entries from there on).
	TruncateTo(offset int64) error
	// AssignEpoch records that epoch starts at startOffset (becoming
	// leader); a no-op unless epoch is newer than LatestEpoch.
	AssignEpoch(epoch int32, startOffset int64) error
	// LatestEpoch is the newest epoch in the leader-epoch cache.
	LatestEpoch() (int32, bool)
	// EndOffsetForEpoch answers OffsetForLeaderEpoch with Kafka's
	// semantics: the largest epoch <= epoch and the start offset of the
	// next one (LogEndOffset for the latest); (-1, -1) is UNDEFINED.
	EndOffsetForEpoch(epoch int32) (foundEpoch int32, endOffset int64)
	// EpochAt is the leader epoch of the batch holding offset per the
	// epoch cache (-1: none known).
	EpochAt(offset int64) int32
	// Read appends to dst whole batches starting with the one holding
	// offset, up to maxBytes; with minOne, at least one batch even if it
	// is larger (KIP-74). Offsets outside [LogStartOffset, LogEndOffset]
	// fail with an error the broker maps to OFFSET_OUT_OF_RANGE. On error it returns
	// dst unchanged.
	Read(dst []byte, offset int64, maxBytes int, minOne bool) ([]byte, error)
	// OffsetForTimestamp finds the first offset whose batch has a
	// timestamp >= ts, through the time index; ok is false if none has.
	OffsetForTimestamp(ts int64) (offset, timestamp int64, ok bool, err error)
	// MaxTimestamp is the largest timestamp in the log and the offset of
	// the batch holding it (-1, -1 for an empty log).
	MaxTimestamp() (offset, timestamp int64, err error)
	// RecoveryPoint is the durable offset: every offset below it is synced.
	RecoveryPoint() int64
	// RecoveryCut is the offset at which opening the log cut a torn or
	// corrupt tail (ok false: it cut nothing).
	RecoveryCut() (offset int64, ok bool)
	// Size is the log's bytes on disk (segments).
	Size() int64
	// WhenDurable calls done once every offset below end is durable.
	WhenDurable(end int64, done func(error))
	// ApplyRetention deletes old segments per retention.ms/bytes.
	ApplyRetention() (deletedSegments int, err error)
	// Close flushes and closes the log, then calls done.
	Close(done func(error))
}

// logOpener opens (creating if needed) the log of one partition in dir;
// scanAll makes recovery scan every segment and cut the log at the first
// corrupt batch (plog.Config.ScanAll).
type logOpener func(h host.Host, dir string, cfg topics.Config, scanAll bool) (partitionLog, error)

// topic is a live topic: visible to clients once its catalogue entry is
// durable, invisible again as soon as its deletion starts.
type topic struct {
	name       string
	id         topics.ID
	overrides  map[string]string
	cfg        topics.Config
	partitions []*partition
}

// partition is one partition's broker state. The fields replication will
// need already have their Kafka names; on a single broker the leader is
// this broker, the leader epoch stays 0, the ISR is this broker alone and
// the high watermark is the log end offset.
type partition struct {
	topic       *topic
	index       int32
	log         partitionLog
	leaderEpoch int32
	// offline holds the error that took the log offline (a failed open,
	// write or sync); the partition then answers KAFKA_STORAGE_ERROR.
	offline error
	// waiters are long-polling fetches to wake when the log grows.
	waiters []*fetchWait

	// Cluster mode only (replicated): the partition as the metadata image
	// shows it and this broker's role in it (cluster.go).
	replicated     bool
	leader         int32 // -1: none
	isLeader       bool
	replicas, isr  []int32
	partitionEpoch int32
	// hw is the high watermark: maintained by the leader
	// (replica_leader.go), learnt from the leader by a follower.
	hw int64
	// hwSaved is the last high watermark checkpointed to disk.
	hwSaved int64
	// role is the (leader, leader epoch, may lead) last acted upon.
	role roleKey
	// zombie: bugzoo fenced-leader-accepts-writes kept this broker leading
	// after the image moved leadership away.
	zombie bool
	// lead is the leader's state (followers, ISR changes, parked
	// produces); nil unless isLeader.
	lead *leaderState
	// follow is the follower's fetch state; nil unless following a leader.
	follow *followState
	// suspect: the log may be shorter than a high watermark it once had
	// (suspectHW) — it reopened short after a crash, recovery cut a torn
	// or rotten tail, or a truncation hit rot and dropped the log — so it
	// may have lost committed data and leads only after asking the other
	// replicas (replica_recovery.go). It stays suspect until, as a
	// follower, its log reaches suspectHW and its leader's high watermark.
	suspect   bool
	suspectHW int64
	// seen is the image's state of the partition last logged.
	seen seenState
}

// seenState is what changes when the controller changes a partition.
type seenState struct{ leaderEpoch, partitionEpoch int32 }

// markSuspect records that the log lost committed data below hw.
func (p *partition) markSuspect(hw int64) {
	if hw <= p.log.LogEndOffset() {
		return
	}
	if !p.suspect || hw > p.suspectHW {
		p.suspectHW = hw
	}
	p.suspect = true
}

// maybeUnsuspect clears suspect once the follower's log holds everything
// the lost high watermark covered and everything its leader has committed
// (leaderHW, from a fetch response): the lost range's true end is not
// always known (a cut tail), but whatever was committed before the loss
// is below the leader's high watermark.
func (p *partition) maybeUnsuspect(leaderHW int64) {
	if leo := p.log.LogEndOffset(); p.suspect && leo >= p.suspectHW && leo >= leaderHW {
		p.suspect = false
	}
}

// highWatermark is the offset below which records are visible to
// consumers. In cluster mode it is p.hw (see replica_leader.go). With one
// replica it is the log end offset — except when the
// topic syncs every append (flush.messages=1): there Kafka flushes inside
// the append, before the high watermark moves, so a consumer never sees a
// record a power loss can take back. We keep that promise by holding the
// high watermark at the durable offset.
func (p *partition) highWatermark() int64 {
	if p.replicated {
		return p.hw
	}
	leo := p.log.LogEndOffset()
	if p.topic.cfg.SyncsEveryAppend() {
		return min(leo, p.log.RecoveryPoint())
	}
	return leo
}

// partitionDir is Kafka's directory name for a partition: "<topic>-<n>".
func partitionDir(topic string, index int32) string {
	return topic + "-" + strconv.FormatInt(int64(index), 10)
}

// wake tells the partition's waiting fetches that the log grew.
func (p *partition) wake() {
	if len(p.waiters) == 0 {
		return
	}
	ws := append([]*fetchWait(nil), p.waiters...)
	for _, w := range ws {
		w.poke()
	}
}

func (p *partition) removeWaiter(w *fetchWait) {
	for i, x := range p.waiters {
		if x == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			return
		}
	}
}
