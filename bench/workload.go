package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrWorkload classifies a workload that cannot run (bad file, bad value).
var ErrWorkload = errors.New("bench: bad workload")

// Workload is one benchmark, in the shape of an OpenMessaging Benchmark
// workload (its field names, camelCase), plus the Kafka settings OMB keeps
// in its driver file (acks, batching, compression, replication, flush).
type Workload struct {
	Name string `yaml:"name" json:"name"`
	// Topics, each with PartitionsPerTopic partitions.
	Topics             int `yaml:"topics" json:"topics"`
	PartitionsPerTopic int `yaml:"partitionsPerTopic" json:"partitionsPerTopic"`
	// MessageSize is each record's value size in bytes.
	MessageSize int `yaml:"messageSize" json:"messageSize"`
	// KeyDistributor: NO_KEY, KEY_ROUND_ROBIN or RANDOM_NANO (OMB's names).
	KeyDistributor string `yaml:"keyDistributor" json:"keyDistributor"`
	// ProducersPerTopic and ConsumerPerSubscription (one subscription, a
	// consumer group, per topic) are client counts.
	ProducersPerTopic       int `yaml:"producersPerTopic" json:"producersPerTopic"`
	ConsumerPerSubscription int `yaml:"consumerPerSubscription" json:"consumerPerSubscription"`
	// ProducerRate is records per second over all producers, paced
	// open-loop; 0 searches for the maximum sustainable rate.
	ProducerRate int `yaml:"producerRate" json:"producerRate"`
	// Warmup and Duration (Go durations): the warm-up is run and thrown
	// away; windows and the aggregate cover Duration.
	Warmup   Duration `yaml:"warmup" json:"warmup"`
	Duration Duration `yaml:"duration" json:"duration"`
	// Kafka settings.
	Acks              int      `yaml:"acks" json:"acks"` // 1, -1 (all) or 0
	Compression       string   `yaml:"compression" json:"compression"`
	BatchBytes        int      `yaml:"batchBytes" json:"batchBytes"`
	Linger            Duration `yaml:"linger" json:"linger"`
	ReplicationFactor int      `yaml:"replicationFactor" json:"replicationFactor"`
	// Flush: "never" (Kafka's default: the page cache decides) or
	// "every-batch" (flush.messages=1).
	Flush string `yaml:"flush" json:"flush"`
}

// Duration is a time.Duration read from "10s"-style text.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 10s)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// DefaultWorkload is 1 topic of 3 partitions, 1 KiB records, one producer
// and one consumer, acks=1, 20 s after 5 s of warm-up, at the maximum
// sustainable rate.
func DefaultWorkload() Workload {
	return Workload{Name: "default", Topics: 1, PartitionsPerTopic: 3, MessageSize: 1024, KeyDistributor: "NO_KEY",
		ProducersPerTopic: 1, ConsumerPerSubscription: 1, Warmup: Duration(5 * time.Second), Duration: Duration(20 * time.Second),
		Acks: 1, Compression: "none", BatchBytes: 1 << 20, Linger: Duration(time.Millisecond), ReplicationFactor: 1, Flush: "never"}
}

// LoadWorkload reads the workload file at path ("": DefaultWorkload).
func LoadWorkload(path string) (Workload, error) {
	if path == "" {
		return DefaultWorkload(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Workload{}, fmt.Errorf("%w: %w", ErrWorkload, err)
	}
	return ParseWorkload(path, data)
}

// ParseWorkload reads a workload file over the defaults; unknown fields
// and bad values are errors naming the field.
func ParseWorkload(name string, data []byte) (Workload, error) {
	w := DefaultWorkload()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&w); err != nil {
		// One line: yaml.v3 lists its errors on lines of their own.
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "yaml: unmarshal errors:", "")), " ")
		return Workload{}, fmt.Errorf("%w: %s: %s", ErrWorkload, name, msg)
	}
	if err := w.Validate(); err != nil {
		return Workload{}, fmt.Errorf("%s: %w", name, err)
	}
	return w, nil
}

// Validate checks every field's range.
func (w Workload) Validate() error {
	bad := func(f string, args ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrWorkload}, args...)...) }
	switch {
	case w.Topics < 1 || w.Topics > 100:
		return bad("topics %d: want 1..100", w.Topics)
	case w.PartitionsPerTopic < 1 || w.PartitionsPerTopic > 10000:
		return bad("partitionsPerTopic %d: want 1..10000", w.PartitionsPerTopic)
	case w.MessageSize < 1 || w.MessageSize > 1<<20:
		return bad("messageSize %d: want 1..1048576", w.MessageSize)
	case w.ProducersPerTopic < 1 || w.ProducersPerTopic > 64:
		return bad("producersPerTopic %d: want 1..64", w.ProducersPerTopic)
	case w.ConsumerPerSubscription < 0 || w.ConsumerPerSubscription > 64:
		return bad("consumerPerSubscription %d: want 0..64", w.ConsumerPerSubscription)
	case w.ProducerRate < 0:
		return bad("producerRate %d: want >= 0 (0: find the maximum)", w.ProducerRate)
	case w.Duration < Duration(time.Second):
		return bad("duration %v: want at least 1s", time.Duration(w.Duration))
	case w.Warmup < 0:
		return bad("warmup %v: want >= 0", time.Duration(w.Warmup))
	case w.Acks != 1 && w.Acks != -1 && w.Acks != 0:
		return bad("acks %d: want 1, -1 (all) or 0", w.Acks)
	case w.BatchBytes < 1024:
		return bad("batchBytes %d: want at least 1024", w.BatchBytes)
	case w.ReplicationFactor < 1 || w.ReplicationFactor > 5:
		return bad("replicationFactor %d: want 1..5", w.ReplicationFactor)
	case w.Linger < 0:
		return bad("linger %v: want >= 0", time.Duration(w.Linger))
	}
	switch w.KeyDistributor {
	case "NO_KEY", "KEY_ROUND_ROBIN", "RANDOM_NANO":
	default:
		return bad("keyDistributor %q: want NO_KEY, KEY_ROUND_ROBIN or RANDOM_NANO", w.KeyDistributor)
	}
	switch w.Compression {
	case "none", "gzip", "snappy", "lz4", "zstd":
	default:
		return bad("compression %q: want none, gzip, snappy, lz4 or zstd", w.Compression)
	}
	switch w.Flush {
	case "never", "every-batch":
	default:
		return bad("flush %q: want never or every-batch", w.Flush)
	}
	return nil
}
