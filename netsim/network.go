package netsim

import (
	"math/rand/v2"
	"time"

	"github.com/loglab/loglab/host"
)

// Config fixes a network at New.
type Config struct {
	// DefaultLink models every link between two different nodes unless
	// SetLink overrides it. The zero Link is an instant network (deliveries
	// still happen in later events, never inside the sending call).
	DefaultLink Link
	// Loopback models connections from a node to itself.
	Loopback Link
	// StallTimeout resets a connection once one of its directions has held
	// frames behind a partition for this long (TCP's user timeout). 0 means
	// DefaultStallTimeout.
	StallTimeout time.Duration
}

// DefaultStallTimeout is Config.StallTimeout's default.
const DefaultStallTimeout = 30 * time.Second

// EphemeralPortStart is the first local port a node's dialed connections get;
// each node counts up from it.
const EphemeralPortStart = 40000

// DefaultConfig is a data-centre network: 500µs one way plus up to 200µs of
// uniform jitter, loopback 20µs.
func DefaultConfig() Config {
	return Config{
		DefaultLink: Link{Latency: 500 * time.Microsecond, Jitter: Jitter{Dist: DistUniform, Scale: 200 * time.Microsecond}},
		Loopback:    Link{Latency: 20 * time.Microsecond},
	}
}

// Stats counts what crossed the network.
type Stats struct {
	FramesSent      int64 // Send calls that returned nil
	FramesDelivered int64 // OnFrame calls
	BytesDelivered  int64
	FramesDropped   int64 // frames lost to resets, crashes or a closed receiver
	BytesDropped    int64
	Dials           int64
	Accepts         int64
	Refused         int64 // dials refused: nobody listening
	DialTimeouts    int64
	Resets          int64 // connections reset (fault, stall, crash, oversized frame)
	Stalls          int64 // resets caused by StallTimeout
}

// Network is the simulated network of one world. It is not safe for
// concurrent use: like the world, it runs on one goroutine.
type Network struct {
	env   Env
	cfg   Config
	stall int64

	views     map[string]*nodeNet
	ephemeral map[string]int
	// down holds nodes that crashed or stopped and have not used the
	// network since; a SYN to them is answered with a refusal.
	down      map[string]bool
	listeners map[string]*listener // by address
	links     map[linkKey]*link

	isolated map[string]bool
	cut      map[linkKey]bool

	conns      []*conn // creation order; finished ones are pruned
	nfinished  int
	nextConnID uint64
	stats      Stats
}

type linkKey struct{ from, to string }

// link is the state of one directed link: its model, its random stream and
// when its wire is free again (bandwidth).
type link struct {
	cfg       Link
	custom    bool // set by SetLink; SetDefaultLink leaves it alone
	env       Env
	stream    string
	rnd       *rand.Rand // env.Rand(stream), fetched on the first draw
	busyUntil int64
}

// New makes a network over env.
func New(env Env, cfg Config) *Network {
	n := &Network{
		env:       env,
		cfg:       cfg,
		stall:     int64(cfg.StallTimeout),
		views:     make(map[string]*nodeNet),
		ephemeral: make(map[string]int),
		down:      make(map[string]bool),
		listeners: make(map[string]*listener),
		links:     make(map[linkKey]*link),
		isolated:  make(map[string]bool),
		cut:       make(map[linkKey]bool),
	}
	if n.stall <= 0 {
		n.stall = int64(DefaultStallTimeout)
	}
	return n
}

// For returns node's view of the network, implementing host.Network.
func (n *Network) For(node string) host.Network {
	v := n.views[node]
	if v == nil {
		v = &nodeNet{n: n, node: node}
		n.views[node] = v
	}
	return v
}

// Stats returns the counters so far.
func (n *Network) Stats() Stats { return n.stats }

// SetLink sets the model of the directed link from -> to. Frames already in
// flight keep their delivery times.
func (n *Network) SetLink(from, to string, l Link) {
	k := n.link(from, to)
	k.cfg, k.custom = l, true
	n.env.Trace("", "net.link", from+">"+to)
}

// SetDefaultLink changes the model of every link not set by SetLink.
func (n *Network) SetDefaultLink(l Link) {
	n.cfg.DefaultLink = l
	//detcheck:ordered each link is updated alone; nothing else happens
	for key, k := range n.links {
		if k.custom || key.from == key.to {
			continue
		}
		k.cfg = l
	}
	n.env.Trace("", "net.link", "default")
}

// link returns the state of from -> to, made on first use.
func (n *Network) link(from, to string) *link {
	key := linkKey{from, to}
	if k := n.links[key]; k != nil {
		return k
	}
	k := &link{cfg: n.cfg.DefaultLink, env: n.env, stream: LinkStream(from, to)}
	if from == to {
		k.cfg = n.cfg.Loopback
	}
	n.links[key] = k
	return k
}

// LinkStream is the name of the random stream for the link from -> to. Each
// directed link draws its jitter from its own stream, so the delays on one
// link depend only on the seed and on the traffic of that link: adding a
// connection between two other nodes does not shift them.
func LinkStream(from, to string) string { return "netsim/link/" + from + ">" + to }

// sample draws the link's one-way delay for one frame.
func (k *link) sample() int64 {
	if k.cfg.Jitter.Dist == DistNone || k.cfg.Jitter.Scale <= 0 {
		return max(0, int64(k.cfg.Latency)) // no draw: the stream stays untouched
	}
	if k.rnd == nil {
		k.rnd = k.env.Rand(k.stream)
	}
	return k.cfg.sample(k.rnd)
}

// Reachable reports whether frames from one node currently reach another.
// A node always reaches itself.
func (n *Network) Reachable(from, to string) bool {
	if from == to {
		return true
	}
	if len(n.isolated) == 0 && len(n.cut) == 0 {
		return true
	}
	return !n.isolated[from] && !n.isolated[to] && !n.cut[linkKey{from, to}]
}

func (n *Network) now() int64 { return n.env.Now() }
