package broker

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/broker/controller"
	"github.com/loglab/loglab/broker/metrics"
	"github.com/loglab/loglab/broker/topics"
	"github.com/loglab/loglab/host"
)

// Config is a broker's configuration. Zero values select the defaults
// noted, which are Kafka's where Kafka has one.
type Config struct {
	// NodeID is broker.id / node.id (0 by default).
	NodeID int32
	// Listen is the listener address, "host:port" (default ":9092"; in
	// simulation the host part is the node's name).
	Listen string
	// AdvertisedAddr is what Metadata tells clients to connect to
	// (advertised.listeners); default: the listener's address.
	AdvertisedAddr string
	// ClusterID is reported in Metadata (default "loglab").
	ClusterID string

	// MaxFrameBytes is socket.request.max.bytes (default 100 MiB).
	MaxFrameBytes int
	// MaxConnections bounds open client connections on the listener
	// (max.connections; default 1000). Connections past it are closed at
	// accept.
	MaxConnections int
	// MaxInFlightRequests bounds handled-but-unanswered requests per
	// connection (default 100); later frames wait unparsed.
	MaxInFlightRequests int
	// MaxQueuedRequests bounds frames waiting behind them (default 1000);
	// one more closes the connection.
	MaxQueuedRequests int

	// AutoCreateTopicsDisable turns off auto.create.topics.enable (on by
	// default, as in Kafka): Metadata for an unknown topic creates it with
	// NumPartitions partitions when the client allows it.
	AutoCreateTopicsDisable bool
	// NumPartitions is num.partitions, for auto-created topics and
	// CreateTopics with -1 partitions (default 1).
	NumPartitions int32
	// MaxPartitionsPerTopic bounds CreateTopics (default 10000); a guard
	// against one request creating millions of logs.
	MaxPartitionsPerTopic int32
	// RetentionCheckIntervalMs is log.retention.check.interval.ms, how
	// often retention runs (default 300000).
	RetentionCheckIntervalMs int64
	// TopicDefaults are the broker-level defaults of topic configs
	// (log.retention.ms, log.segment.bytes, ...); the zero value means
	// topics.DefaultConfig(), Kafka's defaults.
	TopicDefaults topics.Config

	// Cluster mode. Controllers non-empty: the broker joins a KRaft-like
	// cluster: it embeds a controller.Follower (registers, heartbeats,
	// follows the metadata log) and takes topics, partitions, leaders, ISR
	// and epochs from the metadata image. Empty: the standalone single
	// broker with its local topic catalogue.
	Controllers []string
	// Voter, when non-nil, also runs a controller voter on this node
	// (combined mode, process.roles=broker,controller). Its ID must equal
	// NodeID; NodeID must be >= 1. Its Bugs are set from Bugs.
	Voter *controller.VoterConfig
	// Rack is broker.rack, published in the registration.
	Rack string
	// DefaultReplicationFactor is default.replication.factor (1), for
	// auto-created topics and CreateTopics with -1.
	DefaultReplicationFactor int16
	// ReplicaLagTimeMaxMs is replica.lag.time.max.ms (30000): a follower
	// not caught up for this long leaves the ISR.
	ReplicaLagTimeMaxMs int64
	// ReplicaFetchWaitMaxMs is replica.fetch.wait.max.ms (500), the
	// follower fetch's MaxWait.
	ReplicaFetchWaitMaxMs int64
	// ReplicaFetchBackoffMs is replica.fetch.backoff.ms (1000): the pause
	// after a failed follower fetch or a lost connection to the leader.
	ReplicaFetchBackoffMs int64
	// HeartbeatIntervalMs is broker.heartbeat.interval.ms (500).
	HeartbeatIntervalMs int64

	// Group coordinator (package broker/group). OffsetsTopicNumPartitions
	// is offsets.topic.num.partitions (default 10, not Kafka's 50: every
	// partition is a log and a replica to fetch, and loglab runs whole
	// clusters in one simulated process); OffsetsTopicReplicationFactor
	// is offsets.topic.replication.factor (default 3, capped at the
	// number of registered brokers when the topic is created).
	OffsetsTopicNumPartitions     int32
	OffsetsTopicReplicationFactor int16
	// GroupInitialRebalanceDelayMs is group.initial.rebalance.delay.ms
	// (3000; -1 for none); GroupMinSessionTimeoutMs and
	// GroupMaxSessionTimeoutMs bound members' session timeouts (6000,
	// 1800000).
	GroupInitialRebalanceDelayMs int64
	GroupMinSessionTimeoutMs     int64
	GroupMaxSessionTimeoutMs     int64

	// Metrics receives the broker's measurements (package
	// broker/metrics; nil: none).
	Metrics metrics.Recorder
	// MetricsGaugeInterval, if positive, publishes the gauges this often
	// (real brokers with --metrics); in cluster mode they are also
	// published with every high-watermark checkpoint (1s).
	MetricsGaugeInterval time.Duration

	// Bugs switches on deliberate bugs, for testing the testbed only
	// (package bugzoo); the zero value, none, is the only correct one.
	Bugs bugzoo.Set
}

// ErrConfig classifies a Config that Validate refuses.
var ErrConfig = errors.New("broker: bad config")

// Validate checks what a command can get wrong before anything starts:
// the listener's and advertised address's form, and the ranges of
// socket.request.max.bytes, num.partitions and default.replication.factor
// (zero: the default). A broker run with a bad Config fails at start.
func (c Config) Validate() error {
	bad := func(f string, args ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrConfig}, args...)...) }
	for _, a := range []struct{ what, addr string }{{"listen", c.Listen}, {"advertised address", c.AdvertisedAddr}} {
		if a.addr == "" {
			continue
		}
		// HOST:PORT, read without package net (which detcheck keeps out
		// of code that runs in simulation).
		i := strings.LastIndexByte(a.addr, ':')
		if i < 0 {
			return bad("%s %q: want HOST:PORT", a.what, a.addr)
		}
		if p, err := strconv.Atoi(a.addr[i+1:]); err != nil || p < 0 || p > 65535 {
			return bad("%s %q: bad port", a.what, a.addr)
		}
	}
	switch {
	case c.NodeID < 0:
		return bad("node.id %d: want at least 0", c.NodeID)
	case c.MaxFrameBytes < 0:
		return bad("socket.request.max.bytes %d: want a positive size", c.MaxFrameBytes)
	case c.NumPartitions < 0:
		return bad("num.partitions %d: want at least 1", c.NumPartitions)
	case c.DefaultReplicationFactor < 0:
		return bad("default.replication.factor %d: want at least 1", c.DefaultReplicationFactor)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = ":9092"
	}
	if c.ClusterID == "" {
		c.ClusterID = "loglab"
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = host.DefaultMaxFrameBytes
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = 1000
	}
	if c.MaxInFlightRequests <= 0 {
		c.MaxInFlightRequests = 100
	}
	if c.MaxQueuedRequests <= 0 {
		c.MaxQueuedRequests = 1000
	}
	if c.NumPartitions <= 0 {
		c.NumPartitions = 1
	}
	if c.MaxPartitionsPerTopic <= 0 {
		c.MaxPartitionsPerTopic = 10000
	}
	if c.RetentionCheckIntervalMs <= 0 {
		c.RetentionCheckIntervalMs = 300_000
	}
	if c.TopicDefaults == (topics.Config{}) {
		c.TopicDefaults = topics.DefaultConfig()
	}
	if c.DefaultReplicationFactor <= 0 {
		c.DefaultReplicationFactor = 1
	}
	if c.ReplicaLagTimeMaxMs <= 0 {
		c.ReplicaLagTimeMaxMs = 30_000
	}
	if c.ReplicaFetchWaitMaxMs <= 0 {
		c.ReplicaFetchWaitMaxMs = 500
	}
	if c.ReplicaFetchBackoffMs <= 0 {
		c.ReplicaFetchBackoffMs = 1000
	}
	if c.HeartbeatIntervalMs <= 0 {
		c.HeartbeatIntervalMs = 500
	}
	if c.Metrics == nil {
		c.Metrics = metrics.Nop{}
	}
	if c.OffsetsTopicNumPartitions <= 0 {
		c.OffsetsTopicNumPartitions = 10
	}
	if c.OffsetsTopicReplicationFactor <= 0 {
		c.OffsetsTopicReplicationFactor = 3
	}
	return c
}
