package bench

import (
	"fmt"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"gopkg.in/yaml.v3"

	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/reports"
	"github.com/loglab/loglab/scenarios"
)

// Simulated benchmarks: the same workload run by loglab's own client and
// brokers in the deterministic simulator, in virtual time, under a
// network and disk latency model, for what-if studies: how publish and
// end-to-end latency move with the replication factor, acks, the link's
// latency or the fsync latency. The numbers are the model's, not a
// machine's: the simulator charges no CPU time, so throughput is whatever
// the workload offers and latencies are made of link, fsync and protocol
// round trips alone (and the brokers' own timers). One seed replays a run
// exactly.
//
// The workload becomes a scenario file (SimScenario): the brokers, one
// topic per workload topic with its partitions, replication factor and
// flush policy, producers at the workload's rate (spread over
// ProducersPerTopic*Topics producer nodes, each sending at exponential-
// like random gaps averaging 1/rate: a Poisson-ish open loop), consumers
// reading every partition, no faults, and the queue checker. Latencies
// come from the run's history: publish latency from a send's invocation
// to its acknowledgement, end-to-end from the invocation to the first
// poll that returned the record.

// SimModel is a simulated benchmark's latency model (scenario file
// model: syntax; empty fields keep the simulator's defaults).
type SimModel struct {
	// Link: "base=500us jitter=uniform:200us" (faults' latency syntax).
	Link string
	// FsyncLatency and FsyncJitter: durations such as "2ms", "500us".
	FsyncLatency, FsyncJitter string
}

// SimInfo is how a simulated run went: its model, seed and the
// simulator's own speed.
type SimInfo = reports.SimInfo

// SimScenario is the scenario file a simulated benchmark runs.
func SimScenario(w Workload, brokers int, m SimModel) ([]byte, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	switch {
	case w.ProducerRate <= 0:
		return nil, fmt.Errorf("%w: a simulated run needs a fixed producerRate (no maximum-rate search: the simulator charges no CPU time, so there is no maximum)", ErrWorkload)
	case brokers < 1 || brokers > 5:
		return nil, fmt.Errorf("%w: a simulated cluster has 1..5 brokers, not %d", ErrWorkload, brokers)
	case w.ReplicationFactor > brokers:
		return nil, fmt.Errorf("%w: replicationFactor %d needs at least %d brokers", ErrWorkload, w.ReplicationFactor, w.ReplicationFactor)
	case w.Compression != "none":
		return nil, fmt.Errorf("%w: the simulated client does not compress (compression %q)", ErrWorkload, w.Compression)
	case w.ConsumerPerSubscription > 1:
		return nil, fmt.Errorf("%w: a simulated run has one reader of every partition (consumerPerSubscription %d)", ErrWorkload, w.ConsumerPerSubscription)
	}
	producers := w.ProducersPerTopic * w.Topics
	perProducer := max(1, (w.ProducerRate+producers/2)/producers)
	if perProducer > 100_000 {
		return nil, fmt.Errorf("%w: at most 100000 records/s per simulated producer (raise producersPerTopic)", ErrWorkload)
	}
	acks := map[int]string{-1: "all", 1: "1", 0: "0"}[w.Acks]
	type topic struct {
		Name              string            `yaml:"name"`
		Partitions        string            `yaml:"partitions"`
		ReplicationFactor string            `yaml:"replication-factor,omitempty"`
		Configs           map[string]string `yaml:"configs,omitempty"`
	}
	type spec struct {
		Name        string            `yaml:"name"`
		Description string            `yaml:"description"`
		Cluster     map[string]any    `yaml:"cluster"`
		Topics      []topic           `yaml:"topics"`
		Clients     map[string]string `yaml:"clients"`
		Workload    map[string]string `yaml:"workload"`
		Model       map[string]string `yaml:"model,omitempty"`
		Checkers    []string          `yaml:"checkers,flow"`
		Expect      map[string]any    `yaml:"expect"`
	}
	s := spec{
		Name:        "simulated-bench-" + strings.ToLower(topicSafe(w.Name)),
		Description: "a simulated benchmark of workload " + w.Name + " (loglab bench --sim)",
		Cluster:     map[string]any{"brokers": fmt.Sprint(brokers)},
		Clients: map[string]string{"acks": acks, "linger": time.Duration(w.Linger).String(), "batch-bytes": fmt.Sprint(w.BatchBytes),
			"delivery-timeout": "30s", "request-timeout": "10s"},
		Workload: map[string]string{"duration": time.Duration(w.Duration + w.Warmup).String(), "producers": fmt.Sprint(producers),
			"consumers": fmt.Sprint(w.ConsumerPerSubscription), "rate": fmt.Sprint(perProducer), "value-bytes": fmt.Sprint(w.MessageSize),
			"keys": map[string]string{"NO_KEY": "none", "KEY_ROUND_ROBIN": "uniform:1000", "RANDOM_NANO": "uniform:1000000"}[w.KeyDistributor]},
		Checkers: []string{"queue"},
		Expect:   map[string]any{"anomalies": []string{}},
	}
	if brokers > 1 {
		s.Cluster["configs"] = map[string]string{"default.replication.factor": fmt.Sprint(w.ReplicationFactor)}
	}
	model := map[string]string{}
	for k, v := range map[string]string{"link": m.Link, "fsync-latency": m.FsyncLatency, "fsync-jitter": m.FsyncJitter} {
		if v != "" {
			model[k] = v
		}
	}
	if len(model) > 0 {
		s.Model = model
	}
	for i := range w.Topics {
		t := topic{Name: fmt.Sprintf("bench-%d", i), Partitions: fmt.Sprint(w.PartitionsPerTopic), Configs: map[string]string{}}
		if brokers > 1 {
			t.ReplicationFactor = fmt.Sprint(w.ReplicationFactor)
		}
		if w.Flush == "every-batch" {
			t.Configs["flush.messages"] = "1"
		}
		if len(t.Configs) == 0 {
			t.Configs = nil
		}
		s.Topics = append(s.Topics, t)
	}
	return yaml.Marshal(s)
}

// RunSim runs w in the simulator with seed under model m and reports it
// as a bench run (Target says simulated, Sim carries the model and the
// simulator's speed). wall measures the run's wall time for the
// simulator-speed figures (the caller's clock: simulated code reads none).
func RunSim(w Workload, brokers int, m SimModel, seed uint64, window time.Duration, wall func() time.Duration) (Report, error) {
	data, err := SimScenario(w, brokers, m)
	if err != nil {
		return Report{}, err
	}
	sc, _, err := scenarios.LoadFile("bench --sim", data)
	if err != nil {
		return Report{}, fmt.Errorf("bench: simulated workload: %w", err)
	}
	if window <= 0 {
		window = 10 * time.Second
	}
	res, err := sc.Run(scenarios.Options{Seed: seed})
	if err != nil {
		return Report{}, fmt.Errorf("bench: simulated run: %w", err)
	}
	el := wall()
	rep := simReport(w, res.History, time.Duration(w.Warmup), window)
	model := m
	if model.Link == "" {
		model.Link = "base=500us jitter=uniform:200us (default)"
	}
	if model.FsyncLatency == "" {
		model.FsyncLatency = "2ms (default)"
	}
	rep.Target = fmt.Sprintf("simulated loglab (%d brokers; link %s; fsync %s)", brokers, model.Link, model.FsyncLatency)
	rep.Rate = float64(w.ProducerRate)
	rep.Sim = &SimInfo{Seed: seed, Link: model.Link, FsyncLatency: model.FsyncLatency, FsyncJitter: m.FsyncJitter,
		Events: res.Events, SimSeconds: res.SimSeconds, WallSeconds: el.Seconds(), TraceHash: res.TraceHash,
		Anomalies: res.Anomalies, Repro: fmt.Sprintf("loglab bench --sim --seed %d", seed)}
	if el > 0 {
		rep.Sim.EventsPerSecond = float64(res.Events) / el.Seconds()
		rep.Sim.SimSecondsPerWallSecond = res.SimSeconds / el.Seconds()
	}
	return rep, nil
}

// simReport measures a simulated run's history: sends invoked after the
// warm-up (from the first send) and within Duration after it, in windows
// of virtual time.
func simReport(w Workload, ops []history.Op, warmup, window time.Duration) Report {
	type acc struct {
		pub, e2e          *hdrhistogram.Histogram
		acked, cons, errs int64
	}
	nw := int((time.Duration(w.Duration) + window - 1) / window)
	ws := make([]acc, nw)
	for i := range ws {
		ws[i] = acc{pub: newHist(), e2e: newHist()}
	}
	all := acc{pub: newHist(), e2e: newHist()}
	// Time counts from the first send (a cluster takes a while to be
	// ready before the producers start); a send's window is its
	// invocation's, and every completion and read comes after it.
	start, end := int64(-1), int64(-1)
	type key struct {
		proc string
		id   int64
	}
	invoked := map[key]int64{}
	sentAt := map[string]int64{} // value -> invocation time
	read := map[string]bool{}
	// in returns the window of a send invoked at inv (nil: outside the
	// measured time).
	in := func(inv int64) *acc {
		if inv < start || inv >= end {
			return nil
		}
		return &ws[(inv-start)/int64(window)]
	}
	for _, op := range ops {
		switch {
		case op.F == history.Send && op.Type == history.Invoke:
			if start < 0 {
				start = op.Time + int64(warmup)
				end = start + int64(w.Duration)
			}
			invoked[key{op.Process, op.ID}] = op.Time
			sentAt[op.Value] = op.Time
		case op.F == history.Send:
			inv := invoked[key{op.Process, op.ID}]
			a := in(inv)
			if a == nil {
				continue
			}
			if op.Type != history.OK {
				a.errs++
				all.errs++
				continue
			}
			lat := max(op.Time-inv, 1)
			a.pub.RecordValue(lat)
			all.pub.RecordValue(lat)
			a.acked++
			all.acked++
		case op.F == history.Poll && op.Type == history.OK:
			for _, r := range op.Records {
				inv, sent := sentAt[r.Value]
				if read[r.Value] || !sent {
					continue
				}
				read[r.Value] = true
				if a := in(inv); a != nil {
					lat := max(op.Time-inv, 1)
					a.e2e.RecordValue(lat)
					all.e2e.RecordValue(lat)
					a.cons++
					all.cons++
				}
			}
		}
	}
	size := float64(w.MessageSize)
	mk := func(a acc, from, to int64) Window {
		d := float64(to-from) / 1e9
		return Window{StartS: float64(from-start) / 1e9, EndS: float64(to-start) / 1e9,
			PublishRate: float64(a.acked) / d, PublishMBps: float64(a.acked) * size / 1e6 / d,
			ConsumeRate: float64(a.cons) / d, ConsumeMBps: float64(a.cons) * size / 1e6 / d,
			Backlog: max(0, a.acked-a.cons), Errors: a.errs,
			PublishLatency: percentiles(a.pub), EndToEndLatency: percentiles(a.e2e)}
	}
	rep := Report{Workload: w}
	for i, a := range ws {
		from := start + int64(i)*int64(window)
		rep.Windows = append(rep.Windows, mk(a, from, min(end, from+int64(window))))
	}
	rep.Aggregate = mk(all, start, end)
	return rep
}
