package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/loglab/loglab/faults"
	"github.com/loglab/loglab/sim"
	"gopkg.in/yaml.v3"
)

// ShrinkOptions steer Shrink.
type ShrinkOptions struct {
	Seed uint64
	// Kind is the anomaly to keep; "" picks the first kind that fails the
	// run, or, for a passing known-unsafe run, its first expected kind.
	Kind string
	// MaxRuns bounds the runs tried (0: 150).
	MaxRuns int
	// Log receives one line per accepted step (nil: none).
	Log func(format string, args ...any)
}

// ShrinkResult is a minimal scenario file that still shows the anomaly.
type ShrinkResult struct {
	Kind string
	// Runs counts the runs tried; Before and After describe the size
	// (fault steps, producers, consumers, seconds, rate).
	Runs          int
	Before, After string
	Spec          *Spec
	// YAML is the minimal file: its expect names Kind, so running it meets
	// its expectation exactly when the anomaly reproduces.
	YAML   []byte
	Result *Result
}

// ErrNothingToShrink is returned when the run shows no anomaly to keep.
var ErrNothingToShrink = errors.New("nothing to shrink")

// Shrink minimises a failing run of a file scenario by greedy delta
// debugging: it first fixes every knob the seed drew (and the drawn fault
// schedule) into a concrete file, then repeatedly tries removing one fault
// step, one producer, one consumer, half the safety phase, half the rate,
// the liveness phase and partitions, keeping each change under which the
// same anomaly kind persists with the same seed, until nothing more can be
// removed. Every candidate is a file text compiled and run afresh, so the
// output is exactly what was tested.
func Shrink(sc *Scenario, opts ShrinkOptions) (*ShrinkResult, error) {
	if sc.compiled == nil {
		return nil, fmt.Errorf("scenario %s is written in Go: only scenario files can be shrunk", sc.Name)
	}
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			opts.Log(format, args...)
		}
	}
	maxRuns := opts.MaxRuns
	if maxRuns <= 0 {
		maxRuns = 150
	}
	first, err := sc.Run(Options{Seed: opts.Seed})
	if err != nil {
		return nil, err
	}
	kind := opts.Kind
	if kind == "" {
		kind = failingKind(first)
	}
	if kind == "" {
		return nil, fmt.Errorf("%w: %s seed %d shows no anomaly that fails it", ErrNothingToShrink, sc.Name, opts.Seed)
	}
	if first.Anomalies[kind] == 0 {
		return nil, fmt.Errorf("%w: %s seed %d shows no %s (found: %v)", ErrNothingToShrink, sc.Name, opts.Seed, kind, first.AnomalyKinds())
	}
	c := sc.compiled
	p, err := c.draw(sim.Stream(opts.Seed, "scenario"))
	if err != nil {
		return nil, err
	}
	cur := concreteSpec(c.spec, p)
	cur.Seed = &opts.Seed
	sh := &shrinker{seed: opts.Seed, kind: kind, maxRuns: maxRuns}
	res := &ShrinkResult{Kind: kind, Before: sizeOf(cur)}
	last, ok := sh.try(cur)
	if !ok {
		return nil, fmt.Errorf("scenario %s seed %d: the concrete file does not reproduce %s", sc.Name, opts.Seed, kind)
	}
	logf("shrink %s seed %d: keeping %s; start %s", sc.Name, opts.Seed, kind, res.Before)
	for changed := true; changed && sh.runs < maxRuns; {
		changed = false
		for _, cand := range candidates(cur) {
			if sh.runs >= maxRuns {
				break
			}
			if r, ok := sh.try(cand.spec); ok {
				cur, last, changed = cand.spec, r, true
				logf("shrink: %s -> %s", cand.what, sizeOf(cur))
				break
			}
		}
	}
	res.Runs, res.After, res.Spec, res.Result = sh.runs, sizeOf(cur), cur, last
	res.YAML, err = sh.finish(cur, sc.Name, last)
	return res, err
}

// failingKind is the first anomaly kind that fails the run, or the first
// expected kind of a known-unsafe run that passed.
func failingKind(r *Result) string {
	for _, k := range r.AnomalyKinds() {
		if !slices.Contains(r.Expected, k) && !slices.Contains(r.Tolerated, k) {
			return k
		}
	}
	for _, k := range r.Expected {
		if r.Anomalies[k] > 0 {
			return k
		}
	}
	return ""
}

type shrinker struct {
	seed    uint64
	kind    string
	maxRuns int
	runs    int
}

// try compiles and runs a candidate; ok when the anomaly persists.
func (sh *shrinker) try(s *Spec) (*Result, bool) {
	data, err := marshalSpec(s)
	if err != nil {
		return nil, false
	}
	c, err := compileSpec("shrink-candidate.yaml", data)
	if err != nil {
		return nil, false // e.g. a schedule left unhealed
	}
	sh.runs++
	r, err := c.run(Options{Seed: sh.seed}, "")
	if err != nil || r.Anomalies[sh.kind] == 0 {
		return nil, false
	}
	return r, true
}

// finish writes the minimal file: expect names the kind kept, tolerating
// whatever else the minimal run showed.
func (sh *shrinker) finish(s *Spec, from string, r *Result) ([]byte, error) {
	out := *s
	out.Name = from + "-shrunk"
	out.Expect = ExpectSpec{Anomalies: []string{sh.kind}}
	for _, k := range r.AnomalyKinds() {
		if k != sh.kind {
			out.Expect.Tolerate = append(out.Expect.Tolerate, k)
		}
	}
	out.Description = fmt.Sprintf("Shrunk from %s with seed %d: the smallest run found that still shows %s. %s",
		from, sh.seed, sh.kind, strings.TrimSpace(s.Description))
	body, err := marshalSpec(&out)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("# Minimal reproduction written by `loglab sim shrink --scenario %s --seed %d`.\n"+
		"# Replay: loglab sim run --scenario-file THIS_FILE (the seed below is used).\n", from, sh.seed)
	return append([]byte(head), body...), nil
}

// concreteSpec is the file with every knob fixed to the plan's value.
func concreteSpec(s Spec, p *plan) *Spec {
	out := s
	out.Topics = nil
	for _, t := range s.Topics {
		ct := TopicSpec{Name: t.Name, Partitions: strconv.Itoa(int(p.partitions)), Configs: map[string]string{}}
		for _, kv := range p.knobs {
			if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "topic.") && k != "topic.replication-factor" {
				ct.Configs[strings.TrimPrefix(k, "topic.")] = v
			}
		}
		out.Topics = append(out.Topics, ct)
	}
	cl := p.client
	out.Clients = ClientSpec{
		Acks:            []string{"all", "1", "0"}[cl.Acks],
		Linger:          cl.Linger.String(),
		BatchBytes:      strconv.Itoa(cl.BatchBytes),
		RequestTimeout:  cl.RequestTimeout.String(),
		DeliveryTimeout: cl.DeliveryTimeout.String(),
		DialTimeout:     cl.DialTimeout.String(),
		RetryBackoff:    cl.RetryBackoff.String(),
		MaxInFlight:     strconv.Itoa(cl.MaxInFlightPerConn),
		FetchMaxWait:    cl.FetchMaxWait.String(),
		Idempotent:      strconv.FormatBool(cl.Idempotent),
	}
	if p.idempotentMixed {
		out.Clients.Idempotent = strings.Join(p.idempotentProducer, ",")
		if len(p.idempotentProducer) == 0 {
			out.Clients.Idempotent = "none"
		}
	}
	if p.group != "" {
		out.Clients.SessionTimeout, out.Clients.HeartbeatInterval = cl.SessionTimeout.String(), cl.HeartbeatInterval.String()
		out.Clients.RebalanceTimeout, out.Clients.AutoCommitInterval = cl.RebalanceTimeout.String(), cl.AutoCommitInterval.String()
		out.Clients.Assignor = cl.Assignor
	}
	out.Workload = WorkloadSpec{
		Duration:   p.duration.String(),
		Producers:  strconv.Itoa(p.producers),
		Consumers:  strconv.Itoa(p.consumers),
		Rate:       strconv.FormatInt(p.rate, 10),
		Keys:       p.keys.String(),
		ValueBytes: s.Workload.ValueBytes,
		Group:      p.group,
	}
	if len(s.Cluster.Configs) > 0 {
		out.Cluster.Configs = maps.Clone(s.Cluster.Configs)
		for _, c := range []struct {
			name string
			v    int64
		}{{"replica.lag.time.max.ms", p.replicaLagMs}, {"replica.fetch.wait.max.ms", p.replicaFetchWaitMs}, {"broker.heartbeat.interval.ms", p.beatMs}} {
			if _, ok := out.Cluster.Configs[c.name]; ok {
				out.Cluster.Configs[c.name] = strconv.FormatInt(c.v, 10)
			}
		}
	}
	out.Cluster.Brokers = strconv.Itoa(len(p.brokers))
	if p.cluster {
		out.Cluster.Voters = p.voters
		for i := range out.Topics {
			out.Topics[i].ReplicationFactor = strconv.Itoa(int(p.rf))
		}
	}
	out.Faults = FaultSpec{Schedule: p.schedule.String()}
	out.Liveness = LivenessSpec{Duration: p.liveness.String(), Bound: s.Liveness.Bound, Converge: s.Liveness.Converge}
	return &out
}

type candidate struct {
	what string
	spec *Spec
}

// candidates are the one-step reductions of s, most valuable first.
func candidates(s *Spec) []candidate {
	var out []candidate
	with := func(what string, f func(*Spec)) {
		c := *s
		c.Topics = append([]TopicSpec(nil), s.Topics...)
		f(&c)
		out = append(out, candidate{what, &c})
	}
	sched, err := faults.Parse("", s.Faults.Schedule)
	if err == nil {
		for i := range sched.Steps {
			st := sched.Steps[i].String()
			with("drop fault \""+st+"\"", func(c *Spec) { c.Faults.Schedule = sched.Without(i).String() })
		}
	}
	n := func(v string) int64 { x, _ := strconv.ParseInt(v, 10, 64); return x }
	d := func(v string) time.Duration { x, _ := time.ParseDuration(v); return x }
	if v := n(s.Workload.Producers); v > 1 {
		with("one producer fewer", func(c *Spec) { c.Workload.Producers = strconv.FormatInt(v-1, 10) })
	}
	if v := n(s.Workload.Consumers); v > 0 {
		with("one consumer fewer", func(c *Spec) { c.Workload.Consumers = strconv.FormatInt(v-1, 10) })
	}
	if v := d(s.Workload.Duration); v > time.Second {
		half := max(time.Second, (v / 2).Round(time.Second))
		if err == nil && half < sched.End() {
			half = sched.End().Round(time.Second) + time.Second
		}
		if half < v {
			with("safety phase "+half.String(), func(c *Spec) { c.Workload.Duration = half.String() })
		}
	}
	if v := n(s.Workload.Rate); v > 1 {
		with("half the rate", func(c *Spec) { c.Workload.Rate = strconv.FormatInt(max(1, v/2), 10) })
	}
	if v := d(s.Liveness.Duration); v > 0 && !slices.Contains(s.Checkers, "liveness") && len(s.Checkers) > 0 {
		with("no liveness phase", func(c *Spec) { c.Liveness.Duration = "0s" })
	}
	if len(s.Topics) > 0 {
		if v := n(s.Topics[0].Partitions); v > 1 {
			with("one partition fewer", func(c *Spec) {
				for i := range c.Topics {
					c.Topics[i].Partitions = strconv.FormatInt(v-1, 10)
				}
			})
		}
	}
	return out
}

func sizeOf(s *Spec) string {
	steps := 0
	if sched, err := faults.Parse("", s.Faults.Schedule); err == nil {
		steps = sched.Len()
	}
	parts := ""
	if len(s.Topics) > 0 {
		parts = s.Topics[0].Partitions
	}
	return fmt.Sprintf("faults=%d producers=%s consumers=%s duration=%s rate=%s partitions=%s",
		steps, s.Workload.Producers, s.Workload.Consumers, s.Workload.Duration, s.Workload.Rate, parts)
}

// marshalSpec prints a Spec as a scenario file (2-space indents).
func marshalSpec(s *Spec) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
