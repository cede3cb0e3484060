package client

import (
	"time"

	"github.com/loglab/loglab/history"
)

// Acks is the produce acknowledgement setting. The zero value is AcksAll,
// Kafka's default since 3.0.
type Acks int8

const (
	// AcksAll (acks=-1): the leader answers once every in-sync replica has
	// the records.
	AcksAll Acks = iota
	// AcksLeader (acks=1): the leader answers once it has appended.
	AcksLeader
	// AcksNone (acks=0): the broker does not answer; the outcome of every
	// record is unknown (history info) and no offset is returned.
	AcksNone
)

func (a Acks) wire() int16 {
	switch a {
	case AcksLeader:
		return 1
	case AcksNone:
		return 0
	}
	return -1
}

// ResetPolicy is what a consumer does on OFFSET_OUT_OF_RANGE (Kafka's
// auto.offset.reset). The zero value is ResetLatest, Kafka's default.
type ResetPolicy int8

const (
	ResetLatest ResetPolicy = iota
	ResetEarliest
	// ResetNone stops fetching the partition and reports the error.
	ResetNone
)

// Config configures a Client. Zero durations and sizes take the default in
// brackets (Kafka's, unless said otherwise); Linger 0 means no linger.
type Config struct {
	// ClientID is the Kafka client.id and the history process name [the
	// host's name].
	ClientID string
	// Bootstrap lists "host:port" addresses to fetch metadata from first.
	Bootstrap []string
	// AllowAutoTopicCreation lets Metadata requests create unknown topics
	// (allow.auto.create.topics; Kafka's default is true, ours false so a
	// misspelt topic fails instead of appearing).
	AllowAutoTopicCreation bool

	// Acks [AcksAll].
	Acks Acks
	// Linger is how long a partition's batch waits for more records
	// before it is sent (linger.ms) [0].
	Linger time.Duration
	// BatchBytes closes a batch once it holds this many bytes
	// (batch.size) [16384].
	BatchBytes int
	// MaxRequestBytes bounds one record (max.request.size) [1 MiB].
	MaxRequestBytes int
	// DeliveryTimeout bounds a record from Produce to its outcome
	// (delivery.timeout.ms) [2 min].
	DeliveryTimeout time.Duration

	// RequestTimeout bounds a request's round trip (request.timeout.ms)
	// [30 s]; a Fetch gets FetchMaxWait on top.
	RequestTimeout time.Duration
	// DialTimeout bounds connection setup [10 s].
	DialTimeout time.Duration
	// RetryBackoff is the first backoff before a retry (retry.backoff.ms)
	// [100 ms]; it doubles per attempt, with ±20% jitter, up to
	// RetryBackoffMax [1 s].
	RetryBackoff    time.Duration
	RetryBackoffMax time.Duration
	// MaxInFlightPerConn bounds requests awaiting a response on one
	// connection (max.in.flight.requests.per.connection) [5].
	MaxInFlightPerConn int
	// MetadataMaxAge forces a metadata refresh this often
	// (metadata.max.age.ms) [5 min].
	MetadataMaxAge time.Duration

	// FetchMaxWait (fetch.max.wait.ms) [500 ms], FetchMinBytes
	// (fetch.min.bytes) [1], FetchMaxBytes (fetch.max.bytes) [50 MiB],
	// FetchMaxPartitionBytes (max.partition.fetch.bytes) [1 MiB].
	FetchMaxWait           time.Duration
	FetchMinBytes          int32
	FetchMaxBytes          int32
	FetchMaxPartitionBytes int32
	// OffsetReset [ResetLatest].
	OffsetReset ResetPolicy
	// OnRecords receives the records of one partition read by one Fetch, in
	// offset order.
	OnRecords func(records []Record)
	// OnFetchError reports a partition that stopped fetching (ResetNone on
	// OFFSET_OUT_OF_RANGE, undecodable batches).
	OnFetchError func(topic string, partition int32, err error)

	// Consumer group (Subscribe). Group is group.id; GroupInstanceID
	// is group.instance.id (static membership, KIP-345); Topics are the
	// subscribed topics; Assignor is AssignorRange (default) or
	// AssignorRoundRobin, used when this member leads the group.
	Group           string
	GroupInstanceID string
	Topics          []string
	Assignor        string
	// SessionTimeout (session.timeout.ms) [45 s], RebalanceTimeout
	// (max.poll.interval.ms) [5 min], HeartbeatInterval
	// (heartbeat.interval.ms) [3 s].
	SessionTimeout    time.Duration
	RebalanceTimeout  time.Duration
	HeartbeatInterval time.Duration
	// AutoCommit (enable.auto.commit) commits consumed positions every
	// AutoCommitInterval (auto.commit.interval.ms) [5 s] and before
	// giving partitions up.
	AutoCommit         bool
	AutoCommitInterval time.Duration
	// OnAssigned and OnRevoked report the partitions of one topic this
	// member starts and stops owning.
	OnAssigned, OnRevoked func(topic string, partitions []int32)

	// Idempotent (enable.idempotence) gets a producer id (InitProducerId)
	// and numbers every partition's batches, so a retry is never stored
	// twice. It needs Acks = AcksAll.
	Idempotent bool

	// History records every operation (nil: none).
	History *history.Writer
}

func (c Config) withDefaults(name string) Config {
	if c.ClientID == "" {
		c.ClientID = name
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt32 := func(d *int32, v int32) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt(&c.BatchBytes, 16384)
	defInt(&c.MaxRequestBytes, 1<<20)
	def(&c.DeliveryTimeout, 2*time.Minute)
	def(&c.RequestTimeout, 30*time.Second)
	def(&c.DialTimeout, 10*time.Second)
	def(&c.RetryBackoff, 100*time.Millisecond)
	def(&c.RetryBackoffMax, time.Second)
	defInt(&c.MaxInFlightPerConn, 5)
	def(&c.MetadataMaxAge, 5*time.Minute)
	def(&c.FetchMaxWait, 500*time.Millisecond)
	defInt32(&c.FetchMinBytes, 1)
	defInt32(&c.FetchMaxBytes, 50<<20)
	defInt32(&c.FetchMaxPartitionBytes, 1<<20)
	def(&c.SessionTimeout, 45*time.Second)
	def(&c.RebalanceTimeout, 5*time.Minute)
	def(&c.HeartbeatInterval, 3*time.Second)
	def(&c.AutoCommitInterval, 5*time.Second)
	if c.Assignor == "" {
		c.Assignor = AssignorRange
	}
	if c.Linger < 0 {
		c.Linger = 0
	}
	return c
}
