package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrProduce wraps the first record that failed in a Produce run.
var ErrProduce = errors.New("bench: produce failed")

// ProduceConfig is one producer's workload. Zero values select the
// defaults noted (issue #3's workload: 1 KiB records, acks=1).
type ProduceConfig struct {
	// Addr is the bootstrap broker, host:port.
	Addr string
	// Seeds, when set, are the bootstrap brokers instead of Addr.
	Seeds []string
	// Acks is the producer's acks: 1 (the default, leader ack), -1 (all:
	// the ISR has the record) or 0 (none).
	Acks int16
	// Topic is produced to (it must exist; see CreateTopic).
	Topic string
	// ValueBytes is each record's value size (default 1024); keys are null.
	ValueBytes int
	// BatchMaxBytes is kgo's ProducerBatchMaxBytes (default 1 MiB).
	BatchMaxBytes int32
	// Linger is kgo's ProducerLinger (default 1ms; negative: no linger).
	Linger time.Duration
	// MaxBufferedRecords bounds records produced but not yet acknowledged
	// (default 4096, 4 MiB of 1 KiB records). Produce blocks beyond it, so
	// at full speed latency is about MaxBufferedRecords / throughput
	// (Little's law): this is the in-flight window.
	MaxBufferedRecords int
	// MaxInflightRequests is produce requests in flight per broker
	// (default 5, Kafka's max.in.flight.requests.per.connection).
	MaxInflightRequests int
	// Rate, if positive, paces the load open-loop at Rate records per
	// second; latency is then measured from each record's scheduled send
	// time, so a stalled broker cannot hide its stall (no coordinated
	// omission). Zero produces as fast as the window allows.
	Rate float64
	// Seed seeds the random record values (a fixed default: runs compare).
	Seed uint64
}

func (c ProduceConfig) withDefaults() ProduceConfig {
	if c.ValueBytes == 0 {
		c.ValueBytes = 1024
	}
	if c.BatchMaxBytes == 0 {
		c.BatchMaxBytes = 1 << 20
	}
	switch {
	case c.Linger == 0:
		c.Linger = time.Millisecond
	case c.Linger < 0:
		c.Linger = 0
	}
	if c.MaxBufferedRecords == 0 {
		c.MaxBufferedRecords = 4096
	}
	if c.MaxInflightRequests == 0 {
		c.MaxInflightRequests = 5
	}
	if c.Seed == 0 {
		c.Seed = 3
	}
	if c.Acks == 0 {
		c.Acks = 1
	}
	if len(c.Seeds) == 0 {
		c.Seeds = []string{c.Addr}
	}
	return c
}

// Result is one Produce run: every counted record was acknowledged.
type Result struct {
	Records int64
	// Bytes is the value bytes produced (what MB/s is computed from).
	Bytes   int64
	Elapsed time.Duration
	// Latency holds per-record latencies in nanoseconds: from the Produce
	// call (or the scheduled send time under Rate) to the promise.
	Latency *hdrhistogram.Histogram
}

// MBps is throughput in megabytes (1e6, as go test's MB/s) per second.
func (r Result) MBps() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) / 1e6 / r.Elapsed.Seconds()
}

// Percentile returns the latency at quantile q (0-100).
func (r Result) Percentile(q float64) time.Duration {
	return time.Duration(r.Latency.ValueAtQuantile(q))
}

// Producer is a kgo client set up for one ProduceConfig.
type Producer struct {
	cfg    ProduceConfig
	cl     *kgo.Client
	values [][]byte
}

// NewProducer connects a kgo client with the workload's settings: acks as
// configured (leader ack by default), no idempotence (so several requests
// may be in flight), no compression.
func NewProducer(cfg ProduceConfig) (*Producer, error) {
	cfg = cfg.withDefaults()
	var acks kgo.Acks
	switch cfg.Acks {
	case 1:
		acks = kgo.LeaderAck()
	case -1:
		acks = kgo.AllISRAcks()
	default:
		return nil, fmt.Errorf("bench: acks %d: want 1 or -1", cfg.Acks)
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Seeds...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(acks),
		kgo.DisableIdempotentWrite(),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerBatchMaxBytes(cfg.BatchMaxBytes),
		kgo.ProducerLinger(cfg.Linger),
		kgo.MaxBufferedRecords(cfg.MaxBufferedRecords),
		kgo.MaxProduceRequestsInflightPerBroker(cfg.MaxInflightRequests),
	)
	if err != nil {
		return nil, fmt.Errorf("bench: kgo client: %w", err)
	}
	// A few distinct random values: incompressible, and cheap to hold.
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	values := make([][]byte, 64)
	for i := range values {
		v := make([]byte, cfg.ValueBytes)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		values[i] = v
	}
	return &Producer{cfg: cfg, cl: cl, values: values}, nil
}

// Close closes the client.
func (p *Producer) Close() { p.cl.Close() }

// Warm produces one record synchronously, so the connection, ApiVersions
// and metadata are in place before anything is timed.
func (p *Producer) Warm(ctx context.Context) error {
	if err := p.cl.ProduceSync(ctx, &kgo.Record{Value: p.values[0]}).FirstErr(); err != nil {
		return fmt.Errorf("%w: warm-up: %w", ErrProduce, err)
	}
	return nil
}

// timedRecord carries a record's start time to its promise without a
// shared map: the record's Context points back at its timedRecord
// (kgo only asks a record's context for Done and Err).
type timedRecord struct {
	context.Context
	start time.Time
	rec   kgo.Record
}

// Produce produces n records asynchronously, as fast as the window allows
// (or at cfg.Rate), waits for every acknowledgement and returns the
// throughput and latency. It fails with ErrProduce if any record failed.
func (p *Producer) Produce(ctx context.Context, n int) (Result, error) {
	hist := hdrhistogram.New(1, int64(time.Minute), 3)
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
	)
	promise := func(r *kgo.Record, err error) {
		t := r.Context.(*timedRecord)
		lat := time.Since(t.start)
		mu.Lock()
		hist.RecordValue(int64(lat))
		if err != nil && firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		wg.Done()
	}
	var interval time.Duration
	if p.cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) / p.cfg.Rate)
	}
	wg.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		t := &timedRecord{Context: ctx}
		t.rec = kgo.Record{Value: p.values[i%len(p.values)], Context: t}
		if interval > 0 {
			t.start = start.Add(time.Duration(i) * interval)
			if d := time.Until(t.start); d > 50*time.Microsecond {
				time.Sleep(d)
			}
		} else {
			t.start = time.Now()
		}
		p.cl.Produce(ctx, &t.rec, promise)
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := Result{Records: int64(n), Bytes: int64(n) * int64(p.cfg.ValueBytes), Elapsed: elapsed, Latency: hist}
	if firstErr != nil {
		return res, fmt.Errorf("%w: %w", ErrProduce, firstErr)
	}
	return res, nil
}

// CreateTopic creates topic with the given partitions (replication factor
// 1) and config overrides on the broker at addr. It is the same
// CreateTopics request for every target, so each gets its own defaults
// for anything not overridden.
func CreateTopic(ctx context.Context, addr, topic string, partitions int32, configs map[string]string) error {
	return CreateReplicatedTopic(ctx, []string{addr}, topic, partitions, 1, configs)
}

// CreateReplicatedTopic is CreateTopic with a replication factor, through
// any of seeds.
func CreateReplicatedTopic(ctx context.Context, seeds []string, topic string, partitions int32, rf int16, configs map[string]string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return fmt.Errorf("bench: kgo client: %w", err)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, rf
	for _, name := range sortedKeys(configs) {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		v := configs[name]
		c.Name, c.Value = name, &v
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("bench: create topic %q: %w", topic, err)
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("bench: create topic %q: %d topics in response", topic, len(resp.Topics))
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		if m := resp.Topics[0].ErrorMessage; m != nil && *m != "" {
			return fmt.Errorf("bench: create topic %q: %w (%s)", topic, err, *m)
		}
		return fmt.Errorf("bench: create topic %q: %w", topic, err)
	}
	return nil
}

// DeleteTopic deletes topic through any of seeds.
func DeleteTopic(ctx context.Context, seeds []string, topic string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return fmt.Errorf("bench: kgo client: %w", err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewDeleteTopicsRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.TopicNames = append(req.TopicNames, topic)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("bench: delete topic %q: %w", topic, err)
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("bench: delete topic %q: %d topics in response", topic, len(resp.Topics))
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		return fmt.Errorf("bench: delete topic %q: %w", topic, err)
	}
	return nil
}

// WaitInSync polls Metadata through seeds until every partition of topic
// has a leader and rf in-sync replicas, or ctx ends: a replicated bench
// must not time the cluster's start-up.
func WaitInSync(ctx context.Context, seeds []string, topic string, rf int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return fmt.Errorf("bench: kgo client: %w", err)
	}
	defer cl.Close()
	last := "no answer"
	for {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err == nil && len(resp.Topics) == 1 {
			t := resp.Topics[0]
			ok := t.ErrorCode == 0 && len(t.Partitions) > 0
			for _, p := range t.Partitions {
				ok = ok && p.ErrorCode == 0 && p.Leader >= 0 && len(p.ISR) >= rf
			}
			if ok {
				return nil
			}
			last = fmt.Sprintf("topic error %d, partitions %+v", t.ErrorCode, t.Partitions)
		} else if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: topic %q never fully in sync: %w (%s)", topic, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
