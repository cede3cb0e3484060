package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/topics"
	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/faults"
	"github.com/loglab/loglab/netsim"
)

// plan is one seed's concrete run of a scenario file: every knob drawn,
// every generated fault placed on the schedule.
type plan struct {
	knobs      []string
	brokers    []string
	broker     broker.Config // without Listen
	topics     []string
	partitions int32
	client     client.Config // without History
	producers  int
	// idempotentProducer names the producers that are idempotent when the
	// file says mixed (the others are plain, with retries).
	idempotentProducer []string
	idempotentMixed    bool
	consumers          int
	// group: the consumers are members of this group (workload.group).
	group      string
	rate       int64 // records per second per producer
	keys       keyDist
	valueBytes knob

	duration time.Duration // the safety phase
	liveness time.Duration
	schedule faults.Schedule
	// healAt is when the last fault was repaired (0: no faults), from the
	// start of the schedule.
	healAt time.Duration

	// Cluster mode (compiled.cluster): voters are broker-1..broker-voters;
	// rf is every topic's replication factor and topicConfigs the configs
	// CreateTopics sets; replica* and beatMs are broker configs (0: the
	// broker's default).
	cluster                          bool
	voters                           int
	rf                               int16
	topicConfigs                     map[string]string
	defaultRF                        int16
	replicaLagMs, replicaFetchWaitMs int64
	beatMs                           int64
	// startAt is when the workload and the schedule started: 0 for a
	// standalone broker; in a cluster, once every partition had a leader
	// and a full ISR.
	startAt time.Duration
}

// settle is how long the runner waits after producers stop, so every send
// reaches its outcome before the final read.
func (p *plan) settle() time.Duration { return p.client.DeliveryTimeout + 2*time.Second }

// finalReadLimit bounds the final read in virtual time.
const finalReadLimit = 30 * time.Second

// draw fixes every knob for a seed, in a fixed order (the order of the
// file's sections), from the run's "scenario" stream.
func (c *compiled) draw(r *rand.Rand) (*plan, error) {
	p := &plan{}
	kn := func(k, v string) { p.knobs = append(p.knobs, k+"="+v) }
	dur := func(k knob) time.Duration { return time.Duration(k.draw(r)) }

	n := int(c.brokerCount.draw(r)) // a fixed count draws nothing
	for i := 1; i <= n; i++ {
		p.brokers = append(p.brokers, brokerName(i))
	}
	kn("brokers", strconv.Itoa(n))
	if c.cluster() {
		p.voters = c.voters
		if p.voters == 0 {
			p.voters = min(3, n)
		}
		kn("voters", strings.Join(p.brokers[:p.voters], ","))
	}
	p.partitions = int32(c.partitions.draw(r))
	overrides := map[string]string{}
	for _, tc := range c.topicConfigs {
		v := tc.raw
		if tc.knob != nil {
			v = strconv.FormatInt(tc.knob.draw(r), 10)
		}
		overrides[tc.name] = v
	}
	tcfg, err := topics.ParseConfig(topics.DefaultConfig(), overrides)
	if err != nil {
		return nil, fmt.Errorf("%s: topic configs: %w", c.file, err)
	}
	if c.cluster() {
		// Drawn only in cluster mode: a standalone file's draws (and so its
		// runs) stay what they were.
		p.cluster = true
		p.rf = int16(c.rf.draw(r))
		p.topicConfigs = overrides
		p.defaultRF = int16(c.defaultRF)
		p.replicaLagMs, p.replicaFetchWaitMs, p.beatMs = drawOpt(c.replicaLagMs, r), drawOpt(c.replicaFetchWaitMs, r), drawOpt(c.beatMs, r)
	}
	for _, t := range c.spec.Topics {
		p.topics = append(p.topics, t.Name)
	}
	kn("topics", strings.Join(p.topics, ","))
	kn("partitions", strconv.Itoa(int(p.partitions)))
	if p.cluster {
		kn("topic.replication-factor", strconv.Itoa(int(p.rf)))
	}
	for _, k := range sortedKeys(overrides) {
		kn("topic."+k, overrides[k])
	}
	p.broker = broker.Config{
		NumPartitions:            p.partitions,
		TopicDefaults:            tcfg,
		RetentionCheckIntervalMs: c.retentionCheck,
		MaxConnections:           c.maxConnections,
	}
	if c.retentionCheck > 0 {
		kn("broker.log.retention.check.interval.ms", strconv.FormatInt(c.retentionCheck, 10))
	}
	for _, bc := range []struct {
		name string
		v    int64
	}{{"default.replication.factor", c.defaultRF}, {"replica.lag.time.max.ms", p.replicaLagMs},
		{"replica.fetch.wait.max.ms", p.replicaFetchWaitMs}, {"broker.heartbeat.interval.ms", p.beatMs}} {
		if bc.v > 0 {
			kn("broker."+bc.name, strconv.FormatInt(bc.v, 10))
		}
	}

	acks := []client.Acks{client.AcksAll, client.AcksLeader, client.AcksNone}[c.acks.draw(r)]
	p.client = client.Config{
		// A cluster's topics are created by the runner with their
		// replication factor before the workload starts.
		AllowAutoTopicCreation: !p.cluster,
		Acks:                   acks,
		Linger:                 dur(c.linger),
		BatchBytes:             int(c.batchBytes.draw(r)),
		RequestTimeout:         dur(c.requestTimeout),
		DeliveryTimeout:        dur(c.deliveryTimeout),
		DialTimeout:            dur(c.dialTimeout),
		RetryBackoff:           dur(c.retryBackoff),
		MaxInFlightPerConn:     int(c.maxInFlight.draw(r)),
		FetchMaxWait:           dur(c.fetchMaxWait),
		OffsetReset:            client.ResetEarliest,
	}
	kn("client.acks", []string{"all", "1", "0"}[acks])
	kn("client.linger", p.client.Linger.String())
	kn("client.batch-bytes", strconv.Itoa(p.client.BatchBytes))
	kn("client.request-timeout", p.client.RequestTimeout.String())
	kn("client.delivery-timeout", p.client.DeliveryTimeout.String())
	kn("client.dial-timeout", p.client.DialTimeout.String())
	kn("client.retry-backoff", p.client.RetryBackoff.String())
	kn("client.max-in-flight", strconv.Itoa(p.client.MaxInFlightPerConn))
	kn("client.fetch-max-wait", p.client.FetchMaxWait.String())

	p.duration = dur(c.duration)
	p.producers = int(c.producers.draw(r))
	p.consumers = int(c.consumers.draw(r))
	p.rate = c.rate.draw(r)
	p.keys = c.keys[0]
	if len(c.keys) > 1 {
		p.keys = c.keys[r.IntN(len(c.keys))]
	}
	p.valueBytes = c.valueBytes
	// Idempotence and groups draw only when a file uses them, so the
	// draws of every other scenario (and their regression seeds) stay.
	switch {
	case c.idempotentMixed:
		// Each producer's own promise: the checker judges its records by it.
		p.idempotentMixed = true
		var names []string
		for i := range p.producers {
			if c.idempotentList != nil && slices.Contains(c.idempotentList, producerName(i)) || c.idempotentList == nil && r.IntN(2) == 1 {
				p.idempotentProducer = append(p.idempotentProducer, producerName(i))
				names = append(names, producerName(i))
			}
		}
		if len(names) == 0 {
			names = []string{"none"}
		}
		kn("client.idempotent", strings.Join(names, ","))
	case len(c.idempotent) > 1:
		p.client.Idempotent = c.idempotent[r.IntN(len(c.idempotent))]
	default:
		p.client.Idempotent = c.idempotent[0]
	}
	if p.client.Idempotent {
		kn("client.idempotent", "true")
	}
	if c.group != "" {
		p.group = c.group
		p.client.SessionTimeout = dur(c.sessionTimeout)
		p.client.HeartbeatInterval = dur(c.heartbeatInterval)
		p.client.RebalanceTimeout = dur(c.rebalanceTimeout)
		p.client.AutoCommitInterval = dur(c.autoCommitInterval)
		p.client.Assignor = c.assignors[0]
		if len(c.assignors) > 1 {
			p.client.Assignor = c.assignors[r.IntN(len(c.assignors))]
		}
		// A group formed from nothing waits this long for more members
		// (Kafka's default is 3s; the scenarios' workloads are short).
		p.broker.GroupInitialRebalanceDelayMs = 500
		kn("workload.group", p.group)
		kn("client.session-timeout", p.client.SessionTimeout.String())
		kn("client.heartbeat-interval", p.client.HeartbeatInterval.String())
		kn("client.rebalance-timeout", p.client.RebalanceTimeout.String())
		kn("client.auto-commit-interval", p.client.AutoCommitInterval.String())
		kn("client.assignor", p.client.Assignor)
		kn("broker.group.initial.rebalance.delay.ms", "500")
	}
	kn("workload.duration", p.duration.String())
	kn("workload.producers", strconv.Itoa(p.producers))
	kn("workload.consumers", strconv.Itoa(p.consumers))
	kn("workload.rate", strconv.FormatInt(p.rate, 10)+"/s per producer")
	kn("workload.keys", p.keys.String())
	kn("workload.value-bytes", c.spec.Workload.ValueBytes)

	p.liveness = dur(c.liveness)
	kn("liveness.duration", p.liveness.String())
	kn("liveness.bound", c.bound.String())

	p.schedule = c.schedule
	if c.crashes != nil {
		p.schedule = merge(p.schedule, c.crashes.draw(r, p.duration))
	}
	if c.swarm {
		base := netsim.DefaultConfig().DefaultLink
		opts := faults.SwarmOptions{Kinds: c.swarmKinds, AllOn: c.swarmAllOn, BaseLink: &base, Shapes: c.swarmShapes}
		if p.cluster && p.rf > 1 {
			// Bit rot strikes a follower's segment of a partition: the
			// replica the cluster must repair from its peers, never serve.
			for _, t := range p.topics {
				for i := int32(0); i < p.partitions; i++ {
					tp := t + "-" + strconv.Itoa(int(i))
					opts.BitRot = append(opts.BitRot, faults.BitRot{Node: "follower:" + tp, File: tp + "/", Offset: -1})
				}
			}
		}
		sched, sk := faults.Swarm(r, p.brokers, p.duration, opts)
		p.knobs = append(p.knobs, sk.Lines()...)
		p.schedule = merge(p.schedule, sched)
		if len(c.consumerKinds) > 0 && p.consumers > 0 {
			var names []string
			for i := range p.consumers {
				names = append(names, consumerName(i))
			}
			opts := faults.SwarmOptions{Kinds: c.consumerKinds, MaxDown: max(1, p.consumers-1)}
			if st := p.client.SessionTimeout; p.group != "" && st > 0 {
				// Faults up to twice the session timeout: a member paused
				// or cut off past it is fenced, and its late commit must
				// be refused.
				opts.Lengths = []time.Duration{st / 2, st + st/2, 2 * st}
			}
			sched, sk := faults.Swarm(r, names, p.duration, opts)
			for _, l := range sk.Lines() {
				p.knobs = append(p.knobs, "swarm-consumers."+strings.TrimPrefix(l, "swarm."))
			}
			p.schedule = merge(p.schedule, sched)
		}
	}
	if err := checkHealed(p.schedule); err != nil {
		return nil, fmt.Errorf("%s: the drawn schedule: %w", c.file, err)
	}
	if p.schedule.Len() > 0 {
		p.healAt = p.schedule.End()
	}
	for _, st := range p.schedule.Steps {
		kn("fault", st.String())
	}
	return p, nil
}

// drawOpt draws an optional knob (nil: 0, the default, drawing nothing).
func drawOpt(k *knob, r *rand.Rand) int64 {
	if k == nil {
		return 0
	}
	return k.draw(r)
}

func merge(a, b faults.Schedule) faults.Schedule {
	return faults.Schedule{Steps: append(append([]faults.Step(nil), a.Steps...), b.Steps...)}.Sorted()
}

// draw places the episodes: each crash comes after at least minUptime
// since the previous restart (so clients have reconnected and had writes
// acknowledged that the crash can lose), inside its own slot of the phase.
func (g *crashGen) draw(r *rand.Rand, phase time.Duration) faults.Schedule {
	n := int(g.count.draw(r))
	slot := phase / time.Duration(n)
	var s faults.Schedule
	for i := 0; i < n; i++ {
		down := time.Duration(g.down.draw(r)).Round(time.Millisecond)
		start := time.Duration(i)*slot + g.minUptime
		room := slot - g.minUptime - down - time.Millisecond
		at := start
		if room > 0 {
			at += time.Duration(r.Int64N(int64(room/time.Millisecond)+1)) * time.Millisecond
		}
		mode := g.modes[r.IntN(len(g.modes))]
		if i == n-1 && g.lastMode != "" {
			mode = g.lastMode
		}
		m, _ := faults.ParseCrashMode(mode) // validated by compile
		s.Steps = append(s.Steps,
			faults.Step{At: at, Action: faults.Crash{Node: g.node, Mode: m}},
			faults.Step{At: at + down, Action: faults.Restart{Node: g.node}})
	}
	return s
}

func (k keyDist) String() string {
	if k.kind == "none" {
		return "none"
	}
	return k.kind + ":" + strconv.Itoa(k.n)
}
