package topics

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
)

// ErrInvalidConfig classifies an unknown topic config name or a bad value
// (Kafka's INVALID_CONFIG).
var ErrInvalidConfig = errors.New("topics: invalid config")

// TimestampType is message.timestamp.type: who sets a batch's timestamps.
type TimestampType int8

const (
	// CreateTime keeps the producer's timestamps.
	CreateTime TimestampType = iota
	// LogAppendTime stamps each batch with the broker's clock at append.
	LogAppendTime
)

func (t TimestampType) String() string {
	if t == LogAppendTime {
		return "LogAppendTime"
	}
	return "CreateTime"
}

// Config is a topic's effective configuration. Units are in the names
// (Kafka's); -1 means unlimited where Kafka says so.
type Config struct {
	RetentionMs     int64 // retention.ms, -1 = keep forever
	RetentionBytes  int64 // retention.bytes per partition, -1 = unlimited
	SegmentBytes    int64 // segment.bytes: roll a segment past this size
	SegmentMs       int64 // segment.ms: roll a segment older than this
	FlushMessages   int64 // flush.messages: fsync after this many unflushed records
	FlushMs         int64 // flush.ms: fsync data older than this
	MaxMessageBytes int64 // max.message.bytes: largest record batch accepted
	TimestampType   TimestampType
	// CleanupPolicy is cleanup.policy; only "delete" is implemented.
	CleanupPolicy string
	// MinInsyncReplicas is min.insync.replicas: an acks=all produce needs
	// at least this many replicas in the ISR (values below 1 read as 1).
	MinInsyncReplicas int64
	// UncleanLeaderElectionEnable is unclean.leader.election.enable; the
	// controller reads it from the metadata image's topic configs.
	UncleanLeaderElectionEnable bool
}

// MinISR is min.insync.replicas, at least 1.
func (c Config) MinISR() int { return int(max(c.MinInsyncReplicas, 1)) }

// DefaultConfig is Kafka's default for every topic config (the broker's
// log.* settings out of the box). Kafka's flush defaults are "never": the
// OS page cache decides, and durability comes from replication.
func DefaultConfig() Config {
	return Config{
		RetentionMs:     7 * 24 * 60 * 60 * 1000,
		RetentionBytes:  -1,
		SegmentBytes:    1 << 30,
		SegmentMs:       7 * 24 * 60 * 60 * 1000,
		FlushMessages:   math.MaxInt64,
		FlushMs:         math.MaxInt64,
		MaxMessageBytes: 1048588,
		TimestampType:   CreateTime,
		CleanupPolicy:   "delete",

		MinInsyncReplicas: 1,
	}
}

// SyncsEveryAppend reports whether the flush policy fsyncs after every
// append (flush.messages=1). Only then does a produce with acks=1 or all
// wait for durability before answering: as in Kafka, where the flush that
// flush.messages triggers happens inside the append.
func (c Config) SyncsEveryAppend() bool { return c.FlushMessages <= 1 }

// EntryType is a config's value type as DescribeConfigs reports it (the
// numbers are Kafka's ConfigType).
type EntryType int8

const (
	TypeBoolean EntryType = 1
	TypeString  EntryType = 2
	TypeInt     EntryType = 3
	TypeLong    EntryType = 5
	TypeList    EntryType = 7
)

// spec describes one topic config: its Kafka name, the broker-level name
// of its default, its type and how to read and write it in a Config.
type spec struct {
	name, brokerName string
	typ              EntryType
	min, max         int64 // for numeric types
	get              func(*Config) string
	set              func(*Config, string) error
}

func longSpec(name, brokerName string, typ EntryType, min, max int64, field func(*Config) *int64) spec {
	return spec{
		name: name, brokerName: brokerName, typ: typ, min: min, max: max,
		get: func(c *Config) string { return strconv.FormatInt(*field(c), 10) },
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < min || n > max {
				return fmt.Errorf("%w: %s=%q, want an integer in [%d, %d]", ErrInvalidConfig, name, v, min, max)
			}
			*field(c) = n
			return nil
		},
	}
}

// specs are the supported topic configs, sorted by name.
var specs = []spec{
	{
		name: "cleanup.policy", brokerName: "log.cleanup.policy", typ: TypeList,
		get: func(c *Config) string { return c.CleanupPolicy },
		set: func(c *Config, v string) error {
			if v != "delete" {
				return fmt.Errorf("%w: cleanup.policy=%q, only \"delete\" is supported", ErrInvalidConfig, v)
			}
			c.CleanupPolicy = v
			return nil
		},
	},
	longSpec("flush.messages", "log.flush.interval.messages", TypeLong, 1, math.MaxInt64, func(c *Config) *int64 { return &c.FlushMessages }),
	longSpec("flush.ms", "log.flush.interval.ms", TypeLong, 0, math.MaxInt64, func(c *Config) *int64 { return &c.FlushMs }),
	longSpec("max.message.bytes", "message.max.bytes", TypeInt, 0, math.MaxInt32, func(c *Config) *int64 { return &c.MaxMessageBytes }),
	{
		name: "message.timestamp.type", brokerName: "log.message.timestamp.type", typ: TypeString,
		get: func(c *Config) string { return c.TimestampType.String() },
		set: func(c *Config, v string) error {
			switch v {
			case "CreateTime":
				c.TimestampType = CreateTime
			case "LogAppendTime":
				c.TimestampType = LogAppendTime
			default:
				return fmt.Errorf("%w: message.timestamp.type=%q, want CreateTime or LogAppendTime", ErrInvalidConfig, v)
			}
			return nil
		},
	},
	longSpec("min.insync.replicas", "min.insync.replicas", TypeInt, 1, math.MaxInt32, func(c *Config) *int64 { return &c.MinInsyncReplicas }),
	longSpec("retention.bytes", "log.retention.bytes", TypeLong, -1, math.MaxInt64, func(c *Config) *int64 { return &c.RetentionBytes }),
	longSpec("retention.ms", "log.retention.ms", TypeLong, -1, math.MaxInt64, func(c *Config) *int64 { return &c.RetentionMs }),
	// Kafka's floor for segment.bytes is 1 MiB; loglab allows 1 KiB so
	// that tests and simulations can roll segments with little data.
	longSpec("segment.bytes", "log.segment.bytes", TypeInt, 1024, math.MaxInt32, func(c *Config) *int64 { return &c.SegmentBytes }),
	longSpec("segment.ms", "log.roll.ms", TypeLong, 1, math.MaxInt64, func(c *Config) *int64 { return &c.SegmentMs }),
	{
		name: "unclean.leader.election.enable", brokerName: "unclean.leader.election.enable", typ: TypeBoolean,
		get: func(c *Config) string { return strconv.FormatBool(c.UncleanLeaderElectionEnable) },
		set: func(c *Config, v string) error {
			switch v {
			case "true", "false":
				c.UncleanLeaderElectionEnable = v == "true"
				return nil
			}
			return fmt.Errorf("%w: unclean.leader.election.enable=%q, want true or false", ErrInvalidConfig, v)
		},
	},
}

func findSpec(name string) (spec, bool) {
	i := sort.Search(len(specs), func(i int) bool { return specs[i].name >= name })
	if i < len(specs) && specs[i].name == name {
		return specs[i], true
	}
	return spec{}, false
}

// Known reports whether name is a supported topic config.
func Known(name string) bool {
	_, ok := findSpec(name)
	return ok
}

// ParseConfig applies a topic's overrides (Kafka config name → value) to
// the broker defaults. Unknown names and bad values wrap ErrInvalidConfig.
// Names are applied in sorted order so the error reported is deterministic.
func ParseConfig(defaults Config, overrides map[string]string) (Config, error) {
	c := defaults
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		s, ok := findSpec(name)
		if !ok {
			return Config{}, fmt.Errorf("%w: unknown topic config %q", ErrInvalidConfig, name)
		}
		if err := s.set(&c, overrides[name]); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// Entry is one config as DescribeConfigs shows it.
type Entry struct {
	Name  string
	Value string
	// Override: the topic sets it; otherwise it is the broker default.
	Override bool
	// BrokerName is the broker-level config that supplies the default.
	BrokerName string
	// Default is the broker default's value (the synonym under Override).
	Default string
	Type    EntryType
}

// Describe lists every supported topic config of a topic with the given
// overrides, sorted by name.
func Describe(defaults Config, overrides map[string]string) []Entry {
	eff, err := ParseConfig(defaults, overrides)
	if err != nil {
		// A stored topic's overrides were validated on the way in.
		eff = defaults
	}
	out := make([]Entry, 0, len(specs))
	for _, s := range specs {
		_, over := overrides[s.name]
		out = append(out, Entry{
			Name: s.name, Value: s.get(&eff), Override: over,
			BrokerName: s.brokerName, Default: s.get(&defaults), Type: s.typ,
		})
	}
	return out
}

// DescribeBroker lists the broker-level defaults under their broker
// config names, sorted by name.
func DescribeBroker(defaults Config) []Entry {
	out := make([]Entry, 0, len(specs))
	for _, s := range specs {
		v := s.get(&defaults)
		out = append(out, Entry{Name: s.brokerName, Value: v, BrokerName: s.brokerName, Default: v, Type: s.typ})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
