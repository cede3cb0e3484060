package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/loglab/loglab/broker/group"
	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/faults"
	"github.com/loglab/loglab/sim"
)

// Symbolic fault targets (cluster mode). A schedule may name, instead of a
// broker:
//
//	leader:TOPIC-P    the partition's current leader, from the freshest
//	                  metadata image among the running brokers
//	follower:TOPIC-P  a follower in the partition's ISR (not the leader),
//	                  drawn from the run's "faults/resolve" stream; a
//	                  follower outside the ISR if the ISR has none
//	followers:TOPIC-P every replica of the partition but its leader (to
//	                  cut a leader off from all its followers:
//	                  "split leader:events-0 | followers:events-0")
//	coordinator:GROUP the group's coordinator: the leader of its
//	                  __consumer_offsets partition (Kafka's placement over
//	                  the brokers' default 10 partitions), as leader:
//	controller        the active controller (the voter leading the quorum,
//	                  highest term if two think they lead)
//	any-broker        a running broker, drawn
//
// Binding rule: a symbolic name is resolved when an action that breaks
// something (faults.RoleOf: crash, stop, pause, disk faults, a slow link)
// fires, and bound to the nodes it resolved to; the matching repair
// (restart, resume, disk none, the default link) of the same name acts on
// exactly those nodes and clears the binding, so "at 5s crash
// leader:events-0 / at 8s restart leader:events-0" restarts the node that
// was crashed, whoever leads by then. A repair with nothing bound does
// nothing. Partitions (isolate, split, one-way, bridge) and instant actions
// (reset-conns, clock moves) resolve afresh each time: heal repairs every
// partition whatever it cut. Bit rot is a failing disk: the first bit-rot
// of a name picks a broker, and every later bit-rot of that name strikes
// the same broker (if it is up), so "bit-rot follower:events-0" damages
// one replica of events-0 per run, a minority the others can repair. Every resolution is traced
// ("fault.resolve"), logged, listed in Result.Resolved and noted on the
// run's "knob fault=" lines.

// offsetsTopic and offsetsPartitions locate group coordinators: the
// brokers' __consumer_offsets and its default partition count.
const (
	offsetsTopic      = "__consumer_offsets"
	offsetsPartitions = 10
)

// symbol is a parsed symbolic target.
type symbol struct {
	kind      string // leader, follower, followers, controller, any-broker
	topic     string
	partition int32
	group     string // coordinator:GROUP, resolved as leader of its offsets partition
}

// parseSymbol reads a symbolic target; ok is false for any other name.
func parseSymbol(name string) (symbol, bool) {
	switch name {
	case "controller", "any-broker":
		return symbol{kind: name}, true
	}
	kind, tp, ok := strings.Cut(name, ":")
	if ok && kind == "coordinator" && tp != "" {
		return symbol{kind: "leader", topic: offsetsTopic, partition: group.PartitionFor(tp, offsetsPartitions), group: tp}, true
	}
	if !ok || (kind != "leader" && kind != "follower" && kind != "followers") {
		return symbol{}, false
	}
	i := strings.LastIndexByte(tp, '-')
	if i <= 0 {
		return symbol{kind: kind, partition: -1}, true // checkSymbol explains
	}
	p, err := strconv.ParseInt(tp[i+1:], 10, 32)
	if err != nil || p < 0 {
		return symbol{kind: kind, partition: -1}, true
	}
	return symbol{kind: kind, topic: tp[:i], partition: int32(p)}, true
}

// checkSymbol validates a symbolic target against the file.
func (c *compiled) checkSymbol(name string) error {
	if !c.cluster() {
		return fmt.Errorf("%q is a symbolic target: those need a cluster (cluster.brokers >= 2); name broker-1", name)
	}
	s, _ := parseSymbol(name)
	if s.kind == "controller" || s.kind == "any-broker" || s.group != "" {
		return nil
	}
	if s.partition < 0 {
		return fmt.Errorf("%q: want %s:TOPIC-PARTITION, e.g. %s:events-0", name, s.kind, s.kind)
	}
	found := false
	for _, t := range c.spec.Topics {
		found = found || t.Name == s.topic
	}
	if !found {
		return fmt.Errorf("%q names topic %q, not a topic of this file", name, s.topic)
	}
	if int64(s.partition) >= c.partitions.min() {
		return fmt.Errorf("%q: partition %d may not exist (topics have %d partitions at least)", name, s.partition, c.partitions.min())
	}
	if s.kind != "leader" && c.rf.max() < 2 {
		return fmt.Errorf("%q: a replication factor of 1 has no followers", name)
	}
	return nil
}

// symbolHelp lists the symbolic targets in an unknown-node error.
func (c *compiled) symbolHelp() string {
	if !c.cluster() {
		return ""
	}
	return "; or a symbolic target: leader:TOPIC-P, follower:TOPIC-P, followers:TOPIC-P, coordinator:GROUP, controller, any-broker"
}

// clusterView is what the resolver may ask of the running cluster; the
// runner implements it over the world's broker nodes.
type clusterView interface {
	// image is the freshest metadata image among the running brokers (nil
	// before any has one).
	image() *metadata.Image
	// controller is the broker whose voter leads the quorum ("" if none).
	controller() string
	// running lists the brokers that are up (paused ones included).
	running() []string
	// up reports whether a broker is up and not paused.
	up(name string) bool
}

// resolution is one symbolic name resolved for one step.
type resolution struct {
	step  string // "at 5s crash leader:events-0"
	name  string
	nodes []string
	bound bool // a repair using the binding of an earlier break
}

func (r resolution) String() string {
	nodes := strings.Join(r.nodes, ",")
	if nodes == "" {
		nodes = "nothing"
	}
	how := "->"
	if r.bound {
		how = "-> (bound)"
	}
	return r.step + ": " + r.name + " " + how + " " + nodes
}

// binder is the scenario's faults.Resolver: it resolves symbolic names and
// keeps the bindings of the binding rule.
type binder struct {
	w      *sim.World
	view   clusterView
	start  time.Duration // when the schedule was applied
	logf   func(format string, args ...any)
	bound  map[string][]string // "class name" -> nodes, in bind order
	record []resolution
}

func newBinder(w *sim.World, view clusterView, start time.Duration, logf func(string, ...any)) *binder {
	return &binder{w: w, view: view, start: start, logf: logf, bound: map[string][]string{}}
}

// resolve is the faults.Resolver.
func (b *binder) resolve(a faults.Action, name string) []string {
	sym, ok := parseSymbol(name)
	if !ok {
		return []string{name}
	}
	role := faults.RoleOf(a)
	res := resolution{step: "at " + (b.w.Elapsed() - b.start).String() + " " + a.String(), name: name}
	key := role.Class + " " + name
	binds := role.Class != "" && role.Class != "net"
	_, rot := a.(faults.BitRot)
	switch {
	case binds && role.Repair:
		res.nodes, res.bound = b.bound[key], true
		delete(b.bound, key)
	case rot && len(b.bound["rot "+name]) > 0:
		// One failing disk per name: later rots strike the same broker.
		res.nodes, res.bound = b.bound["rot "+name], true
		if !b.view.up(res.nodes[0]) {
			res.nodes = nil
		}
	case rot:
		res.nodes = b.fresh(sym)
		b.bound["rot "+name] = res.nodes
	default:
		res.nodes = b.fresh(sym)
		if binds {
			b.bound[key] = append(b.bound[key], res.nodes...)
		}
	}
	b.record = append(b.record, res)
	b.w.Trace("", "fault.resolve", res.String())
	b.logf("fault resolve %s", res)
	return res.nodes
}

// fresh resolves a symbol against the cluster now: nodes that are up and
// not paused (a fault on a node already down or frozen would do nothing).
func (b *binder) fresh(s symbol) []string {
	up := func(n string) []string {
		if n != "" && b.view.up(n) {
			return []string{n}
		}
		return nil
	}
	switch s.kind {
	case "controller":
		return up(b.view.controller())
	case "any-broker":
		var cands []string
		for _, n := range b.view.running() {
			if b.view.up(n) {
				cands = append(cands, n)
			}
		}
		if len(cands) == 0 {
			return nil
		}
		return []string{cands[b.w.Rand(resolveStream).IntN(len(cands))]}
	}
	img := b.view.image()
	if img == nil {
		return nil
	}
	p := img.Partition(s.topic, s.partition)
	if p == nil {
		return nil
	}
	if s.kind == "leader" {
		if p.Leader == metadata.NoLeader {
			return nil
		}
		return up(brokerName(int(p.Leader)))
	}
	if s.kind == "followers" {
		var all []string
		for _, r := range p.Replicas {
			if r != p.Leader {
				all = append(all, up(brokerName(int(r)))...)
			}
		}
		return all
	}
	var isr, out []string
	for _, r := range p.Replicas {
		if r == p.Leader || !b.view.up(brokerName(int(r))) {
			continue
		}
		if slices.Contains(p.ISR, r) {
			isr = append(isr, brokerName(int(r)))
		} else {
			out = append(out, brokerName(int(r)))
		}
	}
	if len(isr) == 0 {
		isr = out
	}
	if len(isr) == 0 {
		return nil
	}
	return []string{isr[b.w.Rand(resolveStream).IntN(len(isr))]}
}

// resolveStream is the world's random stream for seeded symbolic choices.
const resolveStream = "faults/resolve"

// annotate notes each resolution on its step's "fault=" knob line after a
// '#', so the line still pastes into a schedule.
func annotate(knobs []string, record []resolution) []string {
	out := slices.Clone(knobs)
	used := make([]bool, len(record))
	for i, k := range out {
		step, ok := strings.CutPrefix(k, "fault=")
		if !ok {
			continue
		}
		var notes []string
		for j, r := range record {
			if !used[j] && r.step == step {
				used[j] = true
				nodes := strings.Join(r.nodes, ",")
				if nodes == "" {
					nodes = "nothing"
				}
				notes = append(notes, r.name+" -> "+nodes)
			}
		}
		if len(notes) > 0 {
			out[i] = k + " # " + strings.Join(notes, "; ")
		}
	}
	return out
}
