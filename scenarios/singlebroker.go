package scenarios

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/topics"
	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/sim/disk"
)

// The single-broker scenarios: simulated producers and a consumer work
// against one simulated broker that is crashed and restarted; after the
// faults a final reader reads every partition to its end, and the history
// is checked (singlebroker_check.go). Each scenario fixes the flush policy
// and the kind of crash, so its expectation is fixed too:
//
//   - flush.messages=1 acknowledges a produce only once it is synced
//     (Kafka flushes inside the append), so no power loss may lose an
//     acknowledged write;
//   - flush.ms=N syncs at most N ms after an append but acknowledges at
//     once, as Kafka does: a power loss inside that window loses
//     acknowledged writes, and the scenario must find it;
//   - flush=never (Kafka's default) leaves durability to replication: with
//     one broker a power loss loses acknowledged writes;
//   - a process crash keeps the kernel's page cache, so even flush=never
//     loses nothing.
func init() {
	for _, v := range singleBrokerVariants {
		v := v
		register(&Scenario{
			Name:        v.name,
			Description: v.description,
			Expectation: v.expectation(),
			Run:         func(opts Options) (*Result, error) { return runSingleBroker(opts, v) },
		})
	}
}

// singleBrokerVariant is one scenario of the family.
type singleBrokerVariant struct {
	name        string
	description string
	policy      string // "every-batch", "interval", "never"
	powerLoss   bool   // crashes lose unsynced pages; false: process crashes
	// stableReads: the spec says no consumer may see a record the log
	// later takes back (checked as unstable-read).
	stableReads bool
	expected    []string
}

func (v singleBrokerVariant) expectation() string {
	if len(v.expected) == 0 {
		return "no anomalies"
	}
	return fmt.Sprintf("exactly the anomalies %v (a known-unsafe configuration)", v.expected)
}

var singleBrokerVariants = []singleBrokerVariant{
	{
		name: "single-broker-flush-every-batch-survives-power-loss",
		description: "producers (acks=all) and a consumer run against one broker whose topic syncs every batch " +
			"(flush.messages=1); the broker's machine loses power and restarts several times; " +
			"every acknowledged write is read back at its offset after the last recovery",
		policy: "every-batch", powerLoss: true, stableReads: true,
	},
	{
		name: "single-broker-flush-interval-loses-acked-writes-on-power-loss",
		description: "as flush-every-batch, but the topic syncs on a timer (flush.ms): the broker acknowledges " +
			"before the sync, as Kafka does, so a power loss inside the interval loses acknowledged writes; " +
			"the checker must find them",
		policy: "interval", powerLoss: true, expected: []string{"lost-write"},
	},
	{
		name: "single-broker-flush-never-loses-acked-writes-on-power-loss",
		description: "as flush-every-batch, but the topic never syncs (Kafka's default, durability left to " +
			"replication): with one broker a power loss loses acknowledged writes; the checker must find them",
		policy: "never", powerLoss: true, expected: []string{"lost-write"},
	},
	{
		name: "single-broker-flush-never-survives-process-crash",
		description: "the topic never syncs, but the broker only crashes as a process (the kernel keeps the page " +
			"cache): every acknowledged write is read back at its offset after the last recovery",
		policy: "never", powerLoss: false, stableReads: true,
	},
}

// singleBrokerKnobs are everything a run derives from its seed.
type singleBrokerKnobs struct {
	Partitions   int32
	Producers    int
	ProduceEvery time.Duration // mean gap between one producer's records
	Linger       time.Duration
	FlushMs      int64 // interval policy only
	SegmentBytes int64
	Duration     time.Duration // the fault phase
	Crashes      []crashPlan
}

const (
	sbTopic       = "events"
	sbBroker      = "broker-1"
	sbConsumer    = "consumer-1"
	sbFinalReader = "final-reader"
	// sbSettle lets retries finish after producers stop, before the final
	// read: it exceeds the clients' delivery timeout.
	sbSettle = 12 * time.Second
	// sbFinalLimit bounds the final read in virtual time.
	sbFinalLimit = 30 * time.Second
)

func drawSingleBrokerKnobs(r *rand.Rand, v singleBrokerVariant) singleBrokerKnobs {
	k := singleBrokerKnobs{
		Partitions:   int32(2 + r.IntN(3)),
		Producers:    2 + r.IntN(2),
		ProduceEvery: time.Duration(5+r.IntN(16)) * time.Millisecond,
		Linger:       []time.Duration{0, time.Millisecond, 5 * time.Millisecond}[r.IntN(3)],
		SegmentBytes: []int64{16 << 10, 64 << 10, 1 << 20}[r.IntN(3)],
		Duration:     20 * time.Second,
	}
	if v.policy == "interval" {
		// Long enough that a crash with producers running always has
		// acknowledged, unsynced records: the expectation is fixed.
		k.FlushMs = []int64{200, 500, 1000}[r.IntN(3)]
	}
	// Crashes at seed-chosen times, each after at least 2 s of traffic
	// since the previous restart, so clients have reconnected and
	// acknowledged new writes that the crash can lose.
	n := 1 + r.IntN(3)
	at := time.Duration(0)
	slot := (k.Duration - 2*time.Second) / time.Duration(n)
	for i := 0; i < n; i++ {
		restart := time.Duration(10+r.IntN(1500)) * time.Millisecond
		c := crashPlan{
			At:      at + 2*time.Second + time.Duration(r.Int64N(int64(slot-2*time.Second-restart))),
			Restart: restart,
		}
		switch {
		case !v.powerLoss:
			c.Mode = disk.KeepPageCache
		case i == n-1:
			// The last crash always drops every unsynced page, so an
			// unsafe policy's loss is certain to be visible in the final
			// read; earlier ones vary the power-loss mode.
			c.Mode = disk.LoseUnsynced
		default:
			c.Mode = []disk.CrashMode{disk.LoseUnsynced, disk.KeepRandomPages, disk.TornLastSector}[r.IntN(3)]
		}
		k.Crashes = append(k.Crashes, c)
		at += slot
	}
	return k
}

func (k singleBrokerKnobs) topicConfig(v singleBrokerVariant) topics.Config {
	c := topics.DefaultConfig()
	c.SegmentBytes = k.SegmentBytes
	switch v.policy {
	case "every-batch":
		c.FlushMessages = 1
	case "interval":
		c.FlushMs = k.FlushMs
	}
	return c
}

func (k singleBrokerKnobs) lines(v singleBrokerVariant) []string {
	policy := v.policy
	if v.policy == "interval" {
		policy = "every-" + strconv.FormatInt(k.FlushMs, 10) + "-ms"
	}
	out := []string{
		"flush_policy=" + policy,
		"topic=" + sbTopic,
		"partitions=" + strconv.Itoa(int(k.Partitions)),
		"producers=" + strconv.Itoa(k.Producers),
		"produce_every=" + k.ProduceEvery.String(),
		"linger=" + k.Linger.String(),
		"segment_bytes=" + strconv.FormatInt(k.SegmentBytes, 10),
		"fault_phase=" + k.Duration.String(),
	}
	for i, c := range k.Crashes {
		out = append(out, fmt.Sprintf("crash[%d]=at %v mode %s restart after %v", i, c.At, c.Mode, c.Restart))
	}
	return out
}

func producerName(i int) string { return "producer-" + strconv.Itoa(i+1) }

func runSingleBroker(opts Options, v singleBrokerVariant) (*Result, error) {
	k := drawSingleBrokerKnobs(sim.Stream(opts.Seed, "scenario"), v)
	zoo, err := opts.bugSet()
	if err != nil {
		return nil, err
	}
	w := sim.NewWorld(sim.Config{Seed: opts.Seed, RecordTrace: opts.RecordTrace, MaxEvents: 20_000_000, Log: opts.NodeLog, LogLevel: opts.NodeLogLevel})
	res := &Result{Scenario: v.name, Seed: opts.Seed, Repro: ReproCommand(v.name, opts.Seed), Expected: v.expected}
	res.Knobs = append(append(w.Knobs(), k.lines(v)...), bugKnob(zoo)...)
	for _, l := range res.Knobs {
		opts.logf("knob %s", l)
	}

	hist := history.NewMemory()
	addr := sbBroker + ":9092"
	w.AddNode(sbBroker, func() host.Node {
		return broker.New(broker.Config{
			Listen:        addr,
			NumPartitions: k.Partitions,
			TopicDefaults: k.topicConfig(v),
			Bugs:          zoo,
		})
	})
	base := client.Config{
		Bootstrap:              []string{addr},
		AllowAutoTopicCreation: true,
		Linger:                 k.Linger,
		DeliveryTimeout:        10 * time.Second,
		RequestTimeout:         3 * time.Second,
		DialTimeout:            time.Second,
		FetchMaxWait:           100 * time.Millisecond,
		OffsetReset:            client.ResetEarliest,
		History:                hist,
	}
	producing := true
	for i := 0; i < k.Producers; i++ {
		w.AddNode(producerName(i), func() host.Node {
			return &sbProducer{cfg: base, knobs: k, producing: &producing}
		})
	}
	w.AddNode(sbConsumer, func() host.Node { return &sbReader{cfg: base, knobs: k} })
	final := &sbReader{cfg: base, knobs: k}
	w.AddNode(sbFinalReader, func() host.Node { return final })

	w.Start(sbBroker)
	for i := 0; i < k.Producers; i++ {
		w.Start(producerName(i))
	}
	w.Start(sbConsumer)
	var crashTimes []string
	for _, c := range k.Crashes {
		c := c
		w.Schedule(c.At, func() {
			crashTimes = append(crashTimes, fmt.Sprintf("%v(%s)", w.Elapsed(), c.Mode))
			w.Crash(sbBroker, c.Mode)
		})
		w.Schedule(c.At+c.Restart, func() { w.Restart(sbBroker) })
	}
	if err := w.RunFor(k.Duration); err != nil {
		return nil, err
	}
	// Stop producing, let every outstanding send reach its outcome, then
	// read every partition from the start to its end.
	producing = false
	if err := w.RunFor(sbSettle); err != nil {
		return nil, err
	}
	finalStart := w.Elapsed()
	w.Start(sbFinalReader)
	if err := w.RunUntil(func() bool { return final.caughtUp || w.Elapsed()-finalStart > sbFinalLimit }, 0); err != nil {
		return nil, err
	}
	if err := hist.Err(); err != nil {
		return nil, fmt.Errorf("single-broker: history: %w", err)
	}

	res.History = hist.Ops()
	ops, err := history.Pair(res.History)
	if err != nil {
		return nil, fmt.Errorf("single-broker: %w", err)
	}
	res.Stats = checkSingleBroker(res, ops, sbFinalReader, v.stableReads, crashTimes)
	res.Stats["crashes"] = int64(len(k.Crashes))
	if !final.caughtUp {
		res.AddFinding("final-read-incomplete", "the final reader did not reach the end of every partition within %v", sbFinalLimit)
	}
	res.TraceHash = fmt.Sprintf("%016x", w.TraceHash())
	res.Events = w.Events()
	res.SimSeconds = w.Elapsed().Seconds()
	if opts.RecordTrace {
		res.Trace = w.TraceLines()
	}
	res.Judge()
	return res, nil
}

// sbProducer sends unique values ("<node>/<seq>") to seed-chosen
// partitions with acks=all at a seed-chosen pace while producing is on.
type sbProducer struct {
	cfg       client.Config
	knobs     singleBrokerKnobs
	producing *bool
	h         host.Host
	cl        *client.Client
	seq       int
}

func (p *sbProducer) Start(h host.Host) {
	p.h = h
	p.cl = client.New(h, p.cfg)
	p.schedule()
}

func (p *sbProducer) schedule() {
	gap := time.Duration(p.h.Rand().Int64N(2*int64(p.knobs.ProduceEvery))) + 1
	p.h.AfterFunc(gap, p.produceOne)
}

func (p *sbProducer) produceOne() {
	if !*p.producing {
		return
	}
	p.seq++
	r := client.Record{
		Topic:     sbTopic,
		Partition: p.h.Rand().Int32N(p.knobs.Partitions),
		Value:     []byte(p.h.Name() + "/" + strconv.Itoa(p.seq)),
	}
	// The history records the outcome; the workload needs nothing more.
	p.cl.ProduceTo(r, func(client.Record, error) {})
	p.schedule()
}

// sbReader fetches every partition from the earliest offset; the client
// records every poll in the history. As the final reader it also notes
// when it has reached the end of every partition.
type sbReader struct {
	cfg      client.Config
	knobs    singleBrokerKnobs
	h        host.Host
	cl       *client.Client
	caughtUp bool
}

func (r *sbReader) Start(h host.Host) {
	r.h = h
	r.cl = client.New(h, r.cfg)
	for p := int32(0); p < r.knobs.Partitions; p++ {
		r.cl.Assign(sbTopic, p, client.Earliest)
	}
	h.AfterFunc(50*time.Millisecond, r.checkCaughtUp)
}

func (r *sbReader) checkCaughtUp() {
	for p := int32(0); p < r.knobs.Partitions; p++ {
		pos, hw, ok := r.cl.Position(sbTopic, p)
		if !ok || hw < 0 || pos < hw {
			r.h.AfterFunc(50*time.Millisecond, r.checkCaughtUp)
			return
		}
	}
	r.caughtUp = true
}
