package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/loglab/loglab/broker/controller"
	"github.com/loglab/loglab/broker/group"
	"github.com/loglab/loglab/broker/metrics"
	"github.com/loglab/loglab/broker/topics"
	"github.com/loglab/loglab/host"
)

// Broker is a single Kafka broker, a host.Node. Everything it does runs on
// its node's loop.
type Broker struct {
	cfg     Config
	h       host.Host
	log     *slog.Logger
	openLog logOpener
	meta    metadataSource // the catalogue, or the controller's image

	listener host.Listener
	advHost  string
	advPort  int32

	conns      map[uint64]*conn
	nextConnID uint64

	// fetchArena holds the record bytes of the fetch response being
	// built (readFetch); reused by the next one, so fetches do not
	// allocate a buffer per partition read.
	fetchArena []byte

	topics   map[string]*topic
	byID     map[topics.ID]*topic
	creating map[string]*topics.Topic // catalogue entries being made durable
	// reserved names cannot be created: being created or being deleted.
	reserved map[string]bool
	store    *topics.Store

	// failed is set when recovery failed; the broker then serves nothing.
	failed   error
	stopping bool
	stopped  bool
	// busy counts asynchronous operations Stop must wait for (catalogue
	// saves, log closes of deleted topics).
	busy     int
	whenIdle []func()

	retentionTimer host.Timer

	// Cluster mode (cluster.go): the metadata follower, the voter in
	// combined mode, replica fetchers by leader id, ISR and high watermark
	// checkpoint timers.
	follower *controller.Follower
	voter    *controller.Voter
	fetchers map[int32]*replicaFetcher
	isrTimer host.Timer
	hwTimer  host.Timer
	// autoCreating names topics whose auto-creation is submitted.
	autoCreating map[string]bool

	// Group coordinator (groups.go): the coordinator, the offsets
	// partitions it loads or serves, and whether __consumer_offsets is
	// being created.
	groups          *group.Coordinator
	shards          map[int32]shardLoad
	offsetsCreating bool
	// pids is the block of producer ids InitProducerId hands out.
	pids producerIDs
}

// New returns a broker that will run with cfg once started.
func New(cfg Config) *Broker {
	b := &Broker{cfg: cfg.withDefaults()}
	b.meta = catalogueSource{b}
	if b.clustered() {
		b.meta = imageSource{b}
	}
	var onFlush func(time.Duration)
	if _, nop := b.cfg.Metrics.(metrics.Nop); !nop {
		m := b.cfg.Metrics
		onFlush = func(d time.Duration) { m.Observe("loglab_log_flush_duration_seconds", d.Seconds()) }
	}
	b.openLog = defaultLogOpener(onFlush)
	if !cfg.Bugs.Empty() { // bugzoo: test-only deliberate bugs reach the logs too
		b.openLog = bugzooLogOpener(cfg.Bugs, onFlush)
	}
	return b
}

// Err reports why the broker failed to start (nil if it runs).
func (b *Broker) Err() error { return b.failed }

// Addr is the listener's address once started ("" before or on failure).
func (b *Broker) Addr() string {
	if b.listener == nil {
		return ""
	}
	return b.listener.Addr()
}

// WaitingFetches counts long-polling fetches now parked (for metrics and
// tests). Call it on the node's loop.
func (b *Broker) WaitingFetches() int {
	n := 0
	for _, id := range slices.Sorted(maps.Keys(b.conns)) {
		n += len(b.conns[id].waits)
	}
	return n
}

// Start recovers the topic catalogue and partition logs from the disk and
// starts listening. A catalogue that cannot be read stops the broker
// (logged, Err set): it never serves with topics silently missing.
func (b *Broker) Start(h host.Host) {
	b.h = h
	b.log = h.Logger().With("component", "broker")
	b.conns = map[uint64]*conn{}
	b.topics = map[string]*topic{}
	b.byID = map[topics.ID]*topic{}
	b.creating = map[string]*topics.Topic{}
	b.reserved = map[string]bool{}
	b.store = topics.NewStore(h.Disk())
	b.shards = map[int32]shardLoad{}
	b.groups = b.newCoordinator(b.cfg.OffsetsTopicNumPartitions)
	if b.clustered() {
		b.startClustered()
		return
	}
	if err := b.recover(); err != nil {
		b.failed = err
		b.log.Error("broker cannot start: recovery failed", "err", err)
		return
	}
	adv, err := b.listen()
	if err != nil {
		b.cannotStart(err)
		return
	}
	b.scheduleRetention()
	b.scheduleGauges()
	b.syncAllShards()
	b.log.Info("broker started", "listen", b.listener.Addr(), "advertised", adv, "node_id", b.cfg.NodeID, "topics", len(b.topics))
}

// listen opens the client listener and parses the advertised address
// (advertised.listeners, by default the listener's own), returning it.
func (b *Broker) listen() (string, error) {
	l, err := b.h.Net().Listen(b.cfg.Listen, host.ListenOptions{MaxFrameBytes: b.cfg.MaxFrameBytes}, b.accept)
	if err != nil {
		return "", fmt.Errorf("broker: listen on %s: %w", b.cfg.Listen, err)
	}
	b.listener = l
	adv := b.cfg.AdvertisedAddr
	if adv == "" {
		adv = l.Addr()
	}
	if b.advHost, b.advPort, err = splitHostPort(adv); err != nil {
		return "", err
	}
	return adv, nil
}

// cannotStart records why the broker failed to start and releases its
// listener, if it has one.
func (b *Broker) cannotStart(err error) {
	b.failed = err
	b.log.Error("broker cannot start", "err", err)
	if b.listener != nil {
		b.listener.Close()
	}
}

// startClustered starts a cluster-mode broker: listener, then voter and
// metadata follower; topics come from the image (no catalogue recovery).
func (b *Broker) startClustered() {
	adv, err := b.listen()
	if err == nil {
		err = b.startCluster(adv)
	}
	if err != nil {
		b.cannotStart(err)
		return
	}
	b.scheduleRetention()
	b.scheduleGauges()
	b.log.Info("broker started in cluster mode", "listen", b.listener.Addr(), "advertised", adv, "node_id", b.cfg.NodeID, "controllers", strings.Join(b.cfg.Controllers, ","))
}

// splitHostPort splits "host:port" (the host may be empty or a bracketed
// IPv6 address) without the net package, which nodes may not import.
func splitHostPort(addr string) (string, int32, error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("broker: address %q has no port", addr)
	}
	port, err := strconv.ParseInt(addr[i+1:], 10, 32)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("broker: address %q has a bad port", addr)
	}
	hostPart := strings.TrimSuffix(strings.TrimPrefix(addr[:i], "["), "]")
	return hostPart, int32(port), nil
}

// recover loads the catalogue, opens every partition's log and removes
// partition directories the catalogue does not know: leftovers of a
// deletion or a creation cut short by a crash.
func (b *Broker) recover() error {
	st, err := topics.Load(b.h.Disk())
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, tt := range st.Topics {
		t, err := b.openTopic(tt)
		if err != nil {
			return err
		}
		b.topics[t.name] = t
		b.byID[t.id] = t
		for _, p := range t.partitions {
			known[partitionDir(t.name, p.index)] = true
		}
	}
	names, err := b.h.Disk().List("")
	if err != nil {
		return fmt.Errorf("broker: list data directory: %w", err)
	}
	removed := false
	for _, name := range names {
		if known[name] || !looksLikePartitionDir(name) {
			continue
		}
		b.log.Info("removing partition directory not in the topic catalogue", "dir", name)
		if err := removeAll(b.h.Disk(), name); err != nil {
			return fmt.Errorf("broker: remove orphan %s: %w", name, err)
		}
		removed = true
	}
	if removed {
		b.h.Disk().SyncDir("", func(err error) {
			if err != nil {
				b.log.Warn("sync of data directory after orphan removal failed", "err", err)
			}
		})
	}
	return nil
}

func looksLikePartitionDir(name string) bool {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 || i == len(name)-1 {
		return false
	}
	if _, err := strconv.ParseUint(name[i+1:], 10, 31); err != nil {
		return false
	}
	return topics.ValidName(name[:i]) == nil
}

// openTopic builds a live topic from its catalogue entry, opening its
// partition logs. A log that fails to open makes its partition offline;
// the rest of the broker keeps serving.
func (b *Broker) openTopic(tt topics.Topic) (*topic, error) {
	cfg, err := topics.ParseConfig(b.cfg.TopicDefaults, tt.Overrides)
	if err != nil {
		return nil, fmt.Errorf("broker: topic %q: %w", tt.Name, err)
	}
	t := &topic{name: tt.Name, id: tt.ID, overrides: tt.Overrides, cfg: cfg}
	for i := int32(0); i < tt.Partitions; i++ {
		p := &partition{topic: t, index: i}
		dir := partitionDir(t.name, i)
		if err := b.h.Disk().MkdirAll(dir); err != nil {
			p.offline = err
		} else if p.log, err = b.openLog(b.h, dir, cfg, false); err != nil {
			p.offline = err
		}
		if p.offline != nil {
			b.log.Error("partition offline: log cannot be opened", "topic", t.name, "partition", i, "err", p.offline)
		}
		t.partitions = append(t.partitions, p)
	}
	return t, nil
}

// removeAll removes dir and everything under it.
func removeAll(d host.Disk, dir string) error {
	names, err := d.List(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		child := dir + "/" + n
		err := d.Remove(child)
		if err == nil || errors.Is(err, host.ErrNotExist) {
			continue
		}
		// Not a plain file: a subdirectory.
		if err := removeAll(d, child); err != nil {
			return err
		}
	}
	if err := d.Remove(dir); err != nil && !errors.Is(err, host.ErrNotExist) {
		return err
	}
	return nil
}

// accept admits a connection unless the connection limit is reached.
func (b *Broker) accept(c host.Conn) host.ConnHandler {
	b.nextConnID++
	cn := &conn{b: b, id: b.nextConnID, c: c}
	if b.stopping {
		cn.closed = true
		c.Close()
		return cn
	}
	if len(b.conns) >= b.cfg.MaxConnections {
		b.log.Warn("closing connection: connection limit reached", "remote", c.RemoteAddr(), "limit", b.cfg.MaxConnections)
		cn.closed = true
		c.Close()
		return cn
	}
	b.conns[cn.id] = cn
	return cn
}

func (b *Broker) forgetConn(cn *conn) {
	delete(b.conns, cn.id)
}

// Stop closes the listener and every connection, waits for catalogue
// saves in flight, closes every log (which flushes it) and then calls
// done.
func (b *Broker) Stop(done func()) {
	if b.stopping {
		return
	}
	b.stopping = true
	b.unloadShards()
	if b.listener != nil {
		b.listener.Close()
	}
	if b.retentionTimer != nil {
		b.retentionTimer.Stop()
	}
	if b.clustered() {
		b.stopCluster()
	}
	for _, id := range slices.Sorted(maps.Keys(b.conns)) {
		b.conns[id].close()
	}
	b.afterIdle(func() { b.closeLogs(done) })
}

// afterIdle runs f once no catalogue save or deletion is in flight.
func (b *Broker) afterIdle(f func()) {
	if b.busy == 0 {
		f()
		return
	}
	b.whenIdle = append(b.whenIdle, f)
}

func (b *Broker) beginBusy() { b.busy++ }

func (b *Broker) endBusy() {
	b.busy--
	if b.busy > 0 {
		return
	}
	fs := b.whenIdle
	b.whenIdle = nil
	for _, f := range fs {
		f()
	}
}

func (b *Broker) closeLogs(done func()) {
	var logs []*partition
	for _, name := range b.sortedTopicNames() {
		for _, p := range b.topics[name].partitions {
			if p.log != nil {
				logs = append(logs, p)
			}
		}
	}
	left := len(logs) + 1
	finish := func() {
		left--
		if left == 0 {
			b.stopped = true
			b.log.Info("broker stopped")
			done()
		}
	}
	for _, p := range logs {
		p := p
		p.log.Close(func(err error) {
			if err != nil {
				b.log.Error("closing partition log failed", "topic", p.topic.name, "partition", p.index, "err", err)
			}
			finish()
		})
	}
	finish()
}

func (b *Broker) sortedTopicNames() []string {
	return slices.Sorted(maps.Keys(b.topics))
}

var _ host.Node = (*Broker)(nil)
var _ host.Stopper = (*Broker)(nil)

// scheduleRetention runs retention on every live partition each
// RetentionCheckIntervalMs, in topic-name and partition order.
func (b *Broker) scheduleRetention() {
	b.retentionTimer = b.h.AfterFunc(time.Duration(b.cfg.RetentionCheckIntervalMs)*time.Millisecond, func() {
		if b.stopping {
			return
		}
		for _, name := range b.sortedTopicNames() {
			for _, p := range b.topics[name].partitions {
				if p.offline != nil || p.log == nil {
					continue
				}
				n, err := p.log.ApplyRetention()
				if err != nil {
					if takesOffline(err) {
						b.takeOffline(p, err)
					}
					continue
				}
				if n > 0 {
					b.log.Info("retention deleted segments", "topic", name, "partition", p.index, "segments", n, "log_start_offset", p.log.LogStartOffset())
				}
			}
		}
		b.scheduleRetention()
	})
}

// publishGauges sets the gauges of package metrics from the partitions
// (called every second: by the high-watermark checkpoint in cluster mode,
// by Config.MetricsGaugeInterval's timer when set).
func (b *Broker) publishGauges() {
	m := b.cfg.Metrics
	if _, nop := m.(metrics.Nop); nop {
		return
	}
	under, led := 0, 0
	for _, name := range b.sortedTopicNames() {
		for _, p := range b.topics[name].partitions {
			if p.log == nil {
				continue
			}
			m.Set("loglab_broker_log_size_bytes", float64(p.log.Size()), "topic", name, "partition", strconv.Itoa(int(p.index)))
			if !p.replicated || p.isLeader {
				led++
				if p.replicated && len(p.isr) < len(p.replicas) {
					under++
				}
			}
		}
	}
	m.Set("loglab_broker_under_replicated_partitions", float64(under))
	m.Set("loglab_broker_partitions_led", float64(led))
}

// PublishGauges sets the gauges now (a simulated run's end: standalone
// brokers have no checkpoint tick, and their recorder must still hold the
// under-replicated, partitions-led and log-size gauges). Call it on the
// broker's loop or when nothing runs; it schedules nothing.
func (b *Broker) PublishGauges() { b.publishGauges() }

// scheduleGauges publishes the gauges every interval (real brokers with
// metrics; simulated ones rely on the checkpoint tick, adding no events).
func (b *Broker) scheduleGauges() {
	if b.cfg.MetricsGaugeInterval <= 0 {
		return
	}
	b.h.AfterFunc(b.cfg.MetricsGaugeInterval, func() {
		if b.stopping {
			return
		}
		b.publishGauges()
		b.scheduleGauges()
	})
}
