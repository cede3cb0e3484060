package faults

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/loglab/loglab/netsim"
	"github.com/loglab/loglab/sim/disk"
)

// Kind is a family of faults the swarm generator turns on or off as a
// whole.
type Kind string

const (
	KindCrash     Kind = "crash"     // crash (a drawn mode), then restart
	KindPause     Kind = "pause"     // pause, then resume
	KindPartition Kind = "partition" // isolate, split, one-way or bridge, then heal (needs 2 nodes)
	KindLatency   Kind = "latency"   // a slow link, then the base link again (needs 2 nodes)
	KindReset     Kind = "reset"     // connection resets (instant)
	KindDisk      Kind = "disk"      // storage faults on a disk, then cleared
	KindBitRot    Kind = "bit-rot"   // one flipped bit on the media (instant, never repaired)
	KindClock     Kind = "clock"     // a clock jump or skew (instant, never undone)
)

// KindDiskSlow is slow fsyncs only (no errors, no ENOSPC), then cleared:
// the storage fault a replicated cluster must ride out without losing an
// in-sync replica's data. It is not in AllKinds ("all"); name it.
const KindDiskSlow Kind = "disk-slow"

// KindOutage is a power cut of every node at once (a datacenter outage):
// all crash together, in a drawn power-loss mode, and all restart
// together. It waits for every node to be up and takes them all, so it
// overrides MaxDown: it is safe only where every acknowledged write is
// synced before its acknowledgement (flush.messages=1), which is what it
// tests. Not in AllKinds; name it.
const KindOutage Kind = "outage"

// AllKinds lists every kind "all" means, in the order the generator draws
// them.
var AllKinds = []Kind{KindCrash, KindPause, KindPartition, KindLatency, KindReset, KindDisk, KindBitRot, KindClock}

// ExtraKinds are kinds drawn only when named, after AllKinds (so naming
// them never changes the draws of a schedule without them).
var ExtraKinds = []Kind{KindDiskSlow, KindOutage}

// ParseKinds reads a comma-separated list of kinds ("crash,disk"), or
// "all". An unknown name is an error listing the valid ones.
func ParseKinds(s string) ([]Kind, error) {
	if strings.TrimSpace(s) == "all" {
		return slices.Clone(AllKinds), nil
	}
	valid := append(slices.Clone(AllKinds), ExtraKinds...)
	var out []Kind
	for _, p := range strings.Split(s, ",") {
		k := Kind(strings.TrimSpace(p))
		if !slices.Contains(valid, k) {
			names := make([]string, len(valid))
			for i, k := range valid {
				names[i] = string(k)
			}
			return nil, fmt.Errorf("%w: unknown fault kind %q (valid: all, %s)", ErrInvalid, k, strings.Join(names, ", "))
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// SwarmOptions restrict what Swarm may draw.
type SwarmOptions struct {
	// Kinds the seed may turn on (nil: AllKinds). Kinds a cluster this
	// small cannot have (a partition of one node) stay off.
	Kinds []Kind
	// AllOn turns every allowed kind on instead of tossing a coin for each.
	AllOn bool
	// MaxDown bounds the nodes crashed or paused at the same time
	// (0: a minority, max(1, (len(nodes)-1)/2)).
	MaxDown int
	// BaseLink is the link a latency fault restores (nil: netsim's default
	// link). Give the world's Config.Net.DefaultLink.
	BaseLink *netsim.Link
	// Shapes restricts the partition shapes (isolate, split, one-way,
	// bridge; nil: all). The seed still tosses a coin for every shape, so
	// restricting them does not shift other draws.
	Shapes []string
	// Lengths, if set, replaces the ladder each kind's MaxLength is drawn
	// from (a consumer swarm draws pauses around the session timeout).
	Lengths []time.Duration
	// BitRot are the bit rots the bit-rot kind picks from (nil: one bit
	// anywhere on a random node's media). A cluster gives, say,
	// {Node: "follower:events-0", File: "events-0/", Offset: -1}: a
	// follower's segment of one partition.
	BitRot []BitRot
}

// KindKnob is what the seed drew for one kind.
type KindKnob struct {
	Kind Kind
	On   bool
	// Note says why an allowed kind is off regardless of the draw.
	Note string
	// MeanInterval is the mean time between two faults of this kind.
	MeanInterval time.Duration
	// MaxLength bounds how long one fault lasts before its repair (0 for
	// instant kinds).
	MaxLength time.Duration
}

// SwarmKnobs is everything the seed drew: print it before the run, as
// TigerBeetle's VOPR does, so a failure can be read against its knobs.
type SwarmKnobs struct {
	Duration   time.Duration
	Nodes      []string
	MaxDown    int
	Kinds      []KindKnob // in AllKinds order, allowed kinds only
	CrashModes []disk.CrashMode
	Partitions []string    // shapes: isolate, split, one-way, bridge
	DiskFaults disk.Faults // the rates every disk fault sets
	// SlowDisk is what every disk-slow fault sets (slow fsyncs only).
	SlowDisk disk.Faults
}

// On reports whether kind k was drawn on.
func (k SwarmKnobs) On(kind Kind) bool {
	for _, kk := range k.Kinds {
		if kk.Kind == kind {
			return kk.On
		}
	}
	return false
}

// Lines prints the knobs, one "swarm.key=value" per line.
func (k SwarmKnobs) Lines() []string {
	lines := []string{
		"swarm.duration=" + k.Duration.String(),
		"swarm.nodes=" + strings.Join(k.Nodes, ","),
		fmt.Sprintf("swarm.max-down=%d", k.MaxDown),
	}
	for _, kk := range k.Kinds {
		if !kk.On {
			line := "swarm." + string(kk.Kind) + "=off"
			if kk.Note != "" {
				line += " (" + kk.Note + ")"
			}
			lines = append(lines, line)
			continue
		}
		line := fmt.Sprintf("swarm.%s=on interval=%v", kk.Kind, kk.MeanInterval)
		if kk.MaxLength > 0 {
			line += fmt.Sprintf(" max-length=%v", kk.MaxLength)
		}
		switch kk.Kind {
		case KindCrash:
			names := make([]string, len(k.CrashModes))
			for i, m := range k.CrashModes {
				names[i] = CrashModeName(m)
			}
			line += " modes=" + strings.Join(names, ",")
		case KindPartition:
			line += " shapes=" + strings.Join(k.Partitions, ",")
		case KindDisk:
			line += " faults=" + strings.ReplaceAll(k.DiskFaults.String(), " ", ",")
		case KindDiskSlow:
			line += " faults=" + strings.ReplaceAll(k.SlowDisk.String(), " ", ",")
		}
		lines = append(lines, line)
	}
	return lines
}

func (k SwarmKnobs) String() string { return strings.Join(k.Lines(), "\n") }

// Ladders the seed draws from: a few readable values per knob rather than
// arbitrary numbers, so the knobs print plainly.
var (
	lengthLadder  = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, time.Second, 3 * time.Second, 10 * time.Second, 30 * time.Second}
	latencyLadder = []time.Duration{time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond}
	jitterLadder  = []time.Duration{100 * time.Microsecond, time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond}
	clockLadder   = []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second, 10 * time.Second, time.Minute, 10 * time.Minute, time.Hour}
	rateLadder    = []disk.Rate{100, 1_000, 10_000, 100_000}
	capLadder     = []int64{1 << 20, 4 << 20, 16 << 20, 64 << 20}
	shapes        = []string{"isolate", "split", "one-way", "bridge"}
)

// maxCandidates bounds the faults one kind may draw in a run.
const maxCandidates = 10_000

const ms = int64(time.Millisecond)

// Swarm draws a fault schedule from r for nodes over [0, duration]: the
// swarm-testing generator. The seed chooses which kinds are on (each with
// probability 1/2, at least one), how often each strikes, how long each
// fault lasts, the crash modes, partition shapes and disk fault rates.
//
// The schedule ends in a liveness tail: every crash is followed by a
// restart, every pause by a resume, every partition by a heal, every slow
// link by the base link and every disk fault set by a clear, all at or
// before duration (the safety phase), so a liveness phase can follow. Bit
// rot and clock moves are not undone: corruption stays, and time does not
// go back. At most MaxDown nodes are crashed or paused at once; a node has
// one crash or pause at a time, the network one partition at a time.
//
// Times are whole milliseconds. The result is a plain Schedule: printable,
// and replayable without the generator. Draws happen in a fixed order, so
// the same r state, nodes, duration and options give the same schedule.
func Swarm(r *rand.Rand, nodes []string, duration time.Duration, opts SwarmOptions) (Schedule, SwarmKnobs) {
	g := &swarmGen{r: r, nodes: slices.Clone(nodes), end: int64(duration) / ms * ms}
	g.base = netsim.DefaultConfig().DefaultLink
	if opts.BaseLink != nil {
		g.base = *opts.BaseLink
	}
	g.knobs = SwarmKnobs{Duration: time.Duration(g.end), Nodes: g.nodes, MaxDown: opts.MaxDown}
	if g.knobs.MaxDown <= 0 {
		g.knobs.MaxDown = max(1, (len(nodes)-1)/2)
	}
	g.bitRot = opts.BitRot
	g.drawKinds(opts)
	g.drawDetails(opts)
	g.generate()
	steps := Schedule{Steps: g.steps}.Sorted()
	return steps, g.knobs
}

type swarmGen struct {
	r     *rand.Rand
	nodes []string
	end   int64 // ns, a whole number of ms
	base  netsim.Link
	knobs SwarmKnobs
	steps []Step

	procBusy []int64 // per node: end of its crash or pause
	diskBusy []int64 // per node: end of its disk faults
	linkBusy []int64 // per ordered pair from*n+to: end of its slow link
	netBusy  int64   // end of the partition in force
	downEnds []int64 // ends of crash and pause episodes
	bitRot   []BitRot
}

// between draws uniformly from [lo, hi] in whole ms.
func (g *swarmGen) between(lo, hi int64) int64 {
	lo, hi = lo/ms, hi/ms
	if hi <= lo {
		return lo * ms
	}
	return (lo + g.r.Int64N(hi-lo+1)) * ms
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// drawKinds tosses a coin for every kind of AllKinds, allowed or not, so
// restricting the kinds does not shift the other draws.
func (g *swarmGen) drawKinds(opts SwarmOptions) {
	allowed := opts.Kinds
	if allowed == nil {
		allowed = AllKinds
	}
	var fallback []int
	kinds := slices.Clone(AllKinds)
	for _, k := range ExtraKinds {
		if slices.Contains(allowed, k) {
			kinds = append(kinds, k) // drawn only when named
		}
	}
	for _, kind := range kinds {
		on := g.r.IntN(2) == 0
		// The mean interval is duration/n for n in [1, 20]: from one fault
		// in the run to twenty.
		mean := max(ms, g.end/(1+g.r.Int64N(20))/ms*ms)
		var length int64
		var lengths []int64
		ladder := lengthLadder
		if opts.Lengths != nil {
			ladder = opts.Lengths
		}
		for _, l := range ladder {
			if int64(l) <= max(g.end/2, int64(lengthLadder[0])) {
				lengths = append(lengths, int64(l))
			}
		}
		length = pick(g.r, lengths)
		if !slices.Contains(allowed, kind) {
			continue
		}
		kk := KindKnob{Kind: kind, On: on || opts.AllOn, MeanInterval: time.Duration(mean)}
		switch kind {
		case KindCrash, KindPause, KindPartition, KindLatency, KindDisk, KindDiskSlow, KindOutage:
			kk.MaxLength = time.Duration(length)
		}
		switch {
		case len(g.nodes) == 0:
			kk.On, kk.Note = false, "no nodes"
		case g.end <= 0:
			kk.On, kk.Note = false, "no time"
		case (kind == KindPartition || kind == KindLatency) && len(g.nodes) < 2:
			kk.On, kk.Note = false, "needs 2 nodes"
		default:
			fallback = append(fallback, len(g.knobs.Kinds))
		}
		g.knobs.Kinds = append(g.knobs.Kinds, kk)
	}
	anyOn := false
	for _, kk := range g.knobs.Kinds {
		anyOn = anyOn || kk.On
	}
	if !anyOn && len(fallback) > 0 {
		g.knobs.Kinds[pick(g.r, fallback)].On = true
	}
}

// drawDetails draws the crash modes, partition shapes and disk fault
// rates, each option on with probability 1/2 and at least one on. They are
// drawn whether or not their kind is on, to keep the draw order fixed.
// Details of ExtraKinds are drawn last, and only when the kind is allowed.
func (g *swarmGen) drawDetails(opts SwarmOptions) {
	modes := []disk.CrashMode{disk.LoseUnsynced, disk.KeepRandomPages, disk.TornLastSector, disk.KeepPageCache}
	for _, m := range modes {
		if g.r.IntN(2) == 0 {
			g.knobs.CrashModes = append(g.knobs.CrashModes, m)
		}
	}
	if len(g.knobs.CrashModes) == 0 {
		g.knobs.CrashModes = []disk.CrashMode{pick(g.r, modes)}
	}

	var possible []string
	for i, s := range shapes {
		on := g.r.IntN(2) == 0
		shapeOK := len(g.nodes) >= 2+i/3 && (opts.Shapes == nil || slices.Contains(opts.Shapes, s)) // bridge (the last) needs 3 nodes
		if on && shapeOK {
			g.knobs.Partitions = append(g.knobs.Partitions, s)
		}
		if shapeOK {
			possible = append(possible, s)
		}
	}
	if len(g.knobs.Partitions) == 0 && len(possible) > 0 {
		g.knobs.Partitions = []string{pick(g.r, possible)}
	}

	f := &g.knobs.DiskFaults
	rates := []*disk.Rate{&f.ReadErrorRate, &f.BitFlipOnReadRate, &f.WriteErrorRate, &f.SyncErrorRate, &f.SlowSyncRate}
	anyOn := false
	for _, p := range rates {
		rate := pick(g.r, rateLadder)
		if g.r.IntN(2) == 0 {
			*p, anyOn = rate, true
		}
	}
	capacity := pick(g.r, capLadder)
	if g.r.IntN(2) == 0 {
		f.Capacity, anyOn = capacity, true
	}
	if !anyOn {
		f.SyncErrorRate = pick(g.r, rateLadder)
	}
	if f.SlowSyncRate > 0 {
		f.SlowSyncFactor = 1 + g.r.Int64N(10)
		f.SlowSyncExtra = g.between(0, 100*ms)
	}
	if slices.Contains(opts.Kinds, KindDiskSlow) {
		g.knobs.SlowDisk = disk.Faults{
			SlowSyncRate:   pick(g.r, []disk.Rate{10_000, 100_000, 500_000, 1_000_000}),
			SlowSyncFactor: 2 + g.r.Int64N(19),
			SlowSyncExtra:  g.between(ms, 200*ms),
		}
	}
}

type candidate struct {
	at   int64
	kind Kind
	knob KindKnob
}

// generate draws each kind's fault times, then walks them in time order,
// allocating nodes, links and the network to non-overlapping episodes.
func (g *swarmGen) generate() {
	n := len(g.nodes)
	g.procBusy = make([]int64, n)
	g.diskBusy = make([]int64, n)
	g.linkBusy = make([]int64, n*n)
	var cands []candidate
	for _, kk := range g.knobs.Kinds {
		if !kk.On {
			continue
		}
		t := int64(0)
		for range maxCandidates {
			t += g.between(ms, 2*int64(kk.MeanInterval))
			if t >= g.end {
				break
			}
			cands = append(cands, candidate{at: t, kind: kk.Kind, knob: kk})
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	for _, c := range cands {
		g.fault(c)
	}
}

func (g *swarmGen) add(at int64, a Action) {
	g.steps = append(g.steps, Step{At: time.Duration(at), Action: a})
}

// episodeEnd draws when a fault starting at t is repaired: within its
// kind's MaxLength and never after the end of the run.
func (g *swarmGen) episodeEnd(t int64, k KindKnob) int64 {
	l := int64(k.MaxLength)
	return min(t+g.between(max(ms, l/10), l), g.end)
}

// free returns the indexes of nodes whose busy time has passed.
func free(busy []int64, t int64) []int {
	var out []int
	for i, b := range busy {
		if b <= t {
			out = append(out, i)
		}
	}
	return out
}

func (g *swarmGen) fault(c candidate) {
	t := c.at
	switch c.kind {
	case KindCrash, KindPause:
		down := 0
		for _, e := range g.downEnds {
			if e > t {
				down++
			}
		}
		idle := free(g.procBusy, t)
		if down >= g.knobs.MaxDown || len(idle) == 0 {
			return
		}
		i := pick(g.r, idle)
		node := g.nodes[i]
		end := g.episodeEnd(t, c.knob)
		g.procBusy[i] = end
		g.downEnds = append(g.downEnds, end)
		if c.kind == KindCrash {
			g.add(t, Crash{Node: node, Mode: pick(g.r, g.knobs.CrashModes)})
			g.add(end, Restart{Node: node})
		} else {
			g.add(t, Pause{Node: node})
			g.add(end, Resume{Node: node})
		}
	case KindOutage:
		for _, e := range g.downEnds {
			if e > t {
				return // a node is down: the cut waits for the next chance
			}
		}
		end := g.episodeEnd(t, c.knob)
		var modes []disk.CrashMode // power-loss modes only (not a process crash)
		for _, m := range g.knobs.CrashModes {
			if m != disk.KeepPageCache {
				modes = append(modes, m)
			}
		}
		if len(modes) == 0 {
			modes = []disk.CrashMode{disk.LoseUnsynced}
		}
		for i, node := range g.nodes {
			g.procBusy[i] = end
			g.add(t, Crash{Node: node, Mode: pick(g.r, modes)})
			g.add(end, Restart{Node: node})
		}
		g.downEnds = append(g.downEnds, end)
	case KindPartition:
		if g.netBusy > t {
			return
		}
		g.netBusy = g.episodeEnd(t, c.knob)
		g.add(t, g.partition())
		g.add(g.netBusy, Heal{})
	case KindLatency:
		n := len(g.nodes)
		from := g.r.IntN(n)
		to := (from + 1 + g.r.IntN(n-1)) % n
		if g.linkBusy[from*n+to] > t {
			return
		}
		end := g.episodeEnd(t, c.knob)
		g.linkBusy[from*n+to] = end
		g.add(t, Latency{From: g.nodes[from], To: g.nodes[to], Link: g.slowLink()})
		g.add(end, Latency{From: g.nodes[from], To: g.nodes[to], Link: g.base})
	case KindReset:
		if g.r.IntN(2) == 0 {
			g.add(t, ResetRandomConn{})
		} else {
			g.add(t, ResetConns{Node: pick(g.r, g.nodes)})
		}
	case KindDisk, KindDiskSlow:
		idle := free(g.diskBusy, t)
		if len(idle) == 0 {
			return
		}
		i := pick(g.r, idle)
		end := g.episodeEnd(t, c.knob)
		g.diskBusy[i] = end
		f := g.knobs.DiskFaults
		if c.kind == KindDiskSlow {
			f = g.knobs.SlowDisk
		}
		g.add(t, DiskFaults{Node: g.nodes[i], Faults: f})
		g.add(end, ClearDisk(g.nodes[i]))
	case KindBitRot:
		if len(g.bitRot) > 0 {
			g.add(t, pick(g.r, g.bitRot))
			return
		}
		g.add(t, BitRot{Node: pick(g.r, g.nodes)})
	case KindClock:
		node := pick(g.r, g.nodes)
		d := pick(g.r, clockLadder)
		if g.r.IntN(2) == 0 {
			d = -d
		}
		if g.r.IntN(2) == 0 {
			g.add(t, ClockJump{Node: node, Delta: d})
		} else {
			g.add(t, ClockSkew{Node: node, Offset: d})
		}
	}
}

// partition draws one partition of an enabled shape.
func (g *swarmGen) partition() Action {
	shuffled := slices.Clone(g.nodes)
	g.r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	switch pick(g.r, g.knobs.Partitions) {
	case "split":
		k := 1 + g.r.IntN(len(shuffled)-1)
		return Split{A: slices.Clone(shuffled[:k]), B: slices.Clone(shuffled[k:])}
	case "one-way":
		return OneWay{From: shuffled[0], To: shuffled[1]}
	case "bridge":
		rest := shuffled[1:]
		k := 1 + g.r.IntN(len(rest)-1)
		return Bridge{A: slices.Clone(rest[:k]), Bridge: shuffled[0], B: slices.Clone(rest[k:])}
	}
	return Isolate{Node: shuffled[0]}
}

// slowLink draws a degraded link model.
func (g *swarmGen) slowLink() netsim.Link {
	l := netsim.Link{Latency: pick(g.r, latencyLadder)}
	dist := netsim.Dist(g.r.IntN(4))
	if dist != netsim.DistNone {
		l.Jitter = netsim.Jitter{Dist: dist, Scale: pick(g.r, jitterLadder)}
		if dist == netsim.DistPareto {
			l.Jitter.Alpha = 1 + g.r.IntN(2)
		}
	}
	return l
}
