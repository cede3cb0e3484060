package scenarios

// Spec is a scenario file (scenarios/library/README.md is the reference, with
// annotated examples). Fields that are knobs are strings so that one syntax
// serves them all (knob.go): a value ("3", "5ms"), a range the seed draws from
// ("2..4", "10ms..1.5s"), or alternatives ("0|1ms|5ms"). The YAML keys are
// kebab-case; Kafka configs keep Kafka's dotted names.
type Spec struct {
	// Name reads like a spec: what is done and what must hold.
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Seed is a note for files written by the shrinker: the seed that
	// reproduces the run. `sim run --scenario-file` uses it when --seed is
	// not given.
	Seed     *uint64      `yaml:"seed,omitempty"`
	Cluster  ClusterSpec  `yaml:"cluster"`
	Topics   []TopicSpec  `yaml:"topics"`
	Clients  ClientSpec   `yaml:"clients,omitempty"`
	Workload WorkloadSpec `yaml:"workload"`
	Faults   FaultSpec    `yaml:"faults,omitempty"`
	Liveness LivenessSpec `yaml:"liveness,omitempty"`
	// Model replaces the simulator's latency models (what-if studies,
	// simulated benchmarks); absent, netsim's and sim/disk's defaults.
	Model ModelSpec `yaml:"model,omitempty"`
	// Checkers to run on the history (checkers.AllNames(); empty: the
	// default ones, checkers.Names()).
	Checkers []string   `yaml:"checkers,flow,omitempty"`
	Expect   ExpectSpec `yaml:"expect"`
}

// ModelSpec sets the simulator's network and disk latency models for the
// whole run (fixed values: what-if studies compare runs, they do not draw
// models from the seed).
type ModelSpec struct {
	// Link is every link's model in the faults latency syntax without
	// FROM>TO: "base=2ms jitter=exponential:500us bytes-per-second=125000000"
	// (default: netsim's, base=500us jitter=uniform:200us).
	Link string `yaml:"link,omitempty"`
	// FsyncLatency is one flush's base latency (default 2ms); FsyncJitter
	// the bound of a uniform extra per flush (default a quarter of
	// FsyncLatency; 0: none); FlushBytesPerSecond adds the time to write
	// the flushed bytes (0: none).
	FsyncLatency        string `yaml:"fsync-latency,omitempty"`
	FsyncJitter         string `yaml:"fsync-jitter,omitempty"`
	FlushBytesPerSecond string `yaml:"flush-bytes-per-second,omitempty"`
}

// ClusterSpec is the cluster under test.
type ClusterSpec struct {
	// Brokers is the number of brokers, named broker-1 ... broker-N (1..5;
	// a knob, e.g. 3..5). 1 is today's standalone broker (its own topic
	// catalogue, no controller); 2 or more form a replicated cluster with a
	// controller quorum.
	Brokers string `yaml:"brokers"`
	// Voters is how many brokers also run a controller voter (combined
	// mode, process.roles=broker,controller): broker-1 ... broker-V
	// (default min(3, brokers); cluster mode only).
	Voters int `yaml:"voters,omitempty"`
	// Configs are broker configs by Kafka name (brokerConfigNames).
	Configs map[string]string `yaml:"configs,omitempty"`
}

// TopicSpec is a topic created at the start.
type TopicSpec struct {
	Name       string `yaml:"name"`
	Partitions string `yaml:"partitions"`
	// ReplicationFactor is the topic's replication factor (a knob, at most
	// cluster.brokers; default: default.replication.factor, else 1).
	ReplicationFactor string `yaml:"replication-factor,omitempty"`
	// Configs are topic configs by Kafka name (flush.messages, flush.ms,
	// retention.ms, segment.bytes, ...); values may be knobs.
	Configs map[string]string `yaml:"configs,omitempty"`
}

// ClientSpec configures every client of the workload (Kafka's producer
// and consumer settings, durations in Go syntax).
type ClientSpec struct {
	Acks            string `yaml:"acks,omitempty"` // all | 1 | 0
	Linger          string `yaml:"linger,omitempty"`
	BatchBytes      string `yaml:"batch-bytes,omitempty"`
	RequestTimeout  string `yaml:"request-timeout,omitempty"`
	DeliveryTimeout string `yaml:"delivery-timeout,omitempty"`
	DialTimeout     string `yaml:"dial-timeout,omitempty"`
	RetryBackoff    string `yaml:"retry-backoff,omitempty"`
	MaxInFlight     string `yaml:"max-in-flight,omitempty"`
	FetchMaxWait    string `yaml:"fetch-max-wait,omitempty"`
	// Idempotent: "true" makes every producer idempotent
	// (enable.idempotence; needs acks: all), "false" (default) not,
	// "true|false" lets the seed choose.
	Idempotent string `yaml:"idempotent,omitempty"`
	// Group members' settings (workload.group): session.timeout.ms [6s],
	// heartbeat.interval.ms [1s], max.poll.interval.ms [10s],
	// auto.commit.interval.ms [500ms], and the assignor (range |
	// roundrobin, or both as alternatives) [range].
	SessionTimeout     string `yaml:"session-timeout,omitempty"`
	HeartbeatInterval  string `yaml:"heartbeat-interval,omitempty"`
	RebalanceTimeout   string `yaml:"rebalance-timeout,omitempty"`
	AutoCommitInterval string `yaml:"auto-commit-interval,omitempty"`
	Assignor           string `yaml:"assignor,omitempty"`
}

// WorkloadSpec is the traffic of the safety and liveness phases.
type WorkloadSpec struct {
	// Duration is the safety phase: producers and consumers run while the
	// faults strike. Every fault must be healed by its end.
	Duration string `yaml:"duration"`
	// Producers and Consumers are how many client nodes of each kind run.
	Producers string `yaml:"producers"`
	Consumers string `yaml:"consumers,omitempty"`
	// Rate is records per second per producer (gaps uniform in
	// [0, 2/rate], so the mean is 1/rate).
	Rate string `yaml:"rate"`
	// Keys: none (null keys, Kafka's sticky partitioner), uniform:N or
	// zipf:N (N distinct keys, hashed to partitions by murmur2).
	Keys string `yaml:"keys,omitempty"`
	// ValueBytes is each record's value size, drawn per record from the
	// range; values are unique ids padded to this size.
	ValueBytes string `yaml:"value-bytes,omitempty"`
	// Group, if set, makes the consumers members of this consumer group
	// (subscribed to every topic, auto-committing their positions)
	// instead of readers of every partition; the group checker then runs.
	Group string `yaml:"group,omitempty"`
}

// FaultSpec is the fault schedule: fixed text, generators, or both.
type FaultSpec struct {
	// Schedule is package faults' text form, one "at TIME ACTION ..." per
	// line.
	Schedule string `yaml:"schedule,omitempty"`
	// Crashes draws crash/restart episodes from the seed.
	Crashes *CrashGenSpec `yaml:"crashes,omitempty"`
	// Swarm draws a schedule with faults.Swarm (swarm testing).
	Swarm *SwarmSpec `yaml:"swarm,omitempty"`
}

// CrashGenSpec draws Count crash/restart episodes of one node over the
// safety phase, each after at least MinUptime of traffic since the last
// restart.
type CrashGenSpec struct {
	// Node is a broker, or in a cluster a symbolic target
	// (leader:TOPIC-P, follower:TOPIC-P, controller, any-broker), bound at
	// each crash and restarted by its restart.
	Node  string `yaml:"node"`
	Count string `yaml:"count"`
	// Modes the seed picks from (faults crash mode names).
	Modes []string `yaml:"modes,flow"`
	// LastMode, if set, is the last crash's mode: "power-loss" makes an
	// unsafe flush policy's loss certain.
	LastMode  string `yaml:"last-mode,omitempty"`
	Down      string `yaml:"down"`
	MinUptime string `yaml:"min-uptime,omitempty"`
}

// SwarmSpec restricts faults.Swarm.
type SwarmSpec struct {
	// Kinds the seed may turn on (faults kinds; empty: all).
	Kinds []string `yaml:"kinds,flow,omitempty"`
	// AllOn turns every allowed kind on instead of a coin toss each.
	AllOn bool `yaml:"all-on,omitempty"`
	// Shapes restricts the partition shapes (isolate, split, one-way,
	// bridge; empty: all).
	Shapes []string `yaml:"shapes,flow,omitempty"`
	// ConsumerKinds, if set, swarms the consumers too: a second schedule
	// over consumer-1 ... consumer-N with these kinds (crash, pause,
	// reset), at most all but one consumer down at once, drawn after the
	// brokers' (so the brokers' draws do not change). A pause past the
	// session timeout is what fences a group member.
	ConsumerKinds []string `yaml:"consumer-kinds,flow,omitempty"`
}

// LivenessSpec is the phase after every fault has healed.
type LivenessSpec struct {
	// Duration the workload runs on after the safety phase (0: none).
	Duration string `yaml:"duration,omitempty"`
	// Bound is how soon after the last fault's repair sends and polls must
	// succeed again (the liveness checker's bound).
	Bound string `yaml:"bound,omitempty"`
	// Converge, in a cluster, is how soon after the last fault's repair
	// the cluster must be whole again (VOPR's liveness phase): every
	// partition led by a broker that serves it, with a full ISR. Later,
	// or never, is a liveness anomaly. Empty: not checked.
	Converge string `yaml:"converge,omitempty"`
}

// ExpectSpec is what a run must show.
type ExpectSpec struct {
	// Anomalies must all be found on every seed (empty: none may be).
	Anomalies []string `yaml:"anomalies,flow"`
	// Tolerate are kinds that may be found without failing the run: the
	// configuration allows them (a non-idempotent producer may duplicate).
	Tolerate []string `yaml:"tolerate,flow,omitempty"`
}
