package scenarios

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/loglab/loglab/broker/topics"
	"github.com/loglab/loglab/checkers"
	"github.com/loglab/loglab/checkers/finalread"
	"github.com/loglab/loglab/checkers/group"
	"github.com/loglab/loglab/checkers/linearizable"
	"github.com/loglab/loglab/checkers/liveness"
	"github.com/loglab/loglab/checkers/queue"
	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/faults"
	"github.com/loglab/loglab/netsim"
	"github.com/loglab/loglab/sim/disk"
	"gopkg.in/yaml.v3"
)

// compiled is a validated scenario file: its knobs parsed, its fixed
// schedule parsed, ready to draw a plan for any seed (plan.go).
type compiled struct {
	file string
	spec Spec

	brokers        int   // the most brokers a run may have
	brokerCount    knob  // cluster.brokers
	retentionCheck int64 // ms, 0: broker default
	maxConnections int
	// Cluster mode (brokers >= 2): voters run on broker-1..broker-voters
	// (0: min(3, brokers)); the replica configs are 0 for the broker's
	// default.
	voters int
	// Replication timing, knobs (nil: the broker's default).
	replicaLagMs, replicaFetchWaitMs, beatMs *knob
	defaultRF                                int64
	rf                                       knob // replication factor of every topic

	partitions   knob
	topicConfigs []topicConfigKnob // sorted by name
	retention    bool              // a retention config is set: deletions are not losses

	acks                                                 knob
	linger, requestTimeout, deliveryTimeout, dialTimeout knob
	retryBackoff, fetchMaxWait                           knob
	batchBytes, maxInFlight                              knob
	hasClient                                            map[string]bool
	idempotent                                           []bool   // alternatives
	idempotentMixed                                      bool     // "mixed": each producer draws its own
	idempotentList                                       []string // non-nil: the mixed draw written out
	sessionTimeout, heartbeatInterval, rebalanceTimeout  knob
	autoCommitInterval                                   knob
	assignors                                            []string // alternatives
	group                                                string
	// model: the world's network and disk models (zero: the defaults),
	// and the knob lines that print them.
	net        netsim.Config
	disk       disk.Config
	modelKnobs []string

	duration, producers, consumers, rate, valueBytes knob
	keys                                             []keyDist // alternatives

	schedule      faults.Schedule
	crashes       *crashGen
	swarmKinds    []faults.Kind
	swarm         bool
	swarmAllOn    bool
	swarmShapes   []string
	consumerKinds []faults.Kind // swarm over the consumers too
	liveness      knob
	converge      time.Duration // 0: not checked
	bound         time.Duration
	checkers      []string
	expected      []string
	tolerated     []string
	usesLiveness  bool
	scheduleLines int
}

type topicConfigKnob struct {
	name  string
	raw   string
	knob  *knob // nil: a fixed value passed as is
	field string
}

type keyDist struct {
	kind string // none, uniform, zipf
	n    int
}

type crashGen struct {
	node       string
	count      knob
	modes      []string
	lastMode   string
	down       knob
	minUptime  time.Duration
	fieldCount string
}

// brokerConfigNames are the broker configs a file may set;
// clusterConfigNames only with cluster.brokers >= 2.
var (
	brokerConfigNames  = []string{"broker.heartbeat.interval.ms", "default.replication.factor", "log.retention.check.interval.ms", "max.connections", "replica.fetch.wait.max.ms", "replica.lag.time.max.ms"}
	clusterConfigNames = []string{"broker.heartbeat.interval.ms", "default.replication.factor", "replica.fetch.wait.max.ms", "replica.lag.time.max.ms"}
)

// maxBrokers bounds cluster.brokers.
const maxBrokers = 5

// extraKinds are anomaly kinds the runner itself reports.
const (
	kindFinalReadIncomplete = "final-read-incomplete"
	kindInconclusive        = "inconclusive"
)

// AnomalyKinds lists every anomaly kind a scenario file may expect or
// tolerate, sorted.
func AnomalyKinds() []string {
	out := append([]string{linearizable.Kind, liveness.Kind, kindFinalReadIncomplete, kindInconclusive,
		group.KindDoubleOwnership, group.KindSkipped, group.KindOffsetWentBack, group.KindStaleCommitAccepted}, queue.Kinds...)
	for _, k := range finalread.Kinds {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

var scenarioName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// ParseSpec reads and validates a scenario file. Every error is one
// *SpecError naming the file, the line and the field; it never panics.
func ParseSpec(file string, data []byte) (*Spec, error) {
	c, err := compileSpec(file, data)
	if err != nil {
		return nil, err
	}
	return &c.spec, nil
}

func compileSpec(file string, data []byte) (*compiled, error) {
	d, err := decodeSpec(file, data)
	if err != nil {
		return nil, err
	}
	return d.compile()
}

func (d *specDoc) knobAt(path, s string, p valueParser, min, max int64, unit string) (knob, error) {
	k, err := parseKnob(s, p)
	if err != nil {
		return knob{}, d.errAt(path, "%v", err)
	}
	for _, v := range k.values() {
		if v < min || v > max {
			lo, hi := strconv.FormatInt(min, 10), strconv.FormatInt(max, 10)
			if unit == "duration" {
				lo, hi = time.Duration(min).String(), time.Duration(max).String()
			}
			return knob{}, d.errAt(path, "%q is out of range [%s, %s]", s, lo, hi)
		}
	}
	return k, nil
}

func (d *specDoc) optKnob(path, s, def string, p valueParser, min, max int64, unit string) (knob, error) {
	if strings.TrimSpace(s) == "" {
		s = def
	}
	return d.knobAt(path, s, p, min, max, unit)
}

const maxDur = int64(time.Hour)

func (d *specDoc) compile() (*compiled, error) {
	s := d.spec
	c := &compiled{file: d.file, spec: s}
	var err error
	if !scenarioName.MatchString(s.Name) {
		return nil, d.errAt("name", "%q must be lower-case words joined by '-' (it reads like a spec)", s.Name)
	}
	if strings.TrimSpace(s.Description) == "" {
		return nil, d.errAt("description", "required: say what is done and what must hold")
	}

	// The cluster.
	if strings.TrimSpace(s.Cluster.Brokers) == "" {
		return nil, d.errAt("cluster.brokers", "required (1, or 2..%d for a replicated cluster)", maxBrokers)
	}
	if c.brokerCount, err = d.knobAt("cluster.brokers", s.Cluster.Brokers, parseInt, 1, maxBrokers, ""); err != nil {
		return nil, err
	}
	if c.brokerCount.min() == 1 && c.brokerCount.max() > 1 {
		return nil, d.errAt("cluster.brokers", "%q mixes the standalone broker (1) with clusters: give 1, or counts of 2 and more", s.Cluster.Brokers)
	}
	c.brokers = int(c.brokerCount.max())
	minBrokers := int(c.brokerCount.min())
	switch v := s.Cluster.Voters; {
	case v != 0 && !c.cluster():
		return nil, d.errAt("cluster.voters", "a single broker runs without a controller quorum (voters need cluster.brokers >= 2)")
	case v < 0 || v > minBrokers:
		return nil, d.errAt("cluster.voters", "%d voters: want 1..%d (the voters are broker-1 ... broker-V)", v, minBrokers)
	default:
		c.voters = v // 0: min(3, brokers), per run
	}
	for _, name := range sortedKeys(s.Cluster.Configs) {
		path := "cluster.configs." + name
		if timing := map[string]**knob{"replica.lag.time.max.ms": &c.replicaLagMs, "replica.fetch.wait.max.ms": &c.replicaFetchWaitMs,
			"broker.heartbeat.interval.ms": &c.beatMs}[name]; timing != nil {
			if !c.cluster() {
				return nil, d.errAt(path, "a replication config: needs cluster.brokers >= 2")
			}
			k, err := d.optKnob(path, s.Cluster.Configs[name], "", parseInt, 1, 3_600_000, "")
			if err != nil {
				return nil, err
			}
			*timing = &k
			continue
		}
		v, err := parseInt(s.Cluster.Configs[name])
		switch {
		case !slices.Contains(brokerConfigNames, name):
			return nil, d.errAt(path, "unknown broker config (valid: %s)", strings.Join(brokerConfigNames, ", "))
		case slices.Contains(clusterConfigNames, name) && !c.cluster():
			return nil, d.errAt(path, "a replication config: needs cluster.brokers >= 2")
		case err != nil:
			return nil, d.errAt(path, "%v", err)
		case v < 1:
			return nil, d.errAt(path, "must be positive")
		case name == "log.retention.check.interval.ms":
			c.retentionCheck = v
		case name == "max.connections":
			c.maxConnections = int(v)
		case name == "default.replication.factor":
			if v > int64(minBrokers) {
				return nil, d.errAt(path, "%d is more than the %d brokers", v, minBrokers)
			}
			c.defaultRF = v
		}
	}

	// Topics: created through the broker's defaults, so they share their
	// partition count and configs until the runner creates topics itself.
	if len(s.Topics) == 0 {
		return nil, d.errAt("topics", "at least one topic is required")
	}
	names := map[string]bool{}
	for i, t := range s.Topics {
		path := "topics[" + strconv.Itoa(i) + "]"
		if err := topics.ValidName(t.Name); err != nil {
			return nil, d.errAt(path+".name", "%v", err)
		}
		if names[t.Name] {
			return nil, d.errAt(path+".name", "topic %q given twice", t.Name)
		}
		names[t.Name] = true
		if i > 0 && (t.Partitions != s.Topics[0].Partitions || t.ReplicationFactor != s.Topics[0].ReplicationFactor || !sameConfigs(t.Configs, s.Topics[0].Configs)) {
			return nil, d.errAt(path, "topics with different partitions, replication factors or configs: not yet supported (every topic takes the first one's)")
		}
	}
	if c.partitions, err = d.knobAt("topics[0].partitions", s.Topics[0].Partitions, parseInt, 1, 1000, ""); err != nil {
		return nil, err
	}
	rf := strings.TrimSpace(s.Topics[0].ReplicationFactor)
	switch {
	case rf != "" && !c.cluster():
		if rf != "1" {
			return nil, d.errAt("topics[0].replication-factor", "%q: a single broker holds one replica (replication needs cluster.brokers >= 2)", rf)
		}
	case c.cluster():
		if rf == "" {
			rf = strconv.FormatInt(max(c.defaultRF, 1), 10)
		}
		if c.rf, err = d.knobAt("topics[0].replication-factor", rf, parseInt, 1, int64(minBrokers), ""); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(s.Topics[0].Configs) {
		path := "topics[0].configs." + name
		raw := s.Topics[0].Configs[name]
		tk := topicConfigKnob{name: name, raw: raw, field: path}
		cands := []string{raw}
		if strings.Contains(raw, "..") || strings.Contains(raw, "|") {
			k, err := d.knobAt(path, raw, parseInt, -1, 1<<62, "")
			if err != nil {
				return nil, err
			}
			tk.knob = &k
			cands = cands[:0]
			for _, v := range k.values() {
				cands = append(cands, strconv.FormatInt(v, 10))
			}
		}
		for _, v := range cands {
			if _, err := topics.ParseConfig(topics.DefaultConfig(), map[string]string{name: v}); err != nil {
				return nil, d.errAt(path, "%v", err)
			}
			if name == "min.insync.replicas" && c.cluster() {
				if n, _ := strconv.ParseInt(v, 10, 64); n > c.rf.min() {
					return nil, d.errAt(path, "%s is above the replication factor (%d): every acks=all produce would fail with NOT_ENOUGH_REPLICAS", v, c.rf.min())
				}
			}
		}
		if name == "retention.ms" || name == "retention.bytes" {
			c.retention = true
		}
		c.topicConfigs = append(c.topicConfigs, tk)
	}

	// Clients.
	cl := s.Clients
	acks := map[string]int64{"all": 0, "-1": 0, "1": 1, "0": 2}
	if a := strings.TrimSpace(cl.Acks); a != "" {
		v, ok := acks[a]
		if !ok {
			return nil, d.errAt("clients.acks", "%q is not one of all, 1, 0", a)
		}
		c.acks = knob{alts: []int64{v}}
	} else {
		c.acks = knob{alts: []int64{0}}
	}
	for _, f := range []struct {
		path, s, def string
		k            *knob
		min, max     int64
	}{
		{"clients.linger", cl.Linger, "0", &c.linger, 0, int64(10 * time.Second)},
		{"clients.request-timeout", cl.RequestTimeout, "3s", &c.requestTimeout, int64(time.Millisecond), maxDur},
		{"clients.delivery-timeout", cl.DeliveryTimeout, "10s", &c.deliveryTimeout, int64(time.Millisecond), maxDur},
		{"clients.dial-timeout", cl.DialTimeout, "1s", &c.dialTimeout, int64(time.Millisecond), maxDur},
		{"clients.retry-backoff", cl.RetryBackoff, "100ms", &c.retryBackoff, int64(time.Millisecond), maxDur},
		{"clients.fetch-max-wait", cl.FetchMaxWait, "100ms", &c.fetchMaxWait, 0, maxDur},
	} {
		if *f.k, err = d.optKnob(f.path, f.s, f.def, parseDur, f.min, f.max, "duration"); err != nil {
			return nil, err
		}
	}
	if c.batchBytes, err = d.optKnob("clients.batch-bytes", cl.BatchBytes, "16384", parseInt, 1, 1<<30, ""); err != nil {
		return nil, err
	}
	if c.maxInFlight, err = d.optKnob("clients.max-in-flight", cl.MaxInFlight, "5", parseInt, 1, 1000, ""); err != nil {
		return nil, err
	}
	for _, alt := range strings.Split(strings.TrimSpace(cl.Idempotent), "|") {
		switch strings.TrimSpace(alt) {
		case "", "false":
			c.idempotent = append(c.idempotent, false)
		case "true":
			c.idempotent = append(c.idempotent, true)
		case "mixed":
			c.idempotent, c.idempotentMixed = append(c.idempotent, true), true
		case "none":
			c.idempotent, c.idempotentMixed, c.idempotentList = append(c.idempotent, true), true, []string{}
		default:
			if strings.HasPrefix(strings.TrimSpace(alt), "producer-") {
				// A fixed mixed draw, as a shrunk file writes it.
				for _, name := range strings.Split(alt, ",") {
					name = strings.TrimSpace(name)
					if _, err := strconv.Atoi(strings.TrimPrefix(name, "producer-")); err != nil || !strings.HasPrefix(name, "producer-") {
						return nil, d.errAt("clients.idempotent", "%q is not a producer name (producer-N)", name)
					}
					c.idempotentList = append(c.idempotentList, name)
				}
				c.idempotent, c.idempotentMixed = append(c.idempotent, true), true
				continue
			}
			return nil, d.errAt("clients.idempotent", "%q is not true, false, true|false, mixed or a list of producers (producer-1,producer-3; none)", cl.Idempotent)
		}
	}
	if c.idempotentMixed && len(c.idempotent) > 1 {
		return nil, d.errAt("clients.idempotent", "mixed stands alone (each producer draws true or false)")
	}
	if slices.Contains(c.idempotent, true) && strings.TrimSpace(cl.Acks) != "" && strings.TrimSpace(cl.Acks) != "all" && strings.TrimSpace(cl.Acks) != "-1" {
		return nil, d.errAt("clients.idempotent", "an idempotent producer needs acks: all (acks is %s)", cl.Acks)
	}
	for _, f := range []struct {
		path, s, def string
		k            *knob
	}{
		{"clients.session-timeout", cl.SessionTimeout, "6s", &c.sessionTimeout},
		{"clients.heartbeat-interval", cl.HeartbeatInterval, "1s", &c.heartbeatInterval},
		{"clients.rebalance-timeout", cl.RebalanceTimeout, "10s", &c.rebalanceTimeout},
		{"clients.auto-commit-interval", cl.AutoCommitInterval, "500ms", &c.autoCommitInterval},
	} {
		if *f.k, err = d.optKnob(f.path, f.s, f.def, parseDur, int64(time.Millisecond), maxDur, "duration"); err != nil {
			return nil, err
		}
	}
	for _, alt := range strings.Split(strings.TrimSpace(cl.Assignor), "|") {
		switch a := strings.TrimSpace(alt); a {
		case "":
			c.assignors = append(c.assignors, client.AssignorRange)
		case client.AssignorRange, client.AssignorRoundRobin:
			c.assignors = append(c.assignors, a)
		default:
			return nil, d.errAt("clients.assignor", "%q is not range or roundrobin", a)
		}
	}

	// The workload.
	w := s.Workload
	if strings.TrimSpace(w.Duration) == "" {
		return nil, d.errAt("workload.duration", "required: how long the safety phase runs (e.g. 20s)")
	}
	if c.duration, err = d.knobAt("workload.duration", w.Duration, parseDur, int64(time.Second), int64(10*time.Minute), "duration"); err != nil {
		return nil, err
	}
	if strings.TrimSpace(w.Producers) == "" {
		return nil, d.errAt("workload.producers", "required: how many producer nodes run")
	}
	if c.producers, err = d.knobAt("workload.producers", w.Producers, parseInt, 1, 100, ""); err != nil {
		return nil, err
	}
	if c.consumers, err = d.optKnob("workload.consumers", w.Consumers, "1", parseInt, 0, 100, ""); err != nil {
		return nil, err
	}
	if strings.TrimSpace(w.Rate) == "" {
		return nil, d.errAt("workload.rate", "required: records per second per producer")
	}
	if c.rate, err = d.knobAt("workload.rate", w.Rate, parseInt, 1, 100_000, ""); err != nil {
		return nil, err
	}
	if c.valueBytes, err = d.optKnob("workload.value-bytes", w.ValueBytes, "16", parseInt, 1, 1<<20, ""); err != nil {
		return nil, err
	}
	if g := strings.TrimSpace(w.Group); g != "" {
		if !scenarioName.MatchString(g) {
			return nil, d.errAt("workload.group", "%q: a group id of lower-case letters, digits and dashes", g)
		}
		c.group = g
	}
	for _, alt := range strings.Split(w.Keys, "|") {
		k, err := parseKeys(alt)
		if err != nil {
			return nil, d.errAt("workload.keys", "%v", err)
		}
		c.keys = append(c.keys, k)
	}

	// Checkers and expectations.
	valid := checkers.AllNames()
	for i, name := range s.Checkers {
		if !slices.Contains(valid, name) {
			return nil, d.errAt("checkers["+strconv.Itoa(i)+"]", "unknown checker %q (valid: %s)", name, strings.Join(valid, ", "))
		}
	}
	c.checkers = s.Checkers
	if len(c.checkers) == 0 {
		c.checkers = checkers.Names()
	}
	c.usesLiveness = slices.Contains(c.checkers, liveness.Name)
	kinds := AnomalyKinds()
	for _, list := range []struct {
		path string
		l    []string
		out  *[]string
	}{{"expect.anomalies", s.Expect.Anomalies, &c.expected}, {"expect.tolerate", s.Expect.Tolerate, &c.tolerated}} {
		for i, k := range list.l {
			if !slices.Contains(kinds, k) {
				return nil, d.errAt(list.path+"["+strconv.Itoa(i)+"]", "unknown anomaly kind %q (valid: %s)", k, strings.Join(kinds, ", "))
			}
			*list.out = append(*list.out, k)
		}
	}
	for i, k := range c.tolerated {
		if slices.Contains(c.expected, k) {
			return nil, d.errAt("expect.tolerate["+strconv.Itoa(i)+"]", "%q is both expected and tolerated", k)
		}
	}

	// Liveness.
	def := "0"
	if c.usesLiveness {
		def = "10s"
	}
	if c.liveness, err = d.optKnob("liveness.duration", s.Liveness.Duration, def, parseDur, 0, int64(10*time.Minute), "duration"); err != nil {
		return nil, err
	}
	bound, err := d.optKnob("liveness.bound", s.Liveness.Bound, "5s", parseDur, int64(time.Millisecond), maxDur, "duration")
	if err != nil {
		return nil, err
	}
	if !bound.fixed() {
		return nil, d.errAt("liveness.bound", "must be one value, not a range")
	}
	c.bound = time.Duration(bound.alts[0])
	if c.usesLiveness && c.liveness.min() < int64(c.bound) {
		return nil, d.errAt("liveness.duration", "the liveness phase (%v) must last at least the bound (%v), or the liveness checker cannot decide",
			time.Duration(c.liveness.min()), c.bound)
	}

	if strings.TrimSpace(s.Liveness.Converge) != "" {
		k, err := d.knobAt("liveness.converge", s.Liveness.Converge, parseDur, int64(time.Millisecond), maxDur, "duration")
		switch {
		case err != nil:
			return nil, err
		case !k.fixed():
			return nil, d.errAt("liveness.converge", "must be one value, not a range")
		case !c.cluster():
			return nil, d.errAt("liveness.converge", "a cluster's convergence: needs cluster.brokers >= 2")
		case c.liveness.min() < k.alts[0]:
			return nil, d.errAt("liveness.converge", "the liveness phase (%v) must last at least the convergence bound (%v)",
				time.Duration(c.liveness.min()), time.Duration(k.alts[0]))
		}
		c.converge = time.Duration(k.alts[0])
	}

	if err := d.compileFaults(c); err != nil {
		return nil, err
	}
	if err := d.compileModel(c); err != nil {
		return nil, err
	}
	return c, nil
}

func (d *specDoc) compileFaults(c *compiled) error {
	f := d.spec.Faults
	known := c.nodeNames()
	if strings.TrimSpace(f.Schedule) != "" {
		base := 0
		if n := d.nodes["faults.schedule"]; n != nil {
			base = n.Line - 1
			if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				base = n.Line
			}
		}
		sched, err := faults.Parse(d.file, f.Schedule)
		if err != nil {
			var pe *faults.ParseError
			if errors.As(err, &pe) {
				return &SpecError{File: d.file, Line: base + pe.Line, Field: "faults.schedule",
					Err: fmt.Errorf("%s: %w", strconv.Quote(pe.Field), pe.Err)}
			}
			return d.errAt("faults.schedule", "%v", err)
		}
		line := func(i int) int { return base + 1 + scheduleLineOf(f.Schedule, sched.Steps[i].String()) }
		for i, st := range sched.Steps {
			for _, n := range (faults.Schedule{Steps: []faults.Step{st}}).Nodes() {
				if slices.Contains(known, n) {
					continue
				}
				if _, ok := parseSymbol(n); ok {
					if err := c.checkSymbol(n); err != nil {
						return &SpecError{File: d.file, Line: line(i), Field: "faults.schedule",
							Err: fmt.Errorf("step %q: %w", st.String(), err)}
					}
					continue
				}
				return &SpecError{File: d.file, Line: line(i), Field: "faults.schedule",
					Err: fmt.Errorf("step %q names node %q, not in this cluster (nodes: %s%s)", st.String(), n, strings.Join(known, ", "), c.symbolHelp())}
			}
			if int64(st.At) > c.duration.min() {
				return &SpecError{File: d.file, Line: line(i), Field: "faults.schedule",
					Err: fmt.Errorf("step %q is after the safety phase (workload.duration %v): every fault must strike and heal within it", st.String(), time.Duration(c.duration.min()))}
			}
		}
		if err := checkHealed(sched); err != nil {
			return d.errAt("faults.schedule", "%v", err)
		}
		c.schedule = sched
	}
	if g := f.Crashes; g != nil {
		cg := &crashGen{node: g.Node, lastMode: g.LastMode}
		if _, sym := parseSymbol(g.Node); sym {
			if err := c.checkSymbol(g.Node); err != nil {
				return d.errAt("faults.crashes.node", "%v", err)
			}
		} else if !slices.Contains(known, g.Node) || !strings.HasPrefix(g.Node, "broker-") {
			return d.errAt("faults.crashes.node", "%q is not a broker of this cluster (brokers: broker-1 ... broker-%d%s)", g.Node, c.brokers, c.symbolHelp())
		}
		var err error
		if cg.count, err = d.knobAt("faults.crashes.count", g.Count, parseInt, 1, 100, ""); err != nil {
			return err
		}
		if cg.down, err = d.knobAt("faults.crashes.down", g.Down, parseDur, int64(time.Millisecond), int64(time.Minute), "duration"); err != nil {
			return err
		}
		up, err := d.optKnob("faults.crashes.min-uptime", g.MinUptime, "2s", parseDur, 0, int64(time.Minute), "duration")
		if err != nil {
			return err
		}
		if !up.fixed() {
			return d.errAt("faults.crashes.min-uptime", "must be one value, not a range")
		}
		cg.minUptime = time.Duration(up.alts[0])
		if len(g.Modes) == 0 {
			return d.errAt("faults.crashes.modes", "required: the crash modes to draw from")
		}
		for i, m := range append(append([]string(nil), g.Modes...), g.LastMode) {
			if m == "" && i == len(g.Modes) {
				continue
			}
			if _, err := faults.ParseCrashMode(m); err != nil {
				path := "faults.crashes.modes[" + strconv.Itoa(i) + "]"
				if i == len(g.Modes) {
					path = "faults.crashes.last-mode"
				}
				return d.errAt(path, "%v", err)
			}
		}
		cg.modes = g.Modes
		// Each episode needs its uptime and its down time inside the phase.
		need := cg.count.max() * (int64(cg.minUptime) + cg.down.max() + int64(time.Millisecond))
		if need > c.duration.min() {
			return d.errAt("faults.crashes.count", "%d crashes with min-uptime %v and down time up to %v do not fit in the safety phase (%v)",
				cg.count.max(), cg.minUptime, time.Duration(cg.down.max()), time.Duration(c.duration.min()))
		}
		c.crashes = cg
	}
	if sw := f.Swarm; sw != nil {
		c.swarm = true
		c.swarmAllOn = sw.AllOn
		for i, k := range sw.Kinds {
			ks, err := faults.ParseKinds(k)
			if err != nil {
				return d.errAt("faults.swarm.kinds["+strconv.Itoa(i)+"]", "%v", err)
			}
			c.swarmKinds = append(c.swarmKinds, ks...)
		}
		valid := []string{"isolate", "split", "one-way", "bridge"}
		for i, sh := range sw.Shapes {
			if !slices.Contains(valid, sh) {
				return d.errAt("faults.swarm.shapes["+strconv.Itoa(i)+"]", "unknown partition shape %q (valid: %s)", sh, strings.Join(valid, ", "))
			}
		}
		c.swarmShapes = sw.Shapes
		for i, k := range sw.ConsumerKinds {
			path := "faults.swarm.consumer-kinds[" + strconv.Itoa(i) + "]"
			ks, err := faults.ParseKinds(k)
			if err != nil {
				return d.errAt(path, "%v", err)
			}
			for _, kk := range ks {
				if kk != faults.KindCrash && kk != faults.KindPause && kk != faults.KindReset {
					return d.errAt(path, "%s: a consumer can be crashed, paused or reset", kk)
				}
			}
			c.consumerKinds = append(c.consumerKinds, ks...)
		}
	}
	return nil
}

// scheduleLineOf finds the 0-based line of text holding the step (for
// errors); 0 if the printed form differs from the written one.
func scheduleLineOf(text, step string) int {
	fields := strings.Fields(step)
	for i, l := range strings.Split(text, "\n") {
		lf := strings.Fields(l)
		if len(lf) >= 3 && len(fields) >= 3 && lf[2] == fields[2] && len(lf) > 3 && len(fields) > 3 && lf[3] == fields[3] {
			return i
		}
	}
	return 0
}

func (c *compiled) nodeNames() []string {
	var out []string
	for i := 1; i <= c.brokers; i++ {
		out = append(out, brokerName(i))
	}
	for i := 0; i < int(c.producers.max()); i++ {
		out = append(out, producerName(i))
	}
	for i := 0; i < int(c.consumers.max()); i++ {
		out = append(out, consumerName(i))
	}
	out = append(out, finalReaderName)
	sort.Strings(out)
	return out
}

// cluster reports cluster mode: two or more brokers with a controller
// quorum and replication. One broker is the standalone broker.
func (c *compiled) cluster() bool { return c.brokers > 1 }

func brokerName(i int) string   { return "broker-" + strconv.Itoa(i) }
func consumerName(i int) string { return "consumer-" + strconv.Itoa(i+1) }
func producerName(i int) string { return "producer-" + strconv.Itoa(i+1) }

const finalReaderName = "final-reader"

func parseKeys(s string) (keyDist, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return keyDist{kind: "none"}, nil
	}
	kind, n, ok := strings.Cut(s, ":")
	if !ok || (kind != "uniform" && kind != "zipf") {
		return keyDist{}, fmt.Errorf("%q: want none, uniform:N or zipf:N", s)
	}
	v, err := strconv.Atoi(n)
	if err != nil || v < 1 || v > 1_000_000 {
		return keyDist{}, fmt.Errorf("%q: N must be an integer in [1, 1000000]", s)
	}
	return keyDist{kind: kind, n: v}, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m { //detcheck:ordered keys are sorted below
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sameConfigs(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, k := range sortedKeys(a) {
		if bv, ok := b[k]; !ok || bv != a[k] {
			return false
		}
	}
	return true
}

// compileModel reads model: into the world's network and disk configs.
func (d *specDoc) compileModel(c *compiled) error {
	m := d.spec.Model
	if m.Link != "" {
		sched, err := faults.Parse("model.link", "at 0s latency *>* "+m.Link)
		if err != nil {
			return d.errAt("model.link", "%q: %v (e.g. base=2ms jitter=exponential:500us)", m.Link, err)
		}
		l, ok := sched.Steps[0].Action.(faults.Latency)
		if !ok || sched.Len() != 1 {
			return d.errAt("model.link", "%q: one link model, e.g. base=2ms jitter=exponential:500us", m.Link)
		}
		c.net = netsim.DefaultConfig()
		c.net.DefaultLink = l.Link
		c.modelKnobs = append(c.modelKnobs, "model.link="+m.Link)
	}
	durField := func(path, v string, out *int64) error {
		if v == "" {
			return nil
		}
		dur, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || dur < 0 || dur > time.Minute {
			return d.errAt(path, "%q: want a duration from 0 to 1m (e.g. 2ms, 500us)", v)
		}
		*out = int64(dur)
		c.modelKnobs = append(c.modelKnobs, path+"="+v)
		return nil
	}
	if err := durField("model.fsync-latency", m.FsyncLatency, &c.disk.SyncLatency); err != nil {
		return err
	}
	if m.FsyncLatency != "" && c.disk.SyncLatency == 0 {
		return d.errAt("model.fsync-latency", "must be positive")
	}
	if err := durField("model.fsync-jitter", m.FsyncJitter, &c.disk.SyncJitter); err != nil {
		return err
	}
	if m.FsyncJitter != "" && c.disk.SyncJitter == 0 {
		c.disk.SyncJitter = -1 // none
	}
	if m.FlushBytesPerSecond != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(m.FlushBytesPerSecond), 10, 64)
		if err != nil || n < 1 {
			return d.errAt("model.flush-bytes-per-second", "%q: want a positive integer", m.FlushBytesPerSecond)
		}
		c.disk.FlushBandwidth = n
		c.modelKnobs = append(c.modelKnobs, "model.flush-bytes-per-second="+m.FlushBytesPerSecond)
	}
	return nil
}
