package scenarios

import (
	"fmt"
	"slices"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/metrics"
	"github.com/loglab/loglab/faults"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
)

// runFile runs one seed of a compiled scenario file. The run, as in
// TigerBeetle's VOPR: print the seed and every drawn knob; the safety phase
// (workload + faults); assert every fault healed; the liveness phase
// (workload on, no faults); stop producing and let every send reach its
// outcome; a final read of every partition; then the checkers.
func (c *compiled) run(opts Options, repro string) (*Result, error) {
	zoo, err := opts.bugSet()
	if err != nil {
		return nil, err
	}
	p, err := c.draw(sim.Stream(opts.Seed, "scenario"))
	if err != nil {
		return nil, err
	}
	p.broker.Bugs = zoo
	// Every broker records the same metric names a real one serves; the
	// recorder only counts, it schedules nothing, so runs are unchanged.
	rec := metrics.NewMemory()
	p.broker.Metrics = rec
	p.knobs = append(p.knobs, bugKnob(zoo)...)
	p.knobs = append(p.knobs, c.modelKnobs...)
	w := sim.NewWorld(sim.Config{Seed: opts.Seed, RecordTrace: opts.RecordTrace, MaxEvents: 50_000_000, Net: c.net, Disk: c.disk, Log: opts.NodeLog, LogLevel: opts.NodeLogLevel})
	if p.cluster {
		// Raft's election jitter reads crypto/rand.Reader: seed it for
		// this run (process-wide: cluster runs never run in parallel in
		// one process).
		defer sim.InstallCryptoRand(opts.Seed)()
	}
	res := &Result{Scenario: c.spec.Name, Seed: opts.Seed, Repro: repro, Expected: c.expected, Tolerated: c.tolerated}
	res.Knobs = append(w.Knobs(), p.knobs...)
	for _, l := range res.Knobs {
		opts.logf("knob %s", l)
	}

	hist := history.NewMemory()
	addrs := make([]string, len(p.brokers))
	for i, name := range p.brokers {
		cfg := p.broker
		cfg.NodeID = int32(i + 1)
		cfg.Listen = name + ":9092"
		addrs[i] = cfg.Listen
		if p.cluster {
			w.AddNode(name, func() host.Node { return clusterBroker(p, i) })
			continue
		}
		w.AddNode(name, func() host.Node { return broker.New(cfg) })
	}
	base := p.client
	base.Bootstrap = addrs
	base.History = hist
	producing := true
	for i := 0; i < p.producers; i++ {
		cfg := base
		cfg.Idempotent = cfg.Idempotent || slices.Contains(p.idempotentProducer, producerName(i))
		w.AddNode(producerName(i), func() host.Node { return &producerNode{cfg: cfg, plan: p, producing: &producing} })
	}
	for i := 0; i < p.consumers; i++ {
		if p.group != "" {
			incarnation := 0
			w.AddNode(consumerName(i), func() host.Node {
				incarnation++
				return &memberNode{cfg: base, plan: p, incarnation: incarnation}
			})
			continue
		}
		w.AddNode(consumerName(i), func() host.Node { return &readerNode{cfg: base, plan: p} })
	}
	final := &readerNode{cfg: base, plan: p}
	w.AddNode(finalReaderName, func() host.Node { return final })

	var bind *binder
	if p.cluster {
		// Topics created with their replication factor, every ISR full:
		// only then do the workload and the faults start.
		if err := startCluster(w, p, c.spec.Name); err != nil {
			return nil, err
		}
		p.startAt = w.Elapsed()
		opts.logf("cluster ready at %v: every partition has a leader and a full ISR", p.startAt)
		res.Stats = map[string]int64{"cluster_ready_ms": p.startAt.Milliseconds()}
		bind = newBinder(w, worldView{w: w, brokers: p.brokers}, p.startAt, opts.logf)
	} else {
		for _, name := range p.brokers {
			w.Start(name)
		}
	}
	for i := 0; i < p.producers; i++ {
		w.Start(producerName(i))
	}
	for i := 0; i < p.consumers; i++ {
		w.Start(consumerName(i))
	}
	if bind != nil {
		err = faults.ApplyWith(w, p.schedule, bind.resolve)
	} else {
		err = faults.Apply(w, p.schedule)
	}
	if err != nil {
		return nil, fmt.Errorf("scenario %s: faults: %w", c.spec.Name, err)
	}

	conv := &convergence{}
	if c.converge > 0 && p.cluster {
		conv.watch(w, worldView{w: w, brokers: p.brokers}, p, p.healAt)
	}

	// The safety phase.
	if err := w.RunFor(p.duration); err != nil {
		return nil, err
	}
	// Every fault must have healed (checkHealed proved it of the schedule;
	// this asserts it of the world).
	for _, name := range p.brokers {
		if !w.Up(name) || w.Paused(name) {
			return nil, fmt.Errorf("scenario %s: %s is not up and running after the safety phase (%s)", c.spec.Name, name, w.NodeSummary(name))
		}
	}
	// The liveness phase, then let every send reach its outcome.
	if err := w.RunFor(p.liveness); err != nil {
		return nil, err
	}
	producing = false
	if err := w.RunFor(p.settle()); err != nil {
		return nil, err
	}
	finalStart := w.Elapsed()
	w.Start(finalReaderName)
	if err := w.RunUntil(func() bool { return final.caughtUp || w.Elapsed()-finalStart > finalReadLimit }, 0); err != nil {
		return nil, err
	}
	if err := hist.Err(); err != nil {
		return nil, fmt.Errorf("scenario %s: history: %w", c.spec.Name, err)
	}
	if c.converge > 0 && p.cluster {
		conv.judge(res, c.converge)
	}
	res.History = hist.Ops()
	if !final.caughtUp {
		res.AddFinding(kindFinalReadIncomplete, "the final reader did not reach the high watermark of every partition within %v", finalReadLimit)
	}
	if err := c.check(res, p, opts); err != nil {
		return nil, err
	}
	res.Stats["faults"] = int64(p.schedule.Len())
	res.Stats["crashes"] = int64(countCrashes(p.schedule))
	// The gauges as the run ended (the world is stopped: nothing runs).
	for _, name := range p.brokers {
		if b, ok := w.Node(name).(*broker.Broker); ok && w.Up(name) {
			b.PublishGauges()
		}
	}
	res.Metrics = rec.Totals()
	res.TraceHash = fmt.Sprintf("%016x", w.TraceHash())
	res.Events = w.Events()
	res.SimSeconds = w.Elapsed().Seconds()
	if opts.RecordTrace {
		res.Trace = w.TraceLines()
	}
	res.Schedule = p.schedule.String()
	if bind != nil {
		for _, r := range bind.record {
			res.Resolved = append(res.Resolved, r.String())
		}
		res.Knobs = annotate(res.Knobs, bind.record)
	}
	res.Judge()
	return res, nil
}

func countCrashes(s faults.Schedule) int {
	n := 0
	for _, st := range s.Steps {
		if _, ok := st.Action.(faults.Crash); ok {
			n++
		}
	}
	return n
}

// healTime is the history time (ns) of the last repair.
func (p *plan) healTime() []int64 {
	if p.schedule.Len() == 0 {
		return nil
	}
	return []int64{int64(p.startAt + p.healAt)}
}
