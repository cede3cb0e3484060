package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/controller"
	"github.com/loglab/loglab/broker/metrics"
	"github.com/loglab/loglab/broker/topics"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/host/realhost"
)

// Config describes an embedded cluster. Zero values select the defaults
// noted.
type Config struct {
	// Brokers is the number of brokers (>= 1).
	Brokers int
	// Host is the interface every listener binds (127.0.0.1).
	Host string
	// BasePort: broker k listens on BasePort+k-1; 0 picks free ports.
	BasePort int
	// ControllerPortOffset: voter k listens on BasePort+offset+k-1 (100).
	ControllerPortOffset int
	// DataDir holds broker-k/ for every broker (required; created).
	DataDir string
	// DefaultReplicationFactor is default.replication.factor
	// (min(3, Brokers)); more than Brokers is an error.
	DefaultReplicationFactor int16
	// MinInsyncReplicas is the brokers' default min.insync.replicas (0:
	// Kafka's default, 1).
	MinInsyncReplicas int64
	// Broker is the template of every broker's config: NodeID, Listen,
	// Controllers and DefaultReplicationFactor are set per broker and
	// AdvertisedAddr is cleared (each advertises its listener); if Voter
	// is set, its timings are used and ID and Voters are set.
	Broker broker.Config
	// Metrics, if set, gives broker k its metrics recorder (e.g. one
	// labelled broker=k).
	Metrics func(id int32) metrics.Recorder
	// Logger receives every broker's logs, with node=broker-k
	// (slog.Default() if nil).
	Logger *slog.Logger
	// StopTimeout bounds one broker's clean shutdown (30s).
	StopTimeout time.Duration
}

// Errors.
var (
	// ErrConfig: the Config is invalid.
	ErrConfig = errors.New("embedded: invalid config")
	// ErrNotRunning: the broker is killed or stopped.
	ErrNotRunning = errors.New("embedded: broker not running")
	// ErrRunning: Restart of a broker that runs.
	ErrRunning = errors.New("embedded: broker already running")
)

// Cluster is a running embedded cluster.
type Cluster struct {
	cfg    Config
	voters []controller.Peer
	ctrl   []string
	log    *slog.Logger

	mu    sync.Mutex
	nodes []*node // index id-1
}

type node struct {
	id       int32
	addr     string
	ctrlAddr string // "" unless a voter
	dir      string
	rt       *realhost.Runtime
	b        *broker.Broker
	w        *crashable
	// paused is closed by Resume (nil: not paused).
	paused chan struct{}
}

// crashable lets Kill skip the broker's clean Stop.
type crashable struct {
	b     *broker.Broker
	crash atomic.Bool
}

func (c *crashable) Start(h host.Host) { c.b.Start(h) }
func (c *crashable) Stop(done func()) {
	if c.crash.Load() {
		done()
		return
	}
	c.b.Stop(done)
}

// Validate checks cfg and fills in the defaults the fields document; Start
// calls it, and a command may call it first to fail before anything is
// created. Errors wrap ErrConfig.
func (cfg *Config) Validate() error {
	bad := func(f string, args ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrConfig}, args...)...) }
	if cfg.Brokers < 1 || cfg.Brokers > 100 {
		return bad("%d brokers: want 1..100", cfg.Brokers)
	}
	if cfg.DataDir == "" {
		return bad("no data directory")
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.ControllerPortOffset == 0 {
		cfg.ControllerPortOffset = 100
	}
	if cfg.DefaultReplicationFactor == 0 {
		cfg.DefaultReplicationFactor = int16(min(3, cfg.Brokers))
	}
	if cfg.DefaultReplicationFactor < 1 || int(cfg.DefaultReplicationFactor) > cfg.Brokers {
		return bad("default replication factor %d with %d brokers: want 1..brokers", cfg.DefaultReplicationFactor, cfg.Brokers)
	}
	if cfg.MinInsyncReplicas < 0 || cfg.MinInsyncReplicas > int64(cfg.DefaultReplicationFactor) {
		return bad("min.insync.replicas %d: want 1..the replication factor (%d)", cfg.MinInsyncReplicas, cfg.DefaultReplicationFactor)
	}
	if cfg.Broker.NumPartitions < 0 {
		return bad("num.partitions %d: want at least 1", cfg.Broker.NumPartitions)
	}
	nVoters := min(3, cfg.Brokers)
	if cfg.BasePort < 0 || cfg.BasePort+cfg.Brokers-1 > 65535 ||
		(cfg.BasePort > 0 && (cfg.BasePort+cfg.ControllerPortOffset < 1 || cfg.BasePort+cfg.ControllerPortOffset+nVoters-1 > 65535)) {
		return bad("ports from %d (controller offset %d) with %d brokers: out of range", cfg.BasePort, cfg.ControllerPortOffset, cfg.Brokers)
	}
	if cfg.BasePort > 0 && cfg.ControllerPortOffset > -cfg.Brokers && cfg.ControllerPortOffset < cfg.Brokers {
		return bad("controller port offset %d overlaps the %d broker ports", cfg.ControllerPortOffset, cfg.Brokers)
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 30 * time.Second
	}
	return nil
}

// Start starts every broker and returns once each is listening (it does
// not wait for the quorum: see WaitReady). On error nothing is left
// running.
func Start(cfg Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	nVoters := min(3, cfg.Brokers)
	var ports []int
	if cfg.BasePort == 0 {
		var err error
		if ports, err = freePorts(cfg.Host, cfg.Brokers+nVoters); err != nil {
			return nil, err
		}
	} else {
		for k := 0; k < cfg.Brokers; k++ {
			ports = append(ports, cfg.BasePort+k)
		}
		for k := 0; k < nVoters; k++ {
			ports = append(ports, cfg.BasePort+cfg.ControllerPortOffset+k)
		}
	}
	c := &Cluster{cfg: cfg, log: cfg.Logger}
	for k := 1; k <= nVoters; k++ {
		a := net.JoinHostPort(cfg.Host, strconv.Itoa(ports[cfg.Brokers+k-1]))
		c.voters = append(c.voters, controller.Peer{ID: uint64(k), Addr: a})
		c.ctrl = append(c.ctrl, a)
	}
	for k := 1; k <= cfg.Brokers; k++ {
		n := &node{
			id:   int32(k),
			addr: net.JoinHostPort(cfg.Host, strconv.Itoa(ports[k-1])),
			dir:  filepath.Join(cfg.DataDir, "broker-"+strconv.Itoa(k)),
		}
		if k <= nVoters {
			n.ctrlAddr = c.ctrl[k-1]
		}
		c.nodes = append(c.nodes, n)
	}
	for _, n := range c.nodes {
		if err := c.start(n); err != nil {
			_ = c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// freePorts returns n ports free on host right now.
func freePorts(hostName string, n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(hostName, "0"))
		if err != nil {
			return nil, fmt.Errorf("embedded: pick a free port on %s: %w", hostName, err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// brokerConfig is broker k's config from the template.
func (c *Cluster) brokerConfig(n *node) broker.Config {
	bc := c.cfg.Broker
	bc.NodeID = n.id
	bc.Listen, bc.AdvertisedAddr = n.addr, ""
	bc.Controllers = append([]string(nil), c.ctrl...)
	bc.DefaultReplicationFactor = c.cfg.DefaultReplicationFactor
	if c.cfg.MinInsyncReplicas > 0 {
		if bc.TopicDefaults == (topics.Config{}) {
			bc.TopicDefaults = topics.DefaultConfig()
		}
		bc.TopicDefaults.MinInsyncReplicas = c.cfg.MinInsyncReplicas
	}
	if c.cfg.Metrics != nil {
		bc.Metrics = c.cfg.Metrics(n.id)
		bc.MetricsGaugeInterval = time.Second
	}
	bc.Voter = nil
	if n.ctrlAddr != "" {
		var vc controller.VoterConfig
		if c.cfg.Broker.Voter != nil {
			vc = *c.cfg.Broker.Voter
		}
		vc.ID = uint64(n.id)
		vc.Voters = append([]controller.Peer(nil), c.voters...)
		bc.Voter = &vc
	}
	return bc
}

// start runs broker n (its lock-free part: called with n not running).
func (c *Cluster) start(n *node) error {
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		return fmt.Errorf("embedded: broker %d data dir: %w", n.id, err)
	}
	name := "broker-" + strconv.Itoa(int(n.id))
	b := broker.New(c.brokerConfig(n))
	w := &crashable{b: b}
	rt, err := realhost.Run(w, realhost.Config{Name: name, DataDir: n.dir, Logger: c.log.With("node", name)})
	if err != nil {
		return fmt.Errorf("embedded: start broker %d: %w", n.id, err)
	}
	var addr string
	var startErr error
	if err := rt.Do(func(host.Host) { addr, startErr = b.Addr(), b.Err() }); err != nil {
		startErr = err
	}
	if startErr != nil || addr == "" {
		c.stopRuntime(rt)
		if startErr == nil {
			startErr = errors.New("no listener")
		}
		return fmt.Errorf("embedded: broker %d did not start: %w", n.id, startErr)
	}
	c.mu.Lock()
	n.rt, n.b, n.w = rt, b, w
	c.mu.Unlock()
	return nil
}

func (c *Cluster) stopRuntime(rt *realhost.Runtime) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.StopTimeout)
	defer cancel()
	return rt.Stop(ctx)
}

func (c *Cluster) node(id int) (*node, error) {
	if id < 1 || id > len(c.nodes) {
		return nil, fmt.Errorf("embedded: no broker %d (1..%d)", id, len(c.nodes))
	}
	return c.nodes[id-1], nil
}

// Brokers is the number of brokers, running or not.
func (c *Cluster) Brokers() int { return len(c.nodes) }

// Bootstrap returns every broker's client address (bootstrap.servers).
func (c *Cluster) Bootstrap() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.addr
	}
	return out
}

// Addr is broker id's client address ("" if there is no such broker).
func (c *Cluster) Addr(id int) string {
	n, err := c.node(id)
	if err != nil {
		return ""
	}
	return n.addr
}

// ControllerAddr is broker id's controller listener ("" if not a voter).
func (c *Cluster) ControllerAddr(id int) string {
	n, err := c.node(id)
	if err != nil {
		return ""
	}
	return n.ctrlAddr
}

// WriteListeners prints, as `loglab cluster` does, one line per broker,
// "PREFIX: broker K listening on ADDR (controller CADDR)", then
// "PREFIX: bootstrap ADDR,ADDR,...".
func (c *Cluster) WriteListeners(w io.Writer, prefix string) {
	for k := 1; k <= len(c.nodes); k++ {
		if ca := c.ControllerAddr(k); ca != "" {
			fmt.Fprintf(w, "%s: broker %d listening on %s (controller %s)\n", prefix, k, c.Addr(k), ca)
		} else {
			fmt.Fprintf(w, "%s: broker %d listening on %s\n", prefix, k, c.Addr(k))
		}
	}
	fmt.Fprintf(w, "%s: bootstrap %s\n", prefix, strings.Join(c.Bootstrap(), ","))
}

// Controllers returns the voters' addresses (controller.quorum.voters).
func (c *Cluster) Controllers() []string { return append([]string(nil), c.ctrl...) }

// DataDir is broker id's data directory.
func (c *Cluster) DataDir(id int) string {
	n, err := c.node(id)
	if err != nil {
		return ""
	}
	return n.dir
}

// Running reports whether broker id runs.
func (c *Cluster) Running(id int) bool {
	n, err := c.node(id)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return n.rt != nil
}

// Broker is broker id's current incarnation (nil if not running). Call
// its methods only through Do: they must run on its loop.
func (c *Cluster) Broker(id int) *broker.Broker {
	n, err := c.node(id)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return n.b
}

// Do runs f on broker id's loop and waits for it (inspection: Image,
// Partition, Voter...). ErrNotRunning if the broker is not running.
func (c *Cluster) Do(id int, f func(b *broker.Broker, h host.Host)) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	rt, b := n.rt, n.b
	c.mu.Unlock()
	if rt == nil {
		return fmt.Errorf("%w: %d", ErrNotRunning, id)
	}
	if err := rt.Do(func(h host.Host) { f(b, h) }); err != nil {
		return fmt.Errorf("%w: %d: %w", ErrNotRunning, id, err)
	}
	return nil
}

// unfencedEverywhere is nil once each of the running brokers' images shows
// all of them unfenced.
func (c *Cluster) unfencedEverywhere(running []int) error {
	for _, id := range running {
		n := len(running) // a standalone broker (no image) fences no one
		if err := c.Do(id, func(b *broker.Broker, _ host.Host) {
			if img := b.Image(); img != nil {
				n = len(img.UnfencedBrokers())
			}
		}); err != nil {
			return err
		}
		if n != len(running) {
			return fmt.Errorf("broker %d sees %d of %d brokers unfenced", id, n, len(running))
		}
	}
	return nil
}

// take detaches broker id's runtime (nil if not running).
func (c *Cluster) take(n *node) (*realhost.Runtime, *crashable) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rt, w := n.rt, n.w
	n.rt, n.b, n.w = nil, nil, nil
	if n.paused != nil {
		close(n.paused)
		n.paused = nil
	}
	return rt, w
}

// ErrPaused and ErrNotPaused report a Pause of a paused broker and a
// Resume of one that is not.
var (
	ErrPaused    = errors.New("embedded: broker is paused")
	ErrNotPaused = errors.New("embedded: broker is not paused")
)

// Pause freezes broker id's event loop, as SIGSTOP freezes a process:
// its sockets stay open and what arrives is queued, but nothing is
// handled — no request answered, no timer fired, no heartbeat sent to the
// controller quorum (whose voter on this broker freezes too) — until
// Resume. Kill and Stop resume a paused broker first.
func (c *Cluster) Pause(id int) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case n.rt == nil:
		return fmt.Errorf("%w: %d", ErrNotRunning, id)
	case n.paused != nil:
		return fmt.Errorf("%w: %d", ErrPaused, id)
	}
	ch := make(chan struct{})
	n.paused = ch
	n.rt.Post(func(host.Host) { <-ch })
	return nil
}

// Resume lets a paused broker run again: it handles what queued up while
// it was frozen, its timers firing late.
func (c *Cluster) Resume(id int) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n.paused == nil {
		return fmt.Errorf("%w: %d", ErrNotPaused, id)
	}
	close(n.paused)
	n.paused = nil
	return nil
}

// Kill crashes broker id: its runtime stops without the broker's clean
// shutdown (see the package doc).
func (c *Cluster) Kill(id int) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	rt, w := c.take(n)
	if rt == nil {
		return fmt.Errorf("%w: %d", ErrNotRunning, id)
	}
	w.crash.Store(true)
	return c.stopRuntime(rt)
}

// StopBroker stops broker id cleanly (a controlled shutdown).
func (c *Cluster) StopBroker(id int) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	rt, _ := c.take(n)
	if rt == nil {
		return fmt.Errorf("%w: %d", ErrNotRunning, id)
	}
	return c.stopRuntime(rt)
}

// Restart starts a fresh broker id on its ports and data directory after
// Kill or StopBroker.
func (c *Cluster) Restart(id int) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	if c.Running(id) {
		return fmt.Errorf("%w: %d", ErrRunning, id)
	}
	return c.start(n)
}

// Stop stops every running broker cleanly, in parallel.
func (c *Cluster) Stop() error {
	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes))
	for i, n := range c.nodes {
		rt, _ := c.take(n)
		if rt == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.stopRuntime(rt); err != nil {
				errs[i] = fmt.Errorf("broker %d: %w", n.id, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// WaitReady waits until every running broker's metadata image shows every
// running broker unfenced (so that any of them accepts a CreateTopics of
// replication factor up to their number) and Metadata over a socket lists
// them all, or ctx ends.
func (c *Cluster) WaitReady(ctx context.Context) error {
	var seeds []string
	var running []int
	for i, n := range c.nodes {
		if c.Running(i + 1) {
			seeds = append(seeds, n.addr)
			running = append(running, i+1)
		}
	}
	if len(seeds) == 0 {
		return fmt.Errorf("%w: none", ErrNotRunning)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	if err != nil {
		return fmt.Errorf("embedded: client: %w", err)
	}
	defer cl.Close()
	var last error
	for {
		if last = c.unfencedEverywhere(running); last == nil {
			req := kmsg.NewPtrMetadataRequest()
			resp, err := req.RequestWith(ctx, cl)
			if err == nil && len(resp.Brokers) == len(seeds) {
				return nil
			}
			if err != nil {
				last = err
			} else {
				last = fmt.Errorf("metadata lists %d of %d brokers", len(resp.Brokers), len(seeds))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("embedded: cluster not ready: %w (%v)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
